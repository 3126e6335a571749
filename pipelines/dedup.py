"""One article, one row; one story across outlets.

Two keys, two jobs:

- `content_hash(text)`: sha1 of the normalized words, "read also" links and known boilerplate
  lines removed. Pure and stable, so it lives in `articles.content_hash`: the exact-duplicate key
  within one outlet (a repost under a new id, the AMP twin).
- `StoryIndex`: MinHash-LSH over word 3-shingles, persisted in SQLite, every LSH candidate verified
  before it is believed. Cross-outlet matches share a `story_id` (different rows); a same-outlet
  match that is the same text is reported as the same article (`Assignment.duplicate_of`).

One article through `StoryIndex.add`:

1. Lines → `pipelines.arabic.normalize` → tokens (one-letter tokens dropped: "(و.م.ع)" is noise).
2. Boilerplate lines go: static patterns ("اقرأ أيضا", "جميع الحقوق محفوظة", "تابعونا", "المصدر:",
   disclaimer phrasings such as "لا يتحمل الموقع"…) and **learned** ones: a line the same outlet
   already published in `BOILERPLATE_SEEN` earlier articles (its header, footer, the agency notice
   it appends), peeled off the head and tail only — a stock sentence inside the body stays, else it
   would vanish from one copy and not another. Counting per outlet, not per story, has no feedback
   loop (a false merge cannot hide the line that caused it) and never counts syndicated text: an
   outlet publishes a wire story once. Only edge lines (first 3, last 5) and short lines are counted.
3. Stopwords out, word 3-shingles → crc32 → datasketch MinHash, 128 permutations, scheme affine32
   (stable across processes; Python's `hash()` is salted per process).
4. LSH: `BANDS` × `ROWS` band keys in `lsh_buckets`, an indexed SQLite table, not an in-memory LSH.
   Keys carry the publication period (`PERIOD_DAYS`) in their high bits and lookups cover only the
   periods of the ±`WINDOW_DAYS` window, so inserts and lookups touch a region sized by the article
   *rate*, not by the archive: cost per article and memory stay flat as the archive grows.
5. Verification of each candidate (estimated Jaccard from the stored signatures, containment for
   excerpts), graded by the **figures** both texts carry: a wire copy keeps the agency's numbers
   (scores, votes, tolls, amounts); two formulaic stories of one kind (two match reports, two
   accident reports, two weather alerts) share phrasing, not figures. See `BARS`, `NEAR_BARS`.
6. The best verified candidate's story wins; no match → a new story, id = the article id. When the
   article also verifies against small fragments (≤ `MERGE_MAX_ARTICLES` articles: copies that
   missed each other) they are merged into the oldest story; `articles.story_id` and `stories`
   follow. Two established stories are never merged: unbounded merging chained a dense archive
   into one story of 600 articles (precision 0.969 → 0.996 with the bound, recall unchanged).

Measured with `bench/bench_dedup.py` on `bench/dedup_data.py` (seeded synthetic wire copy with heavy
edits: synonyms swapped, sentences dropped/added, excerpts, per-outlet boilerplate, spelling
habits; labelled hard negatives). Thresholds tuned on seeds 20260501, 7, 11; all 8 seeds
(+13, 17, 23, 29, 31): pair precision 0.995–1.000, recall 0.974–0.990, no hard negative merged,
same-outlet duplicates 100%. Over 92,500 denser background articles (700/day): 0.996 / 0.953.

- Exact Jaccard of cleaned shingle sets (seed 20260501): cross-outlet true pairs median 0.62, p5
  0.37 (excerpts median 0.41, containment median 0.85); best match of a copy to an earlier copy p5
  0.42. Hard negatives: same topic (same round / chamber / court / weather kind) max 0.28, same
  short headline max 0.32, same long disclaimer max 0.39. Among LSH candidates of *different*
  stories, 249 reach estimated J ≥ 0.35 (12 ≥ 0.5): 177 have conflicting figures, none STRONG;
  same-story candidates in that range are mostly STRONG/WEAK — hence figure-graded bars.
- `BARS` (candidate published > `NEAR_DAYS` apart): (Jaccard, containment) needed with STRONG
  figure evidence 0.35/0.85, WEAK 0.55/0.90, NONE 0.60/0.95; CONFLICT rejects; `SURE_JACCARD` 0.75
  accepts anyway (a corrected toll). `NEAR_BARS` (within a day, where copies of a wire story
  appear): WEAK 0.45/0.85, NONE 0.50/0.90 — +1.2 points of recall on held-out seeds, precision
  unchanged. WEAK at 0.45–0.50 regardless of time let same-topic originals in (precision 0.986).
  STRONG needs 2+ shared figures and half of their union: small numbers (12, 19, 21) recur by chance.
- `SHORT_SHINGLES` 15 / `SHORT_JACCARD` 0.70: under 15 shingles one shared sentence is the text.
- `DUPLICATE_JACCARD` 0.90 or an equal `content_hash` (same outlet): learned boilerplate can change
  between a text and its repost, so the exact key catches what the estimate misses.
- Ablations (min over 8 seeds): no merges recall 0.938; no stopword removal precision 0.981;
  4-shingles precision 0.998 but recall 0.947; no `NEAR_BARS` recall 0.962; `BOILERPLATE_SEEN` 1
  duplicate recall 0.92, 3 recall −0.6 point. Bands 32×4 (P(candidate) 0.23 at J=0.3, 0.87 at
  J=0.45, 0.98 at J=0.55): 42×3 +0.5 point recall for +31% bucket rows; 24×4 −0.8; 25×5 −5; 16×4 −3.5.
- `WINDOW_DAYS` 45: copies of one story in the set are published within 13 days; a backfill a
  month later changes crawl time, not publication, and still joins (tests).

Steps 1 and 3 need the text alone: the crawl makes them in its extraction workers (`text_features`,
`TextFeatures`), one signature per group of shingles that start and end on the same lines, and the
single writer only peels learned lines (a minimum over the groups kept) and looks up buckets —
`StoryIndex.match(..., features=...)` gives exactly what the text would (tests/test_dedup.py). It
took ≈ 0.7 ms a page off the crawler process (bench/README.md).

Known limits: an outlet's first two articles meet an index that has not learned its footer (static
patterns cover common disclaimers); copies published more than ~2 months apart are not looked up
(exact reposts are caught by `content_hash` in the store); single 200-pair samples vary (recall
0.917–1.0 over 20 samples, mean 0.966) because a few large stories dominate pair counts.
Speed and size: `bench/bench_dedup.py`.

Tables: `article_minhash`, `lsh_buckets`, `boilerplate_lines`, `story_merges`, `story_sizes` (defined with the
rest of the schema in `pipelines.store`, `STORY_INDEX_SCHEMA`); in an archive, `StoryIndex` also owns
`articles.story_id` and the `stories` rows.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, NamedTuple

import numpy as np
from datasketch import MinHash

from pipelines.arabic import normalize

NUM_PERM = 128
SHINGLE = 3
BANDS, ROWS = 32, 4
SURE_JACCARD = 0.75               # same story whatever the figures say
CONFLICT, NONE, WEAK, STRONG = range(4)
# (Jaccard, containment) a candidate needs, by what the figures say (see figures_check)
BARS = {STRONG: (0.35, 0.85), WEAK: (0.55, 0.90), NONE: (0.60, 0.95)}
# Copies of a wire story appear within hours: published within NEAR_DAYS, the bars are lower.
NEAR_DAYS = 1
NEAR_BARS = {STRONG: (0.35, 0.85), WEAK: (0.45, 0.85), NONE: (0.50, 0.90)}
CONTAINMENT_MIN_SHINGLES = 20     # containment only between texts at least this long
SHORT_SHINGLES = 15               # under this, only SHORT_JACCARD counts
SHORT_JACCARD = 0.70
DUPLICATE_JACCARD = 0.90          # same outlet and this similar: the same article
MERGE_STORIES = True
MERGE_MAX_ARTICLES = 2            # a merge absorbs fragments this small, never two established stories
WINDOW_DAYS = 45
BOILERPLATE_SEEN = 2              # a line the outlet already published this many times is boilerplate
EDGE_HEAD, EDGE_TAIL, SHORT_LINE = 3, 5, 8
MIN_CONTENT_WORDS = 8             # cleaning that leaves fewer words is undone
PERIOD_DAYS = 32                  # keys carry the publication period: lookups and inserts stay local
MAX_CANDIDATES = 64
MAX_FIGURES = 32

# --------------------------------------------------------------------------------------------
# Text → lines → tokens
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")
# On normalized lines (أ→ا, ة→ه, ى→ي, lowercase). "Read also" / related links: any length.
_RELATED = re.compile(
    r"^\W*(?:(?:اقرا|طالع|شاهد|انظر|تابع|اقرئي)\s*(?:ايضا|كذلك|المزيد)"
    r"|(?:مواضيع|اخبار|مقالات|روابط)\s+(?:ذات\s+صله|متعلقه|مشابهه)|للمزيد|المزيد\s+من"
    r"|read\s+(?:also|more)|see\s+also|related\b|(?:a\s+|à\s+)?lire\s+(?:aussi|[eé]galement)|voir\s+aussi)"
)
# Boilerplate lines; only lines of at most 30 words are tested (never a body paragraph).
_BOILERPLATE = re.compile(
    r"(?:جميع|كل)\s+الحقوق\s+محفوظه|حقوق\s+(?:النشر|الطبع)\s+محفوظه|^\W*(?:تابعونا|تابعوا|حمل(?:وا)?\s+تطبيق"
    r"|اشترك|اشتركوا|شارك(?:وا)?\s|المصدر\s*:|مصدر\s*:|للتواصل|©|copyright|all rights reserved"
    r"|tous droits r[eé]serv[eé]s|اعلان\W*$|advertisement\W*$)"
)
# Disclaimers and rights notices (lines of at most 80 words): caught from an outlet's first article,
# before the learned counts know them.
_DISCLAIMER = re.compile(
    r"حقوق\s+(?:النشر|الطبع|التاليف|الملكيه)(?:\s+و\w+)?\s+محفوظه|لا\s+يتحمل\s+(?:الموقع|الجريده|الصحيفه|الناشر)"
    r"|لا\s+يعبر\s+(?:بالضروره\s+)?عن\s+(?:راي|وجهه\s+نظر)|(?:يمنع|يحظر|لا\s+يجوز)\s+(?:اعاده\s+)?(?:نشر|نقل|نسخ)"
    r"|دون\s+(?:الحصول\s+علي\s+)?(?:اذن|ترخيص|موافقه)\s+(?:كتابي\s+)?مسبق"
)
# Function words dropped before shingling (normalized forms): a synonym swap or an inserted
# "في" then breaks fewer shingles, and formulaic texts share fewer of them.
STOPWORDS = frozenset(
    "في من علي الي عن مع ان او ثم قد لا ما لم لن كما هذا هذه ذلك تلك التي الذي الذين اللذين كان كانت"
    " يكون بعد قبل حيث عند بين اي كل وفي ومن وعلي والي وان وقد ولا وما وهو وهي هو هي هم انه انها"
    " الا اذا اذ لقد حتي منذ فيه فيها به بها له لها عليه عليها اليه منه منها".split()
)


def _lines(text: str) -> list[list[str]]:
    """Normalized token lists of the text's non-empty lines, static boilerplate removed."""
    out = []
    for raw in text.splitlines():
        norm = normalize(raw).strip()
        if not norm or _RELATED.match(norm):
            continue
        words = _TOKEN.findall(norm)
        if len(words) <= 30 and _BOILERPLATE.search(norm):
            continue
        if len(words) <= 80 and _DISCLAIMER.search(norm):
            continue
        words = [w for w in words if len(w) > 1 or w.isdigit()]
        if words:
            out.append(words)
    return out


def _hash_words(lines: list[list[str]]) -> str:
    return hashlib.sha1(" ".join(w for line in lines for w in line).encode("utf-8")).hexdigest()


def content_hash(text: str) -> str:
    """sha1 (hex) of the normalized words of `text`, static boilerplate and link lines removed.

    Spelling (hamza, harakat, tatweel, digit sets), punctuation, spacing and paragraph layout do
    not change it; any change of wording does. Learned boilerplate is not used: the value never drifts.
    """
    return _hash_words(_lines(text))


def shingles(tokens: list[str], k: int | None = None) -> set[int]:
    """crc32 of each word k-shingle of the non-stopword tokens (one shingle when fewer than k)."""
    k = k or SHINGLE
    tokens = [t for t in tokens if t not in STOPWORDS]
    if len(tokens) < k:
        return {zlib.crc32(" ".join(tokens).encode("utf-8"))} if tokens else set()
    return set(_window_hashes(tokens, k))


def _window_hashes(words: list[str], k: int) -> list[int]:
    """crc32 of each run of k consecutive words, in order (none when fewer than k)."""
    return [zlib.crc32(" ".join(words[i:i + k]).encode("utf-8")) for i in range(len(words) - k + 1)]


def figures(tokens: Iterable[str]) -> frozenset[int]:
    """crc32 of the distinct figures among `tokens`: numbers of 2+ digits, years 1950–2049 excluded.

    Single digits and years are too common to tell two stories apart.
    """
    out = set()
    for t in tokens:
        if t.isdigit():
            t = t.lstrip("0")
            if len(t) >= 2 and not (len(t) == 4 and 1950 <= int(t) <= 2049):
                out.add(zlib.crc32(t.encode()))
    return frozenset(out)


def figures_check(a: frozenset[int], b: frozenset[int]) -> int:
    """Evidence from the figures two texts carry.

    CONFLICT: under half of the smaller set is shared (the stories differ in their numbers);
    STRONG: 2+ shared and at least half of all figures shared (copies keep the agency's figures;
    two formulaic stories share at most a few small numbers by chance); WEAK: otherwise some
    agreement; NONE: a side has no figures.
    """
    small = min(len(a), len(b))
    if small == 0:
        return NONE
    shared = len(a & b)
    if shared * 2 < small:
        return CONFLICT
    return STRONG if shared >= 2 and shared * 2 >= len(a | b) else WEAK


def containment(sim: float, size_a: int, size_b: int) -> float:
    """Estimated |A∩B| / min(|A|,|B|) from a Jaccard estimate and the two set sizes."""
    if sim <= 0:
        return 0.0
    inter = sim * (size_a + size_b) / (1.0 + sim)
    return min(1.0, inter / max(1, min(size_a, size_b)))


# --------------------------------------------------------------------------------------------
# MinHash signatures and band keys
# --------------------------------------------------------------------------------------------

_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32").permutations
_BAND_MULT = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                       0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                      dtype=np.uint64)


def _minhash() -> MinHash:
    return MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32", hashfunc=int, permutations=_PERMUTATIONS)


def signature(shingle_hashes: Iterable[int], minhash: MinHash | None = None) -> np.ndarray:
    """MinHash signature (uint32[NUM_PERM]) of a set of 32-bit shingle hashes."""
    m = minhash or _minhash()
    m.clear()
    m.update_batch(list(shingle_hashes))
    return m.hashvalues.astype(np.uint32, copy=True)


_LOW44 = np.uint64((1 << 44) - 1)


def band_keys(sig: np.ndarray, period: int = 0, bands: int | None = None, rows: int | None = None) -> list[int]:
    """One key per band: `period` in the high bits, hash of (band index, band values) in the low 44."""
    high = period << 44
    return [high | h for h in band_hashes(sig, bands, rows)]


def band_hashes(sig: np.ndarray, bands: int | None = None, rows: int | None = None) -> list[int]:
    """44-bit hash of (band index, the band's values), one per band."""
    bands, rows = bands or BANDS, rows or ROWS
    block = sig[: bands * rows].astype(np.uint64).reshape(bands, rows)
    with np.errstate(over="ignore"):
        h = (block * _BAND_MULT[:rows]).sum(axis=1, dtype=np.uint64)
        h ^= np.arange(1, bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(29)
    return (h & _LOW44).tolist()


def _period_key(period: int, h: int) -> int:
    return (period << 44) | (h & ((1 << 44) - 1))


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.count_nonzero(sig_a == sig_b)) / NUM_PERM


_PERM_A, _PERM_B = (np.asarray(row, dtype=np.uint32) for row in _PERMUTATIONS)


def permuted(shingle_hashes: np.ndarray) -> np.ndarray:
    """uint32 (n, NUM_PERM): each hash under each permutation, as datasketch's affine32 scheme computes
    them (MurmurHash3 fmix32, then a*h + b wrapping at 2^32); `signature` is their column minimum."""
    h = np.asarray(shingle_hashes, dtype=np.uint32)
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    h = h ^ (h >> np.uint32(16))
    return h[:, None] * _PERM_A[None, :] + _PERM_B[None, :]


def _key64(*parts: str) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _day(published: str | date | datetime | None) -> int | None:
    if published is None:
        return None
    if isinstance(published, datetime):
        return published.date().toordinal()
    if isinstance(published, date):
        return published.toordinal()
    try:
        return date.fromisoformat(str(published)[:10]).toordinal()
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# The persistent index
# --------------------------------------------------------------------------------------------


class Assignment(NamedTuple):
    """Outcome of `StoryIndex.add`."""

    story_id: int
    duplicate_of: int | None = None  # same-outlet article with the same text (this one is then not indexed)
    match: int | None = None         # best verified article, any outlet
    similarity: float = 0.0          # estimated Jaccard with `match` (or `duplicate_of`)
    indexed: bool = True             # False: duplicate, no text, or already indexed
    merged: tuple[int, ...] = ()     # stories folded into `story_id` because this article joins them


@dataclass
class _Candidate:
    article_id: int
    source: str
    story_id: int                    # current story (merges resolved)
    day: int | None
    shingles: int
    text_key: int
    figures: frozenset[int]
    sig: np.ndarray


@dataclass
class _Features:
    tokens: list[str]                # content tokens (all boilerplate removed)
    line_keys: list[int]             # counted lines, for learning boilerplate
    text_key: int                    # first 8 bytes of content_hash(text)


@dataclass(frozen=True, eq=False)
class TextFeatures:
    """What `StoryIndex.match` derives from a text alone, made once where the text is extracted
    (`pipelines.process` runs `text_features` in the extraction worker), so the single writer only
    looks things up: learned boilerplate, LSH buckets, candidates.

    The writer still decides which head and tail lines are learned boilerplate. A kept run of lines
    [start, end) has exactly the shingles whose first and last words lie in it, and MinHash is a
    minimum, so its signature is the element-wise minimum over the shingle groups inside the run:
    shingles are grouped by (first line, last line) and each group's signature is made here.
    `StoryIndex.match` with these gives the same signature, shingle count and figures as from the text.
    """

    source: str
    content_hash: str                          # content_hash(text)
    line_words: tuple[int, ...]                # words per cleaned line
    line_content: tuple[int, ...]              # non-stopword words per line
    tracked: tuple[tuple[int, int], ...]       # (line, _key64(source, line)) of lines counted as boilerplate
    line_figures: tuple[tuple[int, ...], ...]  # figures() of each line
    spans: np.ndarray                          # int32 (G, 2): first and last line of each shingle group
    sigs: np.ndarray                           # uint32 (G, NUM_PERM): MinHash of each group
    hashes: np.ndarray                         # uint32 (S,): every shingle hash
    hash_spans: np.ndarray                     # int32 (S, 2): first and last line of each shingle

    @property
    def text_key(self) -> int:
        return _text_key(self.content_hash)

    def kept(self, start: int, end: int) -> tuple[int, frozenset[int], np.ndarray] | None:
        """(distinct shingles, figures, signature) of lines [start, end); None under SHINGLE content words
        (then `shingles` makes one shingle of what is there: the caller works from the text)."""
        if sum(self.line_content[start:end]) < SHINGLE:
            return None
        inside = (self.spans[:, 0] >= start) & (self.spans[:, 1] < end)
        sig = self.sigs[inside].min(axis=0)
        hashes = self.hashes[(self.hash_spans[:, 0] >= start) & (self.hash_spans[:, 1] < end)]
        figs = frozenset(f for line in self.line_figures[start:end] for f in line)
        return int(np.unique(hashes).size), figs, sig


def text_features(source: str, text: str) -> TextFeatures:
    """The `TextFeatures` of an article text of outlet `source` (pure; no index needed)."""
    lines = _lines(text)
    digest = _hash_words(lines)
    content = [(w, i) for i, words in enumerate(lines) for w in words if w not in STOPWORDS]
    k = SHINGLE
    hashes = np.array(_window_hashes([w for w, _ in content], k), dtype=np.uint32)
    count = len(hashes)
    line_of = np.fromiter((i for _, i in content), dtype=np.int32, count=len(content))
    hash_spans = np.stack([line_of[:count], line_of[k - 1:k - 1 + count]], axis=1) if count else np.zeros((0, 2), np.int32)
    if count:
        pair = hash_spans[:, 0].astype(np.int64) * (len(lines) + 1) + hash_spans[:, 1]
        order = np.argsort(pair, kind="stable")
        groups, first = np.unique(pair[order], return_index=True)
        sigs = np.minimum.reduceat(permuted(hashes[order]), first, axis=0)
        spans = np.stack([groups // (len(lines) + 1), groups % (len(lines) + 1)], axis=1).astype(np.int32)
    else:
        sigs, spans = np.zeros((0, NUM_PERM), np.uint32), np.zeros((0, 2), np.int32)
    return TextFeatures(
        source=source,
        content_hash=digest,
        line_words=tuple(len(words) for words in lines),
        line_content=tuple(sum(1 for w in words if w not in STOPWORDS) for words in lines),
        tracked=tuple(_tracked_lines(source, lines).items()),
        line_figures=tuple(tuple(sorted(figures(words))) for words in lines),
        spans=spans, sigs=sigs, hashes=hashes, hash_spans=hash_spans,
    )


def _text_key(digest: str) -> int:
    return int.from_bytes(bytes.fromhex(digest[:16]), "little", signed=True)


def _tracked_lines(source: str, lines: list[list[str]]) -> dict[int, int]:
    """Line index → key of the lines counted for learned boilerplate: the edges, and short lines."""
    n = len(lines)
    return {i: _key64(source, " ".join(words)) for i, words in enumerate(lines)
            if i < EDGE_HEAD or i >= n - EDGE_TAIL or len(words) <= SHORT_LINE}


def _kept_lines(line_words: tuple[int, ...] | list[int], tracked: dict[int, int], learned: set[int]) -> tuple[int, int]:
    """Boilerplate wraps the body: peel learned lines off the head and the tail, never the middle; when
    that leaves under MIN_CONTENT_WORDS the text repeats itself and is kept whole."""
    n = len(line_words)
    start, end = 0, n
    while start < end and tracked.get(start) in learned:
        start += 1
    while end > start and tracked.get(end - 1) in learned:
        end -= 1
    if learned and sum(line_words[start:end]) < MIN_CONTENT_WORDS:
        return 0, n
    return start, end


@dataclass
class Match:
    """What `StoryIndex.match` found for a text before its article is stored.

    `duplicate_of` set: the outlet already has this article (store no new row). Otherwise hand it to
    `StoryIndex.index` with the new article's id. The underscored fields carry the work already done.
    """

    source: str
    duplicate_of: int | None = None  # same-outlet article with the same (or nearly the same) text
    story_id: int | None = None      # story of `duplicate_of`
    similarity: float = 0.0          # estimated Jaccard with `duplicate_of`
    _day: int | None = None
    _features: _Features | None = None
    _shingles: int = 0
    _figures: frozenset[int] = frozenset()
    _sig: np.ndarray | None = None
    _keys: list[int] = field(default_factory=list)
    _verified: dict[int, tuple[float, _Candidate]] = field(default_factory=dict)  # story -> best candidate


class StoryIndex:
    """Story grouping over an SQLite connection (the archive's own, inside its transactions).

    The one authority on stories: it decides same-outlet duplicates and story membership, merges
    fragments, and — when the connection holds an archive (`articles`, `stories`) — writes
    `articles.story_id` and keeps the `stories` rows right (`refresh_story`).

    Never commits: the caller's transaction covers the article row and its index rows together.
    The tables are part of `pipelines.store.SCHEMA` (an `Archive` creates them; `ensure_schema()`
    for a scratch database in notebooks and tests). One writer at a time, like the archive itself.
    Memory use does not depend on the archive size: everything lives in the tables.

    Two ways in: `add(article_id, ...)` matches and indexes an article already stored; the crawl's
    `pipelines.ingest` calls `match(...)` first (read-only: is it a duplicate?), stores the article
    only when it is not, then `index(article_id, match)`.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._minhash = _minhash()
        self._articles: bool | None = None

    def ensure_schema(self) -> None:
        """Create the index tables (`pipelines.store.STORY_INDEX_SCHEMA`) if missing."""
        from pipelines.store import STORY_INDEX_SCHEMA, apply_schema  # (extraction workers import this module)

        apply_schema(self.conn, STORY_INDEX_SCHEMA)

    # -- public API -------------------------------------------------------------------------

    def assign(self, article_id: int, source: str, text: str, published: str | date | datetime | None = None) -> int:
        """Story id for the article: the best verified match's story, else `article_id`."""
        return self.add(article_id, source, text, published).story_id

    def add(self, article_id: int, source: str, text: str, published: str | date | datetime | None = None) -> Assignment:
        """Match, then index, one article. Idempotent per `article_id`."""
        known = self.story_of(article_id)
        if known is not None:
            return Assignment(known, indexed=False)
        return self._index(article_id, self.match(source, text, published))

    def match(self, source: str, text: str, published: str | date | datetime | None = None,
              features: TextFeatures | None = None) -> Match:
        """Look a text up, writing nothing: a same-outlet duplicate, or the verified stories it would join.

        `features` (`text_features(source, text)`, made in the extraction worker) spares the text work.
        """
        day = _day(published)
        period = (day if day is not None else date.today().toordinal()) // PERIOD_DAYS
        kept = None
        if features is not None and features.source == source:
            tracked = dict(features.tracked)
            line_hashes = list(dict.fromkeys(tracked.values()))
            start, end = _kept_lines(features.line_words, tracked, self._learned(line_hashes, period))
            kept = features.kept(start, end)
            feat = _Features([], [_period_key(period, h) for h in line_hashes], features.text_key)
        if kept is not None:
            size, figs, sig = kept
        else:
            feat = self._features(source, text, period)
            shingle_set = shingles(feat.tokens)
            if not shingle_set:
                return Match(source, _day=day, _features=feat)
            size, figs, sig = len(shingle_set), figures(feat.tokens), signature(shingle_set, self._minhash)
        hashes = band_hashes(sig)
        keys = [(period << 44) | h for h in hashes]
        lookup = keys
        if day is not None:  # every period the publication window touches
            lookup = [(p << 44) | h for p in range((day - WINDOW_DAYS) // PERIOD_DAYS, (day + WINDOW_DAYS) // PERIOD_DAYS + 1)
                      for h in hashes]

        verified: dict[int, tuple[float, _Candidate]] = {}  # story -> its best verified candidate
        duplicate: _Candidate | None = None
        duplicate_sim = 0.0
        for sim, cand in self._candidates(lookup, sig, size, feat.text_key):
            if cand.source == source and (sim >= DUPLICATE_JACCARD or cand.text_key == feat.text_key):
                if duplicate is None or sim > duplicate_sim:
                    duplicate, duplicate_sim = cand, sim
            elif self._verified(sim, size, figs, cand, day):
                if sim > verified.get(cand.story_id, (-1.0, None))[0]:
                    verified[cand.story_id] = (sim, cand)
        if duplicate is not None:
            return Match(source, duplicate.article_id, duplicate.story_id, duplicate_sim)
        return Match(source, _day=day, _features=feat, _shingles=size, _figures=figs, _sig=sig,
                     _keys=keys, _verified=verified)

    def index(self, article_id: int, found: Match) -> Assignment:
        """Record a stored article as `match` found it: its story (new, joined, or merging fragments),
        its index rows and, in an archive, `articles.story_id` and the `stories` rows.
        A duplicate (`found.duplicate_of`) writes nothing; an article already indexed keeps its story."""
        if found.duplicate_of is None:
            known = self.story_of(article_id)
            if known is not None:
                return Assignment(known, indexed=False)
        return self._index(article_id, found)

    def refresh(self, article_id: int) -> None:
        """Recompute the `stories` row of an article whose fields were rewritten (newer capture, re-extraction)."""
        if self._has_articles():
            row = self.conn.execute("SELECT story_id FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row and row[0] is not None:
                refresh_story(self.conn, int(row[0]))

    def _index(self, article_id: int, found: Match) -> Assignment:
        if found.duplicate_of is not None:
            return Assignment(found.story_id, found.duplicate_of, found.duplicate_of, found.similarity,
                              indexed=False)
        feat = found._features
        if not found._shingles:  # no text to match on: a story of its own
            self._count_lines(feat.line_keys)
            self._link(article_id, article_id)
            return Assignment(article_id, indexed=False)

        verified = found._verified
        merged: tuple[int, ...] = ()
        best: _Candidate | None = None
        best_sim = 0.0
        story_id = article_id
        if verified:
            best_sim, best = max(verified.values(), key=lambda v: (v[0], -v[1].article_id))
            story_id = best.story_id
            if MERGE_STORIES and len(verified) > 1:
                sizes = self._sizes(list(verified))
                fragments = [sid for sid in verified if sid != story_id and sizes[sid] <= MERGE_MAX_ARTICLES]
                if fragments:
                    group = [story_id, *fragments]
                    story_id = min(group)  # the oldest story (id = its first article) absorbs the others
                    merged = tuple(sorted(sid for sid in group if sid != story_id))
                    self._merge(story_id, merged, sum(sizes[sid] for sid in group))
        self.conn.execute(
            "INSERT INTO article_minhash (article_id, source, story_id, day, shingles, text_key, figures, sig)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (article_id, found.source, story_id, found._day, found._shingles, feat.text_key,
             np.array(sorted(found._figures)[:MAX_FIGURES], dtype="<u4").tobytes(), found._sig.astype("<u4").tobytes()),
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO lsh_buckets (key, article_id) VALUES (?, ?)", [(k, article_id) for k in found._keys]
        )
        if best is not None:
            self.conn.execute(
                "INSERT INTO story_sizes (story_id, articles) VALUES (?, 2)"
                " ON CONFLICT(story_id) DO UPDATE SET articles = articles + 1",
                (story_id,),
            )
        self._count_lines(feat.line_keys)
        self._link(article_id, story_id)
        return Assignment(story_id, None, best.article_id if best else None, best_sim, True, merged)

    def story_of(self, article_id: int) -> int | None:
        """Current story of an indexed article (None when not indexed)."""
        row = self.conn.execute(
            "SELECT COALESCE(s.into_story, m.story_id) FROM article_minhash m"
            " LEFT JOIN story_merges s ON s.story_id = m.story_id WHERE m.article_id = ?",
            (article_id,),
        ).fetchone()
        return int(row[0]) if row else None

    def shingles_of(self, source: str, text: str, published: str | date | datetime | None = None) -> set[int]:
        """The shingle set `add` would index for this text now (read-only; for analysis)."""
        day = _day(published)
        period = (day if day is not None else date.today().toordinal()) // PERIOD_DAYS
        return shingles(self._features(source, text, period).tokens)

    def prune_boilerplate(self, today: date | None = None) -> int:
        """Delete line counts of periods before the previous one (they are never read again)."""
        period = (today or date.today()).toordinal() // PERIOD_DAYS
        return self.conn.execute("DELETE FROM boilerplate_lines WHERE key < ?", (_period_key(period - 1, 0),)).rowcount

    def forget(self, article_id: int) -> None:
        """Drop an article from matching (its bucket rows are skipped, then purged by `vacuum`)."""
        self.conn.execute("DELETE FROM article_minhash WHERE article_id = ?", (article_id,))

    def vacuum(self) -> int:
        """Delete bucket rows of forgotten articles (a full scan: maintenance, not per article)."""
        return self.conn.execute(
            "DELETE FROM lsh_buckets WHERE article_id NOT IN (SELECT article_id FROM article_minhash)"
        ).rowcount

    # -- internals --------------------------------------------------------------------------

    def _features(self, source: str, text: str, period: int) -> _Features:
        lines = _lines(text)
        tracked = _tracked_lines(source, lines)
        hashes = list(dict.fromkeys(tracked.values()))
        start, end = _kept_lines([len(words) for words in lines], tracked, self._learned(hashes, period))
        kept = [w for words in lines[start:end] for w in words]
        return _Features(kept, [_period_key(period, h) for h in hashes], _text_key(_hash_words(lines)))

    def _learned(self, hashes: list[int], period: int) -> set[int]:
        """The line keys the outlet already published BOILERPLATE_SEEN times (this period and the previous one)."""
        if not hashes:
            return set()
        probe = [_period_key(p, h) for p in (period, period - 1) for h in hashes]
        counts: dict[int, int] = {}
        for key, n_seen in self.conn.execute(
            f"SELECT key, n FROM boilerplate_lines WHERE key IN ({','.join('?' * len(probe))})", probe
        ):
            low = key & ((1 << 44) - 1)
            counts[low] = counts.get(low, 0) + n_seen
        return {h for h in hashes if counts.get(h & ((1 << 44) - 1), 0) >= BOILERPLATE_SEEN}

    def _count_lines(self, keys: list[int]) -> None:
        if keys:
            self.conn.executemany(
                "INSERT INTO boilerplate_lines (key, n) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET n = n + 1",
                [(k,) for k in keys],
            )

    def _candidates(self, keys: list[int], sig: np.ndarray, size: int, text_key: int) -> list[tuple[float, _Candidate]]:
        """LSH candidates with their estimated Jaccard; those no bar could accept are dropped unread."""
        marks = ",".join("?" * len(keys))
        rows = self.conn.execute(
            "SELECT m.article_id, m.source, COALESCE(s.into_story, m.story_id), m.day, m.shingles, m.text_key,"
            " m.figures, m.sig FROM"
            f" (SELECT article_id, COUNT(*) AS hits FROM lsh_buckets WHERE key IN ({marks})"
            f"  GROUP BY article_id ORDER BY hits DESC LIMIT {MAX_CANDIDATES}) c"
            " JOIN article_minhash m ON m.article_id = c.article_id"
            " LEFT JOIN story_merges s ON s.story_id = m.story_id",
            keys,
        ).fetchall()
        if not rows:
            return []
        sigs = np.frombuffer(b"".join(r[7] for r in rows), dtype="<u4").reshape(len(rows), NUM_PERM)
        sims = np.count_nonzero(sigs == sig, axis=1) / NUM_PERM
        sizes = np.array([r[4] for r in rows], dtype=np.float64)
        inter = sims * (sizes + size) / (1.0 + sims)
        conts = inter / np.maximum(1.0, np.minimum(sizes, size))
        low_bar, low_containment = min(b[0] for b in BARS.values()), min(b[1] for b in BARS.values())
        out = []
        for r, sim, cont, cand_sig in zip(rows, sims.tolist(), conts.tolist(), sigs):
            if sim < low_bar and cont < low_containment and r[5] != text_key:
                continue
            out.append((sim, _Candidate(r[0], r[1], r[2], r[3], r[4], r[5],
                                        frozenset(np.frombuffer(r[6], dtype="<u4").tolist()), cand_sig)))
        return out

    def _verified(self, sim: float, size: int, figs: frozenset[int], cand: _Candidate, day: int | None) -> bool:
        """Is a candidate at estimated Jaccard `sim` the same story? (thresholds: module docstring)"""
        if day is not None and cand.day is not None and abs(day - cand.day) > WINDOW_DAYS:
            return sim >= SURE_JACCARD
        small = min(size, cand.shingles)
        if small < SHORT_SHINGLES:
            return sim >= SHORT_JACCARD
        if sim >= SURE_JACCARD:
            return True
        evidence = figures_check(figs, cand.figures)
        if evidence == CONFLICT:
            return False
        near = day is not None and cand.day is not None and abs(day - cand.day) <= NEAR_DAYS
        jaccard_bar, containment_bar = (NEAR_BARS if near else BARS)[evidence]
        return sim >= jaccard_bar or (
            small >= CONTAINMENT_MIN_SHINGLES and containment(sim, size, cand.shingles) >= containment_bar)

    def _sizes(self, stories: list[int]) -> dict[int, int]:
        marks = ",".join("?" * len(stories))
        known = dict(self.conn.execute(f"SELECT story_id, articles FROM story_sizes WHERE story_id IN ({marks})", stories))
        return {sid: known.get(sid, 1) for sid in stories}

    def _merge(self, story_id: int, others: tuple[int, ...], size: int) -> None:
        """Fold `others` into `story_id`: alias rows (one hop), sizes, then `articles`/`stories` if present."""
        marks = ",".join("?" * len(others))
        self.conn.execute(f"DELETE FROM story_sizes WHERE story_id IN ({marks})", others)
        self.conn.execute("INSERT OR REPLACE INTO story_sizes (story_id, articles) VALUES (?, ?)", (story_id, size))
        self.conn.execute(f"UPDATE story_merges SET into_story = ? WHERE into_story IN ({marks})", (story_id, *others))
        self.conn.executemany(
            "INSERT OR REPLACE INTO story_merges (story_id, into_story) VALUES (?, ?)", [(s, story_id) for s in others]
        )
        if self._has_articles():  # `stories` of the absorbed ones go; `_link` then refreshes `story_id`
            self.conn.execute(f"UPDATE articles SET story_id = ? WHERE story_id IN ({marks})", (story_id, *others))
            for sid in others:
                refresh_story(self.conn, sid)

    def _link(self, article_id: int, story_id: int) -> None:
        """In an archive: the article's `story_id`, and its story's `stories` row recomputed."""
        if self._has_articles():
            self.conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id))
            refresh_story(self.conn, story_id)

    def _has_articles(self) -> bool:
        if self._articles is None:
            cols = {r[1] for r in self.conn.execute("PRAGMA table_info(articles)")}
            has_stories = self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'stories'").fetchone() is not None
            self._articles = {"id", "source", "published", "story_id"} <= cols and has_stories
        return self._articles


def __getattr__(name: str) -> list[str]:
    # `DDL` moved to pipelines.store (STORY_INDEX_SCHEMA) with the rest of the schema; this alias keeps
    # bench/bench_dedup.py (`for statement in DDL`) working. New code: `StoryIndex(conn).ensure_schema()`.
    if name == "DDL":
        from pipelines.store import STORY_INDEX_SCHEMA, statements

        return statements(STORY_INDEX_SCHEMA)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def refresh_story(conn: sqlite3.Connection, story_id: int) -> None:
    """Recompute one `stories` row from `articles(id, source, published, story_id)`; delete it if empty.

    `first_published` is the smallest ISO string: exact within one UTC offset, approximate across
    outlets whose offsets differ.
    """
    count, sources, first_published = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT source), MIN(published) FROM articles WHERE story_id = ?", (story_id,)
    ).fetchone()
    if not count:
        conn.execute("DELETE FROM stories WHERE story_id = ?", (story_id,))
        return
    first_source = conn.execute(
        "SELECT source FROM articles WHERE story_id = ? ORDER BY published IS NULL, published, id LIMIT 1",
        (story_id,),
    ).fetchone()[0]
    conn.execute(
        "INSERT OR REPLACE INTO stories (story_id, first_published, first_source, article_count, source_count)"
        " VALUES (?, ?, ?, ?, ?)",
        (story_id, first_published, first_source, count, sources),
    )

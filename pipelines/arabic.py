"""Arabic text forms for search and dedup: normalize, light-stem, and build safe FTS5 queries.

Stored text stays exactly as published. FTS5's `unicode61` tokenizer cannot match Arabic on its
own (harakat split words, أ/ا, ى/ي, ة/ه and both digit sets stay distinct, clitics glue onto
words), so the archive indexes `search_text()` — normalized, Light10-stemmed tokens — and every
query goes through `fts_query()`, which applies the same steps and ORs the forms a word takes
behind the proclitics ب ل ك ف. That design found 97% of the relevant hits with no distractor
on the reference set (docs: storage-and-speed.md §3). French and English stay searchable:
they are only lowercased here; the tokenizer (`remove_diacritics 2`) folds their accents.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["normalize", "light_stem", "tokens", "search_text", "fts_query", "query_terms", "nfc", "has_arabic"]


def _span(first: int, last: int) -> list[str]:
    return [chr(c) for c in range(first, last + 1)]


# Deleted before tokenizing. Marks split words in unicode61; controls split or hide them.
_DELETE: tuple[str, ...] = tuple(
    ["\u0640"]  # tatweel
    + _span(0x064B, 0x065F)  # harakat, shadda, sukun, combining maddah/hamza leftovers, extended marks
    + ["\u0670"]  # superscript (dagger) alef
    + _span(0x0610, 0x061A)  # Quranic honorifics and small letters
    + _span(0x06D6, 0x06ED)  # Quranic annotation marks
    + _span(0x200B, 0x200F)  # ZWSP, ZWNJ, ZWJ, LRM, RLM
    + ["\u061C"]  # Arabic letter mark
    + _span(0x202A, 0x202E)  # embeddings and overrides
    + _span(0x2066, 0x2069)  # isolates
    + ["\uFEFF", "\u00AD", "\u066C"]  # BOM/ZWNBSP, soft hyphen, Arabic thousands separator
)

# Letter folding for search only (never for display). ء ؤ ئ are kept, as Lucene and camel-tools do.
_FOLD: tuple[tuple[str, str], ...] = (
    ("\u0623", "\u0627"),  # أ → ا
    ("\u0625", "\u0627"),  # إ → ا
    ("\u0622", "\u0627"),  # آ → ا
    ("\u0671", "\u0627"),  # ٱ → ا
    ("\u0649", "\u064A"),  # ى → ي
    ("\u0629", "\u0647"),  # ة → ه
    ("\u06CC", "\u064A"),  # ی Farsi yeh → ي
    ("\u06D2", "\u064A"),  # ے yeh barree → ي
    ("\u06A9", "\u0643"),  # ک keheh → ك
    ("\u06C0", "\u0647"),  # ۀ → ه
    ("\u06C1", "\u0647"),  # ہ → ه
    ("\u066B", "."),  # ٫ Arabic decimal separator
) + tuple((chr(0x0660 + d), str(d)) for d in range(10)) + tuple((chr(0x06F0 + d), str(d)) for d in range(10))

_DELETE_RE = re.compile("[" + "".join(_DELETE) + "]")

# Runs of letters and digits, as unicode61 sees tokens (underscore is a separator there too).
_TOKEN = re.compile(r"[^\W_]+")
_ARABIC = re.compile("[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_ARABIC_LETTERS = re.compile("^[\u0621-\u064A\u066E-\u06D3\u06FA-\u06FF\u0750-\u077F]+$")

# Light10 affixes (Larkey, Ballesteros & Connell; Lucene ArabicStemmer), on normalized tokens.
_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ية", "ه", "ة", "ي")
# Proclitics light10 leaves on (stripping them damages كتابه, بلد, فرنسا): expanded at query time.
_PROCLITICS = ("ب", "ل", "ك", "ف")

MAX_QUERY_TERMS = 16  # a search box is not a place for 200-term MATCH expressions
EMPTY_QUERY = '""'  # an FTS5 expression that is valid and matches nothing


def has_arabic(text: str) -> bool:
    """True when `text` holds any Arabic-script character (letters, marks, digits, presentation forms)."""
    return _ARABIC.search(text) is not None


def normalize(text: str) -> str:
    """Search/dedup form: NFKC, no marks or invisible controls, folded alef/yeh/teh marbuta, ASCII digits, lowercase.

    One regex pass deletes, chained `str.replace` folds: 3-4x faster than a 97-step replace chain and
    5-6x faster than `str.translate` on 3.5 KB articles (bench/search_recall.py --speed).
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)  # presentation forms, ligatures, NBSP; composes ا+ٔ → أ
    if text.isascii():
        return text.lower()
    text = _DELETE_RE.sub("", text)
    for old, new in _FOLD:
        text = text.replace(old, new)
    return text.lower()


def _strip_prefixes(word: str) -> str:
    """Light10's prefix step: و if 3 letters remain, then the first article prefix that leaves 2."""
    if len(word) >= 4 and word[0] == "و":
        word = word[1:]
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            return word[len(prefix):]
    return word


@lru_cache(maxsize=262_144)
def light_stem(token: str) -> str:
    """Light10 stem of one normalized token: و, then one article prefix, then each suffix in turn.

    Conservative on purpose: root-finding stemmers conflate كتاب with مكتب/كاتب and أمطار with مطار.
    Tokens without Arabic prefixes/suffixes (French, English, numbers) come back unchanged.
    """
    word = _strip_prefixes(token)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return word


def tokens(text: str, *, stem: bool = True) -> list[str]:
    """Normalized (and, by default, light-stemmed) tokens of `text`, split as FTS5 unicode61 would."""
    words = _TOKEN.findall(normalize(text))
    if not stem:
        return words
    return [light_stem(w) for w in words]


def search_text(text: str) -> str:
    """What goes in the FTS index column: normalized, stemmed tokens joined by single spaces."""
    if not text:
        return ""
    return " ".join(tokens(text))


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def query_terms(q: str) -> list[list[str]]:
    """The alternatives of each query term: [[stem, ب+stem, ...], ...] (the groups `fts_query` ANDs).

    A term's stem is ORed with the stems of ب/ل/ك/ف + the bare word (article and و removed, suffixes
    kept, as the index saw it), so الرباط also finds برباط, لرباط and قانون finds بقانون.
    Two-letter stems are expanded only for a final ة/ه and only with ل (كرة → لكرة, لغة → للغة):
    the other clitics collide with real words (فكرة, بكر).
    """
    groups: list[list[str]] = []
    seen: set[str] = set()
    for word in tokens(q or "", stem=False):
        stem = light_stem(word)
        if stem in seen:
            continue
        seen.add(stem)
        alternatives = {stem}
        if _ARABIC_LETTERS.match(stem):
            # The index stems clitic + bare word as one token: بقانون → بقان, للجنة → جن, للاعب → اعب.
            bare = _strip_prefixes(word)
            if len(stem) >= 3:
                alternatives.update(light_stem(clitic + bare) for clitic in _PROCLITICS)
            elif bare.endswith("ه") and len(bare) >= 3:
                # كرة → كر: only ل is safe here (لكرة القدم); ف would add فكر, ب would add بكر.
                alternatives.add(light_stem("ل" + bare))
        groups.append(sorted(alternatives))
        if len(groups) >= MAX_QUERY_TERMS:
            break
    return groups


def fts_query(q: str) -> str:
    """A user's query as a safe FTS5 MATCH expression: every term quoted, terms ANDed, clitic forms ORed.

    Nothing the user types can reach FTS5 as syntax: quotes, `*`, `^`, `-`, `:`, parentheses and
    NEAR are separators, and AND/OR/NOT become quoted (searched-for) words. An empty query gives
    `""`, which is valid and matches nothing.
    """
    parts = []
    for alternatives in query_terms(q):
        if len(alternatives) == 1:
            parts.append(_quote(alternatives[0]))
        else:
            parts.append("(" + " OR ".join(_quote(a) for a in alternatives) + ")")
    return " AND ".join(parts) if parts else EMPTY_QUERY


# Invisible controls and spaces that pile up at the ends of scraped strings.
_EDGE_JUNK = "".join(_span(0x200B, 0x200F)) + "\u061C" + "".join(_span(0x202A, 0x202E)) + "".join(
    _span(0x2066, 0x2069)
) + "\uFEFF\u00A0\u202F\u3000"
_EDGES = re.compile(f"^[\\s{_EDGE_JUNK}]+|[\\s{_EDGE_JUNK}]+$")


def nfc(text: str) -> str:
    """Display form: NFC (composes ا+ٔ → أ) and no bidi controls or spaces at the ends; letters untouched."""
    if not text:
        return ""
    return _EDGES.sub("", unicodedata.normalize("NFC", text))

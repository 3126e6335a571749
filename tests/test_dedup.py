"""content_hash and StoryIndex: exact keys, persistence across restarts, hard negatives, P/R."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import zlib
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from bench.bench_dedup import open_db, run
from bench.dedup_data import STANDARD_DISCLAIMER, START, TOPIC_BY_NAME, Dataset, _make_story, generate, sample
from pipelines import dedup, store
from pipelines.dedup import (
    CONFLICT, NONE, STRONG, WEAK, StoryIndex, content_hash, figures, figures_check, refresh_story,
)

BODY = (
    "الرباط (و.م.ع) - صادق مجلس النواب، خلال جلسة تشريعية عقدها يوم الثلاثاء، على مشروع القانون رقم 43.22 "
    "يتعلق بالعقوبات البديلة.\n"
    "وحظي النص بموافقة 124 نائبا، فيما عارضه 41 نائبا وامتنع 6 عن التصويت.\n"
    "وقال وزير العدل، في كلمة تقديمية، إن هذا النص يندرج في إطار الإصلاحات التي تباشرها الحكومة.\n"
    "وكانت لجنة العدل والتشريع قد صادقت على المشروع بعد إدخال 37 تعديلا عليه."
)


@pytest.fixture(scope="module")
def data() -> Dataset:
    return generate()


def new_index(path: Path) -> tuple[sqlite3.Connection, StoryIndex]:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    index = StoryIndex(conn)
    index.ensure_schema()
    return conn, index


# -- exact keys -----------------------------------------------------------------------------------


def test_content_hash_ignores_spelling_layout_and_links() -> None:
    variant = (
        "إقرأ أيضاً: الحكومة تصادق على مشروع مرسوم\n\n"
        + BODY.replace("النواب", "النّواب").replace("أ", "ا").replace("43.22", "٤٣.٢٢").replace("مجلس", "مجـلس")
        .replace("\n", "\n\n  ")
        + "\nجميع الحقوق محفوظة © 2025\nتابعونا على فيسبوك"
    )
    assert content_hash(variant) == content_hash(BODY)
    assert content_hash(BODY.replace("124", "125")) != content_hash(BODY)
    # What is hashed: normalized words, one-letter tokens ("(و.م.ع)") dropped, digits folded.
    line = "الرباط (و.م.ع) - صادق مجلسُ النوّاب على مشروع القانون رقم ٤٣.٢٢، يوم الإثنين"
    words = "الرباط صادق مجلس النواب علي مشروع القانون رقم 43 22 يوم الاثنين"
    assert content_hash(line) == hashlib.sha1(words.encode()).hexdigest()
    assert content_hash("") == hashlib.sha1(b"").hexdigest()


def test_figures_keep_distinctive_numbers_only() -> None:
    tokens = ["2026", "12", "5", "007", "1959", "15000", "12"]  # normalized tokens: digits are ASCII
    assert figures(tokens) == frozenset({zlib.crc32(b"12"), zlib.crc32(b"15000")})
    a, b = frozenset({1, 2, 3, 4}), frozenset({1, 2, 3})
    assert figures_check(a, b) == STRONG
    assert figures_check(frozenset({1, 2, 3, 4, 5}), frozenset({1, 2, 7, 8})) == WEAK   # 2 of 7: chance
    assert figures_check(frozenset({1}), frozenset({1, 9})) == WEAK
    assert figures_check(frozenset({1, 2, 3}), frozenset({4, 5, 3})) == CONFLICT
    assert figures_check(frozenset(), b) == NONE


def test_index_schema_lives_in_store_and_applies_twice(tmp_path: Path) -> None:
    """The index tables are defined with the rest of the schema (pipelines.store); a scratch database
    gets them alone, twice over, inside an open transaction (which the DDL must not commit)."""
    conn = sqlite3.connect(str(tmp_path / "a.db"), isolation_level=None)
    conn.execute("BEGIN")
    for _ in range(2):
        StoryIndex(conn).ensure_schema()
    assert conn.in_transaction
    conn.execute("COMMIT")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {"article_minhash", "lsh_buckets", "boilerplate_lines", "story_merges", "story_sizes"}
    assert store.STORY_INDEX_SCHEMA in store.SCHEMA  # an Archive creates them with everything else
    assert "CREATE" not in Path(dedup.__file__).read_text(encoding="utf-8")  # no DDL left in dedup
    assert dedup.DDL == store.statements(store.STORY_INDEX_SCHEMA)  # the old name, for bench/bench_dedup.py


# -- StoryIndex behaviour -------------------------------------------------------------------------


def story_copies(data: Dataset, minimum: int = 4) -> list:
    by_story: dict[str, list] = {}
    for a in data.crawl_order():
        if a.kind == "wire":
            by_story.setdefault(a.story, []).append(a)
    return next(v for k, v in sorted(by_story.items()) if len(v) >= minimum and len({a.source for a in v}) == len(v))


def test_restart_then_a_new_copy_joins_the_old_story(tmp_path: Path, data: Dataset) -> None:
    path = tmp_path / "archive.db"
    copies = story_copies(data)
    background = [a for a in data.crawl_order() if a.kind == "original"][:150]
    conn, index = new_index(path)
    conn.execute("BEGIN")
    for a in background + copies[:-1]:
        index.add(a.id, a.source, a.text, a.published)
    conn.execute("COMMIT")
    first_story = index.story_of(copies[0].id)
    assert first_story == copies[0].id
    assert all(index.story_of(a.id) == first_story for a in copies[:-1])
    conn.close()

    # A month later, a new process: the last copy is crawled (published with the others).
    conn, index = new_index(path)
    last = copies[-1]
    result = index.add(last.id, last.source, last.text, last.published)
    assert result.story_id == first_story and result.indexed and result.duplicate_of is None
    assert result.match in {a.id for a in copies[:-1]}
    # Idempotent: adding it again changes nothing.
    assert index.add(last.id, last.source, last.text, last.published) == (first_story, None, None, 0.0, False, ())
    assert conn.execute("SELECT COUNT(*) FROM article_minhash").fetchone()[0] == len(background) + len(copies)
    conn.close()


def test_same_outlet_repost_and_amp_twin_are_the_same_article(tmp_path: Path) -> None:
    conn, index = new_index(tmp_path / "a.db")
    a = index.add(1, "sada", BODY, "2026-03-02T10:00+01:00")
    repost = BODY + "\nاقرأ أيضا: وزير العدل يقدم مشروع قانون المسطرة الجنائية"
    b = index.add(2, "sada", repost, "2026-03-04T09:00+01:00")
    assert (a.story_id, a.duplicate_of) == (1, None)
    assert (b.story_id, b.duplicate_of, b.indexed) == (1, 1, False)
    # Another outlet with the same text is the same story, not the same article.
    c = index.add(3, "nabd", BODY.replace("الرباط (و.م.ع) - ", ""), "2026-03-02T12:00+01:00")
    assert (c.story_id, c.duplicate_of, c.match) == (1, None, 1)


ABOUT = ("جريدة الساحل الإلكترونية منبر إعلامي مستقل تأسس سنة 2010 بمدينة طنجة، يهتم بالشأن المحلي والجهوي والوطني، "
         "ويقدم لقرائه الأخبار والتقارير والحوارات والتحقيقات على مدار الساعة، بفريق من الصحافيين والمراسلين في مختلف "
         "مدن الشمال، ويلتزم بأخلاقيات المهنة وبالدقة والموضوعية في نقل الأخبار وتحري مصادرها قبل النشر")


def short_stories(n: int) -> list[str]:
    rng = random.Random(5)
    out = []
    for i in range(n):
        story = _make_story(f"s{i}", TOPIC_BY_NAME["diplomacy" if i % 2 else "culture"], rng, n_sentences=2)
        out.append(" ".join(story.sentences))
    return out


def test_a_learned_footer_stops_merging_different_stories(tmp_path: Path) -> None:
    """A 60-word footer the patterns do not know, on 2-sentence stories of one outlet: after the
    outlet has published it twice it is peeled off, and different stories stay apart."""
    conn, index = new_index(tmp_path / "a.db")
    stories = [index.add(100 + i, "sahil", f"{body}\n{ABOUT}", f"2026-03-{i + 1:02d}T10:00+01:00").story_id
               for i, body in enumerate(short_stories(8))]
    assert stories[2:] == [102, 103, 104, 105, 106, 107]  # the first two may meet before the footer is known
    footer_key = dedup._key64("sahil", " ".join(dedup._lines(ABOUT)[0])) & ((1 << 44) - 1)
    counts: dict[int, int] = {}  # keys carry the publication period: sum over periods
    for key, n in conn.execute("SELECT key, n FROM boilerplate_lines"):
        counts[key & ((1 << 44) - 1)] = counts.get(key & ((1 << 44) - 1), 0) + n
    assert counts[footer_key] == 8


def test_a_standard_disclaimer_is_removed_from_the_first_article(tmp_path: Path) -> None:
    conn, index = new_index(tmp_path / "a.db")
    stories = [index.add(100 + i, "nabd", f"{body}\n{STANDARD_DISCLAIMER}", f"2026-03-{i + 1:02d}T10:00+01:00").story_id
               for i, body in enumerate(short_stories(6))]
    assert stories == [100, 101, 102, 103, 104, 105]
    assert index.shingles_of("nabd", STANDARD_DISCLAIMER) == set()


def test_hard_negatives_are_never_merged(tmp_path: Path, data: Dataset) -> None:
    result = run(sample(data, 200, seed=1), open_db(tmp_path / "a.db"))
    assert result.hard == {"topic": (0, 70), "headline": (0, 50), "footer": (0, 190)}


def test_merge_folds_stories_in_index_articles_and_stories(tmp_path: Path) -> None:
    """Two halves of a dispatch start two stories; the full dispatch joins both, which merge."""
    conn, index = new_index(tmp_path / "a.db")
    conn.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, source TEXT, published TEXT, story_id INTEGER)")
    conn.execute("CREATE TABLE stories (story_id INTEGER PRIMARY KEY, first_published TEXT, first_source TEXT,"
                 " article_count INTEGER, source_count INTEGER)")
    # Seed 18: each half has Jaccard 0.49 with the whole, so LSH retrieves both (P ≈ 0.85 each).
    story = _make_story("x", TOPIC_BY_NAME["parliament"], random.Random(18))
    half = len(story.sentences) // 2
    first, second = story.sentences[:half], story.sentences[half:]
    rows = [(1, "sada", "\n".join(first)), (2, "mirsad", "\n".join(second)),
            (3, "atlas", "\n".join(first + second))]
    results = []
    for article_id, source, text in rows:
        published = "2026-03-02T10:00+01:00"
        result = index.add(article_id, source, text, published)
        conn.execute("INSERT INTO articles VALUES (?, ?, ?, ?)", (article_id, source, published, result.story_id))
        refresh_story(conn, result.story_id)
        results.append(result)
    assert [r.story_id for r in results[:2]] == [1, 2]
    assert results[2].story_id == 1 and results[2].merged == (2,)
    assert [index.story_of(i) for i in (1, 2, 3)] == [1, 1, 1]
    assert conn.execute("SELECT id, story_id FROM articles ORDER BY id").fetchall() == [(1, 1), (2, 1), (3, 1)]
    assert conn.execute("SELECT * FROM stories").fetchall() == [(1, "2026-03-02T10:00+01:00", "sada", 3, 3)]
    assert conn.execute("SELECT * FROM story_sizes").fetchall() == [(1, 3)]


def test_established_stories_are_not_merged(tmp_path: Path) -> None:
    """Each half already has three copies: a text matching both joins the closer one, nothing merges
    (a merge only absorbs fragments of at most MERGE_MAX_ARTICLES, so chains cannot snowball)."""
    conn, index = new_index(tmp_path / "a.db")
    story = _make_story("x", TOPIC_BY_NAME["parliament"], random.Random(18))
    half = len(story.sentences) // 2
    first, second = "\n".join(story.sentences[:half]), "\n".join(story.sentences[half:])
    published = "2026-03-02T10:00+01:00"
    for i, source in enumerate(("sada", "nabd", "mirsad")):
        assert index.add(1 + i, source, first, published).story_id == 1
        assert index.add(11 + i, source, second, published).story_id == 11
    result = index.add(21, "atlas", first + "\n" + second, published)
    assert result.story_id in (1, 11) and result.merged == ()
    assert [index.story_of(i) for i in (1, 2, 3, 11, 12, 13)] == [1, 1, 1, 11, 11, 11]
    assert dict(conn.execute("SELECT * FROM story_sizes")) == {1: 3 + (result.story_id == 1), 11: 3 + (result.story_id == 11)}


def test_refresh_story(tmp_path: Path) -> None:
    conn = sqlite3.connect(str(tmp_path / "a.db"))
    conn.execute("CREATE TABLE articles (id INTEGER PRIMARY KEY, source TEXT, published TEXT, story_id INTEGER)")
    conn.execute("CREATE TABLE stories (story_id INTEGER PRIMARY KEY, first_published TEXT, first_source TEXT,"
                 " article_count INTEGER, source_count INTEGER)")
    conn.executemany("INSERT INTO articles VALUES (?, ?, ?, ?)", [
        (10, "hespress", "2026-03-02T10:00+01:00", 10), (11, "le360", "2026-03-02T09:30+01:00", 10),
        (12, "hespress", None, 10), (13, "goud", "2026-03-01T08:00+01:00", 13),
    ])
    refresh_story(conn, 10)
    assert conn.execute("SELECT * FROM stories").fetchall() == [(10, "2026-03-02T09:30+01:00", "le360", 3, 2)]
    conn.execute("UPDATE articles SET story_id = 13 WHERE story_id = 10")
    refresh_story(conn, 10)
    refresh_story(conn, 13)
    assert conn.execute("SELECT * FROM stories").fetchall() == [(13, "2026-03-01T08:00+01:00", "goud", 4, 3)]


def test_undated_and_empty_texts(tmp_path: Path) -> None:
    conn, index = new_index(tmp_path / "a.db")
    assert index.add(1, "sada", "", None) == (1, None, None, 0.0, False, ())
    assert index.add(2, "sada", BODY, None).story_id == 2
    assert index.add(3, "nabd", BODY, None).story_id == 2


def test_memory_does_not_hold_the_index(tmp_path: Path, data: Dataset) -> None:
    """Nothing is cached per article in the object: a fresh StoryIndex sees everything."""
    conn, index = new_index(tmp_path / "a.db")
    arts = data.crawl_order()[:300]
    conn.execute("BEGIN")
    for a in arts:
        index.add(a.id, a.source, a.text, a.published)
    conn.execute("COMMIT")
    assert set(vars(index)) == {"conn", "_minhash", "_articles"}
    fresh = StoryIndex(conn)
    assert all(fresh.story_of(a.id) == index.story_of(a.id) for a in arts)


# -- precision / recall ---------------------------------------------------------------------------


def test_precision_recall_on_200_pair_samples(tmp_path: Path, data: Dataset) -> None:
    """Three fixed 200-pair samples of the labelled set, each on an index warmed by other articles
    (in production only an outlet's first two articles meet an index that has not learned its
    boilerplate). Pair metrics are pooled: one sample alone is dominated by a few large stories."""
    warm = generate(99, wire_stories=40, original_stories=120, topic_pairs=0, headline_pairs=0, footer_stories=0,
                    start=START - timedelta(days=20), span_days=20, id_base=50_000_000)
    hits = predicted = truth = 0
    for seed in (1, 2, 3):
        part = sample(data, 200, seed=seed)
        assert len(part.syndicated_pairs()) >= 200
        conn = open_db(tmp_path / f"s{seed}.db")
        run(warm, conn)
        result = run(part, conn)
        hits += result.hits
        predicted += result.predicted_pairs
        truth += result.true_pairs
        assert result.dup_precision == 1.0 and result.dup_recall == 1.0
        assert sum(m for m, _ in result.hard.values()) == 0
    assert hits / predicted >= 0.99
    assert hits / truth >= 0.95


def test_module_constants_are_consistent() -> None:
    assert dedup.BANDS * dedup.ROWS <= dedup.NUM_PERM
    assert all(dedup.NEAR_BARS[k][0] <= dedup.BARS[k][0] for k in dedup.BARS)
    assert dedup.SURE_JACCARD < dedup.DUPLICATE_JACCARD


# -- features made in the extraction worker -------------------------------------------------------


def test_permuted_is_datasketch_affine32() -> None:
    rng = np.random.default_rng(5)
    for n in (1, 3, 250):
        hashes = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
        assert np.array_equal(dedup.permuted(hashes).min(axis=0), dedup.signature(hashes.tolist()))


def test_worker_features_match_as_the_text_does(tmp_path: Path, data: Dataset) -> None:
    """`match(..., features=text_features(...))` gives the text path's signature, shingle count,
    figures, band keys and stories, including where learned head/tail lines are peeled off."""
    conn_a, by_text = new_index(tmp_path / "text.db")
    conn_b, by_features = new_index(tmp_path / "features.db")
    peeled = 0
    for conn in (conn_a, conn_b):
        conn.execute("BEGIN")
    for a in data.crawl_order()[:700]:
        features = dedup.text_features(a.source, a.text)
        assert features.content_hash == content_hash(a.text)
        got_text = by_text.match(a.source, a.text, a.published)
        got_features = by_features.match(a.source, a.text, a.published, features=features)
        assert got_features._shingles == got_text._shingles
        assert got_features._figures == got_text._figures
        assert (got_text._sig is None) == (got_features._sig is None)
        if got_text._sig is not None:
            assert np.array_equal(got_features._sig, got_text._sig)
        assert got_features._keys == got_text._keys
        if got_text._features is not None:  # (a same-outlet duplicate carries none)
            assert got_features._features.line_keys == got_text._features.line_keys
            assert got_features._features.text_key == got_text._features.text_key
        assert (got_features.duplicate_of, got_features.story_id) == (got_text.duplicate_of, got_text.story_id)
        whole = features.kept(0, len(features.line_words))
        if whole is not None and got_text._shingles and whole[0] != got_text._shingles:
            peeled += 1
        assert by_features.index(a.id, got_features) == by_text.index(a.id, got_text)
    for conn in (conn_a, conn_b):
        conn.execute("COMMIT")
    assert peeled >= 50  # learned boilerplate was peeled off, so the per-line-group signatures were exercised


def test_worker_features_of_short_and_empty_texts(tmp_path: Path) -> None:
    conn, index = new_index(tmp_path / "a.db")
    for text, shingle_count in (("", 0), ("عاجل", 1), ("عاجل: زلزال", 1), ("زلزال قوي يضرب\nالمنطقة", 2)):
        features = dedup.text_features("src", text)
        # under SHINGLE content words `shingles` makes one shingle of the whole: the text path decides
        assert (features.kept(0, len(features.line_words)) is None) == (shingle_count < 2)
        via_text, via_features = index.match("src", text, None), index.match("src", text, None, features=features)
        assert via_features._shingles == via_text._shingles == shingle_count
    other = dedup.text_features("other", BODY)  # made for another outlet: ignored, the text decides
    assert index.match("src", BODY, None, features=other)._keys == index.match("src", BODY, None)._keys

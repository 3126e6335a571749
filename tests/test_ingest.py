"""pipelines.ingest over a real archive file: same article → one row with all its URLs, copies across
outlets → one story, and the `stories` rows right after joins and merges (StoryIndex owns them)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from bench.dedup_data import TOPIC_BY_NAME, _make_story
from pipelines.arabic import fts_query, search_text
from pipelines.dedup import StoryIndex, content_hash
from pipelines.ingest import attach_alias, canonical_keys, ingest
from pipelines.registry import Source, parse_source
from pipelines.store import Archive, search_key

TEXT = "\n".join([
    "الرباط - أعلنت وزارة الفلاحة والصيد البحري عن إطلاق برنامج وطني جديد لدعم صغار الفلاحين في المناطق الجبلية"
    " بغلاف مالي يناهز 850 مليون درهم على مدى ثلاث سنوات.",
    "وأوضح بلاغ للوزارة أن البرنامج يستهدف أزيد من 42 ألف فلاح في أقاليم الأطلس المتوسط والريف، ويشمل توزيع"
    " البذور المختارة وتجهيز الضيعات الصغيرة بأنظمة الري بالتنقيط وتأطير التعاونيات الفلاحية.",
    "وأضاف المصدر ذاته أن الشطر الأول سينطلق خلال الموسم الفلاحي المقبل في إقليمي إفران وخنيفرة، قبل تعميمه"
    " تدريجيا على باقي الأقاليم المعنية وفق جدول زمني تم الاتفاق عليه مع السلطات المحلية.",
    "وأكد وزير الفلاحة في تصريح صحفي أن هذه المبادرة تندرج في إطار تنزيل استراتيجية الجيل الأخضر الرامية إلى"
    " تحسين دخل الفلاحين وتثبيت الساكنة القروية في أراضيها ومواجهة آثار الجفاف المتتالي.",
    "ويرتقب أن تساهم هذه العملية في خلق حوالي 17 ألف منصب شغل مباشر وغير مباشر، خاصة لفائدة الشباب والنساء"
    " في العالم القروي، حسب المعطيات التي كشفت عنها الوزارة.",
    "وكانت الغرف الفلاحية قد طالبت في اجتماعات سابقة بتخصيص دعم استثنائي للمناطق الجبلية التي تضررت بشكل"
    " كبير من قلة التساقطات المطرية وارتفاع أسعار الأعلاف والأسمدة خلال السنتين الأخيرتين.",
])
PUBLISHED = "2026-03-02T10:00:00+01:00"


def outlet(source_id: str) -> Source:
    return parse_source({
        "id": source_id, "name": source_id, "country": "MA", "language": "ar",
        "domains": [f"www.{source_id}.ma"], "feeds": [f"https://www.{source_id}.ma/feed"],
        "article_pattern": rf"^https://www\.{source_id}\.ma/.+$",
    })


class Desk:
    """An archive and its story index, taking pages the way the crawl's ArchivePipeline does."""

    def __init__(self, path: Path, *source_ids: str) -> None:
        self.archive = Archive(path)
        self.sources = {s: outlet(s) for s in source_ids}
        self.archive.upsert_sources(self.sources.values())
        self.stories = StoryIndex(self.archive.conn)

    def page(self, source_id: str, url: str, text: str, published: str = PUBLISHED, title: str = "عنوان"):
        with self.archive.item():
            outcome = ingest(
                self.archive, self.stories, source=self.sources[source_id], final_url=url, found_urls=[url],
                record={"title": title, "text": text, "published": published, "language": "ar",
                        "encoding": "utf-8", "encoding_source": "header", "content_hash": content_hash(text)},
                capture_id=None, fetched_at="2026-03-02T12:00:00+00:00",
            )
        self.archive.commit()
        return outcome

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.archive.conn.execute(sql, params).fetchall()


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    d = Desk(tmp_path / "archive.db", "hespress", "le360", "goud", "sada", "mirsad", "atlas")
    yield d
    d.archive.close()


def test_same_outlet_repost_and_near_twin_are_one_article_with_all_urls(desk: Desk) -> None:
    first = desk.page("hespress", "https://www.hespress.ma/programme-1001.html", TEXT)
    # A repost under a new id: the same words (spelling and layout aside) → content_hash.
    repost = desk.page("hespress", "https://www.hespress.ma/programme-2002.html",
                       TEXT.replace("أعلنت", "اعلنت").replace("\n", "\n\n"))
    # Republished under a third id with one word edited: not the same hash, still the same article
    # (StoryIndex: same outlet, estimated Jaccard >= DUPLICATE_JACCARD).
    edited = TEXT.replace("حوالي 17 ألف", "نحو 17 ألف")
    assert content_hash(edited) != content_hash(TEXT)
    twin = desk.page("hespress", "https://www.hespress.ma/programme-3003.html", edited)
    assert first.status == "new"
    assert (repost.status, repost.article_id) == ("duplicate", first.article_id)
    assert (twin.status, twin.article_id) == ("duplicate", first.article_id)
    assert desk.query("SELECT COUNT(*) FROM articles") == [(1,)]
    urls = {u for (u,) in desk.query("SELECT url FROM article_urls WHERE article_id = ?", (first.article_id,))}
    assert {"https://www.hespress.ma/programme-1001.html", "https://www.hespress.ma/programme-2002.html",
            "https://www.hespress.ma/programme-3003.html"} <= urls
    assert desk.query("SELECT encoding, encoding_source FROM articles") == [("utf-8", "header")]
    assert desk.query("SELECT story_id, first_source, article_count, source_count FROM stories") == [
        (first.article_id, "hespress", 1, 1)]


def test_another_form_of_a_url_joins_its_article_or_waits_under_its_canonical_url(desk: Desk) -> None:
    hespress = desk.sources["hespress"]
    url = "https://www.hespress.ma/programme-1001.html"
    # met before its article is stored: nothing written, the caller keeps it under the canonical URL
    early = url + "?utm_source=rss"
    assert attach_alias(desk.archive, hespress, early) == (url, None)
    assert canonical_keys([url, url + "?utm_medium=social"], hespress) == [url]
    stored = desk.page("hespress", url, TEXT)
    # met after: onto the article at once
    late = url + "?utm_source=facebook"
    with desk.archive.item():
        assert attach_alias(desk.archive, hespress, late) == (url, stored.article_id)
    desk.archive.commit()
    forms = {u for (u,) in desk.query("SELECT url FROM article_urls WHERE article_id = ?", (stored.article_id,))}
    assert late in forms and early not in forms


def test_cross_outlet_copies_share_a_story_and_its_row_follows(desk: Desk) -> None:
    a = desk.page("hespress", "https://www.hespress.ma/programme-1001.html", TEXT)
    # The same wire text in another outlet, its dateline dropped and a credit added, published later.
    copy = TEXT.replace("الرباط - ", "") + "\n(و.م.ع)"
    b = desk.page("le360", "https://www.le360.ma/economie/programme", copy, "2026-03-02T13:30:00+01:00")
    # A third outlet had it first (crawled last).
    c = desk.page("goud", "https://www.goud.ma/programme-77/", copy.replace("أزيد من", "أكثر من"),
                  "2026-03-02T08:15:00+01:00")
    assert [o.status for o in (a, b, c)] == ["new", "new", "new"]
    assert len({a.article_id, b.article_id, c.article_id}) == 3
    story_ids = {sid for (sid,) in desk.query("SELECT story_id FROM articles")}
    assert story_ids == {a.article_id}
    assert desk.query("SELECT * FROM stories") == [
        (a.article_id, "2026-03-02T08:15:00+01:00", "goud", 3, 3)]


def test_stories_rows_stay_right_when_fragments_merge(desk: Desk) -> None:
    """Two halves of a dispatch start two stories; the full dispatch joins both and they merge
    (the same texts as test_dedup's merge test, here through ingest into a real archive)."""
    story = _make_story("x", TOPIC_BY_NAME["parliament"], random.Random(18))
    half = len(story.sentences) // 2
    first, second = story.sentences[:half], story.sentences[half:]
    outcomes = [
        desk.page("sada", "https://www.sada.ma/1", "\n".join(first)),
        desk.page("mirsad", "https://www.mirsad.ma/2", "\n".join(second), "2026-03-02T09:00:00+01:00"),
        desk.page("atlas", "https://www.atlas.ma/3", "\n".join(first + second), "2026-03-02T11:00:00+01:00"),
    ]
    ids = [o.article_id for o in outcomes]
    assert desk.query("SELECT id, story_id FROM articles ORDER BY id") == [(i, ids[0]) for i in ids]
    assert desk.query("SELECT * FROM stories") == [(ids[0], "2026-03-02T09:00:00+01:00", "mirsad", 3, 3)]
    assert desk.query("SELECT * FROM story_merges") == [(ids[1], ids[0])]


def test_refetched_article_moves_its_story_date(desk: Desk) -> None:
    a = desk.page("hespress", "https://www.hespress.ma/programme-1001.html", TEXT)
    with desk.archive.item():
        ingest(desk.archive, desk.stories, source=desk.sources["hespress"],
               final_url="https://www.hespress.ma/programme-1001.html", found_urls=[],
               record={"title": "عنوان", "text": TEXT, "published": "2026-03-01T22:00:00+01:00",
                       "content_hash": content_hash(TEXT)},
               capture_id=None, fetched_at="2026-03-03T12:00:00+00:00", refetch=True)
    desk.archive.commit()
    assert desk.query("SELECT first_published FROM stories WHERE story_id = ?", (a.article_id,)) == [
        ("2026-03-01T22:00:00+01:00",)]


# The articles table as schema version 1 created it (version 2 added encoding_source).
V1_ARTICLES = (
    "CREATE TABLE articles (id INTEGER PRIMARY KEY, source TEXT NOT NULL, url TEXT NOT NULL UNIQUE, title TEXT,"
    " text TEXT, published TEXT, published_day TEXT, modified TEXT, author TEXT, authors TEXT, section TEXT,"
    " tags TEXT, image TEXT, language TEXT, word_count INTEGER, description TEXT, date_source TEXT,"
    " encoding TEXT, fetched_at TEXT, content_hash TEXT, story_id INTEGER, capture_id INTEGER)"
)


def test_an_archive_of_schema_version_1_is_upgraded_in_place(tmp_path: Path) -> None:
    """Opening an older archive adds what the schema gained, keeping every row."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        V1_ARTICLES + ";"
        "INSERT INTO articles (id, source, url, title, encoding) VALUES (7, 'hespress', 'https://x/7', 'قديم', 'cp1256');"
        "PRAGMA user_version = 1;"
    )
    conn.close()
    for _ in range(2):  # and again: nothing to do the second time
        archive = Archive(path)
        archive.close()
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(articles)")]
    assert columns[-2:] == ["encoding_source", "search_key"]
    assert conn.execute("SELECT id, title, encoding, encoding_source, search_key FROM articles").fetchall() == [
        (7, "قديم", "cp1256", None, 7)]  # no date: 0 s x 10^9 + id
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(articles)")}
    assert "articles_capture" in indexes
    assert conn.execute("PRAGMA user_version").fetchone() == (3,)
    conn.close()


def test_an_archive_of_schema_version_2_gets_its_search_index_keyed_by_publication_order(tmp_path: Path) -> None:
    """Version 2 keyed the stemmed copy and its FTS by article id; opening it re-keys both by search_key."""
    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        V1_ARTICLES[:-1] + ", encoding_source TEXT);"
        "CREATE TABLE articles_search (id INTEGER PRIMARY KEY, title TEXT, text TEXT);"
        "CREATE VIRTUAL TABLE articles_search_fts USING fts5(title, text, content=[articles_search], content_rowid=[id]);"
        "CREATE TRIGGER articles_search_ai AFTER INSERT ON articles_search BEGIN"
        "  INSERT INTO articles_search_fts (rowid, title, text) VALUES (new.rowid, new.title, new.text); END;"
        "PRAGMA user_version = 2;"
    )
    old = [(1, "https://x/1", "2026-03-01T22:00:00+01:00", "2026-03-02T08:00:00+00:00", "مطر غزير"),
           (2, "https://x/2", "2026-02-01T09:00:00+00:00", "2026-03-02T08:00:00+00:00", "جفاف"),
           (3, "https://x/3", None, "2026-03-02T08:00:00+00:00", "مطر")]
    for article_id, url, published, fetched_at, title in old:
        conn.execute("INSERT INTO articles (id, source, url, title, published, fetched_at) VALUES (?, 'x', ?, ?, ?, ?)",
                     (article_id, url, title, published, fetched_at))
        conn.execute("INSERT INTO articles_search (id, title, text) VALUES (?, ?, '')", (article_id, search_text(title)))
    conn.commit()
    conn.close()
    for _ in range(2):
        Archive(path).close()
    conn = sqlite3.connect(path)
    keys = dict(conn.execute("SELECT id, search_key FROM articles"))
    assert keys == {1: 1772398800 * 10**9 + 1, 2: 1769936400 * 10**9 + 2, 3: 3}
    assert [r[1] for r in conn.execute("PRAGMA table_info(articles_search)")] == ["search_key", "title", "text"]
    found = conn.execute("SELECT rowid FROM articles_search_fts WHERE articles_search_fts MATCH ? ORDER BY rowid DESC",
                         (fts_query("مطر"),)).fetchall()
    assert found == [(keys[1],), (keys[3],)]  # newest published first, the undated one last
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.execute("INSERT INTO articles_search_fts (articles_search_fts) VALUES ('integrity-check')")
    assert conn.execute("PRAGMA user_version").fetchone() == (3,)
    conn.close()


# -- search_key: publication order for the search index -----------------------------------------------------


@pytest.mark.parametrize("published, fetched_at, article_id, expected", [
    ("2026-03-01T22:00:00+01:00", "2026-03-02T08:00:00+00:00", 5, 1772398800 * 10**9 + 5),
    ("2026-03-01T21:00:00Z", "2026-03-02T08:00:00+00:00", 5, 1772398800 * 10**9 + 5),  # the same instant
    ("2026-03-01", None, 9, 1772323200 * 10**9 + 9),  # a bare day: midnight UTC
    ("2027-01-01T00:00:00+00:00", "2026-03-02T08:00:00+00:00", 5, 1772438400 * 10**9 + 5),  # after the fetch: the fetch
    (None, "2026-03-02T08:00:00+00:00", 42, 42),  # undated: after every dated article
    ("not a date", None, 42, 42),
])
def test_search_key_is_utc_publication_order_and_unique(published, fetched_at, article_id, expected) -> None:
    assert search_key(published, fetched_at, article_id) == expected


def test_search_key_orders_instants_not_strings() -> None:
    casablanca = search_key("2026-03-01T23:30:00+01:00", None, 1)  # 22:30 UTC
    cairo = search_key("2026-03-01T23:00:00+02:00", None, 2)       # 21:00 UTC: earlier, though the string sorts later
    assert casablanca > cairo
    with pytest.raises(ValueError):
        search_key(None, None, 10**9)


def test_a_corrected_date_moves_the_article_in_search_order(desk: Desk) -> None:
    old = desk.page("hespress", "https://www.hespress.ma/a-1.html", TEXT, published="2026-03-01T10:00:00+01:00")
    new = desk.page("le360", "https://le360.ma/b-2.html", "خبر آخر عن الأمطار الغزيرة في الشمال " * 20,
                    published="2026-03-01T12:00:00+01:00")

    def newest_first(word: str) -> list[int]:
        return [r[0] for r in desk.query(
            "SELECT a.id FROM articles_search_fts f JOIN articles a ON a.search_key = f.rowid"
            " WHERE articles_search_fts MATCH ? ORDER BY f.rowid DESC", (fts_query(word),))]

    assert newest_first("الأمطار")[:1] == [new.article_id]
    desk.archive.update_article(old.article_id, {"title": "عنوان", "text": TEXT + "\nالأمطار",
                                                 "published": "2026-03-01T14:00:00+01:00"})
    desk.archive.commit()
    assert newest_first("الأمطار") == [old.article_id, new.article_id]
    assert desk.query("SELECT COUNT(*) FROM articles_search") == [(2,)]
    desk.query("INSERT INTO articles_search_fts (articles_search_fts) VALUES ('integrity-check')")

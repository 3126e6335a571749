"""pipelines.ingest over a real archive file: same article → one row with all its URLs, copies across
outlets → one story, and the `stories` rows right after joins and merges (StoryIndex owns them)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from bench.dedup_data import TOPIC_BY_NAME, _make_story
from pipelines.dedup import StoryIndex, content_hash
from pipelines.ingest import ingest
from pipelines.registry import Source, parse_source
from pipelines.store import Archive

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


def test_an_archive_of_schema_version_1_is_upgraded_in_place(tmp_path: Path) -> None:
    """Opening an older archive adds what the schema gained, keeping every row."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE articles (id INTEGER PRIMARY KEY, source TEXT NOT NULL, url TEXT NOT NULL UNIQUE, title TEXT,"
        " text TEXT, published TEXT, published_day TEXT, modified TEXT, author TEXT, authors TEXT, section TEXT,"
        " tags TEXT, image TEXT, language TEXT, word_count INTEGER, description TEXT, date_source TEXT,"
        " encoding TEXT, fetched_at TEXT, content_hash TEXT, story_id INTEGER, capture_id INTEGER);"
        "INSERT INTO articles (id, source, url, title, encoding) VALUES (7, 'hespress', 'https://x/7', 'قديم', 'cp1256');"
        "PRAGMA user_version = 1;"
    )
    conn.close()
    for _ in range(2):  # and again: nothing to do the second time
        archive = Archive(path)
        archive.close()
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(articles)")]
    assert columns[-1] == "encoding_source"
    assert conn.execute("SELECT id, title, encoding, encoding_source FROM articles").fetchall() == [
        (7, "قديم", "cp1256", None)]
    indexes = {r[1] for r in conn.execute("PRAGMA index_list(articles)")}
    assert "articles_capture" in indexes
    assert conn.execute("PRAGMA user_version").fetchone() == (2,)
    conn.close()

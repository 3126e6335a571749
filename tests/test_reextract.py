"""Offline re-extraction (pipelines/reextract.py) of an archive filled by a real crawl of the corpus pages.

The crawl serves six real pages of ../shared/corpus and one stub page on 127.0.0.1 behind a
sitemap; the server is stopped before any re-extraction, so everything after it is offline.
Each test works on its own copy of the crawled archive.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import unicodedata
import zlib
from pathlib import Path

import pytest

from crawler.extensions import ArchiveLock
from pipelines import arabic
from pipelines.reextract import ArchiveBusy, Progress, load_outlets, reextract
from tests.conftest import CORPUS, ROOT, crawl, gold, rows
from tests.sites import SiteServer, write_registry

GOLD = gold()
CRAWLED = GOLD[:-1]  # stored as articles by the crawl
LATE = GOLD[-1]  # stands for a page the crawl's extractor rejected and today's handles (see test below)
STUB = (
    '<!DOCTYPE html><html lang="ar"><head><meta charset="utf-8"><title>قريبا</title></head>'
    "<body><p>قريبا</p></body></html>"
).encode("utf-8")


def build_site(site: Path, *, lastmod: str | None = None, extra: tuple[str, ...] = ()) -> None:
    """The crawled pages, a stub that is no article, and a sitemap listing them and `extra` paths
    (a lastmod forces a refetch of known articles)."""
    for record in CRAWLED:
        shutil.copy(CORPUS / "pages" / record["file"], site / record["file"])
    (site / "stub.html").write_bytes(STUB)
    stamp = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    urls = "".join(f"<url><loc>{{{{BASE}}}}/{name}</loc>{stamp}</url>"
                   for name in [r["file"] for r in CRAWLED] + ["stub.html", *extra])
    (site / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
        encoding="utf-8",
    )


def crawl_site(site: Path, db: Path, server: SiteServer) -> None:
    seeds = site.parent / f"{site.name}-seeds.yml"
    write_registry([{
        "id": "corpus", "name": "مدونة الاختبار", "country": "pan-arab", "language": "ar",
        "domains": [server.hostport], "sitemaps": [f"{server.base}/sitemap.xml"],
        "article_pattern": r"\.html$",
    }], seeds)
    crawl(seeds, db)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    site = tmp_path_factory.mktemp("reextract-site")
    build_site(site)
    db = site.parent / "crawled.db"
    with SiteServer(site) as server:
        crawl_site(site, db, server)
        log = list(server.log)
    # The server is gone from here on: nothing below can reach the network.
    return db, log


@pytest.fixture
def archive(crawled, tmp_path) -> Path:
    """A private copy of the crawled archive."""
    db = tmp_path / "archive.db"
    source = sqlite3.connect(crawled[0])
    target = sqlite3.connect(db)
    source.backup(target)
    source.close()
    target.close()
    return db


def snapshot(db: Path) -> dict[str, list[dict]]:
    """Every row re-extraction could touch."""
    return {
        "articles": rows(db, "SELECT * FROM articles ORDER BY id"),
        "articles_search": rows(db, "SELECT * FROM articles_search ORDER BY search_key"),
        "article_urls": rows(db, "SELECT * FROM article_urls ORDER BY url"),
        "stories": rows(db, "SELECT * FROM stories ORDER BY story_id"),
        "captures": rows(db, "SELECT id, final_url, body_sha1 FROM captures ORDER BY id"),
        "errors": rows(db, "SELECT id, url, kind FROM errors ORDER BY id"),
    }


def replace_capture_body(db: Path, capture_id: int, body: bytes) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE captures SET body = ?, body_size = ?, body_sha1 = ? WHERE id = ?",
            (zlib.compress(body, 6), len(body), hashlib.sha1(body).hexdigest(), capture_id),
        )
    conn.close()


def _norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def test_crawl_stored_the_pages_and_the_stub_failed(crawled):
    db, log = crawled
    stored = rows(db, "SELECT url, capture_id FROM articles ORDER BY url")
    assert sorted(r["url"].rsplit("/", 1)[1] for r in stored) == sorted(r["file"] for r in CRAWLED)
    assert all(r["capture_id"] for r in stored)
    [stub_error] = rows(db, "SELECT url, kind FROM errors")
    assert stub_error["url"].endswith("/stub.html") and stub_error["kind"] in ("empty", "not_article")
    assert len(rows(db, "SELECT id FROM captures")) == len(CRAWLED) + 1
    assert sum(1 for _, path, _ in log if path.endswith(".html")) == len(CRAWLED) + 1


def test_offline_reextraction_is_identical_and_idempotent(archive):
    before = snapshot(archive)
    first = subprocess.run(
        [sys.executable, "-m", "pipelines.reextract", str(archive), "--workers", "2"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300,
    )
    assert first.returncode == 0, first.stderr
    assert f"re-extracted {len(CRAWLED)} article(s)" in first.stdout
    assert f"{len(CRAWLED)} rewritten, 0 changed, 0 failed" in first.stdout
    assert "retried 1 capture(s)" in first.stdout and "0 new article(s)" in first.stdout
    assert first.stderr == ""  # not a terminal: no progress line
    after_first = snapshot(archive)
    assert after_first == before

    second = reextract(archive, workers=2)
    assert (second.articles, second.updated, second.changed, sum(second.failed.values())) == (len(CRAWLED), len(CRAWLED), 0, 0)
    assert snapshot(archive) == after_first


def test_corrupted_title_and_search_row_are_restored(archive):
    before = snapshot(archive)
    victim = before["articles"][2]
    conn = sqlite3.connect(archive)
    with conn:
        conn.execute("UPDATE articles SET title = 'عنوان تالف', word_count = 1 WHERE id = ?", (victim["id"],))
        conn.execute("UPDATE articles_search SET title = '', text = '' WHERE search_key = ?", (victim["search_key"],))
    conn.close()
    assert rows(archive, "SELECT title FROM articles WHERE id = ?", (victim["id"],))[0]["title"] == "عنوان تالف"

    report = reextract(archive, workers=1)
    assert (report.updated, report.changed) == (len(CRAWLED), 1)
    assert snapshot(archive) == before
    gold_title = next(r["title"] for r in GOLD if victim["url"].endswith(r["file"]))
    assert _norm(rows(archive, "SELECT title FROM articles WHERE id = ?", (victim["id"],))[0]["title"]) == _norm(gold_title)
    # The search index finds the article by its title again.
    word = max(victim["title"].split(), key=len)
    hits = rows(archive, "SELECT rowid FROM articles_search_fts WHERE articles_search_fts MATCH ?",
                (arabic.fts_query(word),))
    assert victim["search_key"] in {h["rowid"] for h in hits}


def test_page_that_no_longer_extracts_is_reported_and_kept(archive):
    before = snapshot(archive)
    victim = before["articles"][0]
    replace_capture_body(archive, victim["capture_id"], STUB)
    report = reextract(archive, workers=2)
    assert report.updated == len(CRAWLED) - 1
    assert sum(report.failed.values()) == 1 and set(report.failed) <= {"empty", "not_article"}
    [failure] = report.failures
    assert (failure.article_id, failure.capture_id, failure.url) == (victim["id"], victim["capture_id"], victim["url"])
    assert "failed and left unchanged" in report.summary() and victim["url"] in report.summary()
    after = snapshot(archive)
    assert after["articles"] == before["articles"] and after["articles_search"] == before["articles_search"]
    assert after["errors"] == before["errors"]  # reported, not written


def test_a_row_that_cannot_be_written_is_rolled_back_alone(archive):
    before = snapshot(archive)
    victim = before["articles"][1]
    conn = sqlite3.connect(archive)
    with conn:
        conn.execute("UPDATE articles SET title = 'عنوان تالف' WHERE id = ?", (victim["id"],))
        # the article row is written first, then its search row fails: both must be undone
        conn.execute(f"CREATE TRIGGER refuse BEFORE UPDATE ON articles_search WHEN NEW.search_key = {victim['search_key']}"
                     " BEGIN SELECT RAISE(ABORT, 'search row is read-only'); END")
    conn.close()
    report = reextract(archive, workers=2)
    assert dict(report.failed) == {"store": 1} and report.updated == len(CRAWLED) - 1
    assert "search row is read-only" in report.failures[0].message
    after = snapshot(archive)
    assert [a for a in after["articles"] if a["id"] != victim["id"]] == [a for a in before["articles"] if a["id"] != victim["id"]]
    assert next(a for a in after["articles"] if a["id"] == victim["id"])["title"] == "عنوان تالف"
    assert after["articles_search"] == before["articles_search"]


def test_capture_that_failed_at_crawl_time_becomes_an_article(archive):
    # The stub's capture failed extraction during the crawl. Its stored bytes are replaced by a
    # real page: from re-extraction's point of view that is exactly "today's extractor handles
    # what the crawl's could not".
    [stub] = rows(archive, "SELECT id, final_url FROM captures WHERE final_url LIKE '%/stub.html'")
    replace_capture_body(archive, stub["id"], (CORPUS / "pages" / LATE["file"]).read_bytes())
    before = snapshot(archive)

    report = reextract(archive, workers=2)
    assert (report.retried, report.recovered, report.recovered_duplicates) == (1, 1, 0)
    assert report.updated == len(CRAWLED) and report.changed == 0
    [article] = rows(archive, "SELECT * FROM articles WHERE capture_id = ?", (stub["id"],))
    assert article["url"] == stub["final_url"] and article["source"] == "corpus"
    assert _norm(article["title"]) == _norm(LATE["title"])
    assert article["published_day"] in {LATE["date"], *LATE.get("date_accept", [])}
    assert all(_norm(s) in _norm(article["text"]) for s in LATE["body_must"])
    assert article["story_id"] and rows(archive, "SELECT * FROM stories WHERE story_id = ?", (article["story_id"],))
    assert rows(archive, "SELECT article_id FROM article_urls WHERE url = ?", (stub["final_url"],))[0]["article_id"] == article["id"]
    assert rows(archive, "SELECT COUNT(*) AS n FROM articles_search WHERE search_key = ?", (article["search_key"],))[0]["n"] == 1
    after = snapshot(archive)
    assert after["articles"][:len(CRAWLED)] == before["articles"]
    assert after["errors"] == before["errors"]

    again = reextract(archive, workers=2)  # now an article like the others: nothing left to retry
    assert (again.articles, again.retried, again.changed) == (len(CRAWLED) + 1, 0, 0)
    assert snapshot(archive) == after


def test_source_and_since_filters(archive):
    assert reextract(archive, source="corpus", workers=0).articles == len(CRAWLED)
    assert reextract(archive, since="2999-01-01", workers=0).articles == 0
    fetched = rows(archive, "SELECT MIN(fetched_at) AS t FROM captures")[0]["t"]
    assert reextract(archive, since=fetched[:10], workers=0).articles == len(CRAWLED)
    with pytest.raises(ValueError, match="unknown outlet"):
        reextract(archive, source="nosuch", workers=0)


def test_outlets_come_from_the_registry_else_the_archive(archive, tmp_path):
    conn = sqlite3.connect(archive)
    try:
        from_archive = load_outlets(conn)["corpus"]
        [row] = rows(archive, "SELECT domains FROM sources WHERE id = 'corpus'")
        assert from_archive.domains == tuple(json.loads(row["domains"])) and from_archive.timezone is None
        seeds = write_registry([{
            "id": "corpus", "name": "مدونة الاختبار", "country": "pan-arab", "language": "ar",
            "domains": list(from_archive.domains), "sitemaps": list(from_archive.sitemaps),
            "article_pattern": r"\.html$", "timezone": "Africa/Casablanca", "meta_utc_is_local": True,
        }], tmp_path / "seeds.yml")
        declared = load_outlets(conn, seeds)["corpus"]
        assert (declared.timezone, declared.meta_utc_is_local) == ("Africa/Casablanca", True)
    finally:
        conn.close()


def test_refuses_to_run_while_a_crawl_holds_the_archive(archive):
    lock = ArchiveLock(Path(f"{archive}.lock"))  # the crawl's own lock extension
    try:
        with pytest.raises(ArchiveBusy, match=str(os.getpid())):
            reextract(archive, workers=0)
    finally:
        lock.release()
    assert reextract(archive, workers=0).updated == len(CRAWLED)


def test_scrapy_reextract_command(archive, tmp_path):
    """`scrapy reextract` runs the same function on ARCHIVE_DB (COMMANDS_MODULE set as the lead will)."""
    (tmp_path / "akhbar_test_settings.py").write_text(
        'from crawler.settings import *  # noqa: F401,F403\nCOMMANDS_MODULE = "crawler.commands"\n', encoding="utf-8"
    )
    before = snapshot(archive)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}", "SCRAPY_SETTINGS_MODULE": "akhbar_test_settings"}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "reextract", "-s", f"ARCHIVE_DB={archive}", "-s", "EXTRACT_WORKERS=2",
         "--source", "corpus"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert f"re-extracted {len(CRAWLED)} article(s)" in result.stdout
    assert snapshot(archive) == before
    listing = subprocess.run([sys.executable, "-m", "scrapy"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert "reextract" in listing.stdout and "Re-extract archived articles" in listing.stdout


def test_progress_line():
    stream = io.StringIO()
    progress = Progress(10, stream=stream, enabled=True)
    for _ in range(10):
        progress.step()
    progress.close()
    text = stream.getvalue()
    assert text.startswith("\r") and text.endswith("\n")
    assert "10/10 (100.0%)" in text and "pages/s" in text and "ETA 0m00s" in text
    quiet = io.StringIO()
    Progress(3, stream=quiet).step()  # a StringIO is no terminal
    assert quiet.getvalue() == ""

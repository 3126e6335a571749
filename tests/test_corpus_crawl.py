"""The real Arabic pages of ../shared/corpus, served on 127.0.0.1 behind a generated sitemap,
crawled by the real spider and compared with their gold values."""

from __future__ import annotations

import shutil
import unicodedata

import pytest

from tests.conftest import CORPUS, crawl, gold, rows
from tests.sites import SiteServer, write_registry

GOLD = gold()


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


@pytest.fixture(scope="module")
def corpus_archive(tmp_path_factory):
    site = tmp_path_factory.mktemp("corpus-site")
    for record in GOLD:
        shutil.copy(CORPUS / "pages" / record["file"], site / record["file"])
    urls = "".join(f"<url><loc>{{{{BASE}}}}/{r['file']}</loc></url>" for r in GOLD)
    (site / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}'
        "<url><loc>{{BASE}}/gone.html</loc></url></urlset>",
        encoding="utf-8",
    )
    with SiteServer(site) as server:
        seeds = site.parent / "corpus-seeds.yml"
        write_registry([{
            "id": "corpus", "name": "مدونة الاختبار", "country": "pan-arab", "language": "ar",
            "domains": [server.hostport], "sitemaps": [f"{server.base}/sitemap.xml"],
            "article_pattern": r"\.html$",
        }], seeds)
        db = site.parent / "corpus.db"
        crawl(seeds, db)
        yield db, server


def test_every_corpus_page_stored_once(corpus_archive):
    db, server = corpus_archive
    stored = rows(db, "SELECT url FROM articles ORDER BY url")
    assert sorted(r["url"].rsplit("/", 1)[1] for r in stored) == sorted(r["file"] for r in GOLD)
    fetched = [path for method, path, status in server.log if path.endswith(".html") and path != "/gone.html"]
    assert len(fetched) == len(set(fetched)) == len(GOLD), "each article page fetched exactly once"


def test_titles_dates_and_bodies_match_gold(corpus_archive):
    db, _ = corpus_archive
    by_file = {r["url"].rsplit("/", 1)[1]: r for r in rows(db, "SELECT * FROM articles")}
    for record in GOLD:
        article = by_file[record["file"]]
        assert _norm(article["title"]) == _norm(record["title"]), record["file"]
        accepted = {record["date"], *record.get("date_accept", [])}
        assert article["published_day"] in accepted, (record["file"], article["published"])
        body = _norm(article["text"])
        for sentence in record["body_must"]:
            assert _norm(sentence) in body, (record["file"], sentence)
        for junk in record["body_must_not"]:
            assert _norm(junk) not in body, (record["file"], junk)
        assert unicodedata.is_normalized("NFC", article["text"])


def test_dead_link_recorded_and_run_closed(corpus_archive):
    db, _ = corpus_archive
    errors = rows(db, "SELECT source, url, kind FROM errors")
    assert [(e["source"], e["url"].rsplit("/", 1)[1], e["kind"]) for e in errors] == [("corpus", "gone.html", "http_404")]
    [run] = rows(db, "SELECT * FROM runs")
    assert run["status"] == "finished" and run["finished_at"]
    [outlet] = rows(db, "SELECT * FROM run_outlets")
    assert (outlet["discovered"], outlet["fetched"], outlet["stored"], outlet["failed"]) == (len(GOLD) + 1, len(GOLD), len(GOLD), 1)


def test_captures_allow_offline_reextraction(corpus_archive):
    from pipelines.store import Archive

    db, _ = corpus_archive
    archive = Archive(db, readonly=True)
    for article in rows(db, "SELECT id, url, capture_id FROM articles"):
        body = archive.capture_body(article["capture_id"])
        name = article["url"].rsplit("/", 1)[1]
        assert body == (CORPUS / "pages" / name).read_bytes()
    sizes = rows(db, "SELECT SUM(body_size) AS raw, SUM(LENGTH(body)) AS packed FROM captures")[0]
    assert sizes["raw"] / sizes["packed"] > 3

"""End to end: the three fictional outlets of tests/fixtures/sites served on 127.0.0.1,
crawled by the real `news` spider into a real SQLite file, checked against expected.json."""

from __future__ import annotations

import json
import unicodedata
from contextlib import ExitStack
from pathlib import Path

import pytest

from pipelines.registry import load_sources
from pipelines.urls import canonical_url
from tests.conftest import ROOT, crawl, rows
from tests.sites import SiteServer, load_site_source, write_registry

SITES = ROOT / "tests" / "fixtures" / "sites"
EXPECTED = json.loads((SITES / "expected.json").read_text(encoding="utf-8"))
NAMES = list(EXPECTED["sites"])


def _norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """The three outlets, each on its own loopback port, and a registry file naming them."""
    with ExitStack() as stack:
        servers = {name: stack.enter_context(SiteServer(SITES / name)) for name in NAMES}
        seeds = tmp_path_factory.mktemp("seeds") / "sources.yml"
        write_registry([load_site_source(SITES / name, servers[name].base) for name in NAMES], seeds)
        yield servers, seeds


@pytest.fixture(scope="module")
def archive(sites, tmp_path_factory):
    servers, seeds = sites
    db = tmp_path_factory.mktemp("archive") / "archive.db"
    result = crawl(seeds, db, settings={"AKHBAR_FOLLOW_DEPTH": "1"})
    return db, result


def _url(servers, site: str, path: str) -> str:
    return servers[site].base + path


def _article_for(db: Path, url: str, source) -> dict | None:
    found = rows(
        db,
        "SELECT a.* FROM article_urls u JOIN articles a ON a.id = u.article_id WHERE u.url IN (?, ?)",
        (url, canonical_url(url, source=source)),
    )
    return found[0] if found else None


def test_every_expected_article_is_stored_with_its_metadata(sites, archive):
    servers, seeds = sites
    db, _ = archive
    sources = {s.id: s for s in load_sources(seeds)}
    for name, site in EXPECTED["sites"].items():
        source = sources[site["source_id"]]
        for expected in site["articles"]:
            article = _article_for(db, _url(servers, name, expected["path"]), source)
            assert article is not None, (name, expected["path"])
            assert _norm(article["title"]) == _norm(expected["title"]), (name, expected["path"])
            assert article["published_day"] == expected["published_day"], (name, expected["path"], article["published"])
            assert article["source"] == site["source_id"]
            assert article["language"] == "ar"
            assert article["word_count"] > 100
            if expected.get("section"):
                assert article["section"] == expected["section"], (name, expected["path"])


def test_one_row_per_article_and_nothing_else(sites, archive):
    db, _ = archive
    expected = sum(len(site["articles"]) for site in EXPECTED["sites"].values())
    assert rows(db, "SELECT COUNT(*) AS n FROM articles")[0]["n"] == expected
    per_source = {r["source"]: r["n"] for r in rows(db, "SELECT source, COUNT(*) AS n FROM articles GROUP BY source")}
    assert per_source == {site["source_id"]: len(site["articles"]) for site in EXPECTED["sites"].values()}


def test_every_planted_failure_leaves_one_error_row(sites, archive):
    servers, _ = sites
    db, _ = archive
    errors = rows(db, "SELECT source, url, kind, message FROM errors")
    for name, site in EXPECTED["sites"].items():
        for planted in site["errors"]:
            url = _url(servers, name, planted["path"])
            kinds = [e["kind"] for e in errors if e["url"] == url and e["source"] == site["source_id"]]
            assert kinds == [planted["kind"]], (name, planted["path"], kinds)
    planted_total = sum(len(site["errors"]) for site in EXPECTED["sites"].values())
    assert len(errors) == planted_total, [(e["url"], e["kind"]) for e in errors]


def test_run_is_closed_with_per_outlet_counts(sites, archive):
    db, _ = archive
    [run] = rows(db, "SELECT * FROM runs")
    assert run["status"] == "finished" and run["finished_at"] >= run["started_at"]
    outlets = {r["source"]: r for r in rows(db, "SELECT * FROM run_outlets")}
    for site in EXPECTED["sites"].values():
        counts = outlets[site["source_id"]]
        assert counts["stored"] == len(site["articles"])
        assert counts["failed"] == len(site["errors"])
        assert counts["fetched"] >= counts["stored"]
        assert counts["discovered"] >= counts["fetched"]
        assert sum(json.loads(counts["errors_by_kind"]).values()) == counts["failed"]
    assert run["stored"] == sum(r["stored"] for r in outlets.values())


def test_url_variants_lead_to_one_article(sites, archive):
    servers, seeds = sites
    db, _ = archive
    sources = {s.id: s for s in load_sources(seeds)}
    for name, site in EXPECTED["sites"].items():
        for group in site["url_variants"]:
            source = sources[site["source_id"]]
            ids = {(_article_for(db, _url(servers, name, path), source) or {}).get("id") for path in group["paths"]}
            assert len(ids) == 1 and None not in ids, (group, ids)


def test_each_article_page_fetched_once(sites, archive):
    """Once per article, under whichever of its listed forms (feed `?utm_` link, sitemap link) came first."""
    servers, seeds = sites
    sources = {s.id: s for s in load_sources(seeds)}
    for name, site in EXPECTED["sites"].items():
        source = sources[site["source_id"]]
        for expected in site["articles"]:
            identity = canonical_url(_url(servers, name, expected["path"]), source=source)
            hits = [p for m, p, s in servers[name].log
                    if m == "GET" and canonical_url(_url(servers, name, p), source=source) == identity]
            assert len(hits) == 1, (name, expected["path"], hits)


def test_robots_txt_is_read_once_per_outlet_and_its_sitemap_followed(sites, archive):
    """Scrapy's robots.txt middleware and the spider (for `Sitemap:` lines) share one fetch."""
    servers, _ = sites
    for name in NAMES:
        assert [(m, p) for m, p, _ in servers[name].log if p == "/robots.txt"] == [("GET", "/robots.txt")], name
    # alwaha's registry entry names no sitemap: /sitemap.xml is known from its robots.txt alone.
    assert ("GET", "/sitemap.xml", 200) in servers["alwaha"].log


def test_syndicated_copies_share_a_story_and_hard_negatives_do_not(sites, archive):
    servers, seeds = sites
    db, _ = archive
    sources = {s.id: s for s in load_sources(seeds)}

    def article(side):
        site = EXPECTED["sites"][side["site"]]
        return _article_for(db, _url(servers, side["site"], side["path"]), sources[site["source_id"]])

    for pair in EXPECTED["syndicated"]:
        a, b = article(pair["a"]), article(pair["b"])
        assert a["id"] != b["id"] and a["story_id"] == b["story_id"]
        [story] = rows(db, "SELECT * FROM stories WHERE story_id = ?", (a["story_id"],))
        assert (story["article_count"], story["source_count"]) == (2, 2)
    for pair in EXPECTED["hard_negatives"]:
        assert article(pair["a"])["story_id"] != article(pair["b"])["story_id"]


def test_legacy_arabic_encodings_are_stored_as_unicode(sites, archive):
    db, _ = archive
    texts = rows(db, "SELECT title, text FROM articles WHERE source = 'mashriq'")
    assert texts
    for row in texts:
        assert "\ufffd" not in row["title"] + row["text"]
        assert "Ø" not in row["text"] and "Ù" not in row["text"]


def test_xss_payload_is_stored_as_text(sites, archive):
    db, _ = archive
    [row] = rows(db, "SELECT title, text FROM articles WHERE title LIKE '%<script>%'")
    assert "<script>alert(1)</script>" in row["title"]
    assert "onerror" not in row["text"]


def test_every_article_keeps_its_raw_capture(archive):
    db, _ = archive
    missing = rows(db, "SELECT a.id FROM articles a LEFT JOIN captures c ON c.id = a.capture_id WHERE c.id IS NULL")
    assert missing == []
    assert rows(db, "SELECT COUNT(*) AS n FROM captures WHERE status = 200")[0]["n"] >= rows(db, "SELECT COUNT(*) AS n FROM articles")[0]["n"]


def test_marrakech_article_matches_its_gold(sites, archive):
    servers, seeds = sites
    db, _ = archive
    gold = json.loads((ROOT / "tests" / "fixtures" / "marrakech-coalition-meeting.json").read_text(encoding="utf-8"))
    [row] = rows(db, "SELECT * FROM articles WHERE title = ?", (gold["title"],))
    assert row["published_day"] == gold["published_day"]
    assert row["author"] == gold["author"]
    assert row["section"] == gold["section"]
    assert row["published"] == gold["published"]
    assert json.loads(row["tags"]) == gold["tags"]
    body = _norm(row["text"])
    assert body.startswith(_norm(gold["body_start"])) and body.endswith(_norm(gold["body_end"]))
    for sentence in gold["body_must"]:
        assert _norm(sentence) in body
    for junk in gold["body_must_not"]:
        assert _norm(junk) not in body

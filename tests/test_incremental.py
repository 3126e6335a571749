"""Incremental crawling, seen from the outlet's side: what each new run of `scrapy crawl news`
asks a fixture outlet for (the server's request log), over real HTTP on 127.0.0.1, into one
real SQLite archive.

alwaha (RSS feed + sitemap): run 1 crawls the site with three articles held back; run 2
requests no known article; run 3, after the three are published (files, feed item, sitemap
entries), fetches exactly those three; run 4, after one sitemap `lastmod` and one feed
`atom:updated` moved past the stored captures, fetches those two again and updates their rows,
keeping the old captures; run 5 leaves them alone again.

sahil (sitemap index): child sitemaps whose `lastmod` in the index is older than the last
finished run are not read again, until the index says one changed (before run 3, with a new article).

Both outlets are in one registry, so the same five crawls serve both.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import ROOT, crawl, rows
from tests.sites import SiteServer, load_site_source, write_registry

SITES = ROOT / "tests" / "fixtures" / "sites"

# alwaha articles published only before run 3 (one listed in the feed and the sitemap, two in the sitemap only)
HELD_BACK = ("/2020/09/28/agdez-film-festival-online/", "/2020/09/07/school-year-alternating-education/",
             "/2020/07/22/beaches-reopen-summer-season/")
BY_SITEMAP = "/2020/11/20/majority-leaders-meet-marrakech/"  # its sitemap lastmod moves before run 4
BY_FEED = "/2020/12/03/farmers-await-rain-season/"  # its feed item gains an atom:updated before run 4
UPDATE_NOTE = "تحديث: أضيفت إلى هذا المقال معطيات جديدة بعد نشره."
SAHIL_NEW = "/article/19877/walis-meeting-local-development"  # published before sahil's run 3
CHILD_SITEMAPS = ("/news-sitemap.xml.gz", "/post-sitemap.xml", "/page-sitemap.xml")


def copy_site(name: str, parent: Path) -> Path:
    return Path(shutil.copytree(SITES / name, parent / name))


def without_blocks(text: str, tag: str, paths: tuple[str, ...]) -> str:
    """`text` minus every <tag>...</tag> block that mentions one of `paths`."""
    for path in paths:
        text, n = re.subn(rf"\s*<{tag}>(?:(?!</{tag}>).)*?{re.escape(path)}(?:(?!</{tag}>).)*</{tag}>", "",
                          text, flags=re.S)
        assert n, (tag, path)
    return text


def article_gets(server: SiteServer, pattern: str) -> list[str]:
    """Paths of the GET requests for URLs that match the outlet's article pattern, in order."""
    matcher = re.compile(pattern)
    return [path for method, path, _ in server.log if method == "GET" and matcher.search(server.base + path)]


def archived_paths(db: Path, base: str) -> set[str]:
    return {r["url"].removeprefix(base) for r in rows(db, "SELECT url FROM article_urls")}


def article_at(db: Path, url: str) -> dict:
    """The article row a URL leads to (articles.url is the canonical form, e.g. without the trailing slash)."""
    [row] = rows(db, "SELECT a.* FROM article_urls u JOIN articles a ON a.id = u.article_id WHERE u.url = ?", (url,))
    return row


def run_counts(db: Path, run_id: int, source: str) -> dict:
    [row] = rows(db, "SELECT * FROM run_outlets WHERE run_id = ? AND source = ?", (run_id, source))
    return row


def add_update_note(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert html.count('<div class="entry-content">') == 1
    note = f'<div class="entry-content">\n      <p>{UPDATE_NOTE}</p>'
    page.write_text(html.replace('<div class="entry-content">', note), encoding="utf-8")


def hold_back_alwaha(site: Path, held: Path) -> None:
    """The three HELD_BACK articles are not published yet: no page, no feed item, no sitemap entry."""
    for path in HELD_BACK:
        shutil.move(site / path.strip("/"), held / path.strip("/"))
    (site / "feed" / "index.xml").write_text(
        without_blocks((SITES / "alwaha" / "feed" / "index.xml").read_text(encoding="utf-8"), "item", HELD_BACK[:1]),
        encoding="utf-8")
    (site / "sitemap.xml").write_text(
        without_blocks((SITES / "alwaha" / "sitemap.xml").read_text(encoding="utf-8"), "url", HELD_BACK),
        encoding="utf-8")


def publish_alwaha(site: Path, held: Path) -> None:
    for path in HELD_BACK:
        shutil.move(held / path.strip("/"), site / path.strip("/"))
    shutil.copy(SITES / "alwaha" / "feed" / "index.xml", site / "feed" / "index.xml")
    shutil.copy(SITES / "alwaha" / "sitemap.xml", site / "sitemap.xml")


def hold_back_sahil(site: Path, held: Path) -> None:
    """SAHIL_NEW is not published yet (page and post-sitemap entry); no 10 s slow page."""
    (site / "_routes.yml").write_text("/news-sitemap.xml.gz:\n  content_type: application/x-gzip\n", encoding="utf-8")
    shutil.move(site / (SAHIL_NEW.strip("/") + ".html"), held / "walis.html")
    original = (SITES / "sahil" / "post-sitemap.xml").read_text(encoding="utf-8")
    (site / "post-sitemap.xml").write_text(without_blocks(original, "url", (SAHIL_NEW,)), encoding="utf-8")


def publish_sahil(site: Path, held: Path) -> None:
    """The new article in post-sitemap.xml, and the index says that sitemap changed (now)."""
    shutil.move(held / "walis.html", site / (SAHIL_NEW.strip("/") + ".html"))
    shutil.copy(SITES / "sahil" / "post-sitemap.xml", site / "post-sitemap.xml")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    index = (site / "sitemap_index.xml").read_text(encoding="utf-8")
    index, count = re.subn(r"(<loc>{{BASE}}/post-sitemap.xml</loc>\s*<lastmod>)[^<]+", rf"\g<1>{now}", index)
    assert count == 1
    (site / "sitemap_index.xml").write_text(index, encoding="utf-8")


def change_two_alwaha_articles(site: Path, db: Path, base: str) -> dict[str, str]:
    """BY_SITEMAP and BY_FEED get an update paragraph, and a listing date 1 s after their stored capture."""
    changed = {path: (datetime.fromisoformat(article_at(db, base + path)["fetched_at"])
                      + timedelta(seconds=1)).isoformat() for path in (BY_SITEMAP, BY_FEED)}
    for path in changed:
        add_update_note(site / path.strip("/") / "index.html")
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    sitemap, n = re.subn(rf"(<loc>{{{{BASE}}}}{re.escape(BY_SITEMAP)}</loc>\s*<lastmod>)[^<]+(</lastmod>)",
                         rf"\g<1>{changed[BY_SITEMAP]}\g<2>", sitemap)
    assert n == 1
    (site / "sitemap.xml").write_text(sitemap, encoding="utf-8")
    feed = (site / "feed" / "index.xml").read_text(encoding="utf-8")
    feed, n = re.subn(rf"(<link>{{{{BASE}}}}{re.escape(BY_FEED)}</link>)",
                      rf"\g<1>\n    <atom:updated>{changed[BY_FEED]}</atom:updated>", feed)
    assert n == 1
    (site / "feed" / "index.xml").write_text(feed, encoding="utf-8")
    return changed


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    """Five crawls of an alwaha and a sahil copy (one registry) into one archive; each run's request logs.

    Before run 3 alwaha publishes three articles and sahil one; before run 4 two alwaha articles change.
    """
    tmp = tmp_path_factory.mktemp("incremental")
    alwaha, sahil, held = copy_site("alwaha", tmp), copy_site("sahil", tmp), tmp / "held"
    held.mkdir()
    hold_back_alwaha(alwaha, held)
    hold_back_sahil(sahil, held)
    db = tmp / "archive.db"
    result: dict = {"db": db, "alwaha": {}, "sahil": {}, "archived": {}}
    with SiteServer(alwaha) as a_server, SiteServer(sahil) as s_server:
        entries = {"alwaha": load_site_source(alwaha, a_server.base), "sahil": load_site_source(sahil, s_server.base)}
        seeds = write_registry(entries.values(), tmp / "sources.yml")
        servers = {"alwaha": a_server, "sahil": s_server}
        for n in range(1, 6):
            if n == 3:
                publish_alwaha(alwaha, held)
                publish_sahil(sahil, held)
            if n == 4:
                result["changed"] = change_two_alwaha_articles(alwaha, db, a_server.base)
            result["archived"][n] = archived_paths(db, a_server.base) if db.exists() else set()
            for server in servers.values():
                server.clear_log()
            crawl(seeds, db)
            for name, server in servers.items():
                result[name][n] = {"articles": article_gets(server, entries[name]["article_pattern"]),
                                   "all": [path for method, path, _ in server.log if method == "GET"]}
        result["base"] = a_server.base
    return result


def alwaha_failed(crawls) -> set[str]:
    """alwaha article paths that only ever produced an `errors` row (404, 500, PDF, empty page, round-up)."""
    base = crawls["base"]
    return {r["url"].removeprefix(base) for r in rows(crawls["db"], "SELECT DISTINCT url FROM errors")
            if r["url"].startswith(base + "/20")}


def test_second_run_requests_no_known_article_page(crawls):
    db, log, archived = crawls["db"], crawls["alwaha"], crawls["archived"]
    # run 1 fetched the site: 10 articles and the 5 failing pages, each once, though one article is
    # listed twice (the feed's ?utm_ link and the sitemap's plain one)
    # (the 500 page is requested twice: its retry)
    assert len({path.split("?")[0] for path in log[1]["articles"]}) == len(set(log[1]["articles"])) == 10 + 5
    assert run_counts(db, 1, "alwaha")["stored"] == 10 < len(archived[2])
    assert set(log[2]["articles"]) & archived[2] == set()
    # what it does request again is exactly what failed in run 1
    assert set(log[2]["articles"]) == alwaha_failed(crawls) and len(alwaha_failed(crawls)) == 5
    assert run_counts(db, 2, "alwaha")["stored"] == 0
    assert [r["status"] for r in rows(db, "SELECT status FROM runs ORDER BY id")] == ["finished"] * 5


def test_third_run_fetches_exactly_the_three_new_articles(crawls):
    db, log, archived = crawls["db"], crawls["alwaha"], crawls["archived"]
    assert set(log[3]["articles"]) & archived[3] == set()
    assert set(log[3]["articles"]) - alwaha_failed(crawls) == set(HELD_BACK)
    assert sorted(p for p in log[3]["articles"] if p in HELD_BACK) == sorted(HELD_BACK)  # each once
    assert run_counts(db, 3, "alwaha")["stored"] == 3
    assert rows(db, "SELECT COUNT(*) AS n FROM articles WHERE source = 'alwaha'")[0]["n"] == 13
    assert all(article_at(db, crawls["base"] + path)["title"] for path in HELD_BACK)


def test_newer_lastmod_or_feed_update_fetches_again_and_updates_the_row(crawls):
    db, log, base = crawls["db"], crawls["alwaha"], crawls["base"]
    assert set(log[4]["articles"]) - alwaha_failed(crawls) == {BY_SITEMAP, BY_FEED}
    counts = run_counts(db, 4, "alwaha")
    assert (counts["updated"], counts["stored"]) == (2, 0)
    assert rows(db, "SELECT COUNT(*) AS n FROM articles WHERE source = 'alwaha'")[0]["n"] == 13
    for path in (BY_SITEMAP, BY_FEED):
        article = article_at(db, base + path)
        captures = rows(db, "SELECT id, run_id, hints FROM captures WHERE final_url = ? ORDER BY id", (base + path,))
        assert [c["run_id"] for c in captures] == [1, 4]  # the old capture is kept
        assert article["capture_id"] == captures[1]["id"]  # the row now comes from the new one
        assert UPDATE_NOTE in article["text"]
        assert json.loads(captures[1]["hints"])["modified"] == crawls["changed"][path]


def test_an_updated_article_is_not_fetched_again(crawls):
    assert set(crawls["alwaha"][5]["articles"]) <= alwaha_failed(crawls)
    assert run_counts(crawls["db"], 5, "alwaha")["updated"] == 0


def test_a_url_that_failed_for_good_in_three_runs_is_no_longer_requested(crawls):
    """Runs 1-3 met the 404, the PDF and the round-up (not an article); runs 4 and 5 leave them alone.
    The 500 and the empty page may be passing troubles: they are still asked every run."""
    db, log, base = crawls["db"], crawls["alwaha"], crawls["base"]
    kinds = {r["url"].removeprefix(base): r["kinds"] for r in rows(
        db, "SELECT url, group_concat(DISTINCT kind) AS kinds FROM errors WHERE run_id <= 3 GROUP BY url")}
    permanent = {path for path in alwaha_failed(crawls) if kinds[path] in ("http_404", "not_html", "not_article")}
    transient = alwaha_failed(crawls) - permanent
    assert len(permanent) == 3 and len(transient) == 2, kinds
    for number in (1, 2, 3):
        assert alwaha_failed(crawls) <= set(log[number]["articles"])
    for number in (4, 5):
        assert set(log[number]["articles"]) & permanent == set()
        assert transient <= set(log[number]["articles"])
    assert rows(db, "SELECT COUNT(*) AS n FROM errors WHERE run_id >= 4 AND kind IN ('http_404', 'not_article')")[0]["n"] == 0


def test_child_sitemaps_older_than_the_last_finished_run_are_not_read_again(crawls):
    db, log = crawls["db"], crawls["sahil"]
    children = {n: [p for p in log[n]["all"] if p in CHILD_SITEMAPS] for n in log}
    assert sorted(children[1]) == sorted(CHILD_SITEMAPS)
    assert len(log[1]["articles"]) == 11
    # run 2: the index is read, none of its children (their lastmod predates run 1), no article
    assert "/sitemap_index.xml" in log[2]["all"]
    assert children[2] == [] and log[2]["articles"] == []
    # run 3: only the child whose lastmod moved is read, and only its new article is fetched
    assert children[3] == ["/post-sitemap.xml"]
    assert log[3]["articles"] == [SAHIL_NEW]
    # runs 4 and 5: that lastmod is older than run 3, the last finished run, so nothing is read again
    assert children[4] == children[5] == [] and log[4]["articles"] == log[5]["articles"] == []
    assert [run_counts(db, n, "sahil")["stored"] for n in range(1, 6)] == [11, 0, 1, 0, 0]

"""Politeness, over real HTTP: robots.txt, the identifying User-Agent, Retry-After and backoff on 429/503,
the per-outlet request budget, the per-host concurrency cap, AutoThrottle on by default.

Each outlet is a small synthetic site (tests/minisite.py) served by tests/sites.py on its own loopback
address (127.0.0.1, 127.0.0.2, ...): Scrapy keys its download slots (delay, concurrency, Retry-After
pauses) by host name, so outlets on different addresses never share a slot, as real outlets do not.
One crawl of six outlets serves most tests; the budget tests run two crawls of their own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import ExitStack
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.middlewares import retry_after_seconds
from tests.conftest import ROOT, crawl, rows
from tests.minisite import Page, write_site
from tests.sites import SiteServer, load_site_source, write_registry

CONTACT = "https://contact.example/akhbar-bot"
USER_AGENT = f"AkhbarArchiveBot/0.1 (+{CONTACT})"

# The group naming the bot is the one it obeys (RFC 9309): /news/3.html, forbidden to `*` only, is fetched.
ROBOTS = """User-agent: *
Disallow: /news/3.html

User-agent: AkhbarArchiveBot
Disallow: /admin/
Disallow: /news/5.html
Disallow: /news/6.html
Disallow: /news/7.html
"""
ALLOWED, DISALLOWED = {1, 2, 3, 4, 8}, {5, 6, 7}
SLOW_PAGES, SLOW_SECONDS = 8, 0.8

OUTLETS = {
    # id: (host, pages, extra registry keys, routes)
    "robo": ("127.0.0.1", range(1, 9), {"max_requests": 1 + len(ALLOWED)}, {}),  # feed + allowed (robots.txt is free)
    "ra_ok": ("127.0.0.2", [1], {}, {"/news/1.html": {"statuses": [429, 200], "headers": {"Retry-After": "2"}}}),
    "ra_503": ("127.0.0.3", [1], {}, {"/news/1.html": {"status": 503, "headers": {"Retry-After": "1"}}}),
    "ra_429": ("127.0.0.4", [1], {}, {"/news/1.html": {"status": 429, "headers": {"Retry-After": "1"}}}),
    "backoff": ("127.0.0.5", [1], {}, {"/news/1.html": {"status": 503}}),
    "slow": ("127.0.0.6", range(1, SLOW_PAGES + 1), {},
             {f"/news/{n}.html": {"delay": SLOW_SECONDS} for n in range(1, SLOW_PAGES + 1)}),
}
CRAWL_SETTINGS = {"AKHBAR_CONTACT": CONTACT, "RETRY_TIMES": "2", "AKHBAR_BACKOFF_BASE": "0.5"}


def article_requests(server: SiteServer, number: int | None = None) -> list[dict]:
    return [r for r in server.requests if r["path"].startswith("/news/")
            and (number is None or r["path"] == f"/news/{number}.html")]


def numbers(requests: list[dict]) -> list[int]:
    return sorted(int(r["path"].split("/")[-1].split(".")[0]) for r in requests)


def gaps(requests: list[dict]) -> list[float]:
    times = sorted(r["arrived"] for r in requests)
    return [b - a for a, b in zip(times, times[1:])]


def outlet_row(db: Path, run_id: int, source: str) -> dict:
    [row] = rows(db, "SELECT * FROM run_outlets WHERE run_id = ? AND source = ?", (run_id, source))
    row["errors_by_kind"] = json.loads(row["errors_by_kind"])
    return row


@pytest.fixture(scope="module")
def polite(tmp_path_factory):
    """One crawl of the six outlets above, with a contact URL given on the command line."""
    tmp = tmp_path_factory.mktemp("polite")
    with ExitStack() as stack:
        servers = {}
        for source_id, (host, pages, extra, routes) in OUTLETS.items():
            root = write_site(tmp / source_id, source_id, [Page(n) for n in pages], source=extra, routes=routes,
                              robots=ROBOTS if source_id == "robo" else "User-agent: *\nDisallow: /admin/\n")
            servers[source_id] = stack.enter_context(SiteServer(root, host=host))
        seeds = write_registry([load_site_source(s.root, s.base) for s in servers.values()], tmp / "sources.yml")
        db = tmp / "archive.db"
        result = crawl(seeds, db, settings=CRAWL_SETTINGS)
        yield servers, db, result


def test_robots_txt_disallow_is_obeyed_and_counted(polite):
    servers, db, _ = polite
    robo = servers["robo"]
    assert ("GET", "/robots.txt", 200) in robo.log
    assert numbers(article_requests(robo)) == sorted(ALLOWED)  # 5, 6, 7 never requested; 3 is (bot group wins)
    row = outlet_row(db, 1, "robo")
    assert {k: row[k] for k in ("discovered", "fetched", "stored", "disallowed", "over_budget", "failed")} == {
        "discovered": 8, "fetched": 5, "stored": 5, "disallowed": 3, "over_budget": 0, "failed": 0}
    [run] = rows(db, "SELECT * FROM runs")
    assert run["disallowed"] == 3 and run["status"] == "finished"


def test_a_request_robots_txt_forbids_does_not_spend_the_budget(polite):
    # robo's budget is exactly its feed + its 5 allowed articles: had the 3 forbidden requests counted
    # against it, some allowed article would have been left for the next run.
    servers, db, _ = polite
    assert len(servers["robo"].log) == 1 + 1 + len(ALLOWED)  # + robots.txt, read once, not counted
    assert rows(db, "SELECT COUNT(*) AS n FROM articles WHERE source = 'robo'")[0]["n"] == len(ALLOWED)


def test_user_agent_identifies_the_bot_with_the_contact_url_from_the_command_line(polite):
    servers, _, _ = polite
    seen = {r["user_agent"] for server in servers.values() for r in server.requests}
    assert seen == {USER_AGENT}
    assert sum(len(server.requests) for server in servers.values()) > 20


def test_user_agent_contact_from_the_environment_and_polite_defaults():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AKHBAR_CONTACT": "mailto:ops@contact.example"}
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "scrapy", "settings", "--get", "AUTOTHROTTLE_ENABLED"]
    autothrottle = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    script = ("import json; from scrapy.utils.project import get_project_settings; s = get_project_settings();"
              "print(json.dumps({k: s[k] for k in ('USER_AGENT', 'ROBOTSTXT_OBEY', 'CONCURRENT_REQUESTS_PER_DOMAIN',"
              " 'DOWNLOAD_DELAY', 'AUTOTHROTTLE_ENABLED')}))")
    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert autothrottle.communicate(timeout=60)[0].strip() == "True"
    assert json.loads(loaded.stdout) == {
        "USER_AGENT": "AkhbarArchiveBot/0.1 (+mailto:ops@contact.example)", "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 4, "DOWNLOAD_DELAY": 0.5, "AUTOTHROTTLE_ENABLED": True}, loaded.stderr


def test_retry_after_on_429_is_waited_then_the_article_is_stored(polite):
    servers, db, _ = polite
    tries = article_requests(servers["ra_ok"], 1)
    assert [r["status"] for r in tries] == [429, 200]
    assert gaps(tries)[0] >= 2.0, gaps(tries)
    assert outlet_row(db, 1, "ra_ok")["stored"] == 1
    assert rows(db, "SELECT COUNT(*) AS n FROM errors WHERE source = 'ra_ok'")[0]["n"] == 0


@pytest.mark.parametrize("source_id,status", [("ra_503", 503), ("ra_429", 429)])
def test_retry_after_is_honoured_on_every_retry_then_one_error_row(polite, source_id, status):
    servers, db, _ = polite
    tries = article_requests(servers[source_id], 1)
    assert [r["status"] for r in tries] == [status] * 3  # the first try and RETRY_TIMES=2 retries
    assert all(gap >= 1.0 for gap in gaps(tries)), gaps(tries)
    errors = rows(db, "SELECT kind, url FROM errors WHERE source = ?", (source_id,))
    assert errors == [{"kind": f"http_{status}", "url": servers[source_id].base + "/news/1.html"}]
    row = outlet_row(db, 1, source_id)
    assert (row["fetched"], row["stored"], row["failed"], row["errors_by_kind"]) == (0, 0, 1, {f"http_{status}": 1})


def test_without_retry_after_the_backoff_doubles(polite):
    servers, db, _ = polite
    tries = article_requests(servers["backoff"], 1)
    assert len(tries) == 3
    first, second = gaps(tries)
    assert first >= 0.5 and second >= 1.0, (first, second)  # AKHBAR_BACKOFF_BASE=0.5, then twice that
    assert [e["kind"] for e in rows(db, "SELECT kind FROM errors WHERE source = 'backoff'")] == ["http_503"]


def test_retry_after_values():
    assert retry_after_seconds(b"120") == 120.0
    in_two_minutes = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=120), usegmt=True)
    assert 110 <= retry_after_seconds(in_two_minutes) <= 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert retry_after_seconds(None) is None and retry_after_seconds(b"soon") is None


def test_concurrency_per_host_is_capped(polite):
    servers, db, _ = polite
    slow = servers["slow"]
    assert numbers(article_requests(slow)) == list(range(1, SLOW_PAGES + 1))
    # CONCURRENT_REQUESTS_PER_DOMAIN = 4 (crawler/settings.py): reached, never exceeded, with 8 slow pages queued
    assert slow.max_in_flight == 4
    assert outlet_row(db, 1, "slow")["stored"] == SLOW_PAGES


def test_the_fixture_server_counts_attempts_and_requests_in_flight(tmp_path):
    root = write_site(tmp_path / "s", "s", [Page(1)],
                      routes={"/news/1.html": {"statuses": [503, 429, 200], "delay": 0.2}})
    with SiteServer(root) as site:
        statuses = []
        for _ in range(4):
            try:
                statuses.append(urllib.request.urlopen(site.base + "/news/1.html", timeout=5).status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
        assert statuses == [503, 429, 200, 200]
        assert [r["attempt"] for r in site.requests] == [0, 1, 2, 3]
        assert site.max_in_flight == 1 and all(r["answered"] - r["arrived"] >= 0.2 for r in site.requests)
        assert site.requests[0]["user_agent"].startswith("Python-urllib/")


# -- the request budget ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def budget(tmp_path_factory):
    """Two outlets of 10 articles, crawled twice into one archive: first with AKHBAR_MAX_REQUESTS=6, then without
    (quota_reg's own `max_requests: 4` applies to both runs)."""
    tmp = tmp_path_factory.mktemp("budget")
    with ExitStack() as stack:
        quota = stack.enter_context(SiteServer(write_site(tmp / "quota", "quota", [Page(n) for n in range(1, 11)])))
        registry = stack.enter_context(SiteServer(
            write_site(tmp / "quota_reg", "quota_reg", [Page(n) for n in range(21, 31)], source={"max_requests": 4}),
            host="127.0.0.2"))
        entries = [load_site_source(s.root, s.base) for s in (quota, registry)]
        db = tmp / "archive.db"
        first_run = crawl(write_registry(entries, tmp / "sources.yml"), db, settings={"AKHBAR_MAX_REQUESTS": "6"})
        first = {"quota": quota.requests, "quota_reg": registry.requests}
        quota.clear_log()
        registry.clear_log()
        crawl(write_registry(entries, tmp / "sources.yml"), db)  # no AKHBAR_MAX_REQUESTS
        second = {"quota": quota.requests, "quota_reg": registry.requests}
        yield db, first, second, first_run


def test_budget_caps_the_requests_of_each_outlet(budget):
    db, first, _, _ = budget
    # AKHBAR_MAX_REQUESTS=6 for quota; quota_reg's own `max_requests: 4` wins over it. The budget covers
    # the feed and the articles; robots.txt is read once per host (by the robots.txt middleware, whose
    # response the spider's own request for its Sitemap: lines gets) and is not counted.
    assert len(first["quota"]) == 1 + 6 and len(article_requests_of(first["quota"])) == 6 - 1
    assert len(first["quota_reg"]) == 1 + 4 and len(article_requests_of(first["quota_reg"])) == 4 - 1
    assert [r["path"] for r in first["quota"]].count("/robots.txt") == 1


def test_requests_over_budget_are_counted_in_the_run(budget):
    db, _, _, _ = budget
    quota, registry = outlet_row(db, 1, "quota"), outlet_row(db, 1, "quota_reg")
    assert (quota["discovered"], quota["fetched"], quota["stored"], quota["over_budget"]) == (10, 5, 5, 5)
    assert (registry["discovered"], registry["fetched"], registry["stored"], registry["over_budget"]) == (10, 3, 3, 7)
    assert quota["failed"] == registry["failed"] == 0  # nothing failed: it was left for later
    [run] = rows(db, "SELECT over_budget, stored, status FROM runs WHERE id = 1")
    assert run == {"over_budget": 12, "stored": 8, "status": "finished"}


def test_the_next_run_fetches_what_the_budget_left(budget):
    db, first, second, _ = budget
    # quota's budget was given for the first run only: the second fetches the 5 left, and nothing twice.
    fetched = [numbers(article_requests_of(run["quota"])) for run in (first, second)]
    assert len(fetched[1]) == 5 and sorted(fetched[0] + fetched[1]) == list(range(1, 11))
    row = outlet_row(db, 2, "quota")
    assert (row["discovered"], row["fetched"], row["stored"], row["over_budget"]) == (10, 5, 5, 0)
    # quota_reg's registry budget holds every run: 3 more articles, not the 3 it has, 4 still waiting.
    fetched = [numbers(article_requests_of(run["quota_reg"])) for run in (first, second)]
    assert len(fetched[1]) == 3 and not set(fetched[0]) & set(fetched[1])
    row = outlet_row(db, 2, "quota_reg")
    assert (row["discovered"], row["fetched"], row["stored"], row["over_budget"]) == (10, 3, 3, 4)
    assert rows(db, "SELECT source, COUNT(*) AS n FROM articles GROUP BY source ORDER BY source") == [
        {"source": "quota", "n": 10}, {"source": "quota_reg", "n": 6}]


def article_requests_of(requests: list[dict]) -> list[dict]:
    return [r for r in requests if r["path"].startswith("/news/")]

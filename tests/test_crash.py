"""Crash safety: `scrapy crawl news` killed with SIGKILL, then started again, ends with the same
archive as a crawl that was never interrupted.

Three copies of the alwaha fixture outlet, each on its own loopback port (archives are compared by
URL path):

- baseline: one uninterrupted crawl (in the background, while the stalled scenario waits).
- mid-fetch: five article pages (sitemap-only) answer after 45 s, so once four of them are in flight
  every download slot is held and the crawl stalls with requests in flight and queued. Meanwhile a
  second crawl of the same archive is refused. The crawl is killed once the frontier has caught up
  with everything discovered; then the outlet's feed and sitemap "roll over" (list no article any
  more) and the pages answer at once: the restart can only find the pending URLs in the frontier.
- mid-batch-write: commits only every ARCHIVE_BATCH_SIZE=20 writes (~3 articles); killed while the
  crawl holds an open write transaction after at least one batch was committed; restarted with
  the listings unchanged.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import pytest

from crawler import discovery
from pipelines.registry import load_sources
from pipelines.urls import canonical_url
from tests.conftest import ROOT, TEST_SETTINGS, crawl, rows
from tests.sites import SiteServer, load_site_source, render, write_registry

ALWAHA = ROOT / "tests" / "fixtures" / "sites" / "alwaha"
STALLED = ("/2020/09/07/school-year-alternating-education/", "/2020/08/14/government-new-covid-measures/",
           "/2020/07/22/beaches-reopen-summer-season/", "/2020/05/12/blood-donation-campaign-ramadan/",
           "/2020/11/20/daily-news-roundup/")
SLOTS = 4  # CONCURRENT_REQUESTS_PER_DOMAIN (crawler/settings.py)
CALM = {"EXTRACT_WORKERS": "1"}  # crawls that are not killed: one worker starts faster on a busy box
EMPTY_FEED = '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>الواحة</title>' \
             '<link>{{BASE}}</link><description>-</description></channel></rss>'
EMPTY_SITEMAP = '<?xml version="1.0" encoding="UTF-8"?>' \
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'


class Outlet:
    """A private copy of alwaha served on 127.0.0.1, with its registry file."""

    def __init__(self, parent: Path, name: str) -> None:
        self.root = Path(shutil.copytree(ALWAHA, parent / name))
        self.server = SiteServer(self.root).start()
        self.entry = load_site_source(self.root, self.server.base)
        self.seeds = write_registry([self.entry], parent / f"{name}.yml")
        self.db = parent / f"{name}.db"
        self.base = self.server.base
        [self.source] = load_sources(self.seeds)

    def listed_articles(self) -> set[str]:
        """Article URLs its feed and sitemap list now (parsed as the crawler parses them)."""
        hostport = urlsplit(self.base).netloc
        feed = discovery.parse_feed(render((self.root / "feed" / "index.xml").read_bytes(), self.base, hostport),
                                    self.base + "/feed")
        sitemap = discovery.parse_sitemap(render((self.root / "sitemap.xml").read_bytes(), self.base, hostport),
                                          self.base + "/sitemap.xml")
        return {e.url for e in feed.entries + sitemap.entries if re.search(self.entry["article_pattern"], e.url)}

    def article_gets(self) -> list[str]:
        return [p for m, p, _ in self.server.log
                if m == "GET" and re.search(self.entry["article_pattern"], self.base + p)]

    def path(self, url: str) -> str:
        return url.removeprefix(self.base)

    def to_fetch(self, urls: set[str], archive_urls: set[str]) -> set[str]:
        """Paths of the URLs a crawl would fetch: those not archived, as found or in canonical form."""
        return {self.path(u) for u in urls
                if u not in archive_urls and canonical_url(u, source=self.source) not in archive_urls}


def start(outlet: Outlet, settings: dict[str, str], log: Path) -> subprocess.Popen:
    """`scrapy crawl news` in the background, in its own process group (its extraction workers join it)."""
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={outlet.seeds}",
               "-s", f"ARCHIVE_DB={outlet.db}"]
    for key, value in {**TEST_SETTINGS, **settings}.items():
        command += ["-s", f"{key}={value}"]
    with open(log, "wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen | None = None,
             limit: float = 60.0) -> None:
    """Poll until `condition()`; fail (with the crawl's exit) if the crawl ends first or `limit` passes."""
    deadline = time.monotonic() + limit
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the crawl ended (exit {proc.returncode}) before: {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for: {what}")
        time.sleep(0.05)


def group_alive(pgid: int) -> bool:
    """Whether a process of this group still runs (zombies not counted: reaping them is init's business)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the crawl process only (as `kill -9 PID` or the OOM killer would), and reap it."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def ro(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the live archive through a read-only connection ([] while its tables do not exist yet)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def write_transaction_open(db: Path) -> bool:
    """Whether the crawl holds an open write transaction: our own BEGIN IMMEDIATE finds the write lock taken.
    (When it does not, our empty transaction is rolled back at once; the crawl's writer waits for it.)"""
    conn = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc) or "busy" in str(exc), exc
        return True
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()
    return False


def outcomes(db: Path) -> set[str]:
    """URLs the archive has an answer for: an article (any URL that led to it) or an error."""
    return {u for (u,) in ro(db, "SELECT url FROM article_urls UNION SELECT url FROM errors WHERE url IS NOT NULL")}


def frontier(db: Path) -> set[str]:
    return {u for (u,) in ro(db, "SELECT url FROM frontier")}


def archived(db: Path) -> set[str]:
    return {u for (u,) in ro(db, "SELECT url FROM article_urls")}


def article_count(db: Path) -> int:
    found = ro(db, "SELECT COUNT(*) FROM articles")
    return found[0][0] if found else 0


def snapshot(outlet: Outlet) -> dict:
    """What two archives of the same outlet must share, by URL path."""
    db, path = outlet.db, outlet.path
    return {
        "articles": sorted(path(r["url"]) for r in rows(db, "SELECT url FROM articles")),
        "titles": sorted(r["title"] for r in rows(db, "SELECT title FROM articles")),
        "errors": sorted({(path(r["url"]), r["kind"]) for r in rows(db, "SELECT url, kind FROM errors")}),
        # article_urls: URL that led to an article → that article's (canonical) URL
        "urls": {path(r["url"]): path(r["article"]) for r in rows(
            db, "SELECT u.url, a.url AS article FROM article_urls u JOIN articles a ON a.id = u.article_id")},
    }


def assert_same_archive(outlet: Outlet, baseline: dict) -> None:
    """Same articles, same errors, and article_urls lead to the same articles. A URL variant may be
    missing on one side only when that crawl never had to fetch it, its canonical form leading to the
    article already (whether the feed's ?utm_ link or the sitemap's plain link is stored first is a race)."""
    mine = snapshot(outlet)
    assert {k: v for k, v in mine.items() if k != "urls"} == {k: v for k, v in baseline.items() if k != "urls"}
    for one, other in ((baseline["urls"], mine["urls"]), (mine["urls"], baseline["urls"])):
        for path, article in one.items():
            canonical = outlet.path(canonical_url(outlet.base + path, source=outlet.source))
            assert other.get(path, other.get(canonical)) == article, path
    assert len(baseline["urls"]) > len(baseline["articles"]) == 13  # (as found and canonical: not vacuous)


def check_sound(outlet: Outlet) -> None:
    """No duplicate rows, a sound file, an empty frontier, the killed run marked, one finished run."""
    db = outlet.db
    assert rows(db, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
    # no article stored twice (under another URL: same outlet, same text)
    assert rows(db, "SELECT content_hash FROM articles GROUP BY source, content_hash HAVING COUNT(*) > 1") == []
    # every stored article was captured once: nothing committed was fetched again
    assert rows(db, "SELECT u.url, COUNT(c.id) AS n FROM article_urls u JOIN captures c ON c.final_url = u.url"
                    " GROUP BY u.url HAVING n > 1") == []
    assert rows(db, "SELECT a.id FROM articles a LEFT JOIN captures c ON c.id = a.capture_id WHERE c.id IS NULL") == []
    assert [(r["status"], r["finish_reason"]) for r in rows(db, "SELECT status, finish_reason FROM runs ORDER BY id")] \
        == [("interrupted", None), ("finished", "finished")]
    assert rows(db, "SELECT COUNT(*) AS n FROM frontier")[0]["n"] == 0


@pytest.fixture(scope="module")
def parent(tmp_path_factory):
    return tmp_path_factory.mktemp("crash")


@pytest.fixture(scope="module")
def baseline_crawl(parent):
    """The uninterrupted crawl, started in the background (it overlaps the stalled scenario's waits)."""
    outlet = Outlet(parent, "baseline")
    proc = start(outlet, CALM, parent / "baseline.log")
    try:
        yield outlet, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        outlet.server.stop()


@pytest.fixture(scope="module")
def baseline(baseline_crawl):
    outlet, proc = baseline_crawl
    assert proc.wait(timeout=300) == 0, (outlet.db.parent / "baseline.log").read_text()[-3000:]
    return snapshot(outlet)


@pytest.fixture(scope="module")
def mid_fetch(parent, baseline_crawl):
    outlet = Outlet(parent, "stalled")
    for path in STALLED:
        outlet.server.routes[path] = {"delay": 45}
    listed = outlet.listed_articles()
    proc = start(outlet, {"DOWNLOAD_TIMEOUT": "120", "ARCHIVE_COMMIT_SECONDS": "0.2"}, parent / "stalled-1.log")
    try:
        in_flight = lambda: [p for p in outlet.article_gets() if p in STALLED]  # noqa: E731
        wait_for(lambda: len(in_flight()) >= SLOTS, "every download slot waits on a stalled page", proc)
        wait_for(lambda: listed <= frontier(outlet.db) | outcomes(outlet.db),
                 "every discovered article URL is in the frontier or stored or failed", proc)
        second_log = parent / "second.log"  # as `make crawl` runs it: Scrapy's log appended to a file
        second_log.write_text("earlier runs\n", encoding="utf-8")
        second = crawl(outlet.seeds, outlet.db, check=False, timeout=120, settings={"LOG_FILE": str(second_log)})
        assert proc.poll() is None  # still the stalled crawl holding the archive
        killed = {"pid": proc.pid, "in_flight": set(in_flight()), "gets": outlet.article_gets()}
        kill(proc)
        wait_for(lambda: not group_alive(proc.pid), "the killed crawl's extraction workers exit", limit=30)
        killed |= {"frontier": frontier(outlet.db), "outcomes": outcomes(outlet.db), "archived": archived(outlet.db),
                   "articles": article_count(outlet.db), "runs": ro(outlet.db, "SELECT status FROM runs")}
        # the outlet moves on: its feed and sitemap list no article any more; the stalled pages answer now
        (outlet.root / "feed" / "index.xml").write_text(EMPTY_FEED, encoding="utf-8")
        (outlet.root / "sitemap.xml").write_text(EMPTY_SITEMAP, encoding="utf-8")
        for path in STALLED:
            outlet.server.routes.pop(path)
        outlet.server.clear_log()
        restart = crawl(outlet.seeds, outlet.db, check=False, settings=CALM)
        yield {"outlet": outlet, "listed": listed, "killed": killed, "second": second, "second_log": second_log,
               "restart": restart,
               "restart_gets": outlet.article_gets()}
    finally:
        reap(proc, outlet)


def reap(proc, outlet) -> None:
    """Whatever a failed test left running: the crawl, its extraction workers, the outlet's server."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    if group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    outlet.server.stop()


@pytest.fixture(scope="module")
def mid_write(parent):
    outlet = Outlet(parent, "midwrite")
    for path in outlet.listed_articles():
        outlet.server.routes[outlet.path(path)] = {**outlet.server.routes.get(outlet.path(path), {}), "delay": 0.3}
    proc = start(outlet, {"ARCHIVE_BATCH_SIZE": "20", "ARCHIVE_COMMIT_SECONDS": "600"}, parent / "midwrite-1.log")
    try:
        wait_for(lambda: article_count(outlet.db) >= 1 and write_transaction_open(outlet.db),
                 "a batch committed and the next one being written", proc)
        kill(proc)
        wait_for(lambda: not group_alive(proc.pid), "the killed crawl's extraction workers exit", limit=30)
        killed = {"articles": article_count(outlet.db), "outcomes": outcomes(outlet.db),
                  "archived": archived(outlet.db), "frontier": frontier(outlet.db), "gets": outlet.article_gets(),
                  "runs": ro(outlet.db, "SELECT status FROM runs"),
                  "integrity": ro(outlet.db, "PRAGMA integrity_check")}
        for path in list(outlet.server.routes):
            outlet.server.routes[path].pop("delay", None)
        outlet.server.clear_log()
        restart = crawl(outlet.seeds, outlet.db, check=False, settings=CALM)
        yield {"outlet": outlet, "killed": killed, "restart": restart, "restart_gets": outlet.article_gets()}
    finally:
        reap(proc, outlet)


def test_a_second_crawl_of_the_same_archive_is_refused(mid_fetch):
    second, outlet = mid_fetch["second"], mid_fetch["outlet"]
    assert second.returncode == 2
    pid = mid_fetch["killed"]["pid"]
    assert f"akhbar: another crawl (pid {pid}) is writing {outlet.db}; not starting a second one" in second.stderr
    assert "Traceback" not in second.stderr
    log = mid_fetch["second_log"].read_text(encoding="utf-8")
    assert log.startswith("earlier runs\n") and f"not starting: another crawl (pid {pid})" in log


def test_killed_mid_fetch_the_frontier_holds_what_was_pending(mid_fetch):
    killed, listed, outlet = mid_fetch["killed"], mid_fetch["listed"], mid_fetch["outlet"]
    assert killed["runs"] == [("running",)]  # nothing closed the run: the process just vanished
    # every slot held by a stalled page, and at least one stalled page still queued: both are pending
    assert len(killed["in_flight"]) == SLOTS and set(STALLED) - killed["in_flight"]
    assert {outlet.base + p for p in STALLED} <= killed["frontier"]
    assert killed["articles"] < 13
    # the frontier agrees with the archive: every discovered URL is pending, or stored or failed
    assert listed <= killed["frontier"] | killed["outcomes"]
    assert killed["frontier"] <= listed


def test_restart_after_mid_fetch_kill_fetches_the_frontier_and_matches_an_uninterrupted_crawl(mid_fetch, baseline):
    restart, outlet, killed = mid_fetch["restart"], mid_fetch["outlet"], mid_fetch["killed"]
    assert restart.returncode == 0, restart.stderr[-3000:]  # the lock died with the killed process
    # listings are empty now: what the restart fetched came from the frontier, minus what was archived meanwhile
    expected = outlet.to_fetch(killed["frontier"] - killed["outcomes"], killed["archived"])
    assert set(mid_fetch["restart_gets"]) == expected and expected >= set(STALLED)
    assert not {outlet.path(u) for u in killed["archived"]} & set(mid_fetch["restart_gets"])
    assert_same_archive(outlet, baseline)
    check_sound(outlet)


def test_killed_mid_batch_write_restart_matches_an_uninterrupted_crawl(mid_write, baseline):
    killed, restart, outlet = mid_write["killed"], mid_write["restart"], mid_write["outlet"]
    assert killed["runs"] == [("running",)]
    assert killed["integrity"] == [("ok",)]  # the uncommitted batch is simply not there
    assert 0 < killed["articles"] < 13
    assert killed["frontier"]  # pending work survived the kill
    # pages fetched by the killed run whose results were not committed: lost work, fetched again
    lost = outlet.to_fetch({outlet.base + p for p in killed["gets"]} - killed["outcomes"], killed["archived"])
    assert lost and lost <= set(mid_write["restart_gets"])
    assert restart.returncode == 0, restart.stderr[-3000:]
    assert not {outlet.path(u) for u in killed["archived"]} & set(mid_write["restart_gets"])  # committed stays
    assert_same_archive(outlet, baseline)
    check_sound(outlet)

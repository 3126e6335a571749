"""The operator's view: per-run counts, errors by kind, `source_health`, Datasette, the progress line.

Four real crawls into one archive, of two synthetic outlets (tests/minisite.py) whose sites change
between runs as real ones do:

  run  steady (127.0.0.1)                                flaky (127.0.0.2)
  1    feed: articles 1-3 and a dead link (4, 404)        feed: articles 11-13
  2    unchanged                                          + 14 (empty page), 15 (round-up: not_article), 16
  3    article 2 rewritten, dated after run 1 in the feed  unchanged (14 and 15 still broken)
  4    feed emptied (a valid RSS with no item)            + 18 (empty page)

Run 2 runs under a pseudo-terminal, to see the live progress line; the others do not have one.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEST_SETTINGS, crawl, rows
from tests.minisite import EMPTY_PAGE, LISTING_PAGE, Page, article_html, write_feed, write_page, write_site
from tests.published import Published
from tests.sites import SiteServer, load_site_source, write_registry

STEADY, FLAKY = "الثابت", "المتعثر"
PROGRESS = re.compile(r"(\d+) pages · (\d+) article pages · (\d+) new articles · (\d+) errors · (\d+) pages/min")


def crawl_in_terminal(seeds: Path, db: Path, timeout: float = 180) -> str:
    """`scrapy crawl news` as conftest.crawl runs it, but with a pseudo-terminal as stdin, stdout and stderr."""
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={seeds}", "-s", f"ARCHIVE_DB={db}"]
    for key, value in {**TEST_SETTINGS, "AKHBAR_PROGRESS_INTERVAL": "0.5"}.items():
        command += ["-s", f"{key}={value}"]
    master, terminal = pty.openpty()
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True)
    os.close(terminal)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every process holding the terminal is gone
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break  # exited, and nothing more to read
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
        returncode = process.wait(timeout=30)
    text = output.decode("utf-8", "replace")
    assert returncode == 0, text[-5000:]
    return text


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("health")
    steady_root = write_site(tmp / "steady", "steady", [Page(n) for n in (1, 2, 3)], name=STEADY,
                             feed_pages=[Page(n) for n in (1, 2, 3, 4)])  # no page 4: a dead link, 404
    flaky_root = write_site(tmp / "flaky", "flaky", [Page(n) for n in (11, 12, 13)], name=FLAKY)
    db = tmp / "archive.db"
    seen: dict[int, dict] = {}
    with SiteServer(steady_root) as steady, SiteServer(flaky_root, host="127.0.0.2") as flaky:
        seeds = write_registry([load_site_source(s.root, s.base) for s in (steady, flaky)], tmp / "sources.yml")

        def run(number: int, terminal: bool = False) -> None:
            steady.clear_log()
            flaky.clear_log()
            output = crawl_in_terminal(seeds, db) if terminal else crawl(seeds, db).stderr
            seen[number] = {"output": output, "health": {r["source"]: r for r in rows(db, "SELECT * FROM source_health")},
                            "requests": {"steady": steady.log, "flaky": flaky.log}}

        run(1)
        for number, html in ((14, EMPTY_PAGE), (15, LISTING_PAGE), (16, article_html(Page(16, "2020-11-21T10:00:00+01:00"), FLAKY))):
            write_page(flaky_root, number, html)
        write_feed(flaky_root, [Page(n) for n in range(11, 17)], FLAKY)
        run(2, terminal=True)
        changed = article_html(Page(2), STEADY).replace("</div>\n</article>", "<p>تحديث: أضيفت إلى هذا المقال فقرة جديدة بعد نشره، وهي فقرة تكفي لتغيير نصه.</p>\n</div>\n</article>")
        write_page(steady_root, 2, changed)
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")  # after run 1 fetched page 2, before run 3
        write_feed(steady_root, [Page(n) for n in (1, 2, 3, 4)], STEADY, modified={2: now})
        time.sleep(1.1)  # fetched_at has whole seconds: run 3's capture is dated after `now`
        run(3)
        write_feed(steady_root, [], STEADY)
        write_page(flaky_root, 18, EMPTY_PAGE)
        write_feed(flaky_root, [Page(n) for n in (11, 12, 13, 14, 15, 16, 18)], FLAKY)
        run(4)
        yield db, seen, {"steady": steady.base, "flaky": flaky.base}


COUNTS = ("discovered", "fetched", "stored", "updated", "duplicates", "failed", "over_budget", "disallowed")
EXPECTED_COUNTS = {
    # (run, outlet): discovered, fetched, stored (new), updated, duplicates, failed, over_budget, disallowed; errors by kind
    (1, "steady"): ((4, 3, 3, 0, 0, 1, 0, 0), {"http_404": 1}),
    (1, "flaky"): ((3, 3, 3, 0, 0, 0, 0, 0), {}),
    (2, "steady"): ((4, 0, 0, 0, 0, 1, 0, 0), {"http_404": 1}),  # 1-3 archived: not requested
    (2, "flaky"): ((6, 3, 1, 0, 0, 2, 0, 0), {"empty": 1, "not_article": 1}),
    (3, "steady"): ((4, 1, 0, 1, 0, 1, 0, 0), {"http_404": 1}),  # 2 fetched again: the feed dates a change
    (3, "flaky"): ((6, 2, 0, 0, 0, 2, 0, 0), {"empty": 1, "not_article": 1}),  # failed pages are tried again
    (4, "steady"): ((0, 0, 0, 0, 0, 0, 0, 0), {}),  # nothing listed: still a row, the run did crawl it
    (4, "flaky"): ((7, 3, 0, 0, 0, 3, 0, 0), {"empty": 2, "not_article": 1}),
}


def test_every_run_records_per_outlet_counts_and_errors_by_kind(runs):
    db, _, _ = runs
    found = {(r["run_id"], r["source"]): (tuple(r[c] for c in COUNTS), json.loads(r["errors_by_kind"]))
             for r in rows(db, "SELECT * FROM run_outlets")}
    assert found == EXPECTED_COUNTS
    for run in rows(db, "SELECT * FROM runs ORDER BY id"):
        assert run["status"] == "finished"
        for index, column in enumerate(COUNTS):
            assert run[column] == sum(found[(run["id"], s)][0][index] for s in ("steady", "flaky")), (run["id"], column)


def test_errors_rows_name_the_url_and_kind(runs):
    db, _, base = runs
    errors = [(e["run_id"], e["source"], e["url"], e["kind"]) for e in
              rows(db, "SELECT run_id, source, url, kind FROM errors ORDER BY run_id, source, url")]
    dead = (base["steady"] + "/news/4.html", "http_404")
    broken = [(base["flaky"] + "/news/14.html", "empty"), (base["flaky"] + "/news/15.html", "not_article")]
    expected = [(1, "steady", *dead)]
    for run in (2, 3):
        expected += [(run, "flaky", *e) for e in broken] + [(run, "steady", *dead)]
    expected += [(4, "flaky", *e) for e in broken + [(base["flaky"] + "/news/18.html", "empty")]]
    assert errors == sorted(expected)


def test_what_each_run_requested(runs):
    _, seen, _ = runs
    articles = {n: {o: sorted(p for _, p, _ in seen[n]["requests"][o] if p.startswith("/news/")) for o in ("steady", "flaky")}
                for n in seen}
    assert articles[1] == {"steady": ["/news/1.html", "/news/2.html", "/news/3.html", "/news/4.html"],
                           "flaky": ["/news/11.html", "/news/12.html", "/news/13.html"]}
    assert articles[2] == {"steady": ["/news/4.html"], "flaky": ["/news/14.html", "/news/15.html", "/news/16.html"]}
    assert articles[3] == {"steady": ["/news/2.html", "/news/4.html"], "flaky": ["/news/14.html", "/news/15.html"]}
    assert articles[4] == {"steady": [], "flaky": ["/news/14.html", "/news/15.html", "/news/18.html"]}


def _health(seen, run, source):
    row = seen[run]["health"][source]
    return row["runs"], row["runs_without_new"], row["last_failure_rate"], row["usual_failure_rate"], row["status"]


def test_an_outlet_that_stops_producing_becomes_silent_after_three_runs(runs):
    _, seen, _ = runs
    # runs, runs_without_new, last_failure_rate, usual_failure_rate, status
    assert _health(seen, 1, "steady") == (1, 0, 0.25, None, "ok")  # 1 dead link of 4 URLs tried
    # The dead link fails again every run: not news, so no new failure rate and no alarm.
    assert _health(seen, 2, "steady") == (2, 1, 0.25, None, "ok")
    # Run 3 tried one thing new, the changed article 2, and it succeeded: rate 0. Updated is not new, though.
    assert _health(seen, 3, "steady") == (3, 2, 0.0, 0.25, "ok")
    assert _health(seen, 4, "steady") == (4, 3, 0.0, 0.25, "silent")


def test_an_outlet_whose_pages_stop_extracting_is_failing(runs):
    _, seen, _ = runs
    assert _health(seen, 1, "flaky") == (1, 0, 0.0, None, "ok")
    # 2 of the 3 new pages failed extraction: 0.667 against 0 usually.
    assert _health(seen, 2, "flaky") == (2, 0, 0.667, 0.0, "failing")
    # Run 3 tried nothing new (14 and 15 fail as before): the last rate measured stands.
    assert _health(seen, 3, "flaky") == (3, 1, 0.667, 0.0, "failing")
    # Run 4: its one new page failed too.
    assert _health(seen, 4, "flaky") == (4, 2, 1.0, 0.333, "failing")


def test_source_health_and_silent_outlets_over_http(runs, tmp_path):
    db, seen, _ = runs
    with Published(db, tmp_path / "datasette.log") as site:
        health = site.json("/archive/source_health.json", {"_shape": "array"})
        assert {r["source"]: r["status"] for r in health} == {"steady": "silent", "flaky": "failing"}
        assert health == rows(db, "SELECT * FROM source_health")
        canned = site.json("/archive/outlet_health.json", {"_shape": "array"})
        assert [(r["source"], r["status"], r["runs_without_new"]) for r in canned] == [
            ("flaky", "failing", 2), ("steady", "silent", 3)]
        silent = site.json("/archive/silent_outlets.json", {"_shape": "array"})
        assert [(r["source"], r["name"], r["stored_in_latest_runs"], r["why"]) for r in silent] == [
            ("steady", STEADY, 0, "nothing stored in its latest runs")]
        outlets = site.json("/archive/run_outlets.json", {"_shape": "array", "run_id": "4", "_sort": "source"})
        assert [(r["source"], r["stored"], r["failed"]) for r in outlets] == [("flaky", 0, 3), ("steady", 0, 0)]


def test_progress_line_in_a_terminal(runs):
    _, seen, _ = runs
    output = seen[2]["output"]
    lines = PROGRESS.findall(output)
    assert lines, output[-3000:]
    pages, articles, new, errors, rate = map(int, lines[-1])  # the last one is drawn when the spider closes
    stats = int(re.search(r"'response_received_count': (\d+)", output).group(1))
    assert (pages, articles, new, errors) == (stats, 3, 1, 3)  # run 2: 14, 15, 16 fetched, 16 new, 3 errors rows
    assert rate > 0
    assert "\r\x1b[K" in output  # redrawn in place


def test_no_progress_line_without_a_terminal(runs):
    _, seen, _ = runs
    for number in (1, 3, 4):
        assert not PROGRESS.search(seen[number]["output"]) and "\x1b[K" not in seen[number]["output"]

"""Datasette reads the archive while a crawl writes it, with no 'database is locked' on either side.

A real `publish/serve.sh` Datasette is started on an archive that holds only the schema; then a real
crawl writes 32 articles into that same file, committing after every item (ARCHIVE_BATCH_SIZE=1), from
pages that take 0.4 s each (4 at a time), so it writes for a few seconds. Meanwhile the test queries
Datasette's JSON over HTTP in a loop (SQL, table page, search, canned queries, the health view, runs)
until the crawl ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pipelines.store import Archive
from tests.conftest import ROOT, TEST_SETTINGS, rows
from tests.minisite import Page, write_site
from tests.published import Published
from tests.sites import SiteServer, load_site_source, write_registry

PAGES = 32
WORD = "الأرشيف"  # every page ends with "رقم المقال في الأرشيف N."

# name: (path, params, count of the rows it shows, or None)
QUERIES = {
    "sql count": ("/archive.json", {"sql": "select count(*) as n from articles", "_shape": "array"},
                  lambda data: data[0]["n"]),
    "table page": ("/archive/articles.json", {"_size": "5", "_col": "title"},
                   lambda data: data["filtered_table_rows_count"]),
    "table search": ("/archive/articles.json", {"_search": WORD, "_size": "max", "_col": "title", "_shape": "array"},
                     len),
    "canned search": ("/archive/search.json", {"q": WORD, "_shape": "array"}, len),
    "canned latest": ("/archive/latest.json", {"_shape": "array"}, len),
    "health view": ("/archive/source_health.json", {"_shape": "array"}, None),
    "runs table": ("/archive/runs.json", {"_shape": "array"}, None),
}


def test_datasette_reads_while_a_crawl_writes(tmp_path):
    root = write_site(tmp_path / "site", "busy", [Page(n) for n in range(1, PAGES + 1)],
                      routes={f"/news/{n}.html": {"delay": 0.4} for n in range(1, PAGES + 1)})
    db = tmp_path / "archive.db"
    Archive(db).close()  # the schema, before Datasette opens the file
    with SiteServer(root) as site, Published(db, tmp_path / "datasette.log") as published:
        databases = published.json("/-/databases.json")
        assert [(d["name"], d["is_mutable"]) for d in databases] == [("archive", True)]  # not immutable

        seeds = write_registry([load_site_source(root, site.base)], tmp_path / "sources.yml")
        command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={seeds}", "-s", f"ARCHIVE_DB={db}"]
        settings = {**TEST_SETTINGS, "ARCHIVE_BATCH_SIZE": "1", "ARCHIVE_COMMIT_SECONDS": "0.2"}
        for key, value in settings.items():
            command += ["-s", f"{key}={value}"]
        log_path = tmp_path / "crawl.log"
        with open(log_path, "wb") as log:
            crawl = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                     stdout=log, stderr=subprocess.STDOUT)
        seen: dict[str, list[int]] = {name: [] for name, (_, _, count) in QUERIES.items() if count}
        failures: list[tuple[str, int, bytes]] = []
        queries = 0
        try:
            while crawl.poll() is None:
                for name, (path, params, count) in QUERIES.items():
                    status, body = published.get(path, params)
                    queries += 1
                    if status != 200:
                        failures.append((name, status, body[:300]))
                    elif count:
                        seen[name].append(count(json.loads(body)))
            returncode = crawl.wait(timeout=120)
        finally:
            if crawl.poll() is None:
                crawl.kill()
        crawl_log = log_path.read_text(errors="replace")
        assert returncode == 0, crawl_log[-3000:]

        final = {name: QUERIES[name][2](published.json(*QUERIES[name][:2])) for name in seen}
        datasette_log = published.log()

    assert failures == []
    assert queries >= 3 * len(QUERIES), queries
    assert rows(db, "SELECT COUNT(*) AS n FROM articles")[0]["n"] == PAGES
    assert final == {name: PAGES for name in seen}  # the new rows are visible: the file is not served immutable
    for name, counts in seen.items():
        assert counts == sorted(counts), (name, counts)  # never a row less than an earlier read showed
    partial = [n for n in seen["sql count"] if 0 < n < PAGES]
    assert partial, seen["sql count"]  # some reads happened while the crawl was writing
    assert "database is locked" not in crawl_log
    assert "database is locked" not in datasette_log and "Traceback" not in datasette_log

"""Scale-out mode for real: a redis-server on loopback, two `scrapy crawl news` worker processes
and the `scrapy archive-writer` process, against the fixture outlets served over HTTP.

The single-process crawl of the same sites is the reference: the scale-out archive must hold the
same articles, errors and run counts, while the servers' logs show every article fetched once.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from pipelines.store import decompress
from tests.conftest import ROOT, TEST_SETTINGS, crawl, rows
from tests.sites import FIXTURES, SiteServer, consecutive_free_ports, write_registry

SITES = ("alwaha", "sahil", "mashriq")
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
# conftest's fast loopback settings, with a download timeout of 6 s instead of 3 (still under the 10 s of the
# planted slow page) so that a loaded CI machine does not time out ordinary pages and retry them: these tests
# count requests. Both crawls use it. One extraction process per worker (two workers share the cores), and a
# quick idle close: a worker leaves 2 s after the whole crawl went quiet.
CRAWL_SETTINGS = {**TEST_SETTINGS, "DOWNLOAD_TIMEOUT": "6"}
WORKER_SETTINGS = {**CRAWL_SETTINGS, "EXTRACT_WORKERS": "1", "AKHBAR_REDIS_IDLE_CLOSE": "2", "AKHBAR_REDIS_TICK": "0.5"}
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
ENV.pop("REDIS_URL", None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throw-away redis-server on a free loopback port (no persistence unless asked)."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        self.client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                self.client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    if not shutil.which("redis-server"):
        raise RuntimeError("redis-server is missing: `make system-deps` (Debian package redis-server)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


def worker_command(seeds: Path, url: str, db: Path, **settings: str) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"seeds={seeds}",
               "-s", f"REDIS_URL={url}", "-s", f"ARCHIVE_DB={db}"]
    for key, value in {**WORKER_SETTINGS, **settings}.items():
        command += ["-s", f"{key}={value}"]
    return command


def writer_command(seeds: Path, url: str, db: Path, *options: str, **settings: str) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "archive-writer", "--seeds", str(seeds), *options,
               "-s", f"REDIS_URL={url}", "-s", f"ARCHIVE_DB={db}"]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    return command


def start(command: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=open(log, "w"))


def finish(procs: dict[str, subprocess.Popen], logs: Path, timeout: float = 240) -> dict[str, str]:
    """Wait for every process; fail with its log tail when one fails. Returns the logs."""
    deadline = time.monotonic() + timeout
    for name, proc in procs.items():
        try:
            proc.wait(max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in procs.values():
                other.kill()
            raise AssertionError(f"{name} did not stop:\n{(logs / f'{name}.log').read_text()[-3000:]}")
    text = {name: (logs / f"{name}.log").read_text() for name in procs}
    for name, proc in procs.items():
        assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{text[name][-4000:]}"
    return text


def scaleout_round(seeds: Path, url: str, db: Path, logs: Path, workers: int = 2, writer: bool = True,
                   **settings: str) -> dict[str, str]:
    """One crawl round: `workers` worker processes and (optionally) the writer, started together."""
    logs.mkdir(parents=True, exist_ok=True)
    procs = {f"worker{i}": start(worker_command(seeds, url, db, **settings), logs / f"worker{i}.log")
             for i in range(workers)}
    if writer:
        procs["writer"] = start(writer_command(seeds, url, db, "--until-idle", "2"), logs / "writer.log")
    return finish(procs, logs)


def stat(log: str, key: str) -> int:
    """A counter from the stats a worker dumps at close."""
    found = re.search(rf"'{re.escape(key)}': (-?\d+)", log)
    return int(found.group(1)) if found else 0


def no_noise(logs: dict[str, str]) -> None:
    for name, text in logs.items():
        assert "Deprecat" not in text, f"deprecation warning in {name}:\n" + "\n".join(
            line for line in text.splitlines() if "Deprecat" in line)
        assert "Traceback" not in text, f"traceback in {name}:\n{text[-3000:]}"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def counts(servers: dict[str, SiteServer]) -> dict[tuple[str, str], int]:
    """Requests per page; a feed's `?utm_` link counts as its article (one request per article and round,
    under whichever listed form came first)."""
    return Counter((name, path.split("?utm_")[0]) for name, server in servers.items() for _, path, _ in server.log)


def discovery_paths(name: str) -> list[str]:
    found = EXPECTED["sites"][name]["discovery"]
    return [p for key in ("feeds", "sitemaps", "start_urls") for p in found[key] if p != "/robots.txt"]


def archive_view(db: Path) -> dict[str, object]:
    """What must not depend on single-process or scale-out: articles, errors, per-outlet run counts."""
    return {
        "articles": sorted((r["source"], path_of(r["url"]), r["title"], r["published"])
                           for r in rows(db, "SELECT source, url, title, published FROM articles")),
        "errors": sorted((r["source"], path_of(r["url"] or ""), r["kind"])
                         for r in rows(db, "SELECT source, url, kind FROM errors")),
        "run_outlets": sorted((r["source"], r["discovered"], r["fetched"], r["stored"], r["duplicates"], r["failed"])
                              for r in rows(db, "SELECT * FROM run_outlets")),
        # every form of an article's URL that was found (feed `?utm_` links included), whoever found it
        "urls": sorted((r["source"], path_of(r["url"]), path_of(r["article"])) for r in rows(
            db, "SELECT u.source, u.url, a.url AS article FROM article_urls u JOIN articles a ON a.id = u.article_id")),
    }


# -- the fixture outlets, crawled once single-process and once by two workers --------------------------------


@pytest.fixture(scope="module")
def crawled(tmp_path_factory, redis_server):
    tmp = tmp_path_factory.mktemp("scaleout")
    servers = {name: SiteServer(FIXTURES / name).start() for name in SITES}
    try:
        seeds = write_registry([s.source() for s in servers.values()], tmp / "seeds.yml")
        single_db = tmp / "single.db"
        crawl(seeds, single_db, settings={"DOWNLOAD_TIMEOUT": CRAWL_SETTINGS["DOWNLOAD_TIMEOUT"]})
        single_log = counts(servers)
        for server in servers.values():
            server.clear_log()
        db = tmp / "archive.db"
        logs = scaleout_round(seeds, redis_server.url, db, tmp / "round1")
        yield {"tmp": tmp, "servers": servers, "seeds": seeds, "db": db, "single_db": single_db,
               "single_log": single_log, "log": counts(servers), "logs": logs}
    finally:
        for server in servers.values():
            server.stop()


def test_the_shared_dupefilter_keys_article_requests_by_canonical_url(redis_server):
    """A feed's `?utm_` link and the sitemap's plain URL are one request, whichever worker finds which."""
    from scrapy import Request

    from crawler.scaleout import CanonicalDupeFilter

    dupefilter = CanonicalDupeFilter(redis.Redis.from_url(redis_server.url), key="test:canonical-dupefilter")
    story = "http://127.0.0.1:8000/2020/11/18/citrus-exports-africa-rise/"
    article = {"kind": "article", "source": "alwaha"}
    assert not dupefilter.request_seen(Request(story + "?utm_source=rss&utm_medium=feed", meta=article))
    assert dupefilter.request_seen(Request(story, meta=article))
    assert dupefilter.request_seen(Request(story + "#respond", meta=article))
    # listings keep scrapy-redis's fingerprint: two pages of a feed are two requests
    assert not dupefilter.request_seen(Request("http://127.0.0.1:8000/feed/?paged=1"))
    assert not dupefilter.request_seen(Request("http://127.0.0.1:8000/feed/?paged=2"))
    dupefilter.clear()


def test_each_article_fetched_once_across_workers(crawled):
    log, logs = crawled["log"], crawled["logs"]
    no_noise(logs)
    for name in SITES:
        for article in EXPECTED["sites"][name]["articles"]:
            assert log[(name, article["path"])] == 1, (name, article["path"], log[(name, article["path"])])
        for path in discovery_paths(name):  # feeds and sitemaps: once per round, not once per worker
            assert log[(name, path)] == 1, (name, path)
    # Everything else as often as the single-process crawl fetched it (retries of planted 500s and
    # timeouts included); robots.txt is the exception: each worker's robots.txt middleware reads it once
    # (the spider's own request for it gets that response), so at most once per worker.
    paths = set(log) | set(crawled["single_log"])
    differ = {p: (crawled["single_log"][p], log[p]) for p in paths
              if not p[1].endswith("/robots.txt") and crawled["single_log"][p] != log[p]}
    assert not differ, f"(single-process, scale-out) fetch counts differ: {differ}"
    assert all(1 <= log[(name, "/robots.txt")] <= 2 for name in SITES)


def test_archive_same_as_single_process_crawl(crawled):
    db, single = crawled["db"], crawled["single_db"]
    scaled, reference = archive_view(db), archive_view(single)
    assert scaled["articles"] == reference["articles"]
    assert scaled["errors"] == reference["errors"]
    assert scaled["run_outlets"] == reference["run_outlets"]
    assert scaled["urls"] == reference["urls"]
    assert any("?utm_" in url for _, url, _ in scaled["urls"])  # the fixture feeds' tracking forms are there
    stored = rows(db, "SELECT url FROM articles")
    assert len(stored) == len({r["url"] for r in stored}) == len(reference["articles"]) > 0
    [run] = rows(db, "SELECT * FROM runs")
    assert run["status"] == "finished" and run["finished_at"]
    args = json.loads(run["args"])
    assert args["mode"] == "scale-out" and args["round"]
    assert json.loads(run["sources"]) == list(SITES)


def test_captures_archived_byte_for_byte(crawled):
    """Raw bodies travel compressed through Redis and land in `captures` as the server sent them."""
    def bodies(db: Path) -> dict[str, bytes]:
        conn = sqlite3.connect(db)
        try:
            return {url: decompress(blob, codec)
                    for url, blob, codec in conn.execute("SELECT final_url, body, codec FROM captures")}
        finally:
            conn.close()

    scaled, reference = bodies(crawled["db"]), bodies(crawled["single_db"])
    assert scaled.keys() == reference.keys()
    assert all(scaled[url] == reference[url] for url in reference)
    assert len(rows(crawled["db"], "SELECT id FROM captures")) == len(scaled)  # one capture per response


# -- repeated rounds: listings again, known articles not ---------------------------------------------------


@pytest.fixture(scope="module")
def second_round(crawled, redis_server):
    before = counts(crawled["servers"])
    logs = scaleout_round(crawled["seeds"], redis_server.url, crawled["db"], crawled["tmp"] / "round2")
    return {"before": before, "after": counts(crawled["servers"]), "logs": logs}


def test_next_round_rereads_listings_not_archived_articles(crawled, second_round):
    before, after, logs = second_round["before"], second_round["after"], second_round["logs"]
    no_noise(logs)
    for name in SITES:
        for article in EXPECTED["sites"][name]["articles"]:
            assert after[(name, article["path"])] == before[(name, article["path"])], (name, article["path"])
        for path in EXPECTED["sites"][name]["discovery"]["feeds"]:
            assert after[(name, path)] == before[(name, path)] + 1, (name, path)  # a new round, read once
    assert after[("sahil", "/sitemap_index.xml")] == before[("sahil", "/sitemap_index.xml")] + 1
    # its child sitemaps' lastmod predates round 1: not read again (known from Redis, not SQLite)
    for child in ("/post-sitemap.xml", "/page-sitemap.xml"):
        assert after[("sahil", child)] == before[("sahil", child)], child
    workers = [t for n, t in logs.items() if n.startswith("worker")]
    assert sum(stat(t, "akhbar/skipped_archived") for t in workers) > 0  # known from Redis, not from SQLite
    runs = rows(crawled["db"], "SELECT * FROM runs ORDER BY id")
    assert [r["status"] for r in runs] == ["finished", "finished"]
    assert json.loads(runs[0]["args"])["round"] != json.loads(runs[1]["args"])["round"]
    assert runs[1]["stored"] == 0 and runs[1]["fetched"] < runs[0]["fetched"]
    assert len(rows(crawled["db"], "SELECT id FROM articles")) == len(archive_view(crawled["single_db"])["articles"])


def test_known_urls_rebuilt_after_redis_loses_everything(crawled, second_round, redis_server):
    """A Redis restart without persistence: the writer reloads the archive's URLs before workers need them."""
    redis_server.client.flushall()
    tmp = crawled["tmp"] / "round3"
    tmp.mkdir()
    writer = start(writer_command(crawled["seeds"], redis_server.url, crawled["db"], "--until-idle", "2"),
                   tmp / "writer.log")
    total = rows(crawled["db"], "SELECT COUNT(*) AS n FROM article_urls")[0]["n"]
    for _ in range(300):
        if redis_server.client.hlen("news:known") >= total:
            break
        time.sleep(0.1)
    assert redis_server.client.hlen("news:known") == total  # one 12-byte digest per archived URL
    before = counts(crawled["servers"])
    procs = {f"worker{i}": start(worker_command(crawled["seeds"], redis_server.url, crawled["db"]),
                                 tmp / f"worker{i}.log") for i in range(2)}
    logs = finish({**procs, "writer": writer}, tmp)
    no_noise(logs)
    assert f"Loaded {total} archived URLs" in logs["writer"]
    after = counts(crawled["servers"])
    for name in SITES:
        for article in EXPECTED["sites"][name]["articles"]:
            assert after[(name, article["path"])] == before[(name, article["path"])], (name, article["path"])
    assert [r["status"] for r in rows(crawled["db"], "SELECT status FROM runs ORDER BY id")] == ["finished"] * 3


# -- the writer killed mid-stream ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_site(tmp_path_factory):
    """bench/make_site.py's three outlets (120 pages of 60–150 KB), served by bench/serve_site.py."""
    site = tmp_path_factory.mktemp("gen") / "site"
    port = consecutive_free_ports(3)
    subprocess.run([sys.executable, str(ROOT / "bench" / "make_site.py"), str(site), "--pages", "120",
                    "--port", str(port)], check=True, cwd=ROOT, capture_output=True)
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "serve_site.py"), str(site)],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert "ready" in server.stdout.readline()
    yield site
    server.terminate()
    server.wait(10)


def test_writer_killed_midstream_loses_and_duplicates_nothing(generated_site, redis_server, tmp_path):
    url = redis_server.url
    seeds = generated_site / "sources.yml"
    db = tmp_path / "archive.db"
    # the workers crawl everything first; the records wait in Redis
    scaleout_round(seeds, url, db, tmp_path / "workers", writer=False, AKHBAR_REDIS_PREFIX="kill")
    client = redis_server.client
    queued = client.lrange("kill:items", 0, -1)
    records = [json.loads(r) for r in queued]
    pages = [r for r in records if r["type"] == "page"]
    assert len(pages) >= 100 and sum(r["type"] == "close" for r in records) == 2
    per_worker = Counter(r["worker"] for r in pages)
    assert len(per_worker) == 2 and min(per_worker.values()) >= 10, per_worker  # the frontier was shared

    # reference: the same records through an undisturbed writer, into another archive
    ref_db = tmp_path / "reference.db"
    for record in records[:1]:
        for key in (f"kill:round:{record['round']}:workers", f"kill:round:{record['round']}:closed"):
            client.copy(key, key.replace("kill:", "ref:", 1))
    client.rpush("ref:items", *queued)
    finish({"reference": start(writer_command(seeds, url, ref_db, "--until-idle", "1", AKHBAR_REDIS_PREFIX="ref"),
                               tmp_path / "reference.log")}, tmp_path)

    # the writer under test, SIGKILLed while it works through small batches
    writer = start(writer_command(seeds, url, db, "--batch", "3", AKHBAR_REDIS_PREFIX="kill"), tmp_path / "killed.log")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if db.exists():
            try:
                stored = sqlite3.connect(f"file:{db}?mode=ro", uri=True).execute("SELECT COUNT(*) FROM captures").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
            if stored >= len(pages) // 3:
                break
        time.sleep(0.02)
    writer.send_signal(signal.SIGKILL)
    writer.wait(10)
    left = client.llen("kill:items")
    assert 0 < left < len(records), "the kill landed mid-stream"
    logs = finish({"writer": start(writer_command(seeds, url, db, "--until-idle", "1", AKHBAR_REDIS_PREFIX="kill"),
                                   tmp_path / "writer.log")}, tmp_path)
    no_noise(logs)
    assert client.llen("kill:items") == 0

    def view(path: Path) -> dict[str, object]:
        return {**archive_view(path),
                "captures": sorted((r["final_url"], r["fetched_at"], r["body_sha1"])
                                   for r in rows(path, "SELECT final_url, fetched_at, body_sha1 FROM captures")),
                "runs": [(r["status"], r["stored"], r["fetched"]) for r in rows(path, "SELECT * FROM runs")]}

    killed, reference = view(db), view(ref_db)
    assert len(killed["captures"]) == len(set(killed["captures"])) == len(pages)  # none lost, none twice
    assert killed == reference
    assert killed["runs"][0][0] == "finished"

    # the crash window between COMMIT and LTRIM: the same records read again are stored once
    client.rpush("kill:items", *queued[:40])
    logs = finish({"replay": start(writer_command(seeds, url, db, "--until-idle", "1", AKHBAR_REDIS_PREFIX="kill"),
                                   tmp_path / "replay.log")}, tmp_path)
    assert view(db) == reference
    assert re.search(r"(\d+) replayed", logs["replay"]).group(1) != "0"


# -- politeness across workers, and a worker that does not belong ---------------------------------------------


def two_workers_on(site: SiteServer, redis_server, tmp_path: Path, **settings: str) -> list[dict]:
    """Crawl one site with two workers at once (no writer), each signing its requests with its own contact
    (User-Agent) so the server tells them apart; CONCURRENT_REQUESTS=2 keeps either worker from pulling the
    whole small round into its own downloader. Returns the site's requests in order of arrival."""
    seeds = write_registry([site.source()], tmp_path / "seeds.yml")
    logs = tmp_path / "logs"
    logs.mkdir()
    texts = finish({f"worker{i}": start(worker_command(seeds, redis_server.url, tmp_path / "archive.db",
                                                       AKHBAR_CONTACT=f"https://example.org/worker{i}",
                                                       CONCURRENT_REQUESTS="2", **settings),
                                        logs / f"worker{i}.log")
                    for i in range(2)}, logs)
    no_noise(texts)
    return sorted(site.requests, key=lambda r: r["arrived"])


def test_shared_rate_limit_holds_across_workers(redis_server, tmp_path):
    """Two workers fetching one host at the same time keep to one request per DOWNLOAD_DELAY between them.

    Each worker signs its requests with its own contact (User-Agent), so the server tells them apart;
    CONCURRENT_REQUESTS=2 keeps either worker from pulling the whole small round into its own
    downloader, so both really fetch the host at once. Without the shared token each worker would keep
    its own delay and the host would see about twice the rate.
    """
    delay = 0.4
    with SiteServer(FIXTURES / "mashriq") as site:
        requests = two_workers_on(site, redis_server, tmp_path, DOWNLOAD_DELAY=str(delay), AKHBAR_REDIS_PREFIX="polite")
    by_worker = Counter(next(w for w in ("worker0", "worker1") if w in (r["user_agent"] or "")) for r in requests)
    assert len(requests) >= 15
    assert min(by_worker["worker0"], by_worker["worker1"]) >= 4, by_worker  # both fetched the host
    switches = sum(a["user_agent"] != b["user_agent"] for a, b in zip(requests, requests[1:]))
    assert switches >= 3, [r["user_agent"][-7:] for r in requests]  # ...interleaved, not one after the other
    times = [r["arrived"] for r in requests]
    gaps = [b - a for a, b in zip(times, times[1:])]
    # One request per DOWNLOAD_DELAY for the host across both workers: the rate holds exactly; single gaps
    # as seen by the server may be shorter by the client's scheduling jitter (a loaded machine), not by much.
    rate = (len(times) - 1) / (times[-1] - times[0])
    assert rate <= 1.05 / delay, rate
    assert sum(g < delay * 0.75 for g in gaps) <= len(gaps) // 10, sorted(gaps)[:5]


def test_a_retry_after_pause_holds_every_worker(redis_server, tmp_path):
    """A 429 with Retry-After answered to one worker keeps the other workers off that host too.

    Two workers fetch one host of 30 articles; the host answers the first request for /news/2.html with
    429 and `Retry-After: 3`. The worker that got it pauses its own download slot; the pause goes to
    Redis (`<prefix>:pause:<host>`), and the other worker's requests wait for it in the download handler.
    Without that the other worker went on fetching the host during those three seconds.
    """
    from tests.minisite import Page, write_site

    pause = 3.0
    root = write_site(tmp_path / "busy", "busy", [Page(n) for n in range(1, 31)],
                      routes={"/news/2.html": {"statuses": [429, 200], "headers": {"Retry-After": "3"}}})
    with SiteServer(root) as site:
        requests = two_workers_on(site, redis_server, tmp_path, DOWNLOAD_DELAY="0.05", AKHBAR_REDIS_PREFIX="pause")
    [refused] = [r for r in requests if r["status"] == 429]
    # (a request the other worker sent before the pause reached Redis may still arrive in the first 0.6 s)
    during = [r for r in requests if refused["answered"] + 0.6 < r["arrived"] < refused["answered"] + pause - 0.1]
    assert not during, [(r["path"], round(r["arrived"] - refused["answered"], 2), r["user_agent"][-8:]) for r in during]
    other = "worker1" if "worker0" in refused["user_agent"] else "worker0"
    by_other = [r["arrived"] - refused["answered"] for r in requests if other in (r["user_agent"] or "")]
    assert min(by_other) < 0 < max(by_other)  # the other worker fetched the host before the pause and after it
    assert [r["status"] for r in requests if r["path"] == "/news/2.html"] == [429, 200]
    assert len({r["path"] for r in requests if r["path"].startswith("/news/")}) == 30
    assert redis_server.client.exists("pause:pause:" + site.base.split("//")[1].split(":")[0]) == 0  # it expired


def test_worker_for_other_outlets_cannot_join_a_round(redis_server, tmp_path):
    """Requests of a round carry outlet ids; a worker with another registry or -a source= would not understand them."""
    client = redis_server.client
    client.hset("odd:round", mapping={"id": "r1", "started_at": "2026-01-01T00:00:00+00:00", "sources": "mashriq",
                                      "args": "{}", "leader": "elsewhere"})
    client.zadd("odd:busy", {"elsewhere:1:abc": 10 ** 15})  # a busy worker: the round is in progress
    seeds = write_registry([SiteServer(FIXTURES / "alwaha").source()], tmp_path / "seeds.yml")
    result = subprocess.run(worker_command(seeds, redis_server.url, tmp_path / "archive.db", AKHBAR_REDIS_PREFIX="odd"),
                            cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "RoundMismatch: round r1 crawls outlets [mashriq], this worker [alwaha]" in result.stderr
    assert client.llen("odd:items") == 0 and client.zcard("odd:requests") == 0


def test_the_writer_keeps_another_url_form_whether_it_comes_before_or_after_its_article(redis_server, tmp_path):
    """Alias records (a form of an article URL another worker queued first): parked until the article is
    stored, or added at once when it already is; both end in article_urls, and nothing stays parked."""
    from scrapy.settings import Settings

    from crawler.commands.archive_writer import ArchiveWriter
    from crawler.items import ArticlePage
    from crawler.scaleout import Keys, dumps, page_message
    from pipelines.process import process_page_for_archive
    from pipelines.registry import load_sources
    from pipelines.urls import canonical_url
    from tests.sites import load_site_source, render

    base = "http://127.0.0.1:8000"
    seeds = write_registry([load_site_source(FIXTURES / "alwaha", base)], tmp_path / "seeds.yml")
    source = load_sources(seeds)[0]
    url = f"{base}/2020/11/17/tanger-med-containers-record/"
    body = render((FIXTURES / "alwaha" / "2020/11/17/tanger-med-containers-record/index.html").read_bytes(),
                  base, "127.0.0.1:8000")
    record = process_page_for_archive(body, url, headers={"Content-Type": "text/html; charset=utf-8"}, source=source,
                                      hints={}, fetched_at="2026-12-01T10:00:00+00:00")
    item = ArticlePage(source=source.id, url=url, final_url=url, status=200,
                       headers={"Content-Type": "text/html; charset=utf-8"}, body=body,
                       fetched_at="2026-12-01T10:00:00+00:00", urls=[url], hints={}, refetch=False)
    item.packed, item.dedup, item.record = record.pop("_packed"), record.pop("_dedup"), record
    before, after = url + "?utm_source=rss", url + "?utm_source=twitter&utm_medium=social"

    def batch(*messages):
        return [dumps({**m, "round": "r1", "worker": "w1"}).encode("utf-8") for m in messages]

    prefix = "aliases-test"
    client = redis.Redis.from_url(redis_server.url)
    writer = ArchiveWriter(Settings({"REDIS_URL": redis_server.url, "ARCHIVE_DB": str(tmp_path / "archive.db"),
                                     "AKHBAR_REDIS_PREFIX": prefix}), seeds=str(seeds))
    parked = Keys(prefix).round_aliases("r1")
    try:
        writer.apply_batch(batch({"type": "alias", "source": source.id, "url": before}))
        # its article is not stored yet: parked under the canonical URL (no trailing slash for this outlet)
        assert client.hgetall(parked) == {canonical_url(url, source=source).encode(): before.encode()}
        writer.apply_batch(batch(page_message(item)))
        writer.apply_batch(batch({"type": "alias", "source": source.id, "url": after}))
    finally:
        writer.close()
    stored = rows(tmp_path / "archive.db", "SELECT id, url FROM articles")
    assert [r["url"] for r in stored] == [canonical_url(url, source=source)]
    forms = {r["url"] for r in rows(tmp_path / "archive.db", "SELECT url FROM article_urls WHERE article_id = ?",
                                    (stored[0]["id"],))}
    assert {url, canonical_url(url, source=source), before, after} <= forms
    assert client.hgetall(parked) == {}
    assert rows(tmp_path / "archive.db", "SELECT count(*) AS n FROM errors")[0]["n"] == 0

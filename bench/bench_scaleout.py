"""Scale-out throughput: 1 and 2 crawl workers over Redis (plus the single-process crawl) on one local site.

    python bench/bench_scaleout.py [--pages 600] [--configs single:2,1x2,2x1,2x2] [--delay 0.2]

Generates bench/make_site.py's three outlets (60–150 KB article pages), serves them with
bench/serve_site.py, starts a throw-away redis-server, and for each configuration crawls the
whole site into a fresh archive: `WxE` = W worker processes (`scrapy crawl news` with REDIS_URL)
with E extraction processes each, plus `scrapy archive-writer`; `single:E` = the single-process
crawl with E extraction processes. Loopback politeness is off (DOWNLOAD_DELAY=0, no AutoThrottle)
so the table measures the machinery, not the delays.

Columns: crawl s = first worker opened → last worker closed (Scrapy's own start/finish times),
pages/s = article pages fetched / crawl s, end-to-end s = processes launched → writer exited
(start-up, warm-up and the writer's tail included), CPU s = user+sys of every process of the
configuration (sampled from /proc: the forkserver's extraction workers included).

A second table measures politeness at one host (the generated `wadi` outlet served by
tests/sites.py, arrival time of every request): DOWNLOAD_DELAY=d with 1 worker, with 2 workers
and the shared Redis token (default), and with 2 workers without it (AKHBAR_REDIS_RATE_LIMIT=0).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.sites import SiteServer, consecutive_free_ports, write_registry  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from procstat import Sampler  # noqa: E402

FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "0", "DOWNLOAD_TIMEOUT": "30", "RETRY_TIMES": "1",
        "LOG_LEVEL": "INFO", "AKHBAR_PROGRESS_INTERVAL": "0"}
REDIS_FAST = {"AKHBAR_REDIS_IDLE_CLOSE": "2", "AKHBAR_REDIS_TICK": "0.5"}
ENV = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {"PYTHONPATH": str(ROOT)}


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


def scrapy(*args: str, settings: dict[str, str]) -> list[str]:
    command = [sys.executable, "-m", "scrapy", *args]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    return command


def stats_times(log: str) -> tuple[datetime, datetime, int]:
    def stamp(key: str) -> datetime:
        found = re.search(rf"'{key}': datetime\.datetime\(([^)]*)\)", log)
        parts = [int(p) for p in found.group(1).split(",")[:7]]
        return datetime(*parts)
    fetched = sum(int(n) for n in re.findall(r"'akhbar/[a-z_]+/fetched': (\d+)", log))
    return stamp("start_time"), stamp("finish_time"), fetched


def run_config(name: str, seeds: Path, work: Path, redis_url: str | None) -> dict[str, object]:
    db = work / f"{name}.db"
    logs = work / name
    logs.mkdir()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    launched = time.monotonic()
    procs: dict[str, subprocess.Popen] = {}
    if name.startswith("single"):
        extract = name.split(":")[1]
        procs["crawl"] = subprocess.Popen(
            scrapy("crawl", "news", "-a", f"seeds={seeds}",
                   settings={**FAST, "ARCHIVE_DB": str(db), "EXTRACT_WORKERS": extract}),
            cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=open(logs / "crawl.log", "w"))
    else:
        workers, extract = (int(x) for x in name.split("x"))
        common = {**FAST, **REDIS_FAST, "REDIS_URL": redis_url, "ARCHIVE_DB": str(db), "EXTRACT_WORKERS": str(extract),
                  "AKHBAR_REDIS_PREFIX": f"bench{name}"}
        for i in range(workers):
            procs[f"worker{i}"] = subprocess.Popen(
                scrapy("crawl", "news", "-a", f"seeds={seeds}", settings=common),
                cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=open(logs / f"worker{i}.log", "w"))
        procs["writer"] = subprocess.Popen(
            scrapy("archive-writer", "--seeds", str(seeds), "--until-idle", "1",
                   settings={"REDIS_URL": redis_url, "ARCHIVE_DB": str(db), "AKHBAR_REDIS_PREFIX": f"bench{name}"}),
            cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=open(logs / "writer.log", "w"))
    # getrusage(RUSAGE_CHILDREN) misses the extraction workers (children of the forkserver, which is
    # not waited for in a way that folds their CPU into ours): sample every process tree from /proc.
    samplers = [Sampler(proc.pid, interval=0.25).start() for proc in procs.values()]
    for proc_name, proc in procs.items():
        if proc.wait() != 0:
            raise SystemExit(f"{name}/{proc_name} failed: see {logs / (proc_name + '.log')}")
    end_to_end = time.monotonic() - launched
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for sampler in samplers:
        sampler.stop()
    sampled = {pid: info.cpu for sampler in samplers for pid, info in sampler.procs.items()}
    starts, finishes, fetched = [], [], 0
    for proc_name in procs:
        if proc_name == "writer":
            continue
        start, finish, count = stats_times((logs / f"{proc_name}.log").read_text())
        starts.append(start)
        finishes.append(finish)
        fetched += count
    crawl_s = (max(finishes) - min(starts)).total_seconds()
    import sqlite3

    conn = sqlite3.connect(db)
    stored = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    conn.close()
    return {"config": name, "fetched": fetched, "stored": stored, "crawl_s": crawl_s,
            "pages_s": fetched / crawl_s if crawl_s else 0.0, "end_to_end_s": end_to_end,
            "cpu_s": max(sum(sampled.values()), (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))}


class TimedSite(SiteServer):
    """tests/sites.py's server, noting when each request arrives."""

    def __init__(self, root: Path, port: int) -> None:
        super().__init__(root, port=port)
        self.times: list[float] = []

    def resolve(self, raw_path: str, *args, **kwargs):  # (tests/sites.py passes attempt=)
        self.times.append(time.monotonic())
        return super().resolve(raw_path, *args, **kwargs)


def politeness(site: Path, work: Path, redis_url: str, delay: float) -> list[dict[str, object]]:
    """The generated `wadi` outlet (sitemap of many article URLs) on its own port, arrival times logged."""
    import yaml

    entry = next(e for e in yaml.safe_load((site / "sources.yml").read_text())["sources"] if e["id"] == "wadi")
    entry["start_urls"] = []  # sitemaps and feed only: the article requests are what the limit is about
    port = int(entry["domains"][0].rsplit(":", 1)[1])
    results = []
    for label, workers, limit in (("1 worker", 1, "1"), ("2 workers, shared token", 2, "1"),
                                  ("2 workers, no shared token", 2, "0")):
        with TimedSite(site / "wadi", port) as server:
            seeds = write_registry([entry], work / f"polite-{workers}-{limit}.yml")
            settings = {**FAST, **REDIS_FAST, "REDIS_URL": redis_url, "DOWNLOAD_DELAY": str(delay),
                        "EXTRACT_WORKERS": "1", "AKHBAR_REDIS_RATE_LIMIT": limit,
                        "AKHBAR_REDIS_PREFIX": f"polite{workers}{limit}", "ARCHIVE_DB": str(work / "polite.db")}
            procs = [subprocess.Popen(scrapy("crawl", "news", "-a", f"seeds={seeds}", settings=settings), cwd=ROOT,
                                      env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for _ in range(workers)]
            for proc in procs:
                proc.wait()
            times = sorted(server.times)
        if len(times) < 2:
            results.append({"setup": label, "requests": len(times), "req_s": 0.0, "min_gap": float("nan"), "under": 0})
            continue
        gaps = [b - a for a, b in zip(times, times[1:])]
        span = times[-1] - times[0]
        results.append({"setup": label, "requests": len(times), "req_s": (len(times) - 1) / span if span else 0.0,
                        "min_gap": min(gaps), "under": sum(g < delay * 0.8 for g in gaps)})
    return results


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=600)
    ap.add_argument("--configs", default="single:2,1x2,2x1,2x2",
                    help="comma-separated: single:E (single process) or WxE (W workers, E extraction processes each)")
    ap.add_argument("--delay", type=float, default=0.2, help="DOWNLOAD_DELAY of the politeness table (0: skip it)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args(argv)
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server is missing (make system-deps)")
    work = Path(tempfile.mkdtemp(prefix="akhbar-bench-scaleout-"))
    port = consecutive_free_ports(3)
    site = work / "site"
    subprocess.run([sys.executable, str(ROOT / "bench" / "make_site.py"), str(site), "--pages", str(args.pages),
                    "--port", str(port)], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "serve_site.py"), str(site)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    server.stdout.readline()
    redis_proc, redis_url = start_redis(work)
    try:
        results = [run_config(name.strip(), site / "sources.yml", work, redis_url) for name in args.configs.split(",") if name.strip()]
    finally:
        server.terminate()
        server.wait()
    load = os.getloadavg()[0]
    print(f"\n{args.pages} generated article pages (60–150 KB), 3 outlets on 127.0.0.1, {os.cpu_count()} CPU cores,"
          f" load average {load:.1f} at the end\n")
    print("| config | article pages fetched | articles stored | crawl s | pages/s | end-to-end s | CPU s |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        label = (f"single process, {r['config'].split(':')[1]} extraction procs" if r["config"].startswith("single")
                 else "{} worker(s) × {} extraction procs + writer".format(*r["config"].split("x")))
        print(f"| {label} | {r['fetched']} | {r['stored']} | {r['crawl_s']:.1f} | {r['pages_s']:.1f} |"
              f" {r['end_to_end_s']:.1f} | {r['cpu_s']:.0f} |", flush=True)
    try:
        polite = politeness(site, work, redis_url, args.delay) if args.delay > 0 else []
    finally:
        redis_proc.terminate()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if polite:
        print(f"\nPoliteness at one host, DOWNLOAD_DELAY={args.delay} s (generated outlet wadi):\n")
        print("| setup | requests | requests/s | min gap s | gaps < 0.8 × delay |")
        print("|---|---|---|---|---|")
        for r in polite:
            print(f"| {r['setup']} | {r['requests']} | {r['req_s']:.2f} | {r['min_gap']:.3f} | {r['under']} |")


if __name__ == "__main__":
    main()

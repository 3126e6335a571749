"""End-to-end crawl benchmark: the real spider over a generated local news site, one table out.

    python bench/bench_crawl.py                 # 5,000 article pages
    python bench/bench_crawl.py --pages 1000    # quicker
    python bench/bench_crawl.py --workers 3 --concurrency 32   # a tuning run

Steps:
  1. Site: bench/make_site.py output, cached in var/bench-site/<pages>-p<port>-s<seed>/.
  2. Server: bench/serve_site.py (Twisted static files, one port per outlet) in its own process.
  3. Single-core extraction rate: `pipelines.process.process_page` in this process over a sample of
     the site's pages (all three layouts, in the site's mix): pages per CPU-second.
  4. Crawl: `python -m scrapy crawl news -a seeds=<site>/sources.yml -s ARCHIVE_DB=<fresh db>` with
     DOWNLOAD_DELAY=0, AutoThrottle off, high concurrency, EXTRACT_WORKERS=cores, and the stage probe
     (bench/crawl_probe.py, loaded through EXTENSIONS: no crawler file is changed).
     /proc is sampled every 0.25 s for the CPU and peak RSS (VmHWM) of every process of the crawl;
     os.wait4 gives the whole tree's CPU at exit.
  5. The archive: articles, errors, bytes per 1,000 articles (database without captures, captures),
     capture compression ratio.
Prints ONE table; `--json FILE` writes every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import make_site  # noqa: E402
from procstat import Sampler, read  # noqa: E402

VAR = ROOT / "var"
PY = sys.executable


def site_dir(pages: int, port: int, seed: int) -> Path:
    folder = VAR / "bench-site" / f"{pages}-p{port}-s{seed}"
    if not (folder / "site.json").exists():
        print(f"generating {pages:,} pages into {folder} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        shutil.rmtree(folder, ignore_errors=True)
        make_site.generate(folder, pages, seed, port)
        print(f"  {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return folder


def port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def start_server(site: Path, kind: str) -> subprocess.Popen:
    info = json.loads((site / "site.json").read_text())
    for k in range(3):
        if not port_free(info["port"] + k):
            raise SystemExit(f"port {info['port'] + k} is busy: pick another with --port")
    proc = subprocess.Popen([PY, str(ROOT / "bench" / "serve_site.py"), str(site), "--server", kind],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "ready" not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {proc.stderr.read()[-2000:]}")
    return proc


def article_files(site: Path) -> list[tuple[str, str, Path]]:
    """(outlet id, URL, file) of every article page of the site."""
    info = json.loads((site / "site.json").read_text())
    out = []
    for outlet in make_site.OUTLETS:
        root = site / outlet.id
        suffix = ".aspx" if outlet.layout == "table" else ".html"
        for f in sorted(root.rglob(f"*{suffix}")):
            if f.name == "index.html":
                continue
            out.append((outlet.id, info["bases"][outlet.id] + "/" + str(f.relative_to(root)), f))
    return out


def single_core_rate(site: Path, sample: int, with_overhead: bool = True) -> dict[str, float]:
    """The extraction workers' function over a sample, in this process: pages per CPU-second (after a
    warm-up page). That is `process_page_for_archive` (process_page + the FTS columns, the story-matching
    features and the compressed capture) when the crawler submits it, else `process_page`."""
    from pipelines import process
    from pipelines.extract import ExtractionError
    from pipelines.process import warm_up
    from pipelines.registry import load_sources

    process_page = getattr(process, "process_page_for_archive", process.process_page)

    sources = {s.id: s for s in load_sources(site / "sources.yml")}
    files = article_files(site)
    picked = random.Random(1).sample(files, min(sample, len(files)))
    bodies = [(oid, url, f.read_bytes()) for oid, url, f in picked]
    warm_up()
    headers = {"Content-Type": "text/html"}
    oid, url, body = bodies[0]
    try:
        process_page(body, url, headers=headers, source=sources[oid], hints={}, fetched_at="2025-07-01T00:00:00+00:00")
    except ExtractionError:
        pass
    failed = 0
    per_outlet: dict[str, list[float]] = {}
    cpu0, t0 = time.process_time(), time.perf_counter()
    for oid, url, body in bodies:
        c = time.process_time()
        try:
            process_page(body, url, headers=headers, source=sources[oid], hints={}, fetched_at="2025-07-01T00:00:00+00:00")
        except ExtractionError:
            failed += 1
        per_outlet.setdefault(oid, []).append(time.process_time() - c)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    return {"pages": len(bodies), "cpu_s": cpu, "wall_s": wall, "pages_per_cpu_s": len(bodies) / cpu, "failed": failed,
            "function": process_page.__name__,
            "ms_per_page": {k: sum(v) / len(v) * 1e3 for k, v in per_outlet.items()},
            "mean_bytes": sum(len(b) for _, _, b in bodies) / len(bodies),
            "overhead": extraction_overhead(bodies, sources, min(len(bodies), 40)) if with_overhead else None}


def extraction_overhead(bodies: list[tuple[str, str, bytes]], sources: dict, n: int, reps: int = 3) -> dict[str, float]:
    """CPU ms/page of bare trafilatura (`bare_extraction` with metadata, as it is usually run) against
    the project's `extract_article` (trafilatura + our metadata cleaning: dates, titles, bylines,
    language, encodings) and the whole worker task. Interleaved per page, fastest of `reps`, CPU time:
    load from other processes hits all three alike."""
    import trafilatura

    from pipelines import process
    from pipelines.extract import ExtractionError, extract_article

    task = getattr(process, "process_page_for_archive", process.process_page)
    headers = {"Content-Type": "text/html"}

    def run(fn) -> float:
        best = float("inf")
        for _ in range(reps):
            c = time.process_time()
            try:
                fn()
            except ExtractionError:
                pass
            best = min(best, time.process_time() - c)
        return best

    sums = {"trafilatura": 0.0, "extract_article": 0.0, "worker task": 0.0}
    for oid, url, body in bodies[:n]:
        sums["trafilatura"] += run(lambda: trafilatura.bare_extraction(body, url=url, include_comments=False, with_metadata=True))
        sums["extract_article"] += run(lambda: extract_article(body, url, headers=headers, source=sources[oid]))
        sums["worker task"] += run(lambda: task(body, url, headers=headers, source=sources[oid], hints={},
                                                fetched_at="2025-07-01T00:00:00+00:00"))
    out = {k: v / n * 1e3 for k, v in sums.items()}
    out["pages"] = n
    out["overhead"] = out["extract_article"] / out["trafilatura"] - 1
    return out


def crawl_settings(db: Path, probe_out: Path, workers: int, concurrency: int) -> dict[str, str]:
    from crawler import settings as project

    extensions = {**project.EXTENSIONS, "bench.crawl_probe.CrawlProbe": 900}
    return {
        "ARCHIVE_DB": str(db),
        "DOWNLOAD_DELAY": "0",
        "AUTOTHROTTLE_ENABLED": "0",
        "CONCURRENT_REQUESTS": str(concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(concurrency),  # the three outlets share the host 127.0.0.1
        "EXTRACT_WORKERS": str(workers),
        "DOWNLOAD_TIMEOUT": "30",
        "RETRY_TIMES": "1",
        "LOG_LEVEL": "INFO",
        "AKHBAR_PROGRESS_INTERVAL": "0",
        "EXTENSIONS": json.dumps(extensions),
        "BENCH_PROBE_OUT": str(probe_out),
    }


def run_crawl(site: Path, db: Path, settings: dict[str, str], log: Path, timeout: float) -> dict:
    command = [PY, "-m", "scrapy", "crawl", "news", "-a", f"seeds={site / 'sources.yml'}"]
    for key, value in settings.items():
        command += ["-s", f"{key}={value}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "w") as logf:
        t0 = time.perf_counter()
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT)
        sampler = Sampler(proc.pid, interval=0.25).start()
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                raise SystemExit(f"crawl exceeded {timeout:.0f} s (log: {log})")
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed ({proc.returncode}); log: {log}")
    procs = list(sampler.procs.values())
    main = sampler.procs.get(proc.pid)
    forkserver = [p for p in procs if "forkserver" in p.cmdline and p.ppid == proc.pid]
    servers = {p.pid for p in forkserver}
    workers = [p for p in procs if p.ppid in servers]  # pool workers are forked by the forkserver
    others = [p for p in procs if p not in workers and p not in forkserver and p.pid != proc.pid]
    return {
        "wall_s": wall,
        "tree_cpu_s": usage.ru_utime + usage.ru_stime,
        "main": main,
        "workers": workers,
        "forkserver": forkserver,
        "others": others,
        "peak_total_pss_kb": sampler.peak_total_pss_kb,
        "peak_total_rss_kb": sampler.peak_total_rss_kb,
        "peak_pss_kb": sampler.peak_pss_kb,
        "timeline": [(t - sampler.timeline[0][0], pss, rss) for t, pss, rss in sampler.timeline] if sampler.timeline else [],
    }


def copy_archive(src: Path, dst: Path) -> dict:
    """A private copy of an existing archive (checkpointed first, so the copy is one file), migrated to the
    current schema before the crawl starts: the crawl's memory and time are not a schema migration's."""
    from pipelines.store import Archive

    t0 = time.perf_counter()
    Archive(src).close()  # apply the current schema once, and checkpoint the WAL into the file
    print(f"copying {src} ({src.stat().st_size / 1e9:.1f} GB) ...", file=sys.stderr, flush=True)
    shutil.copyfile(src, dst)
    conn = sqlite3.connect(f"file:{dst}?mode=ro", uri=True)
    try:
        articles = conn.execute("select max(id) from articles").fetchone()[0] or 0
        counted = conn.execute("select count(*) from articles").fetchone()[0]
    finally:
        conn.close()
    print(f"  {counted:,} articles, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return {"articles": counted, "max_id": articles, "file": dst.stat().st_size}


def archive_figures(db: Path, before: dict | None = None) -> dict:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        q = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        first = (before or {}).get("max_id", 0)
        articles = q(f"select count(*) from articles where id > {first}")
        errors = dict(conn.execute("select kind, count(*) from errors group by kind").fetchall())
        captures = q("select count(*) from captures")
        raw = q("select coalesce(sum(body_size), 0) from captures")
        packed = q("select coalesce(sum(length(body)), 0) from captures")
        pages = {} if first else dict(conn.execute("select name, sum(pgsize) from dbstat group by name").fetchall())
        stories = q(f"select count(distinct story_id) from articles where id > {first}")
    finally:
        conn.close()
    capture_bytes = sum(v for k, v in pages.items() if k == "captures" or k.startswith("captures_"))
    total = sum(pages.values())
    if first:  # an existing archive: what the run added to the file (dbstat of 10+ GB would take minutes)
        total = db.stat().st_size - before["file"]
        capture_bytes = packed
    return {"articles": articles, "errors": errors, "captures": captures, "capture_raw": raw, "capture_packed": packed,
            "capture_table_bytes": capture_bytes, "db_bytes_without_captures": total - capture_bytes,
            "db_file": db.stat().st_size, "stories": stories,
            "biggest": sorted(((v, k) for k, v in pages.items()), reverse=True)[:8]}


def fmt_proc(p) -> str:
    return f"{p.cpu:7.1f} s CPU, peak RSS {p.hwm_kb / 1024:6.0f} MB"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--port", type=int, default=8790, help="first of three ports (one per outlet)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="EXTRACT_WORKERS (default: cores)")
    ap.add_argument("--concurrency", type=int, default=64, help="CONCURRENT_REQUESTS (and per domain)")
    ap.add_argument("--sample", type=int, default=90, help="pages for the single-core extraction rate")
    ap.add_argument("--server", choices=("twisted", "threaded"), default="twisted")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="extra Scrapy setting for a tuning run, e.g. --set CONCURRENT_ITEMS=8 (repeatable)")
    ap.add_argument("--archive", type=Path, default=None,
                    help="crawl into a copy of this archive (e.g. var/bench-search/current-1000000/archive.db) instead of an empty one")
    ap.add_argument("--tag", default="", help="suffix of the run folder under var/bench-crawl/")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1

    site = site_dir(args.pages, args.port, args.seed)
    tag = "".join(f"-{item.replace('=', '')}" for item in args.set)
    if args.archive:
        tag += "-into-" + args.archive.parent.name
    tag += f"-{args.tag}" if args.tag else ""
    run_dir = VAR / "bench-crawl" / f"{args.pages}-w{args.workers}-c{args.concurrency}{tag}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    db = run_dir / "archive.db"
    before = {"articles": 0, "file": 0}
    if args.archive:
        before = copy_archive(args.archive, db)

    load_before = Path("/proc/loadavg").read_text().split()[:3]
    single = single_core_rate(site, args.sample)
    server = start_server(site, args.server)
    try:
        server_cpu0 = read(server.pid).cpu
        settings = crawl_settings(db, run_dir / "probe.json", args.workers, args.concurrency)
        settings.update(dict(item.split("=", 1) for item in args.set))
        crawl = run_crawl(site, db, settings, run_dir / "crawl.log", args.timeout)
        server_info = read(server.pid)
    finally:
        server.terminate()
        server.wait()
    # The host's speed drifts (±5-20 % between minutes on a shared VM): the rate is taken before and after
    # the crawl, and the ceiling uses both (all sample pages over all their CPU time).
    after = single_core_rate(site, args.sample, with_overhead=False)
    single["before"], single["after"] = single["pages_per_cpu_s"], after["pages_per_cpu_s"]
    single["pages_per_cpu_s"] = (single["pages"] + after["pages"]) / (single["cpu_s"] + after["cpu_s"])
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    probe = json.loads((run_dir / "probe.json").read_text())
    arch = archive_figures(db, before if args.archive else None)

    n = arch["articles"]
    fetched = probe["article_responses"]
    steady = probe["steady_seconds"] or crawl["wall_s"]
    e2e = n / crawl["wall_s"]
    e2e_steady = fetched / steady
    ceiling = cores * single["pages_per_cpu_s"]
    main_p = crawl["main"]
    worker_cpu = sum(p.cpu for p in crawl["workers"])
    stages = probe["stages"]

    def per_page(stage: str, field: str = "cpu") -> float:
        s = stages.get(stage)
        return s[field] / max(fetched, 1) * 1e3 if s else float("nan")

    dedup_keys = [k for k in stages if k.startswith("dedup:")]
    store_keys = [k for k in stages if k.startswith("store:") and "of which" not in k]
    dedup_cpu = sum(stages[k]["cpu"] for k in dedup_keys) / max(fetched, 1) * 1e3
    store_cpu = sum(stages[k]["cpu"] for k in store_keys) / max(fetched, 1) * 1e3
    startup_cpu = probe["crawler_cpu_at_open"]
    main_cpu_page = (probe["crawler_cpu_at_stop"] - startup_cpu) / max(fetched, 1) * 1e3  # without start-up
    scrapy_cpu_page = main_cpu_page - dedup_cpu - store_cpu
    tree_cpu = sum(p.cpu for p in [main_p, *crawl["workers"], *crawl["forkserver"], *crawl["others"]])

    rows: list[tuple[str, str, str]] = []
    add = lambda a, b, c="": rows.append((a, b, c))  # noqa: E731
    add("machine", f"{cores} cores; load avg {' '.join(load_before)} → {' '.join(load_after)}",
        "other processes share these cores: CPU figures are reliable, wall figures are a lower bound")
    add("site", f"{args.pages:,} article pages, mean {single['mean_bytes'] / 1024:.0f} KB", "3 layouts, sitemaps (index + gz children), RSS")
    if args.archive:
        add("archive before the crawl", f"{before['articles']:,} articles", f"copy of {args.archive} ({before['file'] / 1e9:.1f} GB)")
    drift = abs(single["before"] - single["after"]) / min(single["before"], single["after"])
    add("single-core extraction rate", f"{single['pages_per_cpu_s']:.1f} pages/CPU-s",
        f"before the crawl {single['before']:.1f}, after {single['after']:.1f}"
        + (f" (the host's speed drifted {drift:.0%} during the run: the ratio is that uncertain, run again); "
           if drift > 0.10 else "; ")
        + f"{single['function']} in-process over {single['pages']} pages: " + ", ".join(f"{k} {v:.0f} ms" for k, v in single["ms_per_page"].items())
        + (f"; {single['failed']} not articles" if single["failed"] else ""))
    ov = single["overhead"]
    add("extraction: project cleaning vs bare trafilatura", f"{ov['overhead']:+.0%} CPU per page",
        f"target <= +20%; over {ov['pages']} pages, fastest of 3: bare_extraction(with_metadata) {ov['trafilatura']:.1f} ms, "
        f"extract_article {ov['extract_article']:.1f} ms, worker task (+ content hash, FTS columns, dedup features, capture zlib) {ov['worker task']:.1f} ms")
    add("end-to-end rate", f"{e2e:.1f} articles stored/s",
        f"{n:,} articles in {crawl['wall_s']:.1f} s (process start → exit); steady state {e2e_steady:.1f} pages/s over {steady:.1f} s")
    add("ratio to cores × single-core", f"{e2e_steady / ceiling:.0%}",
        f"ceiling {cores} × {single['pages_per_cpu_s']:.1f} = {ceiling:.1f} pages/s (steady-state rate used; target >= 80%)")
    cpu_page = (tree_cpu - startup_cpu) / max(fetched, 1)
    add("  same ratio on free cores (CPU-bound)", f"{(cores / cpu_page) / ceiling:.0%}",
        f"capacity {cores} / {cpu_page * 1e3:.1f} ms CPU per page = {cores / cpu_page:.1f} pages/s: what the wall ratio is "
        f"when nothing else runs (load avg above); serial limit of the one crawler process "
        f"{1e3 / main_cpu_page:.0f} pages/s = {1e3 / main_cpu_page / single['pages_per_cpu_s']:.1f} cores of extraction")
    add("CPU: crawler process (Scrapy + dedup + store)", f"{main_p.cpu:.1f} s; {main_cpu_page:.1f} ms/page after start-up",
        f"start-up (imports, settings) {startup_cpu:.1f} s; {main_p.cpu / crawl['wall_s']:.2f} cores on average")
    add("CPU: extraction workers", f"{worker_cpu:.1f} s = {worker_cpu / max(fetched, 1) * 1e3:.1f} ms/page",
        f"{len(crawl['workers'])} processes; {worker_cpu / crawl['wall_s']:.2f} cores on average; in process_page "
        f"{(probe['extract_cpu_mean'] or 0) * 1e3:.1f} ms/page")
    add("CPU: whole crawl (all processes)", f"{tree_cpu:.1f} s = {tree_cpu / max(fetched, 1) * 1e3:.1f} ms/page",
        f"{tree_cpu / crawl['wall_s']:.2f} of {cores} cores used on average → CPU-bound capacity "
        f"{cores / ((tree_cpu - startup_cpu) / max(fetched, 1)):.1f} pages/s on {cores} free cores")
    add("CPU: static server", f"{server_info.cpu - server_cpu0:.1f} s = {(server_info.cpu - server_cpu0) / max(probe['responses'], 1) * 1e3:.2f} ms/response",
        f"{args.server}; {probe['responses']:,} responses")
    peak_pss = crawl["peak_pss_kb"]
    mem_note = ""
    tl = crawl["timeline"]
    if len(tl) > 8 and fetched:
        # growth of the tree's PSS from 30% of the crawl to its end, per 1,000 article pages
        # (pages are fetched at a roughly steady rate after discovery)
        t_end = tl[-1][0]
        early = max((x for x in tl if x[0] <= 0.3 * t_end), key=lambda x: x[0], default=tl[0])
        late = max(tl[-8:], key=lambda x: x[1])
        slope = (late[1] - early[1]) / 1024 / (0.7 * fetched / 1000)
        mem_note = f"growth {slope:+.1f} MB per 1,000 pages (PSS, 30% → 100% of the crawl)"
        crawl["pss_slope_mb_per_1000"] = slope
    add("peak memory: all crawl processes together", f"{crawl['peak_total_pss_kb'] / 1024:.0f} MB PSS",
        f"sum of RSS {crawl['peak_total_rss_kb'] / 1024:.0f} MB (counts the workers' pages shared with the forkserver "
        f"once per process); {mem_note}")
    add("peak RSS: crawler process", f"{main_p.hwm_kb / 1024:.0f} MB", f"peak PSS {peak_pss.get(main_p.pid, 0) / 1024:.0f} MB")
    for p in sorted(crawl["workers"], key=lambda p: -p.cpu):
        add(f"peak RSS: extraction worker {p.pid}", f"{p.hwm_kb / 1024:.0f} MB",
            f"peak PSS {peak_pss.get(p.pid, 0) / 1024:.0f} MB; {p.cpu:.1f} s CPU")
    for p in crawl["forkserver"] + [p for p in crawl["others"] if p.cpu >= 0.5 or p.hwm_kb >= 20_000]:
        add(f"peak RSS: {('forkserver' if p in crawl['forkserver'] else p.name)} {p.pid}", f"{p.hwm_kb / 1024:.0f} MB",
            f"peak PSS {peak_pss.get(p.pid, 0) / 1024:.0f} MB; {p.cpu:.1f} s CPU")
    add("stage: fetch", f"{probe['fetch_latency_mean'] * 1e3:.1f} ms wall/page",
        f"download_latency mean (p95 {probe['fetch_latency_p95'] * 1e3:.0f} ms) with {args.concurrency} in flight; "
        f"Scrapy CPU in crawler ≈ {scrapy_cpu_page:.1f} ms/page (crawler CPU − dedup − store)")
    add("stage: extract", f"{(probe['extract_cpu_mean'] or 0) * 1e3:.1f} ms CPU/page",
        f"wall in worker {(probe['extract_wall_mean'] or 0) * 1e3:.1f} ms; submit→result {(probe['extract_roundtrip_mean'] or 0) * 1e3:.0f} ms (queueing)")
    add("stage: dedup", f"{dedup_cpu:.2f} ms CPU/page", "; ".join(f"{k[7:]} {per_page(k):.2f}" for k in dedup_keys))
    add("stage: store", f"{store_cpu:.2f} ms CPU/page", "; ".join(f"{k[7:]} {per_page(k):.2f}" for k in stages if k.startswith("store:")))
    add("archive: articles / errors", f"{n:,} / {sum(arch['errors'].values()):,}",
        f"{arch['captures']:,} captures; errors {arch['errors'] or '-'}; {arch['stories']:,} stories")
    add("archive: db bytes per 1,000 articles", f"{arch['db_bytes_without_captures'] / max(n, 1) * 1000 / 1e6:.1f} MB",
        "file growth minus captures (free pages of the copy are reused: a lower bound)" if args.archive else
        "everything but captures (articles, indexes, stemmed copy, FTS, dedup tables)")
    add("archive: capture bytes per 1,000 articles", f"{arch['capture_table_bytes'] / max(n, 1) * 1000 / 1e6:.1f} MB",
        f"zlib-6: {arch['capture_raw'] / 1e6:,.0f} MB raw → {arch['capture_packed'] / 1e6:,.0f} MB, ratio {arch['capture_raw'] / max(arch['capture_packed'], 1):.1f}×")

    if probe.get("missing_hooks"):
        add("probe: stages not measured", ", ".join(probe["missing_hooks"]), "renamed in the crawler: update bench/crawl_probe.py")
    w1 = max(len(r[0]) for r in rows)
    w2 = max(len(r[1]) for r in rows)
    print(f"\n== Akhbar crawl benchmark: {args.pages:,} pages, EXTRACT_WORKERS={args.workers}, CONCURRENT_REQUESTS={args.concurrency}"
          + "".join(f", {item}" for item in args.set) + " ==")
    print(f"{'figure':<{w1}}  {'value':<{w2}}  notes")
    print(f"{'-' * w1}  {'-' * w2}  {'-' * 40}")
    for a, b, c in rows:
        print(f"{a:<{w1}}  {b:<{w2}}  {c}")
    if args.json:
        args.json.write_text(json.dumps({
            "args": vars(args) | {"json": str(args.json)}, "single": single, "probe": probe, "archive": arch,
            "crawl": {"wall_s": crawl["wall_s"], "wait4_cpu_s_main_and_reaped_children": crawl["tree_cpu_s"],
                      "peak_total_pss_kb": crawl["peak_total_pss_kb"], "peak_total_rss_kb": crawl["peak_total_rss_kb"],
                      "pss_slope_mb_per_1000": crawl.get("pss_slope_mb_per_1000"), "timeline": crawl["timeline"][::8],
                      "archive_before": before,
                      "processes": [vars(p) for p in [crawl["main"], *crawl["workers"], *crawl["forkserver"], *crawl["others"]]]},
            "load": [load_before, load_after]}, ensure_ascii=False, indent=1, default=str))


if __name__ == "__main__":
    main()

"""What each layer of the crawler process costs per page: Scrapy alone, + the extraction pool, + the archive.

    python bench/crawler_layers.py [--pages 5000] [--runs 2]

The crawl ratio of bench_crawl.py is (extraction CPU per page) / (all CPU per page) on shared cores, so
the crawler process's own CPU per page is what bounds it. This crawls the bench_crawl.py site (generated
once, served on 127.0.0.1) three times with the real spider and settings, changing only ITEM_PIPELINES:

  scrapy   no item pipelines: download, downloader and spider middlewares, the spider's callbacks
  + pool   ExtractPipeline: each page pickled to an extraction worker (crawler.workers), its record back
  + archive  the project as it runs: ArchivePipeline too (dedup lookups, story rows, capture, article and
           FTS rows, frontier, commits)

and prints, per layer (median of `--runs` interleaved runs of each):

  crawler    the crawler process's own CPU (user + system, sampled from /proc; the workers are other
             processes) per article response, after start-up (the CPU it had spent when the first article
             arrived is not counted: imports, settings, discovery);
  all CPU    every process of the crawl and the static server, per article response;
  rate       article responses per second from the first article response to the last item out of the
             last pipeline (bench_crawl.py's steady state);
  ratio      that rate / (cores × the single-core extraction rate, measured before and after the runs
             as bench_crawl.py does). For "+ pool" it is the ceiling of bench_crawl.py's ratio with an
             archive that cost nothing: the part of the gap to 0.8 that is not the archive's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_crawl import VAR, crawl_settings, run_crawl, single_core_rate, site_dir, start_server  # noqa: E402
from procstat import read  # noqa: E402

LAYERS = {
    "scrapy": {},
    "+ pool": {"crawler.item_pipelines.ExtractPipeline": 300},
    "+ archive": {"crawler.item_pipelines.ExtractPipeline": 300, "crawler.item_pipelines.ArchivePipeline": 800},
}


def crawl_layer(site: Path, pipelines: dict, run_dir: Path, workers: int, server_pid: int) -> dict[str, float]:
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    probe = run_dir / "probe.json"
    settings = crawl_settings(run_dir / "archive.db", probe, workers, 64)
    settings["ITEM_PIPELINES"] = json.dumps(pipelines)
    server_cpu0 = read(server_pid).cpu
    crawl = run_crawl(site, run_dir / "archive.db", settings, run_dir / "crawl.log", timeout=1800)
    server_cpu = read(server_pid).cpu - server_cpu0
    data = json.loads(probe.read_text())
    pages = data["article_responses"]
    processes = [crawl["main"], *crawl["workers"], *crawl["forkserver"], *crawl["others"]]
    return {
        "crawler_ms": (crawl["main"].cpu - data["crawler_cpu_at_first_article"]) / pages * 1e3,
        "all_ms": (sum(p.cpu for p in processes) + server_cpu) / pages * 1e3,
        "rate": pages / data["steady_seconds"],
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--port", type=int, default=8790)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--sample", type=int, default=90, help="pages for the single-core rate")
    args = ap.parse_args(argv)
    site = site_dir(args.pages, args.port, args.seed)
    server = start_server(site, "twisted")
    results: dict[str, list[dict[str, float]]] = {name: [] for name in LAYERS}
    try:
        before = single_core_rate(site, args.sample, with_overhead=False)["pages_per_cpu_s"]
        for run in range(args.runs):  # interleaved, so a slower moment of the machine hits every layer
            for name, pipelines in LAYERS.items():
                results[name].append(crawl_layer(site, pipelines, VAR / "bench-layers" / f"run{run}", args.workers,
                                                 server.pid))
        after = single_core_rate(site, args.sample, with_overhead=False)["pages_per_cpu_s"]
    finally:
        server.kill()
    single = (before + after) / 2
    ceiling = args.workers * single
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\n== crawl layers, {args.pages:,} pages, median of {args.runs} interleaved runs (load {load}) ==")
    print(f"single-core extraction rate {single:.1f} pages/CPU-s (before {before:.1f}, after {after:.1f});"
          f" ceiling {args.workers} × {single:.1f} = {ceiling:.1f} pages/s")
    print(f"{'layer':10}  {'crawler ms/page':>15}  {'all CPU ms/page':>15}  {'rate pages/s':>12}  {'ratio':>6}   runs (ratio)")
    previous = 0.0
    for name, runs in results.items():
        crawler = statistics.median(r["crawler_ms"] for r in runs)
        everything = statistics.median(r["all_ms"] for r in runs)
        rate = statistics.median(r["rate"] for r in runs)
        ratio = f"{rate / ceiling:6.0%}" if name != "scrapy" else f"{'-':>6}"
        print(f"{name:10}  {crawler:6.2f} (+{crawler - previous:4.2f})  {everything:15.2f}  {rate:12.1f}  {ratio}   "
              + ", ".join(f"{r['rate'] / ceiling:.0%}" for r in runs))
        previous = crawler


if __name__ == "__main__":
    main()

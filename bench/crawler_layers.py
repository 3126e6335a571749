"""What each layer of the crawler process costs per page: Scrapy alone, + the extraction pool, + the archive.

    python bench/crawler_layers.py [--pages 5000] [--runs 2]

The crawl ratio of bench_crawl.py is (extraction CPU per page) / (all CPU per page) on shared cores, so
the crawler process's own CPU per page is what bounds it. This crawls the bench_crawl.py site (generated
once, served on 127.0.0.1) three times with the real spider and settings, changing only ITEM_PIPELINES:

  scrapy   no item pipelines: download, downloader and spider middlewares, the spider's callbacks
  + pool   ExtractPipeline: each page pickled to an extraction worker (crawler.workers), its record back
  + archive  the project as it runs: ArchivePipeline too (dedup lookups, story rows, capture, article and
           FTS rows, frontier, commits)

and prints the crawler process's own CPU (user + system, sampled from /proc; the workers are other
processes) per article response, after start-up (the CPU it had spent when the first article arrived is
not counted: imports, settings, discovery). Median of `--runs` runs of each.
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

from bench_crawl import VAR, crawl_settings, run_crawl, site_dir, start_server  # noqa: E402

LAYERS = {
    "scrapy": {},
    "+ pool": {"crawler.item_pipelines.ExtractPipeline": 300},
    "+ archive": {"crawler.item_pipelines.ExtractPipeline": 300, "crawler.item_pipelines.ArchivePipeline": 800},
}


def crawler_ms_per_page(site: Path, pipelines: dict, run_dir: Path, workers: int) -> float:
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    probe = run_dir / "probe.json"
    settings = crawl_settings(run_dir / "archive.db", probe, workers, 64)
    settings["ITEM_PIPELINES"] = json.dumps(pipelines)
    crawl = run_crawl(site, run_dir / "archive.db", settings, run_dir / "crawl.log", timeout=1800)
    data = json.loads(probe.read_text())
    pages = data["article_responses"]
    return (crawl["main"].cpu - data["crawler_cpu_at_first_article"]) / pages * 1e3


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--port", type=int, default=8790)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    site = site_dir(args.pages, args.port, args.seed)
    server = start_server(site, "twisted")
    results: dict[str, list[float]] = {name: [] for name in LAYERS}
    try:
        for run in range(args.runs):  # interleaved, so a slower moment of the machine hits every layer
            for name, pipelines in LAYERS.items():
                results[name].append(crawler_ms_per_page(site, pipelines, VAR / "bench-layers" / f"run{run}", args.workers))
    finally:
        server.kill()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"\n== crawler process CPU per article response, {args.pages:,} pages, median of {args.runs} (load {load}) ==")
    previous = 0.0
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:10}  {median:5.2f} ms   (+{median - previous:.2f})   runs: {', '.join(f'{v:.2f}' for v in values)}")
        previous = median


if __name__ == "__main__":
    main()

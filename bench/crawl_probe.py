"""Stage timings of a real crawl, without editing the crawler: a Scrapy extension the benchmark loads.

bench/bench_crawl.py adds `bench.crawl_probe.CrawlProbe` to EXTENSIONS on the command line
(`-s EXTENSIONS=...`, `-s BENCH_PROBE_OUT=file.json`). At start-up it wraps, in the crawl process only:

  fetch    Scrapy's `download_latency` of each article response (wall, includes queueing on the socket)
  extract  `process_page` in the pool worker: CPU and wall inside the worker (wrapped function is
           picklable: the worker imports this module), plus submit→result latency seen by the pipeline
  dedup    `ingest.identity_urls`, Archive.known_urls / article_for_url / article_for_hash,
           `StoryIndex.match` (learned lines + LSH lookup; the MinHash comes from the worker), `StoryIndex.index` (index rows, story rows)
  store    Archive.add_capture (zlib + sha1 + insert), Archive.insert_article (of which
           `arabic.search_text`), Archive.add_urls, frontier rows, errors, Archive.commit
A name that no longer exists in the crawler is skipped (listed as `missing_hooks`), never fatal.
All main-process stages are measured in thread CPU time and wall time. Nothing is changed in
behaviour; the per-call overhead is ~2 µs. The figures are written as JSON at engine stop.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections import defaultdict
from typing import Any, Callable

from scrapy import signals

STAGES: dict[str, dict[str, float]] = defaultdict(lambda: {"calls": 0, "cpu": 0.0, "wall": 0.0})
_depth = [0]
MISSING: list[str] = []  # wrapped names that no longer exist


def timed_process_page(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The function the ExtractPipeline submits (process_page_for_archive, or process_page in older code),
    timed inside the extraction worker; the timing rides back with the record."""
    from pipelines import process

    process_page = getattr(process, "process_page_for_archive", process.process_page)
    cpu0, t0 = time.process_time(), time.perf_counter()
    try:
        record = process_page(*args, **kwargs)
    except Exception as exc:
        exc.bench = {"cpu": time.process_time() - cpu0, "wall": time.perf_counter() - t0, "pid": os.getpid()}  # type: ignore[attr-defined]
        raise
    record["_bench"] = {"cpu": time.process_time() - cpu0, "wall": time.perf_counter() - t0, "pid": os.getpid()}
    return record


def _wrap(owner: Any, name: str, stage: str) -> None:
    original: Callable | None = getattr(owner, name, None)
    if original is None:  # the crawler code moved on: the stage is simply not reported
        MISSING.append(f"{getattr(owner, '__name__', owner)}.{name}")
        return
    if getattr(original, "_bench_wrapped", False):
        return

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        c0, t0 = time.thread_time(), time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            s = STAGES[stage]
            s["calls"] += 1
            s["cpu"] += time.thread_time() - c0
            s["wall"] += time.perf_counter() - t0

    wrapper._bench_wrapped = True  # type: ignore[attr-defined]
    setattr(owner, name, wrapper)


class CrawlProbe:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.out = crawler.settings.get("BENCH_PROBE_OUT")
        self.t_open = time.perf_counter()
        self.cpu_open = time.process_time()  # the crawler's CPU spent on start-up (imports, settings)
        self.cpu_first_article: float | None = None
        self.t_first_article: float | None = None
        self.t_last_item: float | None = None
        self.latencies: list[float] = []
        self.extract: list[dict[str, float]] = []
        self.extract_errors: list[dict[str, float]] = []
        self.pool_wait: list[float] = []
        self.responses = 0
        self._install()
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler) -> "CrawlProbe":
        return cls(crawler)

    def _install(self) -> None:
        import crawler.item_pipelines as ip
        from pipelines import arabic, ingest
        from pipelines.dedup import StoryIndex
        from pipelines.store import Archive

        # looked up at call time by ExtractPipeline
        if hasattr(ip, "process_page_for_archive"):
            ip.process_page_for_archive = timed_process_page
        else:
            ip.process_page = timed_process_page
        _wrap(ingest, "identity_urls", "dedup: canonical URLs (identity_urls)")
        for name in ("known_urls", "article_for_url", "article_for_hash"):
            _wrap(Archive, name, "dedup: URL/hash lookups")
        _wrap(StoryIndex, "match", "dedup: learned lines + LSH lookup (StoryIndex.match; MinHash from the worker)")
        _wrap(StoryIndex, "index", "dedup: story index rows + story (StoryIndex.index)")
        _wrap(StoryIndex, "refresh", "dedup: story refresh (StoryIndex.refresh)")
        _wrap(Archive, "add_capture", "store: capture (zlib + sha1 + insert)")
        _wrap(Archive, "insert_article", "store: article + FTS rows (insert_article)")
        _wrap(arabic, "search_text", "store:   of which search_text")
        _wrap(Archive, "add_urls", "store: article_urls")
        _wrap(Archive, "commit", "store: commit")
        _wrap(Archive, "add_frontier", "store: frontier rows")
        _wrap(Archive, "drop_frontier", "store: frontier rows")
        _wrap(Archive, "add_error", "store: errors")
        _wrap(ip.ArchivePipeline, "process_item", "ArchivePipeline.process_item (all of dedup + store)")
        original = ip.ExtractPipeline.process_item
        probe = self

        async def process_item(pipeline, item):
            t0 = time.perf_counter()
            result = await original(pipeline, item)
            record = getattr(item, "record", None)
            if isinstance(record, dict) and "_bench" in record:
                probe.extract.append(record.pop("_bench"))
                probe.pool_wait.append(time.perf_counter() - t0)
            elif getattr(item, "error_kind", None):
                probe.extract_errors.append({"kind": item.error_kind})
            return result

        ip.ExtractPipeline.process_item = process_item

    def response_received(self, response, request, spider) -> None:
        self.responses += 1
        if request.meta.get("kind") == "article":
            if self.t_first_article is None:
                self.t_first_article = time.perf_counter()
                self.cpu_first_article = time.process_time()
            latency = request.meta.get("download_latency")
            if latency is not None:
                self.latencies.append(latency)

    def item_scraped(self, item, response, spider) -> None:
        self.t_last_item = time.perf_counter()

    def engine_stopped(self) -> None:
        if not self.out:
            return
        n = len(self.extract)
        data = {
            "responses": self.responses,
            "article_responses": len(self.latencies),
            "extracted": n,
            "extract_errors": len(self.extract_errors),
            "crawler_cpu_at_open": self.cpu_open,
            "crawler_cpu_at_first_article": self.cpu_first_article,
            "crawler_cpu_at_stop": time.process_time(),
            "steady_seconds": (self.t_last_item - self.t_first_article) if self.t_first_article and self.t_last_item else None,
            "open_to_last_item": (self.t_last_item - self.t_open) if self.t_last_item else None,
            "fetch_latency_mean": sum(self.latencies) / len(self.latencies) if self.latencies else None,
            "fetch_latency_p95": sorted(self.latencies)[int(len(self.latencies) * 0.95)] if self.latencies else None,
            "extract_cpu_mean": sum(e["cpu"] for e in self.extract) / n if n else None,
            "extract_wall_mean": sum(e["wall"] for e in self.extract) / n if n else None,
            "extract_roundtrip_mean": sum(self.pool_wait) / len(self.pool_wait) if self.pool_wait else None,
            "extract_workers": len({e["pid"] for e in self.extract}),
            "stages": dict(STAGES),
            "missing_hooks": MISSING,
            "stats": {k: v for k, v in self.crawler.stats.get_stats().items() if isinstance(v, (int, float))},
        }
        with open(self.out, "w") as f:
            json.dump(data, f, indent=1, default=str)

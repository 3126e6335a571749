"""Thin Scrapy item pipelines around the pure modules of `pipelines/`.

    ExtractPipeline (300)  page bytes → article record, in worker processes (CPU off the reactor)
    ArchivePipeline (800)  capture, dedup, store, errors, the frontier and the run record: the single SQLite writer
"""

from __future__ import annotations

import os
import time
from typing import Any

from scrapy import signals
from twisted.internet import task

from crawler.items import ArticlePage, CrawlError
from crawler.signals import alias_found
from crawler.workers import WorkerDied, WorkerPool
from pipelines.dedup import StoryIndex
from pipelines.extract import ExtractionError
from pipelines.ingest import attach_alias, canonical_keys, ingest
from pipelines.process import process_page_for_archive, start_worker
from pipelines.store import Archive, Capture, FrontierEntry


class ExtractPipeline:
    """Run extraction for each ArticlePage in worker processes (crawler.workers: CPU off the reactor)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.workers = crawler.settings.getint("EXTRACT_WORKERS") or os.cpu_count() or 1
        self.depth = crawler.settings.getint("EXTRACT_QUEUE_DEPTH")
        self.nice = crawler.settings.getint("EXTRACT_NICE")
        self.pool: WorkerPool | None = None

    @classmethod
    def from_crawler(cls, crawler) -> "ExtractPipeline":
        return cls(crawler)

    def open_spider(self) -> None:
        # Started, and warmed up, before any download: a worker's first start waits for the heavy imports
        # (~5 s), which inside the first process_item would freeze the reactor and time out downloads.
        # start_worker: a worker also exits when this process dies (a SIGKILL leaves no orphans).
        self.pool = WorkerPool(self.workers, initializer=start_worker, initargs=(os.getpid(),),
                               preload=["pipelines.preload"], depth=self.depth, nice=self.nice)

    def close_spider(self) -> None:
        if self.pool:
            self.pool.close()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        source = self.crawler.spider.by_id.get(item.source)
        try:
            item.record = await self.pool.submit(
                process_page_for_archive, item.body, item.final_url, headers=item.headers, source=source,
                hints=item.hints, fetched_at=item.fetched_at,
            )
            item.packed = item.record.pop("_packed", None)  # the capture, compressed by the worker
            item.dedup = item.record.pop("_dedup", None)  # story-matching features (not part of the record)
        except ExtractionError as exc:
            item.error_kind, item.error_message = exc.kind, str(exc)
        except WorkerDied as exc:
            # A worker died (e.g. out of memory on a pathological page): recorded; the pool replaced it.
            item.error_kind, item.error_message = "extract_crash", f"extraction worker died: {exc}"
        except Exception as exc:  # a bug or a page that breaks a parser: record, never stop the crawl
            item.error_kind, item.error_message = "extract", f"{type(exc).__name__}: {exc}"
        return item


class ArchivePipeline:
    """Write captures, articles and errors through one Archive; open and close the run record.

    It also keeps the crash-safe frontier (the `frontier` table): every article request the engine
    schedules is recorded in the current batch, and deleted in the batch that stores its article or
    error, so a SIGKILL loses neither; the spider re-enqueues what is left (NewsSpider.resumed_requests).
    """

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        settings = crawler.settings
        self.path = settings.get("ARCHIVE_DB")
        self.batch_size = settings.getint("ARCHIVE_BATCH_SIZE", 50)
        self.commit_seconds = settings.getfloat("ARCHIVE_COMMIT_SECONDS", 1.0)
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self._last_commit = time.monotonic()
        self._ticker: task.LoopingCall | None = None
        self._scheduled: list[FrontierEntry] = []  # frontier rows not yet written (flushed before any item)
        self._aliases: dict[str, set[str]] = {}  # canonical URL → other forms found before its article was stored

    @classmethod
    def from_crawler(cls, crawler) -> "ArchivePipeline":
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(pipeline.alias_found, signal=alias_found)
        return pipeline

    def alias_found(self, source: str, url: str) -> None:
        """Another form of an article URL, not requested (crawler.signals.alias_found): onto its article
        if that is stored (this run or before), else kept until it is, whichever the spider met first."""
        outlet = self.crawler.spider.by_id.get(source)
        if outlet is None or self.archive is None:
            return
        key, article_id = attach_alias(self.archive, outlet, url)
        if article_id is None:
            self._aliases.setdefault(key, set()).add(url)

    def request_scheduled(self, request, spider=None) -> None:
        """Queue a frontier row for an article request (a redirect's next hop is the same request)."""
        meta = request.meta
        if meta.get("kind") == "article" and meta.get("source") and not meta.get("redirect_urls"):
            self._scheduled.append(FrontierEntry(request.url, meta["source"], dict(meta.get("hints") or {}),
                                                 int(meta.get("hop", 0)), request.priority))

    def _flush_frontier(self) -> None:
        """Write the queued frontier rows; called before any item, so a row is inserted before it is dropped."""
        if self._scheduled and self.archive:
            self.archive.add_frontier(self._scheduled, self.run_id)
            self._scheduled = []

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.archive = Archive(self.path)
        self.archive.upsert_sources(spider.sources)
        args = {"source": ",".join(s.id for s in spider.sources), "seeds": spider.seeds_path}
        self.run_id = self.archive.start_run([s.id for s in spider.sources], args)
        self.stories = StoryIndex(self.archive.conn)
        spider.logger.info("Archive %s: run %s started", self.path, self.run_id)
        self._ticker = task.LoopingCall(self._commit_if_due)
        self._ticker.start(self.commit_seconds, now=False)

    def process_item(self, item: Any) -> Any:
        self._flush_frontier()
        if isinstance(item, CrawlError):
            self._error(item.source, item.url, item.kind, item.message)
            self.archive.drop_frontier([item.url])
        elif isinstance(item, ArticlePage):
            self._article(item)
            self.archive.drop_frontier(item.urls or [item.url])
        self._commit_if_due(force=self.archive.pending >= self.batch_size)
        return item

    def _article(self, item: ArticlePage) -> None:
        try:
            with self.archive.item():
                outcome = self._store(item)
        except Exception as exc:  # a bug or a constraint: this item is rolled back, the crawl goes on
            self._error(item.source, item.final_url, "store", f"{type(exc).__name__}: {exc}")
            self.crawler.spider.logger.exception("[%s] storing %s failed", item.source, item.final_url)
            return
        if outcome:
            field = {"new": "stored", "updated": "updated", "duplicate": "duplicates"}[outcome.status]
            self.stats.inc_value(f"akhbar/{item.source}/{field}")

    def _store(self, item: ArticlePage):
        capture_id = self.archive.add_capture(
            Capture(url=item.url, final_url=item.final_url, status=item.status, headers=item.headers,
                    body=item.body, fetched_at=item.fetched_at, source=item.source, hints=item.hints,
                    packed=item.packed),
            self.run_id,
        )
        if item.error_kind:
            self._error(item.source, item.final_url, item.error_kind, item.error_message or "")
            return None
        source = self.crawler.spider.by_id[item.source]
        outcome = ingest(
            self.archive, self.stories, source=source, final_url=item.final_url, found_urls=item.urls,
            record=item.record, capture_id=capture_id, fetched_at=item.fetched_at, refetch=item.refetch,
            features=item.dedup,
        )
        waiting = set().union(*(self._aliases.pop(key, ()) for key in canonical_keys(item.urls, source)))
        if waiting:
            self.archive.add_urls(outcome.article_id, source.id, sorted(waiting))
        return outcome

    def _error(self, source: str | None, url: str | None, kind: str, message: str) -> None:
        self.archive.add_error(self.run_id, source, url, kind, message)
        self.stats.inc_value(f"akhbar/{source}/failed")
        self.crawler.spider.logger.warning("[%s] %s %s: %s", source, kind, url, message)

    def _commit_if_due(self, force: bool = False) -> None:
        self._flush_frontier()
        if self.archive and self.archive.pending and (
            force or time.monotonic() - self._last_commit >= self.commit_seconds
        ):
            self.archive.commit()
            self._last_commit = time.monotonic()

    def close_spider(self) -> None:
        if self._ticker and self._ticker.running:
            self._ticker.stop()
        self._flush_frontier()
        self.archive.commit()

    def spider_closed(self, spider, reason: str) -> None:
        """Close the run record once every item is through (the close reason is known only now)."""
        status = {"finished": "finished", "shutdown": "interrupted"}.get(reason, "failed")
        if reason == "finished":  # every scheduled request was handled; other ends keep what is pending
            self.archive.clear_frontier(s.id for s in spider.sources)
        self.archive.finish_run(self.run_id, status, reason, self.per_outlet_counts())
        self.archive.close()

    def per_outlet_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for key, value in self.stats.get_stats().items():
            parts = key.split("/")
            if len(parts) == 3 and parts[0] == "akhbar":
                counts.setdefault(parts[1], {})[parts[2]] = value
        return counts

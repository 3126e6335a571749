"""Scrapy extensions of Akhbar: one writer per archive, a live progress line, and the add-on that puts
the contact URL in the User-Agent."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task


class ArchiveBusy(RuntimeError):
    """Another crawl holds the archive's lock."""


class ArchiveLock:
    """Hold `<ARCHIVE_DB>.lock` for the whole crawl, so two runs never write one archive at once.

    The lock is an OS file lock: it disappears with the process, so a crawl killed with
    SIGKILL never leaves a stale lock behind.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "unknown"
            self.handle.close()
            raise ArchiveBusy(
                f"another crawl (pid {holder}) is writing {path.with_suffix('')}; not starting a second one"
            ) from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(str(os.getpid()))
        self.handle.flush()

    @classmethod
    def from_crawler(cls, crawler) -> "ArchiveLock":
        lock = cls(Path(crawler.settings.get("ARCHIVE_DB") + ".lock"))
        crawler.signals.connect(lock.release, signal=signals.engine_stopped)
        return lock

    def release(self) -> None:
        if not self.handle.closed:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


class ContactUserAgent:
    """Add-on: the User-Agent carries AKHBAR_CONTACT however it was given.

    settings.py builds USER_AGENT from the environment's AKHBAR_CONTACT at import time, before
    `-s AKHBAR_CONTACT=...` is known; this rebuilds it from AKHBAR_USER_AGENT once every setting is in,
    unless USER_AGENT itself was set above the project's settings (`-s USER_AGENT=...`, a spider).
    """

    def update_settings(self, settings) -> None:
        if settings.getpriority("USER_AGENT") > settings.getpriority("AKHBAR_USER_AGENT"):
            return
        template = settings.get("AKHBAR_USER_AGENT")
        if template and settings.get("AKHBAR_CONTACT"):
            settings.set("USER_AGENT", template.format(contact=settings.get("AKHBAR_CONTACT")),
                         priority=settings.getpriority("USER_AGENT"))


class ProgressLine:
    """When the crawl runs in a terminal, keep one status line up to date on stderr."""

    def __init__(self, crawler, interval: float) -> None:
        self.stats = crawler.stats
        self.interval = interval
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.show)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler) -> "ProgressLine":
        interval = crawler.settings.getfloat("AKHBAR_PROGRESS_INTERVAL", 2.0)
        if not interval or not sys.stderr.isatty():
            raise NotConfigured
        return cls(crawler, interval)

    def spider_opened(self, spider) -> None:
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider, reason: str) -> None:
        if self.loop.running:
            self.loop.stop()
        self.show()
        sys.stderr.write("\n")

    def show(self) -> None:
        stats = self.stats.get_stats()
        totals = {"fetched": 0, "stored": 0, "failed": 0}
        for key, value in stats.items():
            parts = key.split("/")
            if len(parts) == 3 and parts[0] == "akhbar" and parts[2] in totals:
                totals[parts[2]] += value
        pages = stats.get("response_received_count", 0)
        rate = pages / max(time.monotonic() - self.started, 1e-6) * 60
        sys.stderr.write(
            f"\r\x1b[K{pages} pages · {totals['fetched']} article pages · {totals['stored']} new articles"
            f" · {totals['failed']} errors · {rate:.0f} pages/min"
        )
        sys.stderr.flush()

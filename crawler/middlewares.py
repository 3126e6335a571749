"""Scrapy middlewares of Akhbar.

- `SkipArchivedMiddleware`: incremental crawling. An article URL the archive already
  holds (as found, or in canonical form) is not fetched again, unless its feed or
  sitemap says it changed after the stored capture (the spider's `recheck` requests carry
  a later listing's newer date; for a URL not archived they are dropped). A URL that failed
  for good (404, 410, not an article...) in AKHBAR_GIVE_UP_AFTER runs is not asked again.
- `RobotsTxtMiddleware`: Scrapy's, also counting per outlet the requests robots.txt forbids, and
  reading each host's robots.txt once: the spider's own request for it (its `Sitemap:` lines) gets
  the response the middleware fetched.
- `OutletBudgetMiddleware`: at most `max_requests` requests per outlet and run (after robots.txt:
  a forbidden request is never made, so it spends nothing; robots.txt itself is not counted).
- `RetryAfterMiddleware`: Scrapy's retries, plus `Retry-After` honoured on 429/503 by
  pausing the whole download slot (the outlet's host), with exponential backoff when absent
  (and `crawler.signals.host_paused` sent, which scale-out shares with the other workers).
- `MetaRefreshMiddleware`: Scrapy's, without decoding a page that has no `http-equiv` near its top.
- `ErrorsToItemsMiddleware`: a callback that raises becomes an `errors` row, not a lost traceback.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from time import monotonic
from typing import Any, Iterable

from scrapy import Request, signals
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.httpobj import urlparse_cached

from crawler.items import CrawlError
from crawler.signals import host_paused
from pipelines.dates import parse_instant
from pipelines.urls import canonical_url


# Failures that asking again every hour will not change; their capture (when there was a body) is kept
# for re-extraction, so a better extractor does not need the network. Timeouts and 5xx are retried.
PERMANENT_FAILURES = ("http_404", "http_410", "http_451", "not_html", "not_article", "too_large")


class SkipArchivedMiddleware:
    """Drop requests for article URLs already in `article_urls` (read through its own read-only connection),
    and for URLs that failed for good in AKHBAR_GIVE_UP_AFTER earlier runs (a dead link in a sitemap is
    not requested every hour for years)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.path = Path(crawler.settings.get("ARCHIVE_DB"))
        self.give_up_after = crawler.settings.getint("AKHBAR_GIVE_UP_AFTER", 3)
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def from_crawler(cls, crawler) -> "SkipArchivedMiddleware":
        return cls(crawler)

    def _failed_runs(self, source: str | None, urls: list[str]) -> int:
        """In how many runs this URL (as requested or canonical) ended in a permanent failure."""
        marks, kinds = ",".join("?" * len(urls)), ",".join("?" * len(PERMANENT_FAILURES))
        return self._conn.execute(
            f"SELECT COUNT(DISTINCT run_id) FROM errors WHERE source = ? AND url IN ({marks}) AND kind IN ({kinds})",
            (source, *urls, *PERMANENT_FAILURES),
        ).fetchone()[0]

    def _connection(self) -> sqlite3.Connection | None:
        if self._conn is None and self.path.exists():
            self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        return self._conn

    def process_request(self, request: Request) -> None:
        if request.meta.get("kind") != "article" or request.meta.get("refetch"):
            return None
        conn = self._connection()
        if conn is None:
            return None
        spider = self.crawler.spider
        source = spider.by_id.get(request.meta.get("source")) if spider else None
        candidates = list({request.url, canonical_url(request.url, source=source)})
        marks = ",".join("?" * len(candidates))
        try:
            hit = conn.execute(
                "SELECT a.id, a.fetched_at FROM article_urls u JOIN articles a ON a.id = u.article_id"
                f" WHERE u.url IN ({marks}) LIMIT 1",
                candidates,
            ).fetchone()
        except sqlite3.OperationalError:
            return None  # archive not initialised yet
        if not hit:
            if request.meta.get("recheck"):  # a second listing's newer date for a URL this run already requested
                raise IgnoreRequest(f"requested already in this run: {request.url}")
            if self.give_up_after and self._failed_runs(request.meta.get("source"), candidates) >= self.give_up_after:
                self.crawler.stats.inc_value(f"akhbar/{request.meta.get('source')}/given_up")
                raise IgnoreRequest(f"failed for good in {self.give_up_after} runs: {request.url}")
            return None
        modified = parse_instant(request.meta.get("hints", {}).get("modified"))
        fetched = parse_instant(hit[1])
        if modified and fetched and modified > fetched:
            request.meta["refetch"] = True  # the listing says it changed: fetch again, update the row
            self.crawler.stats.inc_value("akhbar/refetch_modified")
            return None
        self.crawler.stats.inc_value("akhbar/skipped_archived")
        raise IgnoreRequest(f"already archived: {request.url}")


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's robots.txt middleware; a forbidden request also counts in `akhbar/<outlet>/disallowed`
    (run_outlets.disallowed), so an operator sees how much of an outlet robots.txt keeps out.

    Scrapy's middleware downloads robots.txt itself before the first request to a host, and the spider
    asks for it too (`kind: robots`, for its `Sitemap:` lines): without care every host's robots.txt
    was fetched twice per run. The spider's request now waits for the middleware's fetch and gets that
    response, with no second download. Only when that fetch failed, or answered 429/5xx, does the
    spider's request go out (its failure is then recorded as before).
    """

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        self._responses: dict[str, Response] = {}  # netloc → the robots.txt response, until the spider's turn

    async def process_request(self, request: Request) -> Response | None:
        if request.meta.get("kind") != "robots" or request.meta.get("dont_obey_robotstxt"):
            return await super().process_request(request)
        await self.robot_parser(request)  # the middleware's fetch for this host, made now or waited for
        fetched = self._responses.pop(urlparse_cached(request).netloc, None)
        if fetched is None or fetched.status == 429 or fetched.status >= 500:
            return None
        return fetched.replace(request=request)

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        self._responses[netloc] = response
        await super()._parse_robots(response, netloc, request)

    def process_request_2(self, rp, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            if request.meta.get("source"):
                self.crawler.stats.inc_value(f"akhbar/{request.meta['source']}/disallowed")
            raise


class OutletBudgetMiddleware:
    """Cap the requests of one run per outlet (`max_requests` in the registry, or AKHBAR_MAX_REQUESTS).

    Requests over the budget are counted in `akhbar/<outlet>/over_budget` (run_outlets.over_budget);
    their URLs are not archived, so the next run discovers and fetches them.
    """

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.default = crawler.settings.getint("AKHBAR_MAX_REQUESTS", 0)
        self.used: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler) -> "OutletBudgetMiddleware":
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        outlet = request.meta.get("source")
        spider = self.crawler.spider
        if not outlet or spider is None or outlet not in getattr(spider, "by_id", {}) or request.meta.get("kind") == "robots":
            return None  # robots.txt is not counted: RobotsTxtMiddleware reads it once per host anyway
        budget = spider.by_id[outlet].max_requests or self.default
        if budget and self.used[outlet] >= budget:
            self.crawler.stats.inc_value(f"akhbar/{outlet}/over_budget")
            raise IgnoreRequest(f"request budget of {budget} spent for {outlet}")
        if not request.meta.get("retry_times"):
            self.used[outlet] += 1
        return None


class RetryAfterMiddleware(RetryMiddleware):
    """Retries as Scrapy does; on 429/503 no request goes to that host (download slot) for what the
    server asks (Retry-After), or AKHBAR_BACKOFF_BASE seconds doubled per retry when it does not say."""

    MAX_WAIT = 300.0
    PAUSE_DELAY = 0.001  # seconds: the delay a slot without one gets during a pause (see _pause_slot)

    def __init__(self, settings, crawler=None) -> None:
        super().__init__(settings)
        self.crawler = crawler
        self.base_backoff = settings.getfloat("AKHBAR_BACKOFF_BASE", 2.0)

    @classmethod
    def from_crawler(cls, crawler) -> "RetryAfterMiddleware":
        middleware = cls(crawler.settings, crawler)
        middleware.crawler = crawler
        # The pause starts when the response arrives, before the slot picks its next request
        # (Scrapy sends response_downloaded for that: AutoThrottle adjusts delays there too).
        crawler.signals.connect(middleware.response_downloaded, signal=signals.response_downloaded)
        return middleware

    def response_downloaded(self, response: Response, request: Request, spider=None) -> None:
        if response.status in (429, 503) and not request.meta.get("dont_retry"):
            attempt = request.meta.get("retry_times", 0) + 1
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is None:
                wait = self.base_backoff * (2 ** (attempt - 1))
            self._pause_slot(request, min(wait, self.MAX_WAIT))

    def _pause_slot(self, request: Request, wait: float) -> None:
        """No request leaves the request's download slot (its host) for `wait` seconds from now.

        Scrapy's slot sends its next request once `download_delay() - (now - lastseen) <= 0`; with
        `lastseen` moved to the end of the pause, that is after the pause whatever the delay and its
        random jitter. (Raising `slot.delay` to the wait, as before, let the ±50% jitter halve it, counted
        it from when the request was sent rather than answered, and slowed the host for the rest of the run.)
        Scrapy skips that check for a slot without delay: such a slot gets PAUSE_DELAY until the pause ends.
        """
        engine = getattr(self.crawler, "engine", None)
        if not engine or wait <= 0:
            return
        downloader = engine.downloader
        slot = downloader.slots.get(request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request))
        if slot is None:
            return
        slot.lastseen = max(slot.lastseen, monotonic() + wait)
        if not slot.delay or slot.delay == self.PAUSE_DELAY:
            slot.delay = self.PAUSE_DELAY
            call_later(wait + 0.05, self._end_pause, slot)  # (a little after: a timer may fire early)
        self.crawler.stats.inc_value("akhbar/retry_after_waits")
        self.crawler.signals.send_catch_log(signal=host_paused, request=request, seconds=wait)

    def _end_pause(self, slot) -> None:
        if slot.delay == self.PAUSE_DELAY and monotonic() >= slot.lastseen:
            slot.delay = 0.0


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class MetaRefreshMiddleware(ScrapyMetaRefreshMiddleware):
    """Scrapy's meta-refresh redirects, at a fraction of the cost on pages without one.

    Scrapy looks for `<meta http-equiv="refresh">` in the first 4,096 characters of `response.text`,
    which decodes the whole body (≈ 0.08 ms of the crawler's CPU for a 100 KB page, every article).
    Those characters lie within the first 16 KB of the body in any ASCII-compatible encoding (UTF-8
    uses at most 4 bytes a character), so a page whose first 16 KB do not contain `http-equiv` has no
    meta refresh to follow; UTF-16 and UTF-32 bodies are always handed to Scrapy.
    """

    HEAD_BYTES = 4 * 4096

    def process_response(self, request: Request, response: Response):
        head = response.body[: self.HEAD_BYTES]
        if b"http-equiv" not in head.lower() and not head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
            return response
        return super().process_response(request, response)


class ErrorsToItemsMiddleware:
    """Turn an exception raised by a spider callback into a CrawlError item."""

    def process_spider_exception(self, response, exception: Exception) -> Iterable[Any]:
        source = response.meta.get("source")
        kind = response.meta.get("kind", "page")
        return [CrawlError(source, response.url, f"parse_{kind}", f"{type(exception).__name__}: {exception}")]

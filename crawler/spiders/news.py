"""The one generic spider: every outlet of the registry, discovered through its feeds,
sitemaps (and robots.txt `Sitemap:` lines) and section pages.

    scrapy crawl news                                  # every outlet of seeds/sources.yml
    scrapy crawl news -a source=hespress,le360         # some outlets
    scrapy crawl news -a seeds=other.yml -s ARCHIVE_DB=x.db

The spider only finds and fetches; extraction, dedup and storage are item pipelines.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterable
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from crawler import discovery
from crawler.items import ArticlePage, CrawlError
from crawler.signals import alias_found
from pipelines.dates import parse_instant
from pipelines.registry import Source, load_sources
from pipelines.store import FrontierEntry, last_finished_runs, pending_frontier
from pipelines.urls import canonical_url


class NewsSpider(Spider):
    name = "news"

    def __init__(self, source: str | None = None, seeds: str | None = None, since: str | None = None,
                 until: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources: list[Source] = load_sources(seeds, only=source.split(",") if source else None)
        self.by_id = {s.id: s for s in self.sources}
        self.seeds_path = seeds
        self.window = DateWindow.parse(since, until)
        # canonical article URL → `modified` it was requested with: one request per article and run,
        # whichever listing (feed `?utm_` link, sitemap plain link, AMP twin) named it first
        self._discovered: dict[str, datetime | None] = {}
        self._unchanged_since: dict[str, datetime] = {}
        self._resume: list[FrontierEntry] = []

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> "NewsSpider":
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.follow_depth = crawler.settings.getint("AKHBAR_FOLLOW_DEPTH", 0)
        # Child sitemaps whose lastmod is older than the outlet's last finished run are not re-read.
        # (Scale-out workers never open the archive: crawler.scaleout fills this from Redis.)
        if not crawler.settings.get("REDIS_URL"):
            for source_id, started in last_finished_runs(crawler.settings.get("ARCHIVE_DB")).items():
                spider._unchanged_since[source_id] = started
            spider._resume = pending_frontier(crawler.settings.get("ARCHIVE_DB"), [s.id for s in spider.sources])
        return spider

    # -- start: what an interrupted run left, then every discovery endpoint of every outlet --

    async def start(self) -> AsyncIterator[Request]:
        for request in self.resumed_requests():
            yield request
        for source in self.sources:
            for request in self.discovery_requests(source):
                yield request

    def resumed_requests(self) -> Iterable[Request]:
        """The article requests an interrupted run scheduled and never stored nor failed (the `frontier`
        table), scheduled again first: a crash does not lose URLs that today's listings no longer show.
        Already-archived ones are still skipped by SkipArchivedMiddleware."""
        if self._resume:
            self.logger.info("Resuming %d article requests left by an interrupted run", len(self._resume))
        for entry in self._resume:
            if entry.source not in self.by_id:
                continue
            key = canonical_url(entry.url, source=self.by_id[entry.source])
            if key in self._discovered:
                continue
            self._discovered[key] = parse_instant(entry.hints.get("modified"))
            self.crawler.stats.inc_value(f"akhbar/{entry.source}/discovered")
            self.crawler.stats.inc_value(f"akhbar/{entry.source}/resumed")
            yield Request(entry.url, self.parse_article, errback=self.on_error, priority=entry.priority,
                          meta={"source": entry.source, "kind": "article", "hints": dict(entry.hints),
                                "hop": entry.hop})
        self._resume = []

    def discovery_requests(self, source: Source) -> Iterable[Request]:
        meta = {"source": source.id}
        for url in source.sitemaps:
            yield Request(url, self.parse_sitemap, errback=self.on_error, meta={**meta, "kind": "sitemap"}, priority=20)
        for url in source.feeds:
            yield Request(url, self.parse_feed, errback=self.on_error, meta={**meta, "kind": "feed"}, priority=20)
        for url in source.start_urls:
            yield Request(url, self.parse_section, errback=self.on_error,
                          meta={**meta, "kind": "section", "page": 1}, priority=10)
        origins = {f"{p.scheme}://{p.netloc}" for p in map(urlsplit, (*source.sitemaps, *source.feeds, *source.start_urls))}
        for origin in sorted(origins):
            yield Request(f"{origin}/robots.txt", self.parse_robots, errback=self.on_error,
                          meta={**meta, "kind": "robots"}, priority=30)

    # -- discovery callbacks -------------------------------------------------------------------

    def parse_robots(self, response: Response) -> Iterable[Request]:
        source = self.source_of(response)
        for url in discovery.robots_sitemaps(response.body, response.url):
            if source.owns(url):
                yield Request(url, self.parse_sitemap, errback=self.on_error,
                              meta={"source": source.id, "kind": "sitemap"}, priority=20)

    def parse_sitemap(self, response: Response) -> Iterable[Request | CrawlError]:
        source = self.source_of(response)
        listing = discovery.parse_sitemap(response.body, response.url)
        if listing.problem:
            yield CrawlError(source.id, response.url, "bad_sitemap", listing.problem)
        if listing.kind == "sitemapindex":
            last_run = self._unchanged_since.get(source.id)
            for entry in listing.entries:
                modified = parse_instant(entry.modified)
                if last_run and modified and modified < last_run:
                    self.crawler.stats.inc_value(f"akhbar/{source.id}/sitemaps_unchanged")
                    continue
                if source.owns(entry.url):
                    yield Request(entry.url, self.parse_sitemap, errback=self.on_error,
                                  meta={"source": source.id, "kind": "sitemap"}, priority=20)
            return
        yield from self.article_requests(source, listing.entries, via=response.url)

    def parse_feed(self, response: Response) -> Iterable[Request | CrawlError]:
        source = self.source_of(response)
        listing = discovery.parse_feed(response.body, response.url)
        if listing.problem:
            yield CrawlError(source.id, response.url, "bad_feed", listing.problem)
        yield from self.article_requests(source, listing.entries, via=response.url)

    def parse_section(self, response: Response) -> Iterable[Request | CrawlError]:
        source = self.source_of(response)
        if not isinstance(response, TextResponse):
            yield CrawlError(source.id, response.url, "not_html", "section page is not HTML")
            return
        links, nexts = discovery.page_links(response.text, response.url)
        entries = [discovery.Entry(url) for url in links if source.is_article(url)]
        yield from self.article_requests(source, entries, via=response.url)
        page = response.meta.get("page", 1)
        if page < source.max_section_pages:
            for url in nexts:
                if source.owns(url) and not source.is_article(url):
                    yield Request(url, self.parse_section, errback=self.on_error,
                                  meta={"source": source.id, "kind": "section", "page": page + 1}, priority=10)

    def article_requests(self, source: Source, entries: Iterable[discovery.Entry], via: str,
                         hop: int = 0) -> Iterable[Request]:
        """Requests for the entries that are articles of this outlet, each URL once per run.

        Except: when a later listing dates a URL's change after the date it was requested with
        (a sitemap `lastmod` newer than the feed item's), it is requested once more as a `recheck`,
        so which listing arrives first does not decide whether a changed article is fetched again;
        SkipArchivedMiddleware drops a recheck of a URL that is not archived (the first request has it).

        In a backfill (`-a since=`/`until=`) only entries dated inside the window are
        requested, newest first.
        """
        for entry in entries:
            url = entry.url
            if not source.is_article(url):
                continue
            modified = parse_instant(entry.modified)
            key = canonical_url(url, source=source)
            recheck = key in self._discovered
            if recheck and url != key:  # another form of a URL already requested: kept in article_urls
                self.crawler.signals.send_catch_log(alias_found, source=source.id, url=url)
            if recheck and not (modified and (self._discovered[key] is None or modified > self._discovered[key])):
                continue
            priority = 0
            if self.window:
                when = parse_instant(entry.published) or modified
                if not self.window.contains(when):
                    continue
                priority = self.window.priority(when)
            self._discovered[key] = modified
            if not recheck:
                self.crawler.stats.inc_value(f"akhbar/{source.id}/discovered")
            hints = {k: v for k, v in (("published", entry.published), ("modified", entry.modified),
                                         ("title", entry.title), ("via", via)) if v}
            meta = {"source": source.id, "kind": "article", "hints": hints, "hop": hop}
            if recheck:
                meta["recheck"] = True
            yield Request(url, self.parse_article, errback=self.on_error, priority=priority, meta=meta,
                          dont_filter=recheck)

    # -- articles --------------------------------------------------------------------------------

    def parse_article(self, response: Response) -> Iterable[ArticlePage | Request]:
        source = self.source_of(response)
        self.crawler.stats.inc_value(f"akhbar/{source.id}/fetched")
        requested = response.request.meta.get("redirect_urls", [])
        urls = [*requested, response.url]
        yield ArticlePage(
            source=source.id,
            url=urls[0],
            final_url=response.url,
            status=response.status,
            headers={k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()},
            body=response.body,
            fetched_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            urls=urls,
            hints=dict(response.meta.get("hints", {})),
            refetch=bool(response.meta.get("refetch")),
        )
        hop = response.meta.get("hop", 0)
        if hop < self.follow_depth and isinstance(response, TextResponse):
            links, _ = discovery.page_links(response.text, response.url)
            entries = [discovery.Entry(u) for u in links]
            yield from self.article_requests(source, entries, via=response.url, hop=hop + 1)

    # -- failures --------------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> Iterable[CrawlError]:
        request = failure.request
        source = request.meta.get("source")
        kind, message = describe_failure(failure)
        if kind is None or (request.meta.get("kind") == "robots" and kind.startswith("http_4")):
            # skipped on purpose, or no robots.txt (which means: everything allowed)
            self.crawler.stats.inc_value(f"akhbar/{source}/skipped")
            return
        yield CrawlError(source, request.url, kind, f"{request.meta.get('kind', 'page')}: {message}")

    def source_of(self, response: Response) -> Source:
        return self.by_id[response.meta["source"]]


def describe_failure(failure: Failure) -> tuple[str | None, str]:
    """An error kind for the `errors` table; None for requests skipped on purpose (robots, known URLs)."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"http_{status}", f"HTTP {status} {exc.response.url}"
    if isinstance(exc, IgnoreRequest):
        return None, str(exc)
    if isinstance(exc, (DownloadTimeoutError, TimeoutError, TCPTimedOutError)):
        return "timeout", str(exc) or "timed out"
    if isinstance(exc, (CannotResolveHostError, DNSLookupError)):
        return "dns", str(exc)
    if isinstance(exc, (DownloadConnectionRefusedError, ConnectionRefusedError)):
        return "connection", str(exc)
    return "download", f"{type(exc).__name__}: {exc}"


class DateWindow:
    """The `since`/`until` window of a backfill (both inclusive, calendar days)."""

    def __init__(self, since: datetime | None, until: datetime | None) -> None:
        self.since, self.until = since, until

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> "DateWindow | None":
        if not since and not until:
            return None
        def day(value: str | None, end: bool) -> datetime | None:
            if not value:
                return None
            try:
                start = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=timezone.utc)
            except ValueError:
                raise ValueError(f"since/until must be YYYY-MM-DD, got {value!r}") from None
            return start.replace(hour=23, minute=59, second=59) if end else start
        return cls(day(since, False), day(until, True))

    def contains(self, when: datetime | None) -> bool:
        if when is None:
            return False
        return (self.since is None or when >= self.since) and (self.until is None or when <= self.until)

    def priority(self, when: datetime) -> int:
        """Newer entries first: priority grows with the date (hours since 2000)."""
        return int((when - datetime(2000, 1, 1, tzinfo=timezone.utc)).total_seconds() // 3600)

"""Scale-out mode: many `scrapy crawl news` workers share one frontier in Redis, and one
`scrapy archive-writer` process stores what they fetched, so SQLite keeps a single writer.

It is switched on by REDIS_URL (environment variable, or `-s REDIS_URL=redis://host:6379/0`):
the `ScaleOut` add-on (ADDONS in crawler/settings.py) then swaps in the components below.
Without REDIS_URL the add-on does nothing and the crawl is the single-process one.

A worker fetches and extracts (ExtractPipeline, unchanged) and pushes JSON records to Redis;
it never opens the SQLite file. What lives in Redis, under AKHBAR_REDIS_PREFIX (default `news`):

    news:requests        the shared frontier: scrapy-redis priority queue of *pickled* requests
    news:dupefilter      request fingerprints of the current round (scrapy-redis, atomic SADD)
    news:round           the current crawl round {id, started_at, sources, args, leader}
    news:round:<id>:workers / :closed / :budget    who took part / per-worker counts at close /
                         shared per-outlet request budget
    news:seeding         a short lock: one starting worker at a time decides about the round
    news:alive news:busy sorted sets worker -> expiry (ms, Redis clock): heartbeat, "has work"
    news:items           JSON records for the writer (workers RPUSH, the writer LRANGE+LTRIM)
    news:round:<id>:aliases   hash canonical URL -> other forms found (one per line) whose article
                         the writer has not stored yet: it adds them when it does
    news:known           hash sha1(url)[:12] -> fetched_at (epoch s) of the archived article
    news:last_finished   hash outlet -> start of its last finished run (sitemap lastmod skipping)
    news:writer          the writer's lock
    news:rate:<host>     politeness token: SET NX PX DOWNLOAD_DELAY, one request start per token

Settings (besides REDIS_URL and scrapy-redis's REDIS_PARAMS):
  AKHBAR_REDIS_PREFIX       key prefix (default `news`); one prefix per archive sharing a Redis
  AKHBAR_REDIS_IDLE_CLOSE   a worker closes after this many seconds of global quiet (default 30)
  AKHBAR_REDIS_TICK         heartbeat period in seconds (default 1)
  AKHBAR_REDIS_WORKER_TTL   a worker missing heartbeats this long counts as gone (default 30)
  AKHBAR_REDIS_RATE_LIMIT   shared per-host token (default true; needs DOWNLOAD_DELAY > 0)

Rounds. Hourly crawls must re-read feeds and sitemaps although the last round's dupefilter
has seen them, and N workers must not each fetch every feed. So every worker runs the
spider's own `start()` (all discovery requests of all outlets) through the shared dupefilter,
and the dupefilter belongs to a *round*: the first worker that starts when no round is in
progress (frontier empty, no worker busy or alive) clears it and opens a new round; workers
starting while a round is in progress join it, and their discovery requests are dropped as
duplicates. A frontier left by killed workers is resumed, not cleared. The writer records
one `runs` row per round (`args.round`), closed when every worker of the round has reported.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import random
import socket
import threading
import time
import uuid
import weakref
import zlib
from datetime import datetime, timezone
from typing import Any, Mapping
from urllib.parse import urlsplit

import redis
from scrapy import Request, signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import DontCloseSpider, IgnoreRequest, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis import connection
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet import task

from crawler import signals as akhbar_signals
from crawler.items import ArticlePage, CrawlError
from pipelines.dates import parse_instant
from pipelines.store import pack
from pipelines.urls import canonical_url

logger = logging.getLogger(__name__)

DAY = 24 * 3600
ROUND_KEYS_TTL = 14 * DAY  # per-round keys outlive the writer's longest plausible lag


# -- shared helpers (workers and writer) ---------------------------------------------------------


class Keys:
    """Every Redis key of one crawl (prefix = AKHBAR_REDIS_PREFIX)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.requests = f"{prefix}:requests"
        self.dupefilter = f"{prefix}:dupefilter"
        self.round = f"{prefix}:round"
        self.seeding = f"{prefix}:seeding"
        self.alive = f"{prefix}:alive"
        self.busy = f"{prefix}:busy"
        self.items = f"{prefix}:items"
        self.known = f"{prefix}:known"
        self.last_finished = f"{prefix}:last_finished"
        self.writer = f"{prefix}:writer"

    def round_workers(self, round_id: str) -> str:
        return f"{self.prefix}:round:{round_id}:workers"

    def round_closed(self, round_id: str) -> str:
        return f"{self.prefix}:round:{round_id}:closed"

    def round_budget(self, round_id: str) -> str:
        return f"{self.prefix}:round:{round_id}:budget"

    def round_aliases(self, round_id: str) -> str:
        return f"{self.prefix}:round:{round_id}:aliases"

    def rate(self, host: str) -> str:
        return f"{self.prefix}:rate:{host}"

    def pause(self, host: str) -> str:
        return f"{self.prefix}:pause:{host}"


def prefix_of(settings) -> str:
    return settings.get("AKHBAR_REDIS_PREFIX") or "news"


def redis_url(settings) -> str:
    return settings.get("REDIS_URL") or os.environ.get("REDIS_URL", "")


def redis_from_settings(settings) -> redis.Redis:
    """A client as scrapy-redis builds it (REDIS_URL, REDIS_PARAMS); replies are bytes."""
    return connection.get_redis_from_settings(settings)


def redis_ms(server: redis.Redis) -> int:
    """Now on the Redis server's clock, in ms: expiries compared across hosts need one clock."""
    seconds, micros = server.time()
    return int(seconds) * 1000 + int(micros) // 1000


def live_members(server: redis.Redis, key: str, now_ms: int) -> set[str]:
    """Members of an expiry sorted set (alive, busy) whose expiry is still ahead."""
    return {m.decode() for m in server.zrangebyscore(key, now_ms, "+inf")}


def url_digest(url: str) -> bytes:
    """12 bytes of sha1: the known-URL hash costs ~75 bytes per URL in Redis (measured, 200k URLs)."""
    return hashlib.sha1(url.encode("utf-8")).digest()[:12]


def epoch_seconds(iso: str | None) -> int | None:
    parsed = parse_instant(iso)
    return int(parsed.timestamp()) if parsed else None


def per_outlet_counts(stats: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """`akhbar/<outlet>/<count>` stats → {outlet: {count: n}} (as ArchivePipeline reports them)."""
    counts: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        parts = key.split("/")
        if len(parts) == 3 and parts[0] == "akhbar" and isinstance(value, int):
            counts.setdefault(parts[1], {})[parts[2]] = value
    return counts


def page_message(item: ArticlePage) -> dict[str, Any]:
    """An ArticlePage as a JSON-able dict; the body travels as the capture will be stored (`store.pack`,
    usually done by the extraction worker already), base64-encoded, with its sha1."""
    blob, sha1 = item.packed or pack(item.body)
    return {
        "type": "page",
        "source": item.source,
        "url": item.url,
        "final_url": item.final_url,
        "status": item.status,
        "headers": item.headers,
        "body": base64.b64encode(blob).decode("ascii"),
        "body_codec": "zlib+base64",
        "body_sha1": sha1,
        "fetched_at": item.fetched_at,
        "urls": list(item.urls),
        "hints": dict(item.hints),
        "refetch": item.refetch,
        "record": item.record,
        "error_kind": item.error_kind,
        "error_message": item.error_message,
    }


def page_from_message(message: Mapping[str, Any]) -> ArticlePage:
    if message.get("body_codec") != "zlib+base64":
        raise ValueError(f"unknown body codec {message.get('body_codec')!r}")
    blob = base64.b64decode(message["body"])
    body = zlib.decompress(blob)
    return ArticlePage(
        source=message["source"],
        url=message["url"],
        final_url=message["final_url"],
        status=int(message["status"]),
        headers=dict(message.get("headers") or {}),
        body=body,
        fetched_at=message["fetched_at"],
        urls=list(message.get("urls") or []),
        hints=dict(message.get("hints") or {}),
        refetch=bool(message.get("refetch")),
        record=message.get("record"),
        error_kind=message.get("error_kind"),
        error_message=message.get("error_message"),
        packed=(blob, message.get("body_sha1") or hashlib.sha1(body).hexdigest()),
    )


def dumps(message: Mapping[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, default=str, separators=(",", ":"))


# -- the add-on -----------------------------------------------------------------------------------


class ScaleOut:
    """Add-on: with REDIS_URL set, a crawl becomes one worker of the shared crawl.

    Settings it changes (only then):
      SCHEDULER                RedisScheduler (scrapy-redis queue + dupefilter, round join)
      DUPEFILTER_CLASS         CanonicalDupeFilter (scrapy-redis's, article requests keyed by canonical URL)
      DOWNLOADER_MIDDLEWARES   SkipArchived → RedisKnownMiddleware, OutletBudget → RedisBudgetMiddleware
      DOWNLOAD_HANDLERS        http/https → PoliteHTTPDownloadHandler (shared per-host pause and token)
      ITEM_PIPELINES           ArchivePipeline → RedisItemPipeline (ExtractPipeline stays)
      EXTENSIONS               ArchiveLock off (the writer holds it), + RedisWorker
    """

    def update_settings(self, settings) -> None:
        url = redis_url(settings)
        if not url:
            return
        from crawler.extensions import ArchiveLock
        from crawler.item_pipelines import ArchivePipeline
        from crawler.middlewares import OutletBudgetMiddleware, SkipArchivedMiddleware

        prefix = prefix_of(settings)
        settings.set("REDIS_URL", url, "addon")
        settings.set("SCHEDULER", "crawler.scaleout.RedisScheduler", "addon")
        settings.set("DUPEFILTER_CLASS", "crawler.scaleout.CanonicalDupeFilter", "addon")
        settings.set("SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue", "addon")
        settings.set("SCHEDULER_QUEUE_KEY", f"{prefix}:requests", "addon")
        settings.set("SCHEDULER_DUPEFILTER_KEY", f"{prefix}:dupefilter", "addon")
        settings.set("SCHEDULER_PERSIST", True, "addon")
        _swap(settings, "DOWNLOADER_MIDDLEWARES", SkipArchivedMiddleware, RedisKnownMiddleware, 50)
        _swap(settings, "DOWNLOADER_MIDDLEWARES", OutletBudgetMiddleware, RedisBudgetMiddleware, 60)
        handlers = settings.getwithbase("DOWNLOAD_HANDLERS")
        if all(handlers.get(scheme) in (HTTP11DownloadHandler, _HTTP11) for scheme in ("http", "https")):
            politeness = {"http": PoliteHTTPDownloadHandler, "https": PoliteHTTPDownloadHandler}
            settings.set("DOWNLOAD_HANDLERS", {**settings.getdict("DOWNLOAD_HANDLERS"), **politeness}, "addon")
        else:
            logger.warning("DOWNLOAD_HANDLERS replaces Scrapy's HTTP/1.1 handler: no shared per-host rate limit")
        _swap(settings, "ITEM_PIPELINES", ArchivePipeline, RedisItemPipeline, 800)
        settings.set_in_component_priority_dict("EXTENSIONS", ArchiveLock, None)
        settings.set_in_component_priority_dict("EXTENSIONS", RedisWorker, 10)


_HTTP11 = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"


def _swap(settings, name: str, old: type, new: type, default: int) -> None:
    try:
        settings.replace_in_component_priority_dict(name, old, new)
    except KeyError:  # the old component was disabled or never there: the new one still goes in
        settings.set_in_component_priority_dict(name, new, default)


# -- the worker's life in the shared crawl --------------------------------------------------------


class RoundMismatch(RuntimeError):
    """A worker would join a round crawling other outlets: its requests would not be understood."""


class RedisWorker:
    """Extension: round membership, heartbeat, closing when the whole crawl is idle, close report.

    scrapy-redis workers never stop on their own (an empty Redis queue may fill again). This one
    closes when, for AKHBAR_REDIS_IDLE_CLOSE seconds, it had nothing to do, the frontier was empty
    and no other worker was busy (busy = had requests in flight or items in its pipelines). `alive`
    and `busy` are refreshed every AKHBAR_REDIS_TICK seconds by a heartbeat thread, with expiries,
    so a killed worker stops counting (busy after 5 ticks, alive after AKHBAR_REDIS_WORKER_TTL).
    """

    _by_crawler: "weakref.WeakKeyDictionary[Any, RedisWorker]" = weakref.WeakKeyDictionary()

    def __init__(self, crawler) -> None:
        settings = crawler.settings
        if not redis_url(settings):
            raise NotConfigured("REDIS_URL is not set")
        self.crawler = crawler
        self.stats = crawler.stats
        self.server = redis_from_settings(settings)
        self.keys = Keys(prefix_of(settings))
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.tick_seconds = settings.getfloat("AKHBAR_REDIS_TICK", 1.0)
        self.idle_close = max(settings.getfloat("AKHBAR_REDIS_IDLE_CLOSE", 30.0), 3 * self.tick_seconds)
        self.alive_ms = int(1000 * settings.getfloat("AKHBAR_REDIS_WORKER_TTL", 30.0))
        self.busy_ms = int(1000 * max(5.0, 5 * self.tick_seconds))
        # a starting worker waits this long for the previous round's idle workers to leave
        self.round_wait = self.idle_close + self.alive_ms / 1000 + 5
        self.round_id: str | None = None
        self.leader = False
        self._started: str | None = None
        self.pushed = 0
        self.closing = False
        self._quiet_since: float | None = None
        self._unreachable_since: float | None = None
        self._last_complaint = 0.0
        self._busy = True  # until the reactor first looks: a starting worker counts as busy
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._heartbeat, name="akhbar-heartbeat", daemon=True)
        self._loop = task.LoopingCall(self.tick)
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.alias_found, signal=akhbar_signals.alias_found)

    @classmethod
    def from_crawler(cls, crawler) -> "RedisWorker":
        return cls.of(crawler)

    @classmethod
    def of(cls, crawler) -> "RedisWorker":
        """The one RedisWorker of a crawler (shared by the scheduler, pipeline and middlewares)."""
        worker = cls._by_crawler.get(crawler)
        if worker is None:
            worker = cls._by_crawler[crawler] = cls(crawler)
        return worker

    # -- rounds -----------------------------------------------------------------------------

    async def join_round(self, spider) -> None:
        """Join the round in progress, or open a new one (clearing the dupefilter) when none is."""
        ids = ",".join(s.id for s in spider.sources)
        args = {"source": ids, "seeds": spider.seeds_path}
        token = uuid.uuid4().hex
        started = time.monotonic()
        while True:
            if self.server.set(self.keys.seeding, token, nx=True, px=30_000):
                try:
                    decided = self._decide_round(ids, args, may_wait=time.monotonic() - started < self.round_wait)
                finally:
                    _release(self.server, self.keys.seeding, token)
                if decided:
                    break
            await asyncio.sleep(0.2 + random.random() * 0.3)
        for source_id, value in self.server.hgetall(self.keys.last_finished).items():
            try:  # the spider skips child sitemaps older than this (its SQLite read is off in this mode)
                spider._unchanged_since[source_id.decode()] = datetime.fromisoformat(value.decode())
            except ValueError:
                continue
        spider.logger.info("Scale-out worker %s %s round %s", self.id, "opened" if self.leader else "joined",
                           self.round_id)

    def _decide_round(self, ids: str, args: dict[str, Any], may_wait: bool) -> bool:
        k = self.keys
        now = redis_ms(self.server)
        current = {key.decode(): value.decode() for key, value in self.server.hgetall(k.round).items()}
        frontier = self.server.zcard(k.requests)
        busy = live_members(self.server, k.busy, now) - {self.id}
        alive = live_members(self.server, k.alive, now) - {self.id}
        if frontier or busy:
            if current.get("id"):
                if current.get("sources") != ids:
                    raise RoundMismatch(
                        f"round {current['id']} crawls outlets [{current.get('sources')}], this worker [{ids}]: "
                        "every worker of a crawl must use the same registry and -a source="
                    )
                self.round_id, self.leader = current["id"], False
            else:  # work without a round record (Redis lost it, or requests pushed by hand): adopt it
                self._new_round(ids, args, now, clear=False)
        elif alive and may_wait:
            return False  # the previous round's last workers are about to leave
        else:
            self._new_round(ids, args, now, clear=True)
        pipe = self.server.pipeline()
        pipe.sadd(k.round_workers(self.round_id), self.id)
        pipe.expire(k.round_workers(self.round_id), ROUND_KEYS_TTL)
        pipe.zadd(k.alive, {self.id: now + self.alive_ms})
        pipe.zadd(k.busy, {self.id: now + self.busy_ms})  # joiners must see this round in progress
        pipe.rpush(k.items, dumps({
            "type": "open", "round": self.round_id, "worker": self.id, "leader": self.leader,
            "round_started": current.get("started_at") if not self.leader else self._started,
            "sources": ids.split(","), "args": args, "host": socket.gethostname(), "pid": os.getpid(),
        }))
        pipe.execute()
        self._thread.start()
        return True

    def _new_round(self, ids: str, args: dict[str, Any], now_ms: int, clear: bool) -> None:
        k = self.keys
        self.round_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        self.leader = True
        self._started = datetime.fromtimestamp(now_ms / 1000, timezone.utc).isoformat(timespec="seconds")
        pipe = self.server.pipeline()
        if clear:
            pipe.delete(k.dupefilter)
        pipe.delete(k.round)
        pipe.hset(k.round, mapping={"id": self.round_id, "started_at": self._started, "sources": ids,
                                    "args": json.dumps(args), "leader": self.id})
        pipe.execute()

    # -- heartbeat and idle close --------------------------------------------------------------

    def spider_opened(self, spider) -> None:
        self._loop.start(self.tick_seconds, now=False)

    def _heartbeat(self) -> None:
        """Thread: `alive` while the process lives, `busy` as the reactor last saw it.

        Off the reactor on purpose: a reactor blocked for a while (the extraction pool's start-up,
        a pathological page) must not make this worker look dead to the writer, or idle to the
        other workers (it stays busy as long as it was busy when the reactor last looked).
        """
        while not self._stop.wait(self.tick_seconds):
            try:
                self._beat()
            except redis.RedisError as exc:
                self.redis_down(exc)

    def _beat(self) -> None:
        now = redis_ms(self.server)
        pipe = self.server.pipeline()
        pipe.zadd(self.keys.alive, {self.id: now + self.alive_ms})
        if self._busy:
            pipe.zadd(self.keys.busy, {self.id: now + self.busy_ms})
        else:
            pipe.zrem(self.keys.busy, self.id)
        pipe.execute()

    def tick(self) -> None:
        """Reactor: note whether this worker has work, pull what others queued, close when all is quiet."""
        engine = self.crawler.engine
        if self.closing or self.round_id is None or engine is None or engine.spider is None:
            return
        try:
            idle = engine.spider_is_idle()  # nothing in flight here, start() done, frontier empty
            if self._busy == idle:
                self._busy = not idle
                self._beat()
            now = redis_ms(self.server)
            others_busy = live_members(self.server, self.keys.busy, now) - {self.id}
            frontier = self.server.zcard(self.keys.requests)
        except redis.RedisError as exc:
            self.redis_down(exc)
            self._quiet_since = None
            if time.monotonic() - self._unreachable_since >= self.alive_ms / 1000:
                self.closing = True  # the others count this worker as gone by now: stop
                logger.error("Redis unreachable for %.0f s: closing", self.alive_ms / 1000)
                deferred_from_coro(engine.close_spider_async(reason="redis_unreachable"))
            return
        except RuntimeError:
            return  # engine slot gone: closing
        self._unreachable_since = None
        if frontier:
            self._wake(engine)
        if idle and not others_busy and not frontier:
            self._quiet_since = self._quiet_since or time.monotonic()
            if time.monotonic() - self._quiet_since >= self.idle_close:
                self.closing = True
                logger.info("Frontier empty and no worker busy for %.0f s: closing", self.idle_close)
                deferred_from_coro(engine.close_spider_async(reason="finished"))
        else:
            self._quiet_since = None

    def redis_down(self, exc: Exception) -> None:
        """Note a failed Redis call (logged at most every 10 s)."""
        now = time.monotonic()
        self._unreachable_since = self._unreachable_since or now
        if now - self._last_complaint >= 10:
            self._last_complaint = now
            logger.error("Redis unreachable (%s): frontier paused, records not queued", exc)

    @staticmethod
    def _wake(engine) -> None:
        """Pull requests other workers queued now, not at the engine's next 5-second heartbeat."""
        slot = getattr(engine, "_slot", None)  # no public API for this in Scrapy 2.19
        if slot is not None and not engine.needs_backout():
            slot.nextcall.schedule()

    def spider_idle(self, spider) -> None:
        if not self.closing:
            raise DontCloseSpider  # other workers may still fill the frontier; tick() decides

    def spider_closed(self, spider, reason: str) -> None:
        """After the last item: report this worker's per-outlet counts, leave the crawl."""
        if self._loop.running:
            self._loop.stop()
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)  # no heartbeat may land after the entries are removed below
        if self.round_id is None:
            return
        counts = per_outlet_counts(self.stats.get_stats())
        report = {"reason": reason, "counts": counts, "pushed": self.pushed}
        try:
            pipe = self.server.pipeline()
            pipe.rpush(self.keys.items, dumps({"type": "close", "round": self.round_id, "worker": self.id, **report}))
            pipe.hset(self.keys.round_closed(self.round_id), self.id, dumps(report))
            pipe.expire(self.keys.round_closed(self.round_id), ROUND_KEYS_TTL)
            pipe.zrem(self.keys.alive, self.id)
            pipe.zrem(self.keys.busy, self.id)
            pipe.execute()
        except redis.RedisError as exc:
            logger.error("Could not report the close of worker %s to Redis: %s", self.id, exc)
            return
        spider.logger.info("Scale-out worker %s left round %s (%s): %d records queued for the writer",
                           self.id, self.round_id, reason, self.pushed)

    # -- records for the writer ----------------------------------------------------------------

    def push(self, message: dict[str, Any]) -> None:
        message.update(round=self.round_id, worker=self.id)
        self.server.rpush(self.keys.items, dumps(message))
        self.pushed += 1

    def alias_found(self, source: str, url: str) -> None:
        """Another form of an article URL (crawler.signals.alias_found, or dropped by the shared
        dupefilter): the writer adds it to the article's URLs, as the single-process crawl does."""
        try:
            self.push({"type": "alias", "source": source, "url": url})
        except redis.RedisError as exc:  # only a lookup by this form is lost
            self.redis_down(exc)
            return
        self.stats.inc_value("scaleout/aliases_queued")


def _release(server: redis.Redis, key: str, token: str) -> None:
    """Delete a lock only if we still hold it."""
    server.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
                1, key, token)


# -- scheduler -------------------------------------------------------------------------------------


class CanonicalDupeFilter(RFPDupeFilter):
    """scrapy-redis's shared dupefilter, with article requests keyed by their canonical URL.

    One worker may read an outlet's feed (`…/story/?utm_source=rss`) while another reads its sitemap
    (`…/story/`): both forms are the same article, and the single-process spider requests it once
    (the other form is kept as an alias). Keyed by `canonical_url`, the shared set drops the second
    form whichever worker finds it, and RedisScheduler sends a dropped form that is not the canonical
    URL itself to the writer as an alias (`RedisWorker.alias_found`), so `article_urls` holds both, as
    in the single-process crawl. Discovery requests keep scrapy-redis's fingerprint.
    """

    sources: Mapping[str, Any] = {}

    @classmethod
    def from_spider(cls, spider):
        dupefilter = super().from_spider(spider)
        dupefilter.sources = getattr(spider, "by_id", {})
        return dupefilter

    def request_fingerprint(self, request):
        meta = request.meta
        if meta.get("kind") != "article" or request.method != "GET" or request.body:
            return super().request_fingerprint(request)
        url = canonical_url(request.url, source=self.sources.get(meta.get("source")))
        return hashlib.sha1(f"article {url}".encode("utf-8")).hexdigest()


class RedisScheduler(Scheduler):
    """scrapy-redis's Scheduler (shared priority queue + dupefilter), built from the crawler.

    Differences from scrapy_redis.scheduler.Scheduler: stats calls without the `spider` argument
    (deprecated in Scrapy 2.19: the only deprecation warnings scrapy-redis 0.9.1 printed here),
    the frontier always persists (a round ends empty; a killed crawl resumes), opening joins the
    round, and an article request another worker already queued this round is not counted twice
    as `discovered`.
    """

    @classmethod
    def from_crawler(cls, crawler) -> "RedisScheduler":
        settings = crawler.settings
        server = redis_from_settings(settings)
        server.ping()
        scheduler = cls(
            server=server,
            persist=True,
            queue_key=settings.get("SCHEDULER_QUEUE_KEY"),
            queue_cls=settings.get("SCHEDULER_QUEUE_CLASS"),
            dupefilter_key=settings.get("SCHEDULER_DUPEFILTER_KEY"),
            dupefilter_cls=settings.get("DUPEFILTER_CLASS"),
        )
        scheduler.crawler = crawler
        scheduler.stats = crawler.stats
        return scheduler

    def open(self, spider):
        super().open(spider)
        return deferred_from_coro(RedisWorker.of(self.crawler).join_round(spider))

    def enqueue_request(self, request: Request) -> bool:
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                self.stats.inc_value("scheduler/dupefiltered/redis")
                meta = request.meta
                if meta.get("kind") == "article" and not meta.get("redirect_urls") and meta.get("source"):
                    self.stats.inc_value(f"akhbar/{meta['source']}/discovered", -1)
                    source = getattr(self.df, "sources", {}).get(meta["source"])
                    if source is not None and canonical_url(request.url, source=source) != request.url:
                        RedisWorker.of(self.crawler).alias_found(meta["source"], request.url)
                return False
            self.queue.push(request)
        except redis.RedisError as exc:  # dropped: its listing is read again next round
            RedisWorker.of(self.crawler).redis_down(exc)
            self.stats.inc_value("scheduler/lost/redis")
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        try:
            request = self.queue.pop(0)
        except redis.RedisError as exc:
            RedisWorker.of(self.crawler).redis_down(exc)
            return None
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        try:
            return super().has_pending_requests()
        except redis.RedisError as exc:
            RedisWorker.of(self.crawler).redis_down(exc)
            return False


# -- item pipeline ---------------------------------------------------------------------------------


class RedisItemPipeline:
    """In place of ArchivePipeline: queue pages (with their extracted record) and errors for the writer."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.worker = RedisWorker.of(crawler)

    @classmethod
    def from_crawler(cls, crawler) -> "RedisItemPipeline":
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticlePage):
            message = page_message(item)
            if item.error_kind:
                self._warn(item.source, item.final_url, item.error_kind, item.error_message or "")
        elif isinstance(item, CrawlError):
            message = {"type": "error", "source": item.source, "url": item.url, "kind": item.kind,
                       "message": item.message}
            self._warn(item.source, item.url, item.kind, item.message)
        else:
            return item
        try:
            self.worker.push(message)
        except redis.RedisError as exc:  # not archived: the page is not known, so the next round fetches it
            self.worker.redis_down(exc)
            self.crawler.stats.inc_value("scaleout/records_lost")
            return item
        self.crawler.stats.inc_value("scaleout/records_queued")
        return item

    def _warn(self, source: str | None, url: str | None, kind: str, message: str) -> None:
        self.crawler.stats.inc_value(f"akhbar/{source}/failed")
        self.crawler.spider.logger.warning("[%s] %s %s: %s", source, kind, url, message)


# -- downloader middlewares ------------------------------------------------------------------------


class RedisKnownMiddleware:
    """SkipArchivedMiddleware for workers: the archive's URLs come from the writer's Redis hash.

    Same decision as the single-process middleware: an article URL (as found, or canonical) the
    archive holds is not fetched, unless its feed/sitemap date is newer than the stored fetch,
    then it is fetched again as a refetch. The hash maps 12 bytes of sha1(url) to the article's
    fetched_at, so workers hold no URL set in memory and never open SQLite.
    """

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        worker = RedisWorker.of(crawler)
        self.server, self.key = worker.server, worker.keys.known

    @classmethod
    def from_crawler(cls, crawler) -> "RedisKnownMiddleware":
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if request.meta.get("kind") != "article" or request.meta.get("refetch"):
            return None
        spider = self.crawler.spider
        source = spider.by_id.get(request.meta.get("source")) if spider else None
        candidates = list(dict.fromkeys((request.url, canonical_url(request.url, source=source))))
        try:
            values = self.server.hmget(self.key, [url_digest(u) for u in candidates])
        except redis.RedisError as exc:  # fetch it: at worst the writer finds a duplicate
            RedisWorker.of(self.crawler).redis_down(exc)
            return None
        fetched_epoch = next((int(v) for v in values if v is not None), None)
        if fetched_epoch is None:
            if request.meta.get("recheck"):  # (see SkipArchivedMiddleware) the first request fetches it
                raise IgnoreRequest(f"requested already in this run: {request.url}")
            return None
        modified = epoch_seconds(request.meta.get("hints", {}).get("modified"))
        if modified is not None and modified > fetched_epoch:
            request.meta["refetch"] = True  # the listing says it changed: fetch again, update the row
            self.crawler.stats.inc_value("akhbar/refetch_modified")
            return None
        self.crawler.stats.inc_value("akhbar/skipped_archived")
        raise IgnoreRequest(f"already archived: {request.url}")


class RedisBudgetMiddleware:
    """OutletBudgetMiddleware shared by all workers: the per-outlet budget counts in Redis, per round."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.default = crawler.settings.getint("AKHBAR_MAX_REQUESTS", 0)
        self.worker = RedisWorker.of(crawler)

    @classmethod
    def from_crawler(cls, crawler) -> "RedisBudgetMiddleware":
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        outlet = request.meta.get("source")
        spider = self.crawler.spider
        if not outlet or spider is None or outlet not in getattr(spider, "by_id", {}) or request.meta.get("kind") == "robots":
            return None  # robots.txt is not counted (as in OutletBudgetMiddleware)
        budget = spider.by_id[outlet].max_requests or self.default
        if not budget:
            return None
        key = self.worker.keys.round_budget(self.worker.round_id)
        try:
            if request.meta.get("retry_times"):
                used = int(self.server_get(key, outlet))  # retries do not spend, but stop once it is spent
            else:
                used = self.worker.server.hincrby(key, outlet, 1) - 1
                self.worker.server.expire(key, ROUND_KEYS_TTL)
        except redis.RedisError as exc:
            self.worker.redis_down(exc)
            return None
        if used >= budget:
            self.crawler.stats.inc_value(f"akhbar/{outlet}/over_budget")
            raise IgnoreRequest(f"request budget of {budget} spent for {outlet}")
        return None

    def server_get(self, key: str, field: str) -> int:
        value = self.worker.server.hget(key, field)
        return int(value) if value else 0


class PoliteHTTPDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler that first honours the host's pause and takes its politeness token,
    both shared by all workers.

    Each worker's Scrapy still applies its own DOWNLOAD_DELAY, AutoThrottle and
    CONCURRENT_REQUESTS_PER_DOMAIN; those are per worker, so without this N workers would hit a
    host N times as often. Here every request, right before it is sent (after the worker's own
    slot delay, so nothing reorders it afterwards):

    1. waits while `pause:<host>` exists. A worker that got a 429/503 pauses its own download slot
       (RetryAfterMiddleware) and, through `crawler.signals.host_paused`, sets that key for the same
       time (Retry-After, or the backoff), never shortening a longer pause another worker set. Without
       it the other workers went on hitting a host that had asked them all to wait.
    2. takes `SET rate:<host> NX PX d` with d = max(DOWNLOAD_DELAY, this worker's current slot delay):
       AutoThrottle's slow-down seen by one worker holds the others back too. This step is off when
       DOWNLOAD_DELAY is 0 or AKHBAR_REDIS_RATE_LIMIT is false.

    Concurrency per host stays per worker: up to CONCURRENT_REQUESTS_PER_DOMAIN × workers requests may
    be open at once on a slow host. With Redis down, each worker's own delays and pauses still apply.
    """

    # Set the pause unless a longer one is already there (one round trip, atomic).
    _PAUSE = "local left = redis.call('PTTL', KEYS[1]) if left < tonumber(ARGV[1]) then " \
             "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1]) end return left"

    def __init__(self, crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.crawler = crawler
        self.delay = settings.getfloat("DOWNLOAD_DELAY", 0.0)
        self.limit = self.delay > 0 and settings.getbool("AKHBAR_REDIS_RATE_LIMIT", True)
        self.worker = RedisWorker.of(crawler)
        crawler.signals.connect(self.host_paused, signal=akhbar_signals.host_paused)

    def host_paused(self, request: Request, seconds: float) -> None:
        """Share a pause this worker's RetryAfterMiddleware started (crawler.signals.host_paused)."""
        key = self.worker.keys.pause(urlsplit(request.url).hostname or "")
        try:
            self.worker.server.eval(self._PAUSE, 1, key, max(1, int(seconds * 1000)), self.worker.id)
        except redis.RedisError as exc:
            self.worker.redis_down(exc)

    async def download_request(self, request: Request):
        try:
            await self._paused(request)
            if self.limit:
                await self._token(request)
        except redis.RedisError as exc:  # Redis down: this worker's own DOWNLOAD_DELAY still applies
            self.worker.redis_down(exc)
        return await super().download_request(request)

    async def _paused(self, request: Request) -> None:
        """Wait out the host's shared pause, if any (another worker got a 429/503 from it)."""
        key = self.worker.keys.pause(urlsplit(request.url).hostname or "")
        waited = 0.0
        while (left_ms := self.worker.server.pttl(key)) > 0:
            pause = left_ms / 1000 + random.random() * 0.005
            waited += pause
            await asyncio.sleep(pause)
        if waited:
            self.crawler.stats.inc_value("scaleout/pause_wait_ms", int(waited * 1000))

    async def _token(self, request: Request) -> None:
        server = self.worker.server
        key = self.worker.keys.rate(urlsplit(request.url).hostname or "")
        waited = 0.0
        while True:
            hold = max(self.delay, self._slot_delay(request))
            if server.set(key, self.worker.id, nx=True, px=max(1, int(hold * 1000))):
                break
            left_ms = server.pttl(key)
            pause = (left_ms if left_ms > 0 else 1) / 1000 + random.random() * 0.005
            waited += pause
            await asyncio.sleep(pause)
        if waited:
            self.crawler.stats.inc_value("scaleout/rate_limit_wait_ms", int(waited * 1000))

    def _slot_delay(self, request: Request) -> float:
        engine = self.crawler.engine
        if engine is None:
            return 0.0
        downloader = engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        return slot.delay if slot is not None else 0.0


__all__ = [
    "Keys", "ScaleOut", "RedisWorker", "RedisScheduler", "RedisItemPipeline", "RedisKnownMiddleware",
    "RedisBudgetMiddleware", "PoliteHTTPDownloadHandler", "RoundMismatch", "page_message", "page_from_message",
    "url_digest", "epoch_seconds", "per_outlet_counts", "redis_from_settings", "redis_ms", "live_members",
]

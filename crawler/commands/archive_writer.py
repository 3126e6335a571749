"""`scrapy archive-writer`: the single process that writes the archive in scale-out mode.

    REDIS_URL=redis://10.0.0.5:6379/0 scrapy archive-writer -s ARCHIVE_DB=archive.db
        [--until-idle SECONDS] [--batch 200] [--seeds seeds/sources.yml]

Workers (`scrapy crawl news` with REDIS_URL) fetch and extract, and queue JSON records in
Redis (`news:items`). The writer drains that list in batches: it reads a batch with LRANGE,
stores it in one SQLite transaction through the same code as the single-process crawl
(Archive.add_capture / add_error, pipelines.ingest.ingest), commits, and only then removes the
batch with LTRIM. Killing it at any moment loses nothing; a batch that was committed but not
yet trimmed is read again on restart and stored once, because every record is idempotent:

  page    skipped when its capture (final_url, body sha1, fetched_at) is already stored: the
          capture, the article, its URLs and the run tallies were committed together
  error   skipped when the run already has the same (outlet, url, kind, message) error
  alias   another form of an article URL that a worker did not request (`…?utm_source=rss` when
          `…/` was queued): added to the article's `article_urls` (INSERT OR IGNORE), or, when the
          article is not stored yet, parked in `<prefix>:round:<id>:aliases` under its canonical URL
          and added with the article's page record; the round's parked forms go when its run closes
  open / close    only (re)compute the round's run record

After each commit it adds the committed articles' URLs to `news:known` (the workers' view of
the archive), and it rebuilds that hash from SQLite at start when Redis lost it.

Runs: one `runs` row per crawl round (`args.round`), opened at the round's first record,
counted as records arrive (stored/updated/duplicates in `run_outlets`, in the same transaction),
and closed once every worker of the round has reported its close (or stopped heart-beating:
then the run is `interrupted`). `--until-idle S` exits once the queue is empty and no worker
has been alive for S seconds (at least 60 s when no record or worker was seen yet); without it the writer runs until SIGTERM/SIGINT (finishing its
batch first).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any, Mapping

import redis
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError
from scrapy.utils.log import configure_logging

from crawler.extensions import ArchiveBusy, ArchiveLock
from crawler.scaleout import (
    ROUND_KEYS_TTL,
    Keys,
    epoch_seconds,
    live_members,
    page_from_message,
    prefix_of,
    redis_from_settings,
    redis_ms,
    redis_url,
    url_digest,
)
from pipelines.dedup import StoryIndex
from pipelines.ingest import attach_alias, canonical_keys, identity_urls, ingest
from pipelines.registry import RegistryError, Source, load_sources
from pipelines.store import Archive, Capture, last_finished_runs

logger = logging.getLogger("akhbar.archive_writer")

OUTCOME_FIELD = {"new": "stored", "updated": "updated", "duplicate": "duplicates"}
SYSTEMIC = (sqlite3.OperationalError, redis.RedisError)  # not the record's fault: stop, keep the batch


class WriterBusy(RuntimeError):
    """Another writer drains this queue."""


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Store what scale-out workers queued in Redis: the archive's single writer"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--until-idle", type=float, default=0.0, metavar="SECONDS",
                            help="exit once the queue is empty and no worker was alive for SECONDS (default: run on)")
        parser.add_argument("--batch", type=int, default=200, metavar="N", help="records per transaction (200)")
        parser.add_argument("--seeds", default=None, metavar="FILE",
                            help="outlet registry, the workers' one (default seeds/sources.yml)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        configure_logging(self.settings)
        if not redis_url(self.settings):
            raise UsageError("REDIS_URL is not set (environment variable or -s REDIS_URL=redis://host:6379/0)",
                             print_help=False)
        try:
            writer = ArchiveWriter(self.settings, seeds=opts.seeds, batch=max(1, opts.batch))
        except (ArchiveBusy, WriterBusy, RegistryError) as exc:
            logger.error("%s", exc)
            self.exitcode = 2
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: writer.request_stop())
        self.exitcode = writer.run(until_idle=opts.until_idle)


# Scrapy names a command after the module that defines its class, and a module name cannot hold
# "-": crawler/commands/archive-writer.py re-exports this class, which names itself after it, so
# the command is `scrapy archive-writer` (listed once), implemented here.
Command.__module__ = "crawler.commands.archive-writer"


class ArchiveWriter:
    """Drain `<prefix>:items` into the archive; see the module docstring for the guarantees."""

    LOCK_TTL_MS = 30_000
    POLL_SECONDS = 0.2

    def __init__(self, settings, *, seeds: str | None = None, batch: int = 200) -> None:
        self.server = redis_from_settings(settings)
        self.server.ping()
        self.keys = Keys(prefix_of(settings))
        self.path = settings.get("ARCHIVE_DB")
        self.batch = batch
        self.sources: dict[str, Source] = {s.id: s for s in load_sources(seeds)}
        self.counts: Counter[str] = Counter()
        self.stopping = False
        self.seen_work = False
        self.lock = ArchiveLock(Path(self.path + ".lock"))  # no single-process crawl writes meanwhile
        self.me = json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                              "archive": str(Path(self.path).resolve())})
        try:
            self._take_writer_lock()
            self.archive = Archive(self.path)
        except BaseException:
            self.lock.release()
            raise
        self.archive.upsert_sources(self.sources.values())
        self.stories = StoryIndex(self.archive.conn)
        self.runs: dict[str, int] = {}  # round id → runs.id
        self.open_rounds: set[str] = set()
        self.closes_applied: dict[str, set[str]] = {}  # round id → workers whose close record was applied
        self.unparked: list[tuple[str, list[str]]] = []  # (aliases key, canonical URLs) to drop once committed
        self._adopt_open_rounds()
        self.ensure_known()
        self.publish_last_finished()

    # -- locks ------------------------------------------------------------------------------

    def _take_writer_lock(self) -> None:
        if self.server.set(self.keys.writer, self.me, nx=True, px=self.LOCK_TTL_MS):
            return
        raw = self.server.get(self.keys.writer)
        holder = json.loads(raw) if raw else {}
        if holder.get("host") == socket.gethostname() and not _pid_alive(holder.get("pid")):
            self.server.set(self.keys.writer, self.me, px=self.LOCK_TTL_MS)  # its process is gone (killed)
            return
        raise WriterBusy(f"another archive writer holds {self.keys.writer}: {holder or 'unknown'}")

    def _refresh_writer_lock(self) -> None:
        ok = self.server.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end"
            " return 0", 1, self.keys.writer, self.me, self.LOCK_TTL_MS)
        if not ok:
            raise WriterBusy(f"lost the writer lock {self.keys.writer} (expired while stalled?)")

    def request_stop(self) -> None:
        if not self.stopping:
            logger.info("Stopping after the current batch")
        self.stopping = True

    # -- start-up ---------------------------------------------------------------------------

    def _adopt_open_rounds(self) -> None:
        """Runs of rounds still open belong to this writer now (so `mark_interrupted` leaves them alone)."""
        rows = self.archive.conn.execute(
            "SELECT id, json_extract(args, '$.round') FROM runs"
            " WHERE status = 'running' AND json_extract(args, '$.round') IS NOT NULL"
        ).fetchall()
        for run_id, round_id in rows:
            self.runs[round_id] = run_id
            self.open_rounds.add(round_id)
            self.archive.db["runs"].update(run_id, {"host": socket.gethostname(), "pid": os.getpid()})

    def ensure_known(self) -> None:
        """Rebuild the workers' known-URL hash from SQLite when Redis holds fewer entries (lost, flushed)."""
        total = self.archive.conn.execute("SELECT COUNT(*) FROM article_urls").fetchone()[0]
        if self.server.hlen(self.keys.known) >= total:
            return
        started = time.monotonic()
        cursor = self.archive.conn.execute(
            "SELECT u.url, a.fetched_at FROM article_urls u JOIN articles a ON a.id = u.article_id")
        loaded = 0
        while rows := cursor.fetchmany(10_000):
            mapping = {url_digest(url): epoch_seconds(fetched) or 0 for url, fetched in rows}
            self.server.hset(self.keys.known, mapping=mapping)
            loaded += len(rows)
        logger.info("Loaded %d archived URLs into %s in %.1f s", loaded, self.keys.known, time.monotonic() - started)

    def publish_last_finished(self) -> None:
        """Each outlet's last finished run start, for the workers' sitemap-lastmod skipping."""
        found = last_finished_runs(self.path)
        pipe = self.server.pipeline()
        pipe.delete(self.keys.last_finished)
        if found:
            pipe.hset(self.keys.last_finished, mapping={k: v.isoformat() for k, v in found.items()})
        pipe.execute()

    # -- main loop --------------------------------------------------------------------------

    def run(self, until_idle: float = 0.0) -> int:
        logger.info("Archive writer on %s draining %s (batch %d)", self.path, self.keys.items, self.batch)
        idle_since: float | None = None
        last_check = last_report = time.monotonic()
        try:
            while not self.stopping:
                self._refresh_writer_lock()
                raw = self.server.lrange(self.keys.items, 0, self.batch - 1)
                now = time.monotonic()
                if raw:
                    self.apply_batch(raw)
                    idle_since = None
                    self.seen_work = True
                else:
                    if now - last_check >= 1.0:
                        self.check_rounds()
                        last_check = now
                    if until_idle:
                        if self._crawl_gone():
                            idle_since = idle_since or now
                            # before any work showed up, give workers time to start
                            if now - idle_since >= (until_idle if self.seen_work else max(until_idle, 60.0)):
                                break
                        else:
                            idle_since = None
                            self.seen_work = True
                    time.sleep(self.POLL_SECONDS)
                if now - last_report >= 10:
                    self._report()
                    last_report = now
            self.check_rounds()
        finally:
            self.close()
        self._report()
        return 0

    def _crawl_gone(self) -> bool:
        return self.server.llen(self.keys.items) == 0 and not live_members(
            self.server, self.keys.alive, redis_ms(self.server))

    def _report(self) -> None:
        c = self.counts
        logger.info("records %d: %d stored, %d updated, %d duplicates, %d errors, %d replayed (already stored);"
                    " queue %d", c["records"], c["stored"], c["updated"], c["duplicates"], c["errors"],
                    c["replayed"], self.server.llen(self.keys.items))

    def close(self) -> None:
        try:
            self.archive.close()
        finally:
            try:
                self.server.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"
                                 " return 0", 1, self.keys.writer, self.me)
            except redis.RedisError:
                pass
            self.lock.release()

    # -- one batch --------------------------------------------------------------------------

    def apply_batch(self, raw: list[bytes]) -> None:
        messages: list[dict[str, Any] | None] = []
        for data in raw:
            try:
                message = json.loads(data)
                messages.append(message if isinstance(message, dict) else None)
            except ValueError:
                messages.append(None)
        for message in messages:  # run rows first: start_run commits on its own
            if message and message.get("round"):
                self.run_for(message)
        known: dict[bytes, int] = {}
        touched: set[str] = set()
        conn = self.archive.conn
        try:
            for data, message in zip(raw, messages):
                self.counts["records"] += 1
                if message is None:
                    self._error(None, None, None, "writer_bad_record", f"not a JSON object: {data[:200]!r}")
                    continue
                round_id = message.get("round")
                if message.get("type") in ("open", "close"):
                    touched.add(round_id)
                    if message.get("type") == "close":  # every record of that worker is before it
                        self.closes_applied.setdefault(round_id, set()).add(message.get("worker"))
                    continue
                self._apply_one(message, self.runs.get(round_id), known)
            self.archive.commit()
        except BaseException:
            self.unparked.clear()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        for key, fields in self.unparked:  # their forms are in SQLite now
            self.server.hdel(key, *fields)
        self.unparked.clear()
        if known:  # the workers' view of the archive: only what is committed
            self.server.hset(self.keys.known, mapping=known)
        self.server.ltrim(self.keys.items, len(raw), -1)  # only now: the batch is in SQLite
        if touched:
            self.check_rounds(touched)

    def _apply_one(self, message: Mapping[str, Any], run_id: int | None, known: dict[bytes, int]) -> None:
        found: dict[bytes, int] = {}
        try:
            with self.archive.item():  # all of this record's writes, or none
                if message.get("type") == "page":
                    self._page(message, run_id, found)
                elif message.get("type") == "alias":
                    self._alias(message, found)
                elif message.get("type") == "error":
                    self._error(run_id, message.get("source"), message.get("url"), message.get("kind") or "unknown",
                                str(message.get("message") or ""))
                else:
                    raise ValueError(f"unknown record type {message.get('type')!r}")
        except SYSTEMIC:
            raise  # not this record's fault: the batch stays in Redis
        except Exception as exc:  # a broken record or a bug: recorded as ArchivePipeline does, the batch goes on
            url = message.get("final_url") or message.get("url")
            logger.exception("[%s] storing %s failed", message.get("source"), url)
            self._error(run_id, message.get("source"), url, "store", f"{type(exc).__name__}: {exc}")
            return
        known.update(found)

    def _page(self, message: Mapping[str, Any], run_id: int | None, known: dict[bytes, int]) -> None:
        page = page_from_message(message)
        source = self.sources.get(page.source)
        sha1 = page.packed[1]
        if self.archive.find_capture(page.final_url, sha1, page.fetched_at) is not None:
            self.counts["replayed"] += 1  # committed before a crash, not yet trimmed: stored already
            if page.record and not page.error_kind and source:
                _, urls = identity_urls(page.final_url, page.urls, page.record.get("canonical_url"), source)
                article_id = next((a for a in map(self.archive.article_for_url, urls) if a), None)
                if article_id:
                    self._remember(article_id, urls, known)
            return
        capture_id = self.archive.add_capture(
            Capture(url=page.url, final_url=page.final_url, status=page.status, headers=page.headers,
                    body=page.body, fetched_at=page.fetched_at, source=page.source, hints=page.hints,
                    packed=page.packed),
            run_id,
        )
        if page.error_kind:
            self._error(run_id, page.source, page.final_url, page.error_kind, page.error_message or "")
            return
        if source is None:
            self._error(run_id, page.source, page.final_url, "unknown_source",
                        f"outlet {page.source!r} is not in the writer's registry; capture {capture_id} kept")
            return
        if not page.record:
            raise ValueError("page record without an extracted record or an error")
        outcome = ingest(
            self.archive, self.stories, source=source, final_url=page.final_url, found_urls=page.urls,
            record=page.record, capture_id=capture_id, fetched_at=page.fetched_at, refetch=page.refetch,
        )
        field = OUTCOME_FIELD[outcome.status]
        if run_id is not None:
            self._tally(run_id, source.id, field)
        self._add_parked(message.get("round"), source, page.urls, outcome.article_id)
        urls = [row[0] for row in self.archive.conn.execute(
            "SELECT url FROM article_urls WHERE article_id = ?", (outcome.article_id,))]
        self._remember(outcome.article_id, urls, known)
        self.counts[field] += 1

    def _alias(self, message: Mapping[str, Any], known: dict[bytes, int]) -> None:
        """Another form of an article URL: onto the article if it is stored, else parked until it is."""
        source, url = self.sources.get(message.get("source")), message.get("url")
        if source is None or not isinstance(url, str) or not url:
            raise ValueError(f"alias record without a known outlet and a URL: {message.get('source')!r}, {url!r}")
        key, article_id = attach_alias(self.archive, source, url)
        if article_id is not None:
            self._remember(article_id, [url], known)
            return
        parked = self.keys.round_aliases(str(message.get("round")))
        forms = set(filter(None, (self.server.hget(parked, key) or b"").decode("utf-8").split("\n")))
        self.server.hset(parked, key, "\n".join(sorted(forms | {url})))
        self.server.expire(parked, ROUND_KEYS_TTL)

    def _add_parked(self, round_id: str | None, source: Source, found: list[str], article_id: int) -> None:
        """The forms parked for this article's canonical URLs (other workers found them first)."""
        parked = self.keys.round_aliases(str(round_id))
        keys = canonical_keys(found, source)
        forms = [url for value in self.server.hmget(parked, keys) if value
                 for url in value.decode("utf-8").split("\n") if url]
        if forms:
            self.archive.add_urls(article_id, source.id, forms)
            self.unparked.append((parked, keys))

    def _remember(self, article_id: int, urls: list[str], known: dict[bytes, int]) -> None:
        row = self.archive.conn.execute("SELECT fetched_at FROM articles WHERE id = ?", (article_id,)).fetchone()
        fetched = epoch_seconds(row[0]) if row else None
        for url in urls:
            known[url_digest(url)] = fetched or 0

    def _tally(self, run_id: int, source: str, field: str) -> None:
        """Count an outcome in run_outlets inside the record's transaction: a replay cannot count it twice."""
        conn = self.archive.conn
        conn.execute("INSERT OR IGNORE INTO run_outlets (run_id, source) VALUES (?, ?)", (run_id, source))
        conn.execute(f"UPDATE run_outlets SET {field} = {field} + 1 WHERE run_id = ? AND source = ?",
                     (run_id, source))

    def _error(self, run_id: int | None, source: str | None, url: str | None, kind: str, message: str) -> None:
        """An `errors` row, unless this run already has the same one (a replayed record)."""
        message = message[:2000]
        seen = self.archive.conn.execute(
            "SELECT 1 FROM errors WHERE run_id IS ? AND source IS ? AND url IS ? AND kind = ? AND message = ? LIMIT 1",
            (run_id, source, url, kind, message),
        ).fetchone()
        if seen:
            self.counts["replayed"] += 1
            return
        self.archive.add_error(run_id, source, url, kind, message)
        self.counts["errors"] += 1

    # -- rounds and runs --------------------------------------------------------------------

    def run_for(self, message: Mapping[str, Any]) -> int:
        """The `runs` row of a message's round, created at its first record (idempotent)."""
        round_id = message["round"]
        if round_id in self.runs:
            return self.runs[round_id]
        row = self.archive.conn.execute(
            "SELECT id FROM runs WHERE json_extract(args, '$.round') = ? ORDER BY id LIMIT 1", (round_id,)
        ).fetchone()
        if row:
            self.runs[round_id] = row[0]
            return row[0]
        info = dict(message) if message.get("type") == "open" else self._round_info(round_id)
        args = {**(info.get("args") or {}), "round": round_id, "mode": "scale-out"}
        run_id = self.archive.start_run(info.get("sources") or [], args)
        if info.get("round_started"):  # when the round began, not when its first record got here
            self.archive.db["runs"].update(run_id, {"started_at": info["round_started"]})
        self.runs[round_id] = run_id
        self.open_rounds.add(round_id)
        logger.info("Round %s → run %d", round_id, run_id)
        return run_id

    def _round_info(self, round_id: str) -> dict[str, Any]:
        current = {k.decode(): v.decode() for k, v in self.server.hgetall(self.keys.round).items()}
        if current.get("id") != round_id:
            return {}
        return {"round_started": current.get("started_at"),
                "sources": [s for s in current.get("sources", "").split(",") if s],
                "args": json.loads(current.get("args") or "{}")}

    def check_rounds(self, rounds: set[str] | None = None) -> None:
        """Close the run of every round whose workers all reported (or died); re-closing is harmless."""
        now = redis_ms(self.server)
        alive = live_members(self.server, self.keys.alive, now)
        queue_empty = self.server.llen(self.keys.items) == 0
        for round_id in sorted((rounds or set()) | self.open_rounds):
            if not round_id:
                continue
            run_id = self.runs.get(round_id)
            if run_id is None:
                continue
            workers = {w.decode() for w in self.server.smembers(self.keys.round_workers(round_id))}
            closed = {w.decode(): json.loads(r) for w, r in self.server.hgetall(self.keys.round_closed(round_id)).items()}
            if any(w not in closed and w in alive for w in workers):
                continue  # still crawling
            applied = self.closes_applied.get(round_id, set())
            if not queue_empty and any(w in closed and w not in applied for w in workers):
                continue  # a worker's close record, and so maybe some of its records, still queued
            lost = sorted(w for w in workers if w not in closed)
            per_outlet = self._round_counts(run_id, closed.values())
            reasons = {c.get("reason") for c in closed.values()}
            if not workers:
                status, reason = "interrupted", "round state lost in Redis"
            elif lost:
                status, reason = "interrupted", f"{len(lost)} of {len(workers)} workers stopped without closing"
            elif reasons == {"finished"}:
                status, reason = "finished", "finished"
            elif "shutdown" in reasons:
                status, reason = "interrupted", "shutdown"
            else:
                status, reason = "failed", ",".join(sorted(str(r) for r in reasons))
            self.archive.finish_run(run_id, status, reason, per_outlet)
            self.server.delete(self.keys.round_aliases(round_id))  # forms of articles never stored
            if round_id in self.open_rounds:
                logger.info("Round %s: run %d %s (%s)", round_id, run_id, status, reason)
            self.open_rounds.discard(round_id)
            if status == "finished":
                self.publish_last_finished()

    def _round_counts(self, run_id: int, reports) -> dict[str, dict[str, int]]:
        """Workers' counts summed, with the writer's own stored/updated/duplicates tallies."""
        per_outlet: dict[str, Counter[str]] = {}
        for report in reports:
            for source, counts in (report.get("counts") or {}).items():
                per_outlet.setdefault(source, Counter()).update(
                    {k: int(v) for k, v in counts.items() if isinstance(v, (int, float))})
        for source, stored, updated, duplicates in self.archive.conn.execute(
            "SELECT source, stored, updated, duplicates FROM run_outlets WHERE run_id = ?", (run_id,)
        ):
            counts = per_outlet.setdefault(source, Counter())
            counts["stored"], counts["updated"], counts["duplicates"] = stored or 0, updated or 0, duplicates or 0
        return {source: dict(counts) for source, counts in per_outlet.items()}


def _pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, TypeError, ValueError):
        return False
    except PermissionError:
        return True
    return True

"""Rebuild article fields from stored captures with the current extractor, without the network.

Every article keeps the raw response it was extracted from (`articles.capture_id` → `captures`),
so an improved extractor, date parser or search normalizer can be applied to the whole archive
offline. Each capture goes through `pipelines.process.process_page` with exactly the inputs the
crawl gave it (final URL, response headers, the outlet's `Source`, discovery hints, fetch time),
and the article's extracted fields are replaced through `Archive.update_article`, which also
rewrites its search row (so a new Arabic normalizer reaches the index too). The URL, story and
capture of the article are kept. The rows are a pure function of (capture, code, registry):
running this twice gives identical rows.

Never loses data: a capture that no longer extracts is counted and listed, and its article row
stays as it was; a row that cannot be written is rolled back alone (kind `store`). Captures
that failed extraction when they were crawled (HTTP 200, no article, an extraction error on
their URL) are tried again and become articles through `pipelines.ingest.ingest` when they now
extract. Nothing is written to `errors` or `runs`: the outcome is the printed report.

    python -m pipelines.reextract archive.db [--source ID] [--since YYYY-MM-DD] [--workers N]
                                             [--seeds FILE] [--no-retry]

Extraction runs in a process pool, like the crawl's; each worker reads capture bodies through
its own read-only connection (WAL lets it read while the main process writes), so only ids go
out and extracted records come back. The main process is the archive's single writer and holds
the same `<db>.lock` as a crawl, so the two never write one archive at once.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import multiprocessing
import os
import sqlite3
import sys
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping

from pipelines.dedup import StoryIndex
from pipelines.ingest import ingest
from pipelines.registry import DEFAULT_SEEDS, RegistryError, Source, load_sources
from pipelines.store import ARTICLE_FIELDS, Archive, decompress

# Error kinds the crawl records when a fetched page did not extract (ExtractionError.kind, and
# the crawler's own 'extract' / 'extract_crash'): their captures are worth another try.
EXTRACTION_KINDS = ("not_html", "empty", "not_article", "mojibake", "too_large", "parse", "extract", "extract_crash")
MAX_LISTED = 50  # failures kept with their URL and message in the report
MAX_CRASHES_IN_A_ROW = 3  # pages that each kill a fresh worker: the machine, not the pages, is broken


class ArchiveBusy(RuntimeError):
    """A crawl (or another re-extraction) is writing the archive."""


@dataclass
class Failure:
    article_id: int | None
    capture_id: int
    url: str
    kind: str
    message: str


@dataclass
class Report:
    """What one re-extraction did; `summary()` is what the CLI prints."""

    articles: int = 0  # articles with a capture, in scope
    updated: int = 0  # rows rewritten from their capture
    changed: int = 0  # ... of which at least one column differs from before
    failed: Counter = field(default_factory=Counter)  # kind -> articles left unchanged
    no_capture: int = 0  # articles without a stored capture (cannot be re-extracted)
    retried: int = 0  # earlier failed captures tried again
    recovered: int = 0  # ... now new articles
    recovered_duplicates: int = 0  # ... now extracting, but a known article (same content)
    still_failing: Counter = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)  # first MAX_LISTED, articles only
    seconds: float = 0.0

    @property
    def pages(self) -> int:
        return self.articles + self.retried

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        failed = sum(self.failed.values())
        lines = [
            f"re-extracted {self.articles} article(s) in {self.seconds:.1f}s ({self.rate:.1f} pages/s):"
            f" {self.updated} rewritten, {self.changed} changed, {failed} failed and left unchanged"
            + (f" ({_kinds(self.failed)})" if failed else ""),
        ]
        if self.no_capture:
            lines.append(f"{self.no_capture} article(s) have no stored capture and were left as they are")
        if self.retried:
            still = sum(self.still_failing.values())
            lines.append(
                f"retried {self.retried} capture(s) that failed extraction when crawled: {self.recovered} new"
                f" article(s), {self.recovered_duplicates} duplicate(s) of known articles, {still} still failing"
                + (f" ({_kinds(self.still_failing)})" if still else "")
            )
        for f in self.failures:
            lines.append(f"  failed: article {f.article_id} capture {f.capture_id} {f.kind} {f.url}: {f.message[:200]}")
        if failed > len(self.failures):
            lines.append(f"  ... and {failed - len(self.failures)} more")
        return "\n".join(lines)


def _kinds(counts: Counter) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))


# -- outlets ------------------------------------------------------------------------------------


def source_from_row(row: Mapping[str, Any]) -> Source:
    """A `Source` rebuilt from its `sources` row (what the archive itself knows of the outlet)."""

    def listed(value: Any) -> tuple[str, ...]:
        return tuple(json.loads(value)) if value else ()

    def optional(key: str) -> Any:  # columns a newer schema may add
        return row[key] if key in row.keys() else None

    return Source(
        id=row["id"], name=row["name"], name_en=row["name_en"], country=row["country"] or "",
        language=row["language"] or "", timezone=row["timezone"], domains=listed(row["domains"]),
        feeds=listed(row["feeds"]), sitemaps=listed(row["sitemaps"]), start_urls=listed(row["start_urls"]),
        article_pattern=row["article_pattern"] or ".", mirror_of=row["mirror_of"],
        canonical_host=optional("canonical_host"), meta_utc_is_local=bool(optional("meta_utc_is_local")),
    )


def load_outlets(conn: sqlite3.Connection, seeds: str | Path | None = None) -> dict[str, Source]:
    """Every outlet of the archive as a `Source`.

    The registry (`seeds`, else seeds/sources.yml when it exists) wins for the ids it declares:
    it carries what the `sources` table does not (canonical_host, meta_utc_is_local), which
    extraction uses. Outlets only the archive knows (test and demo registries) come from their
    `sources` row. An explicit `seeds` that does not load is an error.
    """
    conn.row_factory = sqlite3.Row
    try:
        outlets = {row["id"]: source_from_row(row) for row in conn.execute("SELECT * FROM sources")}
    finally:
        conn.row_factory = None
    if seeds is not None:
        registry = load_sources(seeds)
    else:
        try:
            registry = load_sources(DEFAULT_SEEDS)
        except RegistryError:
            registry = []
    outlets.update({s.id: s for s in registry})
    return outlets


# -- the worker side ----------------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init_worker(db: str, outlets: dict[str, Source]) -> None:
    """Per worker: a read-only connection to the archive, the outlets, and the heavy imports."""
    from pipelines.process import warm_up

    _worker["conn"] = _connect_readonly(db)
    _worker["outlets"] = outlets
    warm_up()


def _connect_readonly(db: str | Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def extract_capture(capture_id: int, source_id: str | None) -> tuple[str, Any, Any]:
    """Re-extract one capture in a worker: ('ok', record, meta) or ('error', kind, message).

    Exceptions are turned into values here, so a page that breaks a parser can never fail to
    unpickle in the parent.
    """
    from pipelines.extract import ExtractionError
    from pipelines.process import process_page

    row = _worker["conn"].execute(
        "SELECT url, final_url, headers, fetched_at, body, codec, hints FROM captures WHERE id = ?", (capture_id,)
    ).fetchone()
    if row is None:
        return "error", "capture_missing", f"capture {capture_id} is gone"
    url, final_url, headers, fetched_at, blob, codec, hints = row
    try:
        body = decompress(blob, codec)
        record = process_page(
            body, final_url, headers=json.loads(headers or "{}"), source=_worker["outlets"].get(source_id),
            hints=json.loads(hints) if hints else {}, fetched_at=fetched_at,
        )
    except ExtractionError as exc:
        return "error", exc.kind, str(exc)
    except Exception as exc:  # a bug or a parser that chokes: reported, never fatal
        return "error", "extract", f"{type(exc).__name__}: {exc}"
    return "ok", record, {"url": url, "final_url": final_url, "fetched_at": fetched_at}


# -- the pool ---------------------------------------------------------------------------------


Job = tuple[int, str | None, Any]  # (capture_id, source_id, tag carried back with the result)


def run_jobs(db: str | Path, outlets: dict[str, Source], jobs: Iterable[Job], workers: int,
             ) -> Iterator[tuple[Job, tuple[str, Any, Any]]]:
    """Extract every job, `workers` processes wide (0: in this process); yields (job, result) as they finish.

    At most 4 jobs per worker are in flight, so memory stays flat on any archive size. A worker
    that dies (out of memory on a pathological page) breaks the pool: the jobs it took down are
    retried one at a time in a fresh pool, so only the page that kills a worker is reported as
    `extract_crash`; when MAX_CRASHES_IN_A_ROW pages in a row do, RuntimeError stops the run (what
    was written so far stays: every row update is complete on its own).
    """
    if workers <= 0:
        _init_worker(str(db), outlets)
        try:
            for job in jobs:
                yield job, extract_capture(job[0], job[1])
        finally:
            _worker.pop("conn").close()
        return

    def new_pool() -> ProcessPoolExecutor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["pipelines.preload"])  # the language model shared, as in the crawl
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(str(db), outlets))

    pool = new_pool()
    window = workers * 4
    running: dict[Future, Job] = {}
    suspects: list[Job] = []
    todo = iter(jobs)
    crashes = 0
    try:
        while True:
            while len(running) < window and not suspects:
                job = next(todo, None)
                if job is None:
                    break
                running[pool.submit(extract_capture, job[0], job[1])] = job
            if not running and not suspects:
                return
            if suspects:  # isolate the page that broke the pool: one at a time
                job = suspects.pop(0)
                try:
                    result = pool.submit(extract_capture, job[0], job[1]).result()
                    crashes = 0
                except BrokenProcessPool as exc:
                    crashes += 1
                    if crashes >= MAX_CRASHES_IN_A_ROW:
                        raise RuntimeError(
                            f"extraction workers died on {crashes} pages in a row (last: capture {job[0]}): {exc};"
                            " not a bad page but a broken environment (memory? imports?); stopping"
                        ) from exc
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = new_pool()
                    result = ("error", "extract_crash", f"extraction worker died: {exc}")
                yield job, result
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                try:
                    yield job, future.result()
                except BrokenProcessPool:
                    suspects.append(job)
            if suspects:
                suspects.extend(running.values())  # the whole pool went down with it
                running.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# -- progress -------------------------------------------------------------------------------


class Progress:
    """One `\\r` status line on stderr (done/total, rate, ETA) when it is a terminal; silent otherwise."""

    def __init__(self, total: int, stream: IO[str] | None = None, enabled: bool | None = None,
                 label: str = "re-extract") -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total, self.label = total, label
        self.done = 0
        self.started = self._last = time.monotonic()

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last >= 0.2 or self.done >= self.total):
            self._last = now
            self.stream.write("\r" + self.line(now) + "\x1b[K")
            self.stream.flush()

    def line(self, now: float | None = None) -> str:
        elapsed = (now or time.monotonic()) - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate else 0.0
        percent = 100.0 * self.done / self.total if self.total else 100.0
        return (f"{self.label} {self.done}/{self.total} ({percent:.1f}%)  {rate:.1f} pages/s"
                f"  ETA {_duration(eta)}")

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


# -- the writer -------------------------------------------------------------------------------


class ArchiveLock:
    """The crawl's `<db>.lock` (an OS file lock, gone with the process): one writer per archive."""

    def __init__(self, db: str | Path) -> None:
        self.handle = open(f"{db}.lock", "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "unknown"
            self.handle.close()
            raise ArchiveBusy(f"another process (pid {holder}) is writing {db}; try again when it is done") from None
        self.handle.seek(0)
        self.handle.truncate()
        self.handle.write(str(os.getpid()))
        self.handle.flush()

    def release(self) -> None:
        if not self.handle.closed:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()


def _scope(source: str | None, since: str | None, source_col: str) -> tuple[str, list[Any]]:
    sql, params = "", []
    if source:
        sql += f" AND {source_col} = ?"
        params.append(source)
    if since:
        sql += " AND c.fetched_at >= ?"
        params.append(since)
    return sql, params


def article_jobs(conn: sqlite3.Connection, source: str | None = None, since: str | None = None) -> list[Job]:
    where, params = _scope(source, since, "a.source")
    return [
        (capture_id, source_id, article_id)
        for article_id, capture_id, source_id in conn.execute(
            "SELECT a.id, a.capture_id, a.source FROM articles a JOIN captures c ON c.id = a.capture_id"
            f" WHERE 1 = 1{where} ORDER BY a.id",
            params,
        )
    ]


def failed_capture_jobs(conn: sqlite3.Connection, source: str | None = None, since: str | None = None) -> list[Job]:
    """The newest HTTP 200 capture of each URL whose extraction failed and that no article knows."""
    where, params = _scope(source, since, "c.source")
    kinds = ",".join("?" * len(EXTRACTION_KINDS))
    return [
        (capture_id, source_id, None)
        for capture_id, source_id in conn.execute(
            # Uncorrelated IN (subquery): evaluated once (articles.capture_id is indexed; errors.url
            # has no index of its own, so SQLite builds a temporary one).
            "SELECT MAX(c.id), c.source FROM captures c WHERE c.status = 200"
            " AND c.id NOT IN (SELECT capture_id FROM articles WHERE capture_id IS NOT NULL)"
            " AND NOT EXISTS (SELECT 1 FROM article_urls u WHERE u.url IN (c.url, c.final_url))"
            f" AND (c.final_url IN (SELECT url FROM errors WHERE kind IN ({kinds}))"
            f" OR c.url IN (SELECT url FROM errors WHERE kind IN ({kinds})))"
            f"{where} GROUP BY c.final_url ORDER BY MAX(c.id)",
            [*EXTRACTION_KINDS, *EXTRACTION_KINDS, *params],
        )
    ]


def _article_columns(conn: sqlite3.Connection, article_id: int) -> tuple:
    return conn.execute(f"SELECT {', '.join(ARTICLE_FIELDS)} FROM articles WHERE id = ?", (article_id,)).fetchone()


def reextract(
    db: str | Path,
    *,
    source: str | None = None,
    since: str | None = None,
    workers: int | None = None,
    seeds: str | Path | None = None,
    batch_size: int = 200,
    retry_failed: bool = True,
    progress: bool | None = None,
) -> Report:
    """Re-extract the archive `db` in place; see the module docstring. `since` compares with capture fetch times."""
    db = Path(db)
    if not db.exists():
        raise FileNotFoundError(f"{db}: no such archive")
    if since:
        try:
            datetime.fromisoformat(since)
        except ValueError:
            raise ValueError(f"--since must be a date (YYYY-MM-DD) or an ISO 8601 instant, got {since!r}") from None
    workers = (os.cpu_count() or 1) if workers is None else workers
    report = Report()
    started = time.monotonic()
    lock = ArchiveLock(db)
    archive = Archive(db)
    try:
        outlets = load_outlets(archive.conn, seeds)
        if source and source not in outlets:
            raise ValueError(f"unknown outlet {source!r}; the archive has {', '.join(sorted(outlets)) or 'none'}")
        jobs = article_jobs(archive.conn, source, since)
        report.articles = len(jobs)
        where, params = _scope(source, None, "source")
        report.no_capture = archive.conn.execute(
            "SELECT COUNT(*) FROM articles WHERE (capture_id IS NULL"
            f" OR capture_id NOT IN (SELECT id FROM captures)){where}", params,
        ).fetchone()[0]
        if retry_failed:  # (a capture of an outlet the archive no longer describes cannot be ingested)
            retries = [job for job in failed_capture_jobs(archive.conn, source, since) if job[1] in outlets]
            report.retried = len(retries)
            jobs += retries
        bar = Progress(len(jobs), enabled=progress)
        workers = min(workers, len(jobs))  # no idle processes for a small --source or --since
        stories = StoryIndex(archive.conn)
        for (capture_id, source_id, article_id), result in run_jobs(db, outlets, jobs, workers):
            status, value, meta = result
            if status == "ok":
                try:
                    with archive.item():  # the row and its search row, or neither
                        if article_id is not None:
                            before = _article_columns(archive.conn, article_id)
                            archive.update_article(article_id, {
                                **value, "source": source_id, "fetched_at": meta["fetched_at"],
                                "capture_id": capture_id,
                            })
                            stories.refresh(article_id)  # first_published follows a corrected date
                            report.changed += _article_columns(archive.conn, article_id) != before
                        else:
                            outcome = ingest(
                                archive, stories, source=outlets[source_id], final_url=meta["final_url"],
                                found_urls=[meta["url"], meta["final_url"]], record=value,
                                capture_id=capture_id, fetched_at=meta["fetched_at"],
                            )
                except Exception as exc:  # a constraint or a bug: this row is rolled back, the run goes on
                    status, value, meta = "error", "store", f"{type(exc).__name__}: {exc}"
                else:
                    if article_id is not None:
                        report.updated += 1
                    elif outcome.status == "new":
                        report.recovered += 1
                    else:
                        report.recovered_duplicates += 1
            if status != "ok":
                if article_id is None:
                    report.still_failing[value] += 1
                else:
                    report.failed[value] += 1
                    if len(report.failures) < MAX_LISTED:
                        url = archive.conn.execute("SELECT url FROM articles WHERE id = ?", (article_id,)).fetchone()[0]
                        report.failures.append(Failure(article_id, capture_id, url, value, meta))
            if archive.pending >= batch_size:
                archive.commit()
            bar.step()
        archive.commit()
        bar.close()
    finally:
        archive.close()
        lock.release()
    report.seconds = time.monotonic() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.reextract",
        description="Re-extract every archived article from its stored capture with the current extractor (offline).",
    )
    parser.add_argument("db", help="the SQLite archive")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_cli(args.db, args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by this CLI and `scrapy reextract`."""
    parser.add_argument("--source", help="only this outlet id")
    parser.add_argument("--since", help="only captures fetched on or after this date (YYYY-MM-DD, UTC)")
    parser.add_argument("--workers", type=int, default=None,
                        help="extraction processes (default: one per CPU core; 0 = in this process)")
    parser.add_argument("--seeds", help="registry file (default: seeds/sources.yml, else the archive's sources table)")
    parser.add_argument("--no-retry", dest="retry_failed", action="store_false",
                        help="do not retry captures that failed extraction when crawled")


def run_cli(db: str | Path, args: argparse.Namespace) -> int:
    try:
        report = reextract(db, source=args.source, since=args.since, workers=args.workers, seeds=args.seeds,
                           retry_failed=args.retry_failed)
    except (ArchiveBusy, FileNotFoundError, ValueError, RegistryError) as exc:
        print(f"reextract: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # workers keep dying; rows rewritten so far are kept
        print(f"reextract: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nreextract: interrupted; the rows rewritten so far are kept", file=sys.stderr)
        return 130
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())

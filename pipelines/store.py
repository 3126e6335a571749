"""The archive: the whole SQLite schema in one place, and the single writer that fills it.

One `Archive` object is the only writer of a database file. Writes are grouped into
explicit `BEGIN IMMEDIATE` transactions that the caller commits in batches
(`pending` tells how many writes wait); WAL mode lets Datasette read meanwhile.
What is committed is never lost; what was not committed was never accepted, and the
next run fetches it again because its URL is not yet in `article_urls`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sqlite3
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import sqlite_utils

from pipelines import arabic
from pipelines.dates import parse_instant
from pipelines.registry import Source

SCHEMA_VERSION = 3  # 2: the ADDED_COLUMNS, new tables and indexes since version 1 (apply_schema adds them)
#                    3: articles.search_key; articles_search and its FTS keyed by it (Archive._rekey_search)

# Every table, view and index of the archive. Documented in README.md ("Schema"). Only `CREATE ... IF NOT
# EXISTS`: applying it to an existing archive adds what is missing; a column added to an existing table also
# goes into ADDED_COLUMNS below (SQLite has no ADD COLUMN IF NOT EXISTS).
SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    id TEXT PRIMARY KEY,            -- registry id, e.g. hespress
    name TEXT NOT NULL,             -- Arabic name as the outlet writes it
    name_en TEXT,
    country TEXT,
    language TEXT,
    timezone TEXT,
    domains TEXT,                   -- JSON list
    feeds TEXT,                     -- JSON list
    sitemaps TEXT,                  -- JSON list
    start_urls TEXT,                -- JSON list
    article_pattern TEXT,
    mirror_of TEXT
);

CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,           -- running | finished | failed | interrupted
    finish_reason TEXT,             -- Scrapy's close reason
    sources TEXT,                   -- JSON list of the outlet ids crawled
    args TEXT,                      -- JSON of spider arguments
    host TEXT,
    pid INTEGER,
    discovered INTEGER DEFAULT 0,
    fetched INTEGER DEFAULT 0,
    stored INTEGER DEFAULT 0,
    updated INTEGER DEFAULT 0,
    duplicates INTEGER DEFAULT 0,
    failed INTEGER DEFAULT 0,
    over_budget INTEGER DEFAULT 0,
    disallowed INTEGER DEFAULT 0
);

CREATE TABLE IF NOT EXISTS run_outlets (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    source TEXT NOT NULL REFERENCES sources(id),
    discovered INTEGER DEFAULT 0,   -- article URLs found in feeds, sitemaps, sections
    fetched INTEGER DEFAULT 0,      -- article responses received
    stored INTEGER DEFAULT 0,       -- new articles
    updated INTEGER DEFAULT 0,      -- known articles re-extracted from a newer capture
    duplicates INTEGER DEFAULT 0,   -- pages that turned out to be a known article
    failed INTEGER DEFAULT 0,       -- rows this run wrote to errors for the outlet
    errors_by_kind TEXT,            -- JSON {kind: count}
    over_budget INTEGER DEFAULT 0,  -- requests not made: the outlet's request budget was spent (next run makes them)
    disallowed INTEGER DEFAULT 0,   -- requests not made: the outlet's robots.txt forbids them
    PRIMARY KEY (run_id, source)
);

CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    source TEXT REFERENCES sources(id),
    url TEXT NOT NULL,              -- URL requested
    final_url TEXT NOT NULL,        -- URL after redirects
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,          -- JSON {name: value} of the response
    fetched_at TEXT NOT NULL,
    body BLOB NOT NULL,             -- raw response body, compressed with `codec`
    codec TEXT NOT NULL,            -- zlib
    body_size INTEGER NOT NULL,     -- uncompressed bytes
    body_sha1 TEXT NOT NULL,        -- of the uncompressed body (WARC revisits, idempotence)
    hints TEXT                      -- JSON: what discovery knew (feed date, lastmod, referer)
);
CREATE INDEX IF NOT EXISTS captures_url ON captures(final_url);
CREATE INDEX IF NOT EXISTS captures_sha1 ON captures(body_sha1);

CREATE TABLE IF NOT EXISTS stories (
    story_id INTEGER PRIMARY KEY,   -- id of the story's first article
    first_published TEXT,
    first_source TEXT,
    article_count INTEGER,
    source_count INTEGER
);

CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL REFERENCES sources(id),
    url TEXT NOT NULL UNIQUE,       -- canonical URL
    title TEXT,
    text TEXT,                      -- body as published (NFC), paragraphs separated by newlines
    published TEXT,                 -- ISO 8601 with the outlet's offset; NULL when unknown
    published_day TEXT,             -- YYYY-MM-DD in the outlet's calendar
    modified TEXT,
    author TEXT,                    -- bylines joined by '، '
    authors TEXT,                   -- JSON list
    section TEXT,
    tags TEXT,                      -- JSON list
    image TEXT,
    language TEXT,
    word_count INTEGER,
    description TEXT,
    date_source TEXT,               -- where `published` came from (json-ld, meta, text, hint...)
    encoding TEXT,                  -- charset the page was decoded with
    encoding_source TEXT,           -- where that charset came from: bom, header, meta, sniffed
    fetched_at TEXT,
    content_hash TEXT,              -- exact-duplicate key within an outlet
    story_id INTEGER REFERENCES stories(story_id),
    capture_id INTEGER REFERENCES captures(id),
    search_key INTEGER              -- publication order, unique (search_key()): the article's FTS rowid
);
CREATE INDEX IF NOT EXISTS articles_published ON articles(published);
CREATE INDEX IF NOT EXISTS articles_source_published ON articles(source, published);
CREATE INDEX IF NOT EXISTS articles_day ON articles(published_day);
CREATE INDEX IF NOT EXISTS articles_language ON articles(language);
CREATE INDEX IF NOT EXISTS articles_section ON articles(section);
CREATE INDEX IF NOT EXISTS articles_story ON articles(story_id);
CREATE INDEX IF NOT EXISTS articles_hash ON articles(source, content_hash);
CREATE INDEX IF NOT EXISTS articles_capture ON articles(capture_id);  -- re-extraction, WARC metadata
-- Search results come back from FTS5 as search_keys: this index finds their articles, counts them and
-- serves the table page's facets over a search without reading the (large) article rows.
CREATE INDEX IF NOT EXISTS articles_search_key ON articles(search_key, source, language, section, published_day);

CREATE TABLE IF NOT EXISTS article_urls (
    url TEXT PRIMARY KEY,           -- every URL (as found, and canonical) that led to an article
    article_id INTEGER NOT NULL REFERENCES articles(id),
    source TEXT,
    first_seen TEXT
);
CREATE INDEX IF NOT EXISTS article_urls_article ON article_urls(article_id);

CREATE TABLE IF NOT EXISTS errors (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    source TEXT,
    url TEXT,
    kind TEXT NOT NULL,             -- http_404, http_5xx, timeout, dns, not_html, empty, not_article,
                                    -- mojibake, too_large, bad_feed, bad_sitemap, extract, ...
    message TEXT,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS errors_run ON errors(run_id, source);
CREATE INDEX IF NOT EXISTS errors_url ON errors(source, url, run_id);  -- source_health: did this URL fail before?

-- Crash-safe frontier: article requests scheduled and not yet stored or failed. Rows are written in the
-- crawl's own batched transactions and deleted in the transaction that commits the article or its
-- error, so the frontier never disagrees with the archive. A run that finishes clears its outlets'
-- rows; the next crawl of an outlet re-enqueues whatever an interrupted run left (Archive.add_frontier).
CREATE TABLE IF NOT EXISTS frontier (
    url TEXT PRIMARY KEY,           -- article URL as requested
    source TEXT NOT NULL,
    hints TEXT,                     -- JSON: what discovery knew (published, modified, title, via)
    hop INTEGER NOT NULL DEFAULT 0, -- links followed from a listing (AKHBAR_FOLLOW_DEPTH)
    priority INTEGER NOT NULL DEFAULT 0,
    run_id INTEGER REFERENCES runs(id),  -- run that scheduled it
    queued_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS frontier_source ON frontier(source);

-- Operator's view, one row per outlet (finished and interrupted runs):
--   runs_without_new    consecutive latest runs that stored no new article; 3 or more: 'silent'
--   last_failure_rate   of what the latest run that tried something new tried: failures / (successes +
--                       failures), where a success is a stored, updated or duplicate page and a failure an
--                       `errors` row for a URL that had not failed in an earlier run (a dead link left in a
--                       feed fails every run: it is not news, and would otherwise make every quiet run 100%)
--   usual_failure_rate  the mean of that rate over the 5 runs before (that tried something new)
-- 'failing' when the last rate is at least 0.5 and jumped above the usual one (2x + 0.1).
CREATE VIEW IF NOT EXISTS source_health AS
WITH ranked AS (
    SELECT o.run_id, o.source, o.stored, o.updated, o.duplicates, r.started_at,
           ROW_NUMBER() OVER (PARTITION BY o.source ORDER BY r.id DESC) AS n
    FROM run_outlets o JOIN runs r ON r.id = o.run_id
    WHERE r.status IN ('finished', 'interrupted')
),
tried AS (
    SELECT k.source, k.run_id, k.stored + k.updated + k.duplicates AS succeeded,
           (SELECT COUNT(*) FROM errors e
             WHERE e.run_id = k.run_id AND e.source = k.source
               AND NOT EXISTS (SELECT 1 FROM errors p
                               WHERE p.source = e.source AND p.url = e.url AND p.run_id < e.run_id)) AS failed
    FROM ranked k WHERE k.n <= 30
),
rated AS (
    SELECT source, CAST(failed AS REAL) / (succeeded + failed) AS failure_rate,
           ROW_NUMBER() OVER (PARTITION BY source ORDER BY run_id DESC) AS m
    FROM tried WHERE succeeded + failed > 0
),
rates AS (
    SELECT source, MAX(CASE WHEN m = 1 THEN failure_rate END) AS last_failure_rate,
           AVG(CASE WHEN m BETWEEN 2 AND 6 THEN failure_rate END) AS usual_failure_rate
    FROM rated GROUP BY source
),
per_source AS (
    SELECT source, COUNT(*) AS runs, MAX(started_at) AS last_run,
           COALESCE(MIN(CASE WHEN stored > 0 THEN n END) - 1, COUNT(*)) AS runs_without_new
    FROM ranked GROUP BY source
)
SELECT s.id AS source, s.name, p.runs, p.last_run, p.runs_without_new,
       ROUND(q.last_failure_rate, 3) AS last_failure_rate,
       ROUND(q.usual_failure_rate, 3) AS usual_failure_rate,
       (SELECT MAX(published) FROM articles a WHERE a.source = s.id) AS last_published,
       CASE WHEN p.runs IS NULL THEN 'never crawled'
            WHEN p.runs_without_new >= 3 THEN 'silent'
            WHEN q.last_failure_rate >= 0.5
                 AND q.last_failure_rate > 2 * COALESCE(q.usual_failure_rate, 0) + 0.1 THEN 'failing'
            ELSE 'ok' END AS status
FROM sources s LEFT JOIN per_source p ON p.source = s.id LEFT JOIN rates q ON q.source = s.id;

-- Normalized + light-stemmed copy of title and text, for FTS only (pipelines.arabic.search_text). Its
-- rowid, hence the FTS5 rowid, is the article's search_key: FTS5 keeps its doclists in rowid order, so
-- "newest first" is FTS5 reading a doclist backwards and stopping after n matches, whatever the word.
CREATE TABLE IF NOT EXISTS articles_search (
    search_key INTEGER PRIMARY KEY, -- = articles.search_key
    title TEXT,
    text TEXT
);
"""

# The story index: pipelines.dedup.StoryIndex is the only reader and writer of these tables (its
# module docstring says how they are used). Part of SCHEMA; StoryIndex.ensure_schema() applies it alone
# to a scratch database (tests, bench). Each statement runs inside a transaction (see statements()).
STORY_INDEX_SCHEMA = """
-- One row per indexed article: its MinHash signature and what verifying a candidate needs.
CREATE TABLE IF NOT EXISTS article_minhash (
    article_id INTEGER PRIMARY KEY,  -- = articles.id
    source TEXT NOT NULL,            -- outlet id (same outlet + same text = same article)
    story_id INTEGER NOT NULL,       -- story at indexing time; follow story_merges for the current one
    day INTEGER,                     -- publication day as date.toordinal(); NULL when unknown
    shingles INTEGER NOT NULL,       -- distinct 3-shingles after boilerplate removal
    text_key INTEGER NOT NULL,       -- first 8 bytes of content_hash(text)
    figures BLOB NOT NULL,           -- sorted uint32 crc32 of the distinct figures (2+ digits, not years)
    sig BLOB NOT NULL                -- 128 x uint32 little-endian MinHash values (datasketch affine32)
);

-- LSH band buckets: key = period << 44 | hash(band index, band values) mod 2^44, period = publication
-- day // PERIOD_DAYS. Rows of one period are contiguous: a month of articles is one B-tree region.
CREATE TABLE IF NOT EXISTS lsh_buckets (
    key INTEGER NOT NULL,
    article_id INTEGER NOT NULL,
    PRIMARY KEY (key, article_id)
) WITHOUT ROWID;

-- Per-outlet line counts, for learned boilerplate (headers, footers, appended disclaimers).
CREATE TABLE IF NOT EXISTS boilerplate_lines (
    key INTEGER PRIMARY KEY,         -- period << 44 | hash(outlet id, normalized line) mod 2^44
    n INTEGER NOT NULL               -- articles of that outlet containing the line in that period
);

-- Stories folded into another one; always points at the final story (one hop).
CREATE TABLE IF NOT EXISTS story_merges (
    story_id INTEGER PRIMARY KEY,    -- a story that no longer exists on its own
    into_story INTEGER NOT NULL      -- the story it became part of
);
CREATE INDEX IF NOT EXISTS story_merges_into ON story_merges(into_story);

-- Size of every story with 2+ indexed articles (no row: one article), to bound merges.
CREATE TABLE IF NOT EXISTS story_sizes (
    story_id INTEGER PRIMARY KEY,
    articles INTEGER NOT NULL
);
"""
SCHEMA += STORY_INDEX_SCHEMA

# Columns added to a table after archives were created with it: (table, column, declaration).
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("articles", "encoding_source", "TEXT"),  # schema version 2
    ("runs", "over_budget", "INTEGER DEFAULT 0"),
    ("runs", "disallowed", "INTEGER DEFAULT 0"),
    ("run_outlets", "over_budget", "INTEGER DEFAULT 0"),
    ("run_outlets", "disallowed", "INTEGER DEFAULT 0"),
    ("articles", "search_key", "INTEGER"),  # schema version 3
)


def statements(script: str) -> list[str]:
    """The SQL statements of a script, in order: run one by one they stay inside the caller's
    transaction (`executescript` would commit it first)."""
    found, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    return found


def apply_schema(conn: sqlite3.Connection, script: str = SCHEMA) -> None:
    """Create what is missing of `script` (default: the whole archive). Idempotent.

    Columns of ADDED_COLUMNS are added to existing tables first, so the script's indexes and views may use them.
    """
    for table, column, declaration in ADDED_COLUMNS:
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if columns and column not in columns:  # (no columns: the table does not exist yet)
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    for statement in statements(script):
        replace_changed_view(conn, statement)
        conn.execute(statement)


def replace_changed_view(conn: sqlite3.Connection, statement: str) -> None:
    """Drop a view whose stored definition differs from `statement` (`CREATE VIEW IF NOT EXISTS` would
    keep an archive's old, perhaps wrong, definition forever); the statement then creates it anew."""
    found = re.search(r"CREATE VIEW IF NOT EXISTS (\w+) AS", statement)
    if not found:
        return
    stored = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", (found[1],)).fetchone()
    wanted = "CREATE VIEW " + statement[found.start() + len("CREATE VIEW IF NOT EXISTS "):].rstrip().rstrip(";")
    if stored and stored[0] != wanted:
        conn.execute(f"DROP VIEW {found[1]}")


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


SEARCH_KEY_IDS = 10**9  # article ids stay below this; UTC seconds x 10^9 still fits SQLite's int64 until 2262


def search_key(published: str | None, fetched_at: str | None, article_id: int) -> int:
    """The article's place in publication order, unique: UTC seconds of `published` x 10^9 + id.

    It is the FTS rowid (articles_search), so newest-first search is `ORDER BY rowid DESC LIMIT n`
    inside FTS5 and costs the same for a word in every article as for a rare one. Seconds are UTC
    (ISO strings with different offsets do not sort as instants). A date after the fetch is taken as
    the fetch time: a page is not published after it was fetched (a wrong zone or a typo would
    otherwise keep it on top for years). No date: 0, so undated articles come after every dated
    one, as with `published DESC`.
    """
    if not 0 < article_id < SEARCH_KEY_IDS:
        raise ValueError(f"article id {article_id} outside 1..{SEARCH_KEY_IDS - 1}")
    when, fetched = parse_instant(published), parse_instant(fetched_at)
    if when is not None and fetched is not None:
        when = min(when, fetched)
    return max(int(when.timestamp()) if when else 0, 0) * SEARCH_KEY_IDS + article_id


@dataclass
class Capture:
    """One raw HTTP response, as the crawler received it."""

    url: str
    final_url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    fetched_at: str
    source: str | None = None
    hints: Mapping[str, Any] | None = None
    # pack(body) when the extraction worker already made it
    # (pipelines.process.process_page_for_archive): the single writer then spends nothing on them.
    packed: tuple[bytes, str] | None = None


@dataclass(frozen=True)
class FrontierEntry:
    """An article request a crawl scheduled: enough to schedule it again after a crash."""

    url: str
    source: str
    hints: Mapping[str, Any]
    hop: int = 0
    priority: int = 0


def pack(body: bytes) -> tuple[bytes, str]:
    """A capture as stored: zlib level 6 (5.5:1 on real pages; level 3 gave 4.85:1) and the sha1 hex of
    the uncompressed body. Extraction workers call it too, so the single writer does not."""
    return zlib.compress(body, 6), hashlib.sha1(body).hexdigest()


def decompress(blob: bytes, codec: str = "zlib") -> bytes:
    if codec != "zlib":
        raise ValueError(f"unknown capture codec {codec!r}")
    return zlib.decompress(blob)


class Archive:
    """The single writer of one archive file."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        if readonly:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.pending = 0
        if not readonly:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA busy_timeout=30000")
            self.ensure_schema()

    # -- schema ---------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        apply_schema(self.conn)
        self._fill_search_keys()
        if "id" in self.db["articles_search"].columns_dict:
            self._rekey_search()
        if not self.db["articles_search_fts"].exists():
            self.db["articles_search"].enable_fts(
                ["title", "text"], create_triggers=True, tokenize="unicode61 remove_diacritics 2"
            )
        self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _fill_search_keys(self) -> None:
        """Articles of an archive older than schema 3 get their search_key (an index lookup when none lacks it)."""
        if self.conn.execute("SELECT 1 FROM articles WHERE search_key IS NULL LIMIT 1").fetchone():
            self.conn.create_function("akhbar_search_key", 3, search_key, deterministic=True)
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute("UPDATE articles SET search_key = akhbar_search_key(published, fetched_at, id)"
                              " WHERE search_key IS NULL")
            self.conn.execute("COMMIT")

    def _rekey_search(self) -> None:
        """Schema 2 -> 3: key the stemmed copy and its FTS by search_key instead of the article id.

        The stemmed text is kept (no re-normalization); ensure_schema then rebuilds the FTS from it. One
        transaction swaps the tables: an interrupted upgrade leaves the old layout, and runs again.
        """
        self.conn.execute("BEGIN IMMEDIATE")
        for statement in (
            "DROP TABLE IF EXISTS articles_search_rekeyed",
            "CREATE TABLE articles_search_rekeyed (search_key INTEGER PRIMARY KEY, title TEXT, text TEXT)",
            "INSERT INTO articles_search_rekeyed (search_key, title, text)"
            " SELECT a.search_key, s.title, s.text FROM articles_search s JOIN articles a ON a.id = s.id",
            "DROP TABLE IF EXISTS articles_search_fts",
            "DROP TRIGGER IF EXISTS articles_search_ai",
            "DROP TRIGGER IF EXISTS articles_search_ad",
            "DROP TRIGGER IF EXISTS articles_search_au",
            "DROP TABLE articles_search",
            "ALTER TABLE articles_search_rekeyed RENAME TO articles_search",
        ):
            self.conn.execute(statement)
        self.conn.execute("COMMIT")

    # -- transactions ---------------------------------------------------------------------

    def _write(self) -> None:
        """Open the batch transaction on the first write after a commit."""
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
        self.pending += 1

    @contextmanager
    def item(self):
        """All writes of one item, or none: a failure rolls back to the savepoint, the batch goes on."""
        self._write()
        self.conn.execute("SAVEPOINT item")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK TO item")
            self.conn.execute("RELEASE item")
            raise
        self.conn.execute("RELEASE item")

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")
        self.pending = 0

    def close(self) -> None:
        self.commit()
        try:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError:
            pass  # a reader holds the WAL; the next writer checkpoints
        self.conn.close()

    # -- sources and runs -----------------------------------------------------------------

    def upsert_sources(self, sources: Iterable[Source]) -> None:
        self._write()
        self.db["sources"].upsert_all([s.as_row() for s in sources], pk="id")
        self.commit()

    def start_run(self, sources: Iterable[str], args: Mapping[str, Any] | None = None) -> int:
        """Open a run; runs left `running` by a dead process are marked `interrupted`."""
        self.mark_interrupted()
        self._write()
        cursor = self.conn.execute(
            "INSERT INTO runs (started_at, status, sources, args, host, pid) VALUES (?, 'running', ?, ?, ?, ?)",
            (utcnow(), json.dumps(list(sources)), json.dumps(dict(args or {}), ensure_ascii=False),
             socket.gethostname(), os.getpid()),
        )
        self.commit()
        return int(cursor.lastrowid)

    def mark_interrupted(self) -> int:
        """Close runs whose process is gone (SIGKILL, power loss): their status becomes `interrupted`."""
        host = socket.gethostname()
        stale = [
            row[0]
            for row in self.conn.execute("SELECT id, host, pid FROM runs WHERE status = 'running'")
            if row[1] == host and not _pid_alive(row[2])
        ]
        if stale:
            self._write()
            self.conn.executemany(
                "UPDATE runs SET status = 'interrupted', finished_at = COALESCE(finished_at, ?) WHERE id = ?",
                [(utcnow(), run_id) for run_id in stale],
            )
            self.commit()
        return len(stale)

    def finish_run(self, run_id: int, status: str, reason: str, per_outlet: Mapping[str, Mapping[str, Any]]) -> None:
        """Close a run with its per-outlet counts (discovered, fetched, stored, updated, duplicates,
        over_budget, disallowed; failed and errors_by_kind come from this run's `errors` rows)."""
        self._write()
        failed = dict(self.conn.execute(
            "SELECT source, COUNT(*) FROM errors WHERE run_id = ? GROUP BY source", (run_id,)
        ).fetchall())
        kinds: dict[str, dict[str, int]] = {}
        for source, kind, count in self.conn.execute(
            "SELECT source, kind, COUNT(*) FROM errors WHERE run_id = ? GROUP BY source, kind", (run_id,)
        ):
            kinds.setdefault(source, {})[kind] = count
        fields = ("discovered", "fetched", "stored", "updated", "duplicates", "over_budget", "disallowed")
        # Every outlet the run crawled gets a row, even one that yielded nothing at all (an emptied feed):
        # a run without a new article must count for it (source_health.runs_without_new).
        (crawled,) = self.conn.execute("SELECT sources FROM runs WHERE id = ?", (run_id,)).fetchone() or (None,)
        rows = []
        for source in sorted(set(per_outlet) | set(failed) | set(json.loads(crawled or "[]"))):
            counts = per_outlet.get(source, {})
            row = {"run_id": run_id, "source": source, **{f: int(counts.get(f, 0)) for f in fields}}
            row["failed"] = int(failed.get(source, 0))
            row["errors_by_kind"] = json.dumps(kinds.get(source, {}))
            rows.append(row)
        if rows:
            self.db["run_outlets"].upsert_all(rows, pk=("run_id", "source"))
        totals = {f: sum(r[f] for r in rows) for f in (*fields, "failed")}
        self.db["runs"].update(run_id, {"finished_at": utcnow(), "status": status, "finish_reason": reason, **totals})
        self.commit()

    # -- errors ---------------------------------------------------------------------------

    def add_error(self, run_id: int | None, source: str | None, url: str | None, kind: str, message: str) -> None:
        self._write()
        self.conn.execute(
            "INSERT INTO errors (run_id, source, url, kind, message, at) VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, source, url, kind, message[:2000], utcnow()),
        )

    # -- frontier -------------------------------------------------------------------------

    def add_frontier(self, entries: Iterable[FrontierEntry], run_id: int | None) -> None:
        """Remember scheduled article requests, in the current batch (a later schedule of a URL replaces it)."""
        now = utcnow()
        rows = [(e.url, e.source, json.dumps(dict(e.hints), ensure_ascii=False, default=str), e.hop, e.priority,
                 run_id, now) for e in entries]
        if rows:
            self._write()
            self.conn.executemany(
                "INSERT OR REPLACE INTO frontier (url, source, hints, hop, priority, run_id, queued_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def drop_frontier(self, urls: Iterable[str]) -> None:
        """Forget requests whose article or error is written in this same batch (so both commit together)."""
        urls = [(u,) for u in dict.fromkeys(urls) if u]
        if urls:
            self._write()
            self.conn.executemany("DELETE FROM frontier WHERE url = ?", urls)

    def clear_frontier(self, sources: Iterable[str]) -> None:
        """A run that finished handled everything it scheduled: nothing of its outlets is pending."""
        sources = [(s,) for s in sources]
        if sources:
            self._write()
            self.conn.executemany("DELETE FROM frontier WHERE source = ?", sources)

    # -- captures -------------------------------------------------------------------------

    def add_capture(self, capture: Capture, run_id: int | None) -> int:
        self._write()
        blob, sha1 = capture.packed or pack(capture.body)
        cursor = self.conn.execute(
            "INSERT INTO captures (run_id, source, url, final_url, status, headers, fetched_at, body, codec,"
            " body_size, body_sha1, hints) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'zlib', ?, ?, ?)",
            (
                run_id, capture.source, capture.url, capture.final_url, capture.status,
                json.dumps(dict(capture.headers), ensure_ascii=False), capture.fetched_at,
                blob, len(capture.body), sha1,
                json.dumps(dict(capture.hints or {}), ensure_ascii=False, default=str),
            ),
        )
        return int(cursor.lastrowid)

    def capture_body(self, capture_id: int) -> bytes:
        blob, codec = self.conn.execute("SELECT body, codec FROM captures WHERE id = ?", (capture_id,)).fetchone()
        return decompress(blob, codec)

    def find_capture(self, final_url: str, body_sha1: str, fetched_at: str) -> int | None:
        """The capture of exactly this response, if stored: a queue item replayed after a crash is stored once."""
        row = self.conn.execute(
            "SELECT id FROM captures WHERE final_url = ? AND body_sha1 = ? AND fetched_at = ? LIMIT 1",
            (final_url, body_sha1, fetched_at),
        ).fetchone()
        return int(row[0]) if row else None

    # -- articles -------------------------------------------------------------------------

    def article_for_url(self, url: str) -> int | None:
        row = self.conn.execute("SELECT article_id FROM article_urls WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        urls = list(dict.fromkeys(urls))
        if not urls:
            return set()
        marks = ",".join("?" * len(urls))
        return {r[0] for r in self.conn.execute(f"SELECT url FROM article_urls WHERE url IN ({marks})", urls)}

    def article_for_hash(self, source: str, content_hash: str) -> int | None:
        row = self.conn.execute(
            "SELECT id FROM articles WHERE source = ? AND content_hash = ? LIMIT 1", (source, content_hash)
        ).fetchone()
        return row[0] if row else None

    def insert_article(self, row: Mapping[str, Any]) -> int:
        """Insert a new article and its search row; returns the article id.

        Plain prepared INSERTs (sqlite-utils' insert/upsert cost ~2 ms per article in introspection, and
        an upsert of a new search row fires the FTS update trigger: delete + insert). The search columns
        are taken from the row when the extraction worker computed them (`search_title`, `search_text`,
        see pipelines.process.process_page_for_archive), else computed here.
        """
        self._write()
        search = _precomputed_search(row)
        row = _article_row(row)
        # The id is SQLite's own choice (max + 1), made here so that search_key goes in with the row.
        article_id = self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM articles").fetchone()[0]
        row = {"id": article_id, **row, "search_key": search_key(row.get("published"), row.get("fetched_at"), article_id)}
        columns = tuple(row)
        self.conn.execute(_insert_sql("articles", columns), [_sql_value(row[c]) for c in columns])
        if search is None:
            search = (arabic.search_text(row.get("title") or ""), arabic.search_text(row.get("text") or ""))
        self.conn.execute("INSERT INTO articles_search (search_key, title, text) VALUES (?, ?, ?)",
                          (row["search_key"], *search))
        return article_id

    def update_article(self, article_id: int, row: Mapping[str, Any]) -> None:
        """Replace an article's extracted fields (newer capture, or re-extraction)."""
        self._write()
        search = _precomputed_search(row)
        row = _article_row(row)
        row.pop("url", None)
        old_key, published, fetched_at = self.conn.execute(
            "SELECT search_key, published, fetched_at FROM articles WHERE id = ?", (article_id,)).fetchone()
        row["search_key"] = search_key(row.get("published", published), row.get("fetched_at", fetched_at), article_id)
        self.db["articles"].update(article_id, row)
        self._write_search(old_key, row, search)

    def _write_search(self, old_key: int | None, row: Mapping[str, Any], search: tuple[str, str] | None = None) -> None:
        """The article's search row: moved to its new key when its date changed (the FTS triggers follow)."""
        title, text = search or (arabic.search_text(row.get("title") or ""), arabic.search_text(row.get("text") or ""))
        key = row["search_key"]
        if old_key is not None and old_key != key:
            self.conn.execute("DELETE FROM articles_search WHERE search_key = ?", (old_key,))
        self.conn.execute(
            "INSERT INTO articles_search (search_key, title, text) VALUES (?, ?, ?) ON CONFLICT (search_key)"
            " DO UPDATE SET title = excluded.title, text = excluded.text", (key, title, text))

    def add_urls(self, article_id: int, source: str | None, urls: Iterable[str]) -> None:
        self._write()
        now = utcnow()
        self.conn.executemany(
            "INSERT OR IGNORE INTO article_urls (url, article_id, source, first_seen) VALUES (?, ?, ?, ?)",
            [(u, article_id, source, now) for u in dict.fromkeys(urls) if u],
        )


@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _sql_value(value: Any) -> Any:
    """What sqlite-utils' insert stored for a value: containers as JSON, the rest as is."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _precomputed_search(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """(search title, search text) when the extraction worker already computed them."""
    title, text = record.get("search_title"), record.get("search_text")
    return (title, text) if isinstance(title, str) and isinstance(text, str) else None


ARTICLE_FIELDS = (
    "source", "url", "title", "text", "published", "published_day", "modified", "author", "authors",
    "section", "tags", "image", "language", "word_count", "description", "date_source", "encoding",
    "encoding_source", "fetched_at", "content_hash", "story_id", "capture_id",
)


def _article_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the article columns; lists become JSON; derive the outlet-local publication day."""
    row = {k: record.get(k) for k in ARTICLE_FIELDS if k in record}
    for key in ("authors", "tags"):
        if isinstance(row.get(key), (list, tuple)):
            row[key] = json.dumps(list(row[key]), ensure_ascii=False)
    if "published" in row:
        row["published_day"] = row["published"][:10] if row.get("published") else None
    return row


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def last_finished_runs(path: str | Path | None) -> dict[str, datetime]:
    """For each outlet, when its last successfully finished run started (read-only; {} for a new archive)."""
    if not path or not Path(path).exists():
        return {}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = conn.execute(
                "SELECT o.source, MAX(r.started_at) FROM runs r JOIN run_outlets o ON o.run_id = r.id"
                " WHERE r.status = 'finished' GROUP BY o.source"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return {}
    return {source: datetime.fromisoformat(started) for source, started in found if started}


def pending_frontier(path: str | Path | None, sources: Iterable[str]) -> list[FrontierEntry]:
    """What interrupted runs scheduled for these outlets and never stored nor failed, oldest first
    (read-only; [] for a new archive or one whose last runs finished)."""
    sources = list(sources)
    if not path or not Path(path).exists() or not sources:
        return []
    marks = ",".join("?" * len(sources))
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            found = conn.execute(
                f"SELECT url, source, hints, hop, priority FROM frontier WHERE source IN ({marks})"
                " ORDER BY queued_at, rowid",
                sources,
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []  # an archive from before the frontier table: nothing to resume
    return [FrontierEntry(url, source, json.loads(hints or "{}"), int(hop or 0), int(priority or 0))
            for url, source, hints, hop, priority in found]

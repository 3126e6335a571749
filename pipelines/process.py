"""The CPU-bound work for one fetched page, run in an extraction worker process.

Everything here is picklable in and out, so the crawler can hand pages to a process
pool and keep Scrapy's reactor thread free for network I/O.
"""

from __future__ import annotations

import os
import select
import threading
import time
from datetime import datetime
from typing import Any, Mapping

from pipelines import arabic
from pipelines.dedup import content_hash, text_features
from pipelines.extract import extract_article
from pipelines.registry import Source
from pipelines.store import pack


def warm_up() -> None:
    """Import the heavy modules once per worker, before the first page arrives."""
    import trafilatura  # noqa: F401


def start_worker(crawl_pid: int) -> None:
    """Pool initializer: warm up, and exit as soon as the crawl process is gone.

    A crawl killed with SIGKILL cannot shut its pool down, and forkserver workers hold the
    forkserver's and each other's pipes open, so without this they (and the forkserver)
    would wait forever, each holding a few hundred MB.
    """
    warm_up()
    threading.Thread(target=_exit_when_gone, args=(crawl_pid,), name="crawl-watch", daemon=True).start()


def _exit_when_gone(pid: int) -> None:
    try:
        handle = os.pidfd_open(pid)  # Linux >= 5.3: readable once the process has exited
    except (AttributeError, OSError):
        while _alive(pid):
            time.sleep(2.0)
    else:
        select.select([handle], [], [])
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _extracted(  # process_page and process_page_for_archive: each adds its own keys to the record
    body: bytes,
    url: str,
    *,
    headers: Mapping[str, str] | None,
    source: Source | None,
    hints: Mapping[str, Any] | None = None,
    fetched_at: str | None = None,
) -> dict[str, Any]:
    hints = hints or {}
    return extract_article(
        body,
        url,
        headers=dict(headers or {}),
        source=source,
        hint_published=hints.get("published"),
        fetched_at=datetime.fromisoformat(fetched_at) if fetched_at else None,
    )


def process_page(
    body: bytes,
    url: str,
    *,
    headers: Mapping[str, str] | None,
    source: Source | None,
    hints: Mapping[str, Any] | None = None,
    fetched_at: str | None = None,
) -> dict[str, Any]:
    """Extract one article page and add its dedup key; raises ExtractionError for non-articles."""
    record = _extracted(body, url, headers=headers, source=source, hints=hints, fetched_at=fetched_at)
    record["content_hash"] = content_hash(record.get("text") or "")
    return record


def process_page_for_archive(body: bytes, url: str, **kwargs: Any) -> dict[str, Any]:
    """`process_page`, plus what the single archive writer would otherwise spend its own CPU on, made
    here in the extraction worker: the FTS columns (`search_title`, `search_text`, as
    `arabic.search_text` makes them; `Archive.insert_article` uses them when present), the text's
    story-matching features (`_dedup`: `dedup.text_features`, for `StoryIndex.match`) and the
    compressed capture (`_packed`: `store.pack`, as `Archive.add_capture` stores it). The
    ExtractPipeline takes the underscored ones off the record."""
    record = _extracted(body, url, **kwargs)
    text = record.get("text") or ""
    source = kwargs.get("source")
    if source is not None:
        features = text_features(source.id, text)
        record["content_hash"] = features.content_hash  # = content_hash(text), from the same cleaned lines
        record["_dedup"] = features
    else:
        record["content_hash"] = content_hash(text)
    record["search_title"] = arabic.search_text(record.get("title") or "")
    record["search_text"] = arabic.search_text(text)
    record["_packed"] = pack(body)
    return record

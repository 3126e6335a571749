"""What the spider hands to the item pipelines.

Two item types: a fetched article page (raw bytes, extracted later in a process
pool) and a crawl error (so every failure reaches the archive's `errors` table
through the same single writer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipelines.dedup import TextFeatures


@dataclass
class ArticlePage:
    """One article response, as received: everything needed to extract it now or re-extract it later."""

    source: str
    url: str  # URL requested (as discovered)
    final_url: str  # URL after redirects
    status: int
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    fetched_at: str
    urls: list[str] = field(default_factory=list)  # every URL that led here (discovery variants, redirects)
    hints: dict[str, Any] = field(default_factory=dict)  # dates the feed/sitemap gave, referer
    refetch: bool = False  # a known article fetched again because its listing says it changed
    record: dict[str, Any] | None = field(default=None, repr=False)  # set by ExtractPipeline
    packed: tuple[bytes, str] | None = field(default=None, repr=False)  # (zlib body, sha1) from the extraction worker
    dedup: "TextFeatures | None" = field(default=None, repr=False)  # story-matching features from the extraction worker
    error_kind: str | None = None  # set by ExtractPipeline when the page is not a storable article
    error_message: str | None = None


@dataclass
class CrawlError:
    """A failure worth an `errors` row: HTTP errors, timeouts, broken feeds and sitemaps..."""

    source: str | None
    url: str | None
    kind: str
    message: str

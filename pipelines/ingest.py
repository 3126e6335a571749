"""Deciding what a freshly extracted page is: a new article, a known one, or a newer version.

Order of identity checks, cheapest first:

1. any URL that led to the page (as found, canonical, or the page's validated rel=canonical);
2. the same outlet's exact `content_hash` (a repost under a new id, at any distance in time);
3. the same outlet's near-duplicate (`StoryIndex.match`: an AMP twin or repost whose text
   differs slightly, published within the index window).

A known article gains the page's URLs in `article_urls` (and its fields, when the page is a
newer version of it). Anything else is a new row, which `StoryIndex.index` puts in a story:
the story of a verified copy from another outlet, or a new one. Stories are `StoryIndex`'s
alone: it writes `articles.story_id` and the `stories` rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from pipelines.dedup import StoryIndex, TextFeatures
from pipelines.registry import Source
from pipelines.store import Archive
from pipelines.urls import canonical_url, pick_canonical


@dataclass(frozen=True)
class Outcome:
    status: str  # 'new' | 'duplicate' | 'updated'
    article_id: int


def identity_urls(final_url: str, found: Iterable[str], declared: str | None, source: Source | None) -> tuple[str, list[str]]:
    """The article's canonical URL and every URL worth remembering for it."""
    canonical = pick_canonical(final_url, [declared] if declared else [], source)
    urls = [canonical]
    for url in (*found, final_url):
        urls.extend((url, canonical_url(url, source=source)))
    return canonical, list(dict.fromkeys(urls))


def ingest(
    archive: Archive,
    stories: StoryIndex,
    *,
    source: Source,
    final_url: str,
    found_urls: Iterable[str],
    record: Mapping[str, Any],
    capture_id: int,
    fetched_at: str,
    refetch: bool = False,
    features: TextFeatures | None = None,
) -> Outcome:
    """Store `record` as a new article, or attach it to the one it is (`Outcome`). `features`:
    `dedup.text_features` of the record's text, when the extraction worker made them."""
    canonical, urls = identity_urls(final_url, found_urls, record.get("canonical_url"), source)
    row = {**record, "source": source.id, "url": canonical, "fetched_at": fetched_at, "capture_id": capture_id}

    known = archive.known_urls(urls)
    article_id = next((archive.article_for_url(u) for u in urls if u in known), None)
    if article_id is None and record.get("content_hash"):
        article_id = archive.article_for_hash(source.id, record["content_hash"])
    found = None
    if article_id is None:
        found = stories.match(source.id, record.get("text") or "", record.get("published"), features=features)
        article_id = found.duplicate_of
    if article_id is not None:
        archive.add_urls(article_id, source.id, urls)
        if refetch:
            archive.update_article(article_id, row)
            stories.refresh(article_id)  # its publication date may have moved
            return Outcome("updated", article_id)
        return Outcome("duplicate", article_id)

    article_id = archive.insert_article(row)
    archive.add_urls(article_id, source.id, urls)
    stories.index(article_id, found)
    return Outcome("new", article_id)


def canonical_keys(urls: Iterable[str], source: Source) -> list[str]:
    """The canonical URLs of an article's found URLs: where its other forms wait (`attach_alias`)."""
    return list(dict.fromkeys(canonical_url(u, source=source) for u in urls))


def attach_alias(archive: Archive, source: Source, url: str) -> tuple[str, int | None]:
    """Another form of an article URL, not requested (the crawl met its article under another form):
    added to the article's `article_urls` when the archive has that article. Returns the form's
    canonical URL and the article, or None: then the caller keeps the form under the canonical URL
    until the article is stored, and adds it then (`canonical_keys` of the stored page's URLs)."""
    key = canonical_url(url, source=source)
    article_id = archive.article_for_url(key) or archive.article_for_url(url)
    if article_id is not None:
        archive.add_urls(article_id, source.id, [url])
    return key, article_id

"""Where article URLs come from: feeds, sitemaps, robots.txt and section pages.

Pure functions over response bytes (no Scrapy), tolerant of the broken XML real
outlets serve: they return what could be recovered together with a problem
description, so the spider can record the problem and still use the entries.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import feedparser
from lxml import etree, html

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit, uncompressed


@dataclass
class Entry:
    """One URL found by discovery, with the dates the listing gave for it."""

    url: str
    published: str | None = None  # ISO 8601 as given (feed pubDate, news:publication_date)
    modified: str | None = None  # ISO 8601 (sitemap lastmod, feed updated)
    title: str | None = None


@dataclass
class Listing:
    """What one feed or sitemap held."""

    kind: str  # 'feed' | 'sitemapindex' | 'urlset'
    entries: list[Entry] = field(default_factory=list)
    problem: str | None = None  # set when the document was malformed (entries are what was recovered)


def maybe_gunzip(body: bytes, max_size: int = MAX_SITEMAP_BYTES) -> bytes:
    """Decompress `.xml.gz` bodies (served without Content-Encoding); cap the size against gzip bombs."""
    if body[:2] != b"\x1f\x8b":
        return body
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
        try:
            while chunk := f.read(65536):
                out.write(chunk)
                if out.tell() > max_size:
                    raise ValueError(f"gzipped document larger than {max_size} bytes")
        except (EOFError, OSError, zlib.error):
            pass  # truncated archive: keep what was decompressed, the XML check reports it
    return out.getvalue()


def rfc822_to_iso(value: str | None) -> str | None:
    """Feed dates (RFC 822) to ISO 8601, keeping the offset the feed gave."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError, IndexError):
        return value.strip() or None  # Atom feeds already use ISO 8601


def parse_feed(body: bytes, url: str) -> Listing:
    """RSS 0.9x/1.0/2.0 and Atom, through feedparser's tolerant parser."""
    parsed = feedparser.parse(body, response_headers={"content-location": url})
    entries = []
    for item in parsed.entries:
        link = item.get("link") or next(
            (l.get("href") for l in item.get("links", []) if l.get("rel") in (None, "alternate")), None
        )
        if not link:
            continue
        entries.append(
            Entry(
                url=urljoin(url, link.strip()),
                published=rfc822_to_iso(item.get("published")),
                # dict.get: feedparser's item.get("updated") falls back to the publication date
                # (with a DeprecationWarning), which would make every item look modified.
                modified=rfc822_to_iso(dict.get(item, "updated")),
                title=item.get("title"),
            )
        )
    problem = None
    if parsed.bozo and not isinstance(
        parsed.get("bozo_exception"), (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
    ):
        problem = f"malformed feed ({parsed.bozo_exception}); {len(entries)} entries recovered"
    elif not parsed.version and not entries:
        problem = "not an RSS or Atom feed"
    return Listing("feed", entries, problem)


_SITEMAP_PARSER_ARGS = dict(recover=True, resolve_entities=False, no_network=True, huge_tree=True)


def parse_sitemap(body: bytes, url: str) -> Listing:
    """Sitemap index, urlset, or Google News sitemap (gzipped or not)."""
    try:
        body = maybe_gunzip(body)
    except ValueError as exc:
        return Listing("urlset", [], str(exc))
    parser = etree.XMLParser(**_SITEMAP_PARSER_ARGS)
    try:
        root = etree.fromstring(body.strip() or b"<x/>", parser=parser)
    except etree.XMLSyntaxError as exc:
        return Listing("urlset", [], f"not XML: {exc}")
    fatal = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if root is None:
        return Listing("urlset", [], "not XML")
    kind = "sitemapindex" if _local(root.tag) == "sitemapindex" else "urlset"
    if _local(root.tag) not in ("sitemapindex", "urlset"):
        return Listing(kind, [], f"not a sitemap (root element <{_local(root.tag)}>)")
    entries = []
    for node in root:
        if not isinstance(node.tag, str) or _local(node.tag) not in ("url", "sitemap"):
            continue
        fields: dict[str, str] = {}
        for child in node.iter():
            if isinstance(child.tag, str) and child.text and child.text.strip():
                fields.setdefault(_local(child.tag), child.text.strip())
        loc = fields.get("loc")
        if not loc:
            continue
        entries.append(
            Entry(
                url=urljoin(url, loc),
                published=fields.get("publication_date"),
                modified=fields.get("lastmod"),
                title=fields.get("title"),
            )
        )
    problem = None
    if fatal:
        problem = f"malformed sitemap ({fatal[0].message.strip()}, line {fatal[0].line}); {len(entries)} entries recovered"
    return Listing(kind, entries, problem)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def robots_sitemaps(body: bytes, url: str) -> list[str]:
    """`Sitemap:` lines of a robots.txt (trailing spaces stripped, as Al Jazeera's need)."""
    text = body.decode("utf-8", "replace")
    found = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            found.append(urljoin(url, value.strip()))
    return found


_NEXT_TEXT = re.compile(r"^\s*(التالي|الصفحة التالية|التالى|المزيد|next|suivant|older|»|›|>>)\s*$", re.I)


def page_links(body: bytes | str, url: str, encoding: str | None = None) -> tuple[list[str], list[str]]:
    """All links of an HTML page, and those that point to its next page (pagination)."""
    try:
        if isinstance(body, bytes):
            parser = html.HTMLParser(encoding=encoding) if encoding else None
            doc = html.fromstring(body, base_url=url, parser=parser)
        else:
            doc = html.fromstring(body, base_url=url)
    except (etree.ParserError, ValueError):
        return [], []
    base = doc.xpath("string(//base/@href)") or url
    links, nexts = [], []
    for element in doc.iter("a", "link"):
        href = element.get("href")
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        absolute = urljoin(base, href.strip()).split("#", 1)[0]
        rel = (element.get("rel") or "").lower().split()
        if "next" in rel or (element.tag == "a" and _NEXT_TEXT.match(element.text_content() or "")):
            nexts.append(absolute)
        if element.tag == "a":
            links.append(absolute)
    return list(dict.fromkeys(links)), list(dict.fromkeys(nexts))

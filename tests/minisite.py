"""Small synthetic outlets for the politeness, health and concurrent-read tests.

`write_site(root, ...)` writes a folder that tests/sites.py's SiteServer serves: an RSS feed at /feed,
article pages at /news/<n>.html (real Arabic paragraphs taken from the fixture outlets, so extraction
treats them as the articles they are), robots.txt, `_routes.yml` and a `source.yml` registry entry.
A site can be rewritten between two crawls (new feed, broken pages) while its server keeps running:
SiteServer reads the files on every request; call `server.reload_routes()` after changing routes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape, unescape
from pathlib import Path
from typing import Any, Iterable

import yaml

SITES = Path(__file__).resolve().parent / "fixtures" / "sites"
_PARAGRAPH = re.compile(r"<p>([^<>]{120,})</p>")


@lru_cache(maxsize=1)
def paragraphs() -> tuple[str, ...]:
    """Body paragraphs (plain text, 20+ words) of the UTF-8 fixture articles, in a fixed order."""
    found: list[str] = []
    for page in sorted((SITES / "alwaha" / "2020").rglob("index.html")) + sorted((SITES / "sahil" / "article").rglob("*.html")):
        for text in _PARAGRAPH.findall(page.read_text(encoding="utf-8")):
            text = " ".join(unescape(text).split())
            cut = text.endswith(("…", "..", "[…]"))  # teasers of a round-up page, not prose
            if len(text.split()) >= 20 and not cut and "{{" not in text and text not in found:
                found.append(text)
    return tuple(found)


@dataclass(frozen=True)
class Page:
    """One article of a synthetic outlet: served at /news/<number>.html."""

    number: int
    published: str = "2020-11-20T09:00:00+01:00"

    @property
    def path(self) -> str:
        return f"/news/{self.number}.html"

    @property
    def title(self) -> str:
        words = paragraphs()[(self.number * 7) % len(paragraphs())].split()
        return f"{' '.join(words[:8])} ({self.number})"

    def body_paragraphs(self) -> list[str]:
        pool = paragraphs()
        start = (self.number * 5) % len(pool)
        return [pool[(start + k) % len(pool)] for k in range(5)] + [f"رقم المقال في الأرشيف {self.number}."]


def article_html(page: Page, name: str) -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in page.body_paragraphs())
    title = escape(page.title)
    return f"""<!DOCTYPE html>
<html dir="rtl" lang="ar">
<head>
<meta charset="UTF-8">
<title>{title} - {escape(name)}</title>
<link rel="canonical" href="{{{{BASE}}}}{page.path}">
<meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{page.published}">
</head>
<body>
<header><nav><a href="{{{{BASE}}}}/">الرئيسية</a> <a href="{{{{BASE}}}}/section/politics">سياسة</a></nav></header>
<main>
<article class="post">
<h1 class="entry-title">{title}</h1>
<div class="entry-meta"><time datetime="{page.published}">{page.published[:10]}</time></div>
<div class="entry-content">
{body}
</div>
</article>
</main>
<footer><p>جميع الحقوق محفوظة</p></footer>
</body>
</html>
"""


# A page of the article template with nothing in it: menus and footer only (extraction: `empty`).
EMPTY_PAGE = """<!DOCTYPE html>
<html dir="rtl" lang="ar"><head><meta charset="UTF-8"><title>الموقع</title>
<meta property="og:type" content="article"></head>
<body><header><nav><a href="{{BASE}}/">الرئيسية</a></nav></header>
<main><article class="post"><h1 class="entry-title"></h1><div class="entry-content"></div></article></main>
<footer><p>جميع الحقوق محفوظة</p></footer></body></html>
"""


# A round-up page whose paragraphs are teasers cut with an ellipsis (extraction: `not_article`).
LISTING_PAGE = """<!DOCTYPE html>
<html dir="rtl" lang="ar"><head><meta charset="UTF-8"><title>حصاد اليوم</title></head>
<body><header><nav><a href="{{BASE}}/">الرئيسية</a></nav></header>
<main><h1>حصاد اليوم</h1>
""" + "\n".join(f"<p>{escape(' '.join(p.split()[:25]))} …</p>" for p in paragraphs()[:6]) + """
</main><footer><p>جميع الحقوق محفوظة</p></footer></body></html>
"""


def write_page(root: Path, number: int, html: str) -> None:
    """Serve `html` at /news/<number>.html (e.g. EMPTY_PAGE, LISTING_PAGE, or a changed article)."""
    (root / "news").mkdir(parents=True, exist_ok=True)
    (root / "news" / f"{number}.html").write_text(html, encoding="utf-8")


def write_feed(root: Path, pages: Iterable[Page], name: str = "موقع تجريبي", *,
               modified: dict[int, str] | None = None) -> None:
    (root / "feed.xml").write_text(feed_xml(pages, name, modified=modified), encoding="utf-8")


def feed_xml(pages: Iterable[Page], name: str, *, modified: dict[int, str] | None = None) -> str:
    """RSS 2.0 listing the pages; `modified` ({number: ISO instant}) adds an <atom:updated> per item."""
    items = []
    for page in pages:
        updated = (modified or {}).get(page.number)
        items.append(
            "  <item>\n"
            f"    <title>{escape(page.title)}</title>\n"
            f"    <link>{{{{BASE}}}}{page.path}</link>\n"
            f"    <guid>{{{{BASE}}}}{page.path}</guid>\n"
            + (f"    <atom:updated>{updated}</atom:updated>\n" if updated else "")
            + "  </item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>\n'
        f"  <title>{escape(name)}</title>\n  <link>{{{{BASE}}}}/</link>\n  <description>{escape(name)}</description>\n"
        + "\n".join(items)
        + "\n</channel></rss>\n"
    )


def write_site(
    root: Path,
    source_id: str,
    pages: Iterable[Page],
    *,
    name: str = "موقع تجريبي",
    feed_pages: Iterable[Page] | None = None,
    robots: str = "User-agent: *\nDisallow: /admin/\n",
    routes: dict[str, dict[str, Any]] | None = None,
    source: dict[str, Any] | None = None,
) -> Path:
    """Write (or rewrite) a synthetic outlet in `root`; returns root."""
    pages = list(pages)
    root.mkdir(parents=True, exist_ok=True)
    (root / "news").mkdir(exist_ok=True)
    for page in pages:
        (root / "news" / f"{page.number}.html").write_text(article_html(page, name), encoding="utf-8")
    write_feed(root, pages if feed_pages is None else feed_pages, name)
    (root / "robots.txt").write_text(robots, encoding="utf-8")
    (root / "_routes.yml").write_text(yaml.safe_dump(routes or {}, allow_unicode=True), encoding="utf-8")
    entry = {
        "id": source_id,
        "name": name,
        "country": "MA",
        "language": "ar",
        "timezone": "Africa/Casablanca",
        "domains": ["{{HOSTPORT}}"],
        "feeds": ["{{BASE}}/feed"],
        "article_pattern": r"^https?://[^/]+/news/\d+\.html$",
        **(source or {}),
    }
    (root / "source.yml").write_text(yaml.safe_dump(entry, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root

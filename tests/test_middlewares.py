"""Downloader middlewares that stand in for Scrapy's: same decisions as Scrapy's own, on real responses."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.middlewares import MetaRefreshMiddleware

URL = "http://127.0.0.1:8000/news/9.html"
ARABIC = "أعلنت وزارة الصحة عن حملة وطنية للتلقيح في جميع جهات المملكة. "  # 64 characters, 117 UTF-8 bytes
REFRESH = '<meta http-equiv="Refresh" content="0; url=/news/moved-9.html">'


def page(before_meta: int, encoding: str = "utf-8", meta: str = REFRESH) -> bytes:
    """A page whose refresh tag comes after `before_meta` characters of Arabic text in the head."""
    filler = (ARABIC * (before_meta // len(ARABIC) + 1))[:before_meta]
    html = f"<html><head><title>{filler}</title>{meta}</head><body><p>{ARABIC * 800}</p></body></html>"
    return html.encode(encoding)


CASES = {
    "no refresh, 94 KB": page(0, meta=""),
    "refresh at the top": page(0),
    # 3,900 characters of Arabic are ~7 KB of UTF-8: past 4,096 bytes, within Scrapy's 4,096 characters
    "refresh after 3,900 Arabic characters": page(3_900),
    "refresh after 4,200 characters (Scrapy does not look there)": page(4_200),
    "windows-1256 page with a refresh": page(1_000, "windows-1256").replace(
        b"<head>", b'<head><meta charset="windows-1256">'),
    "UTF-16 page with a refresh": page(100, "utf-16"),
    "upper-case HTTP-EQUIV": page(10, meta=REFRESH.replace("http-equiv", "HTTP-EQUIV")),
}


@pytest.fixture(scope="module")
def middlewares():
    crawler = get_crawler(settings_dict={"METAREFRESH_ENABLED": True})
    return MetaRefreshMiddleware.from_crawler(crawler), ScrapyMetaRefreshMiddleware.from_crawler(crawler)


def outcome(result) -> str:
    return f"redirect to {result.url}" if isinstance(result, Request) else "response"


@pytest.mark.parametrize("name", list(CASES))
def test_meta_refresh_decisions_are_scrapys(middlewares, name):
    ours, scrapys = middlewares
    body = CASES[name]
    response = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html"})
    expected = outcome(scrapys.process_response(Request(URL), response))
    assert outcome(ours.process_response(Request(URL), HtmlResponse(URL, body=body, headers={
        "Content-Type": "text/html"}))) == expected
    should_redirect = name not in ("no refresh, 94 KB", "refresh after 4,200 characters (Scrapy does not look there)")
    assert expected == ("redirect to http://127.0.0.1:8000/news/moved-9.html" if should_redirect else "response")


def test_a_page_without_refresh_is_not_decoded(middlewares):
    ours, scrapys = middlewares
    response = HtmlResponse(URL, body=CASES["no refresh, 94 KB"], headers={"Content-Type": "text/html"})
    assert ours.process_response(Request(URL), response) is response
    assert response._cached_ubody is None  # Scrapy's decoded-text cache stays empty...
    scrapys.process_response(Request(URL), response)
    assert response._cached_ubody == response.body.decode("utf-8")  # ...where Scrapy's decodes the whole page


def test_a_meta_refresh_stub_is_followed_in_a_real_crawl(tmp_path):
    """Over HTTP: the feed lists a stub page that refreshes to the article; the article is stored once,
    under both URLs, and nothing is recorded as an error."""
    from tests.conftest import crawl, rows
    from tests.minisite import Page, write_page, write_site
    from tests.sites import SiteServer, load_site_source, write_registry

    root = write_site(tmp_path / "site", "refresh", [Page(1), Page(2)], feed_pages=[Page(1)])
    write_page(root, 1, '<!DOCTYPE html><html><head><meta charset="UTF-8"><title>…</title>'
                        '<meta http-equiv="refresh" content="0; url={{BASE}}/news/2.html"></head>'
                        "<body><p>انتقل المقال</p></body></html>")
    db = tmp_path / "archive.db"
    with SiteServer(root) as site:
        crawl(write_registry([load_site_source(root, site.base)], tmp_path / "sources.yml"), db)
        fetched = [path for method, path, status in site.log if path.startswith("/news/")]
    articles = rows(db, "SELECT id, title, url FROM articles")
    assert len(articles) == 1
    assert articles[0]["title"] == Page(2).title and articles[0]["url"].endswith("/news/2.html")
    urls = {r["url"].split("/", 3)[3] for r in rows(db, "SELECT url FROM article_urls WHERE article_id = ?", (articles[0]["id"],))}
    assert {"news/1.html", "news/2.html"} <= urls
    assert fetched == ["/news/1.html", "/news/2.html"]
    assert rows(db, "SELECT count(*) AS n FROM errors")[0]["n"] == 0

"""Every form of an article's URL that the crawl meets is kept in `article_urls`, whether it is met before
or after the article is fetched (scale-out: tests/test_scaleout.py checks the same through the writer)."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import crawl, rows
from tests.minisite import Page, article_html, write_page, write_site
from tests.sites import SiteServer, load_site_source, write_registry

NAME = "موقع تجريبي"
SHARE = "/news/1.html?utm_source=share"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_form_met_only_after_its_article_was_fetched_is_kept(tmp_path):
    """Page 1 links to itself with a share parameter: that form is found only once page 1 was fetched and
    parsed (AKHBAR_FOLLOW_DEPTH=1). It is not requested, and it ends in page 1's article_urls."""
    root = write_site(tmp_path / "site", "forms", [Page(1), Page(2)], name=NAME,
                      source={"article_pattern": r"^https?://[^/]+/news/\d+\.html"})
    share_link = f'<p><a href="{{{{BASE}}}}{SHARE}">شارك المقال</a></p></article>'
    write_page(root, 1, article_html(Page(1), NAME).replace("</article>", share_link, 1))
    db = tmp_path / "archive.db"
    with SiteServer(root) as site:
        crawl(write_registry([load_site_source(root, site.base)], tmp_path / "sources.yml"), db,
              settings={"AKHBAR_FOLLOW_DEPTH": "1"})
        fetched = sorted(path for method, path, status in site.log if path.startswith("/news/"))
    assert fetched == ["/news/1.html", "/news/2.html"]  # the share form was not requested
    [article] = rows(db, "SELECT id FROM articles WHERE url LIKE '%/news/1.html'")
    forms = {path_of(r["url"]) for r in rows(db, "SELECT url FROM article_urls WHERE article_id = ?", (article["id"],))}
    assert forms == {"/news/1.html", SHARE}
    assert rows(db, "SELECT count(*) AS n FROM errors")[0]["n"] == 0

"""The fixture outlets and their HTTP server (tests/sites.py), fetched over real HTTP with urllib.

These pin down what the crawl tests rely on: templated absolute URLs with the live port,
gzip, status and content-type overrides, legacy encodings, pagination, and a registry
whose patterns accept every expected article URL and no discovery page.
"""

from __future__ import annotations

import gzip
import html
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterator

import pytest

from pipelines.registry import load_sources
from tests.sites import SiteServer, load_site_source, render, write_registry

REPO = Path(__file__).resolve().parents[1]
SITES = REPO / "tests" / "fixtures" / "sites"
EXPECTED = json.loads((SITES / "expected.json").read_text(encoding="utf-8"))
NAMES = ("alwaha", "sahil", "mashriq")
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
BODY_CLASS = {"alwaha": "entry-content", "sahil": "article__body", "mashriq": "news-text"}


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, SiteServer]]:
    running = {name: SiteServer(SITES / name).start() for name in NAMES}
    try:
        yield running
    finally:
        for server in running.values():
            server.stop()


def fetch(url: str, method: str = "GET", timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def h1(page: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert match
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def body_words(page: str, site: str) -> int:
    match = re.search(rf'<div class="{BODY_CLASS[site]}"[^>]*>(.*?)\n\s*</div>', page, re.S)
    assert match, site
    text = re.sub(r"<div class=\"inread-ad\".*?</div>", " ", match.group(1), flags=re.S)
    return len(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


# ------------------------------------------------------------------------------------------------
# the server


def test_base_and_hostport(servers: dict[str, SiteServer]) -> None:
    ports = {s.port for s in servers.values()}
    assert len(ports) == 3 and 0 not in ports
    alwaha = servers["alwaha"]
    assert alwaha.base == f"http://127.0.0.1:{alwaha.port}"
    assert alwaha.hostport == f"127.0.0.1:{alwaha.port}"


def test_feed_is_templated_rss_with_pubdates(servers: dict[str, SiteServer]) -> None:
    site = servers["alwaha"]
    status, headers, body = fetch(site.base + "/feed")
    assert status == 200
    assert headers["Content-Type"] == "application/rss+xml; charset=UTF-8"
    assert b"{{BASE}}" not in body and b"{{HOSTPORT}}" not in body
    items = ET.fromstring(body).findall("./channel/item")
    assert len(items) == 10
    links = [i.findtext("link") for i in items]
    assert all(link.startswith(site.base + "/") for link in links)
    assert site.base + "/2020/11/18/citrus-exports-africa-rise/?utm_source=rss&utm_medium=feed" in links
    assert all(re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000", i.findtext("pubDate")) for i in items)
    # the 00:30 local article is dated the previous day in UTC
    midnight = next(i for i in items if i.findtext("link").endswith("/2020/11/19/orange-alert-storms-snow/"))
    assert midnight.findtext("pubDate") == "Wed, 18 Nov 2020 23:30:00 +0000"


def test_broken_feed_is_malformed(servers: dict[str, SiteServer]) -> None:
    status, headers, body = fetch(servers["alwaha"].base + "/feed/broken")
    assert status == 200 and headers["Content-Type"].startswith("application/rss+xml")
    with pytest.raises(ET.ParseError):
        ET.fromstring(body)


def test_robots_txt_declares_the_sitemap(servers: dict[str, SiteServer]) -> None:
    alwaha, sahil, mashriq = (servers[n] for n in NAMES)
    status, headers, body = fetch(alwaha.base + "/robots.txt")
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert f"Sitemap: {alwaha.base}/sitemap.xml".encode() in body.splitlines()
    assert f"Sitemap: {sahil.base}/sitemap_index.xml".encode() in fetch(sahil.base + "/robots.txt")[2].splitlines()
    assert b"Sitemap:" not in fetch(mashriq.base + "/robots.txt")[2]
    locs = [e.text for e in ET.fromstring(fetch(alwaha.base + "/sitemap.xml")[2]).iter(SM + "loc")]
    assert len(locs) == 17 and all(loc.startswith(alwaha.base + "/") for loc in locs)


def test_sitemap_index_points_to_gzipped_news_plain_and_broken_sitemaps(servers: dict[str, SiteServer]) -> None:
    site = servers["sahil"]
    status, _, body = fetch(site.base + "/sitemap_index.xml")
    assert status == 200
    locs = [e.text for e in ET.fromstring(body).iter(SM + "loc")]
    assert locs == [site.base + "/news-sitemap.xml.gz", site.base + "/post-sitemap.xml", site.base + "/page-sitemap.xml"]

    status, headers, raw = fetch(locs[0])
    assert status == 200 and headers["Content-Type"] == "application/x-gzip"
    assert raw[:2] == b"\x1f\x8b"
    xml = gzip.decompress(raw)
    assert b"{{BASE}}" not in xml
    news = ET.fromstring(xml)
    urls = news.findall(SM + "url")
    assert len(urls) == 3
    for url in urls:
        assert url.findtext(SM + "loc").startswith(site.base + "/article/")
        assert re.fullmatch(r"2020-11-\d\dT\d\d:\d\d:00\+01:00", url.findtext(f"{NEWS}news/{NEWS}publication_date"))
        assert url.findtext(f"{NEWS}news/{NEWS}title")
    assert fetch(locs[0], method="HEAD")[1]["Content-Length"] == str(len(raw))

    assert len(ET.fromstring(fetch(locs[1])[2]).findall(SM + "url")) == 11
    with pytest.raises(ET.ParseError):
        ET.fromstring(fetch(locs[2])[2])


def test_section_pages_paginate(servers: dict[str, SiteServer]) -> None:
    site = servers["mashriq"]
    status, _, first = fetch(site.base + "/section/politics")
    assert status == 200
    page1 = first.decode("utf-8")
    assert f'<link rel="next" href="{site.base}/section/politics?page=2" />' in page1
    assert re.search(rf'<a href="{re.escape(site.base)}/section/politics\?page=2" rel="next">التالي', page1)
    status, headers, second = fetch(site.base + "/section/politics?page=2")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    page2 = second.decode("utf-8")
    assert f'rel="prev"' in page2 and 'rel="next"' not in page2
    assert f"{site.base}/news/politics/14402.html" in page2
    assert fetch(site.base + "/section/politics/")[0] == 200
    assert fetch(site.base + "/section/politics?page=3")[0] == 404  # past the last page
    assert fetch(site.base + "/section/politics?page=1")[2] == first
    assert fetch(site.base + "/section/sport")[0] == 404  # menu link, not a discovery page


def test_lying_charset_header_page(servers: dict[str, SiteServer]) -> None:
    site = servers["mashriq"]
    status, headers, body = fetch(site.base + "/news/economy/20912.html")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"  # the lie
    assert b'<meta charset="windows-1256">' in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    page = body.decode("cp1256")
    assert h1(page) == "ارتفاع أسعار المواد الغذائية يثقل كاهل العائلات اللبنانية"
    assert site.base + "/section/economy" in page  # templated on bytes, encoding intact


def test_legacy_encodings_with_correct_or_missing_charset(servers: dict[str, SiteServer]) -> None:
    site = servers["mashriq"]
    _, headers, body = fetch(site.base + "/news/society/20955.html")
    assert headers["Content-Type"] == "text/html; charset=windows-1256"
    assert h1(body.decode("cp1256")).startswith("جمعيات أهلية توزع")
    _, headers, body = fetch(site.base + "/news/culture/20987.html")
    assert headers["Content-Type"] == "text/html"
    assert b"charset" not in body.lower()
    assert h1(body.decode("iso8859_6")) == "مهرجان صيفي في الشوف يستبدل حفلاته بأمسيات مصورة"
    # the Eastern Arabic digits and the doubled Levantine month of the UTF-8 archive page
    page = fetch(site.base + "/news/politics/14402.html")[2].decode("utf-8")
    assert "الثلاثاء ٢٣ كانون الأول (ديسمبر) ٢٠١٤ - ١٠:٣٠" in page


def test_status_overrides_pdf_and_head(servers: dict[str, SiteServer]) -> None:
    site = servers["alwaha"]
    status, headers, body = fetch(site.base + "/2020/11/15/regional-council-budget-vote/")
    assert status == 500 and b"Internal Server Error" in body
    status, headers, body = fetch(site.base + "/2020/11/14/finance-bill-2021-full-text/")
    assert status == 200 and headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-1.4")
    assert headers["Content-Disposition"] == 'inline; filename="plf-2021.pdf"'
    assert fetch(site.base + "/2020/11/16/deleted-story-parliament-session/")[0] == 404
    for hidden in ("/source.yml", "/_routes.yml", "/_files/500.html", "/../tests/sites.py", "/feed/../source.yml"):
        assert fetch(site.base + hidden)[0] == 404, hidden
    status, headers, body = fetch(site.base + "/2020/11/20/majority-leaders-meet-marrakech/", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 5000
    assert headers["Content-Type"] == "text/html; charset=utf-8"


def test_url_variants_serve_the_same_article(servers: dict[str, SiteServer]) -> None:
    site = servers["alwaha"]
    group = EXPECTED["sites"]["alwaha"]["url_variants"][0]
    pages = {p: fetch(site.base + p)[2].decode("utf-8") for p in group["paths"]}
    assert all(fetch(site.base + p)[0] == 200 for p in group["paths"])
    canonical = f'<link rel="canonical" href="{site.base}{group["canonical"]}">'
    assert all(canonical in page for page in pages.values())
    assert {h1(page) for page in pages.values()} == {"صادرات الحوامض المغربية نحو إفريقيا ترتفع بـ18 في المائة"}
    amp = pages["/amp" + group["canonical"]]
    assert "<html ⚡" in amp
    assert f'href="{site.base}/amp{group["canonical"]}"' in fetch(site.base + "/2020/11/17/tanger-med-containers-record/")[2].decode()


def test_slow_page_times_out_and_log_records_requests(servers: dict[str, SiteServer]) -> None:
    site = servers["sahil"]
    site.clear_log()
    slow = EXPECTED["sites"]["sahil"]["errors"][1]["path"]
    started = time.monotonic()
    with pytest.raises((socket.timeout, TimeoutError, urllib.error.URLError)):
        urllib.request.urlopen(site.base + slow, timeout=0.5).read()
    assert time.monotonic() - started < 3
    fetch(site.base + "/sitemap_index.xml")
    fetch(site.base + "/article/1/nothing-here?x=1")
    assert site.log == [("GET", slow, 200), ("GET", "/sitemap_index.xml", 200),
                        ("GET", "/article/1/nothing-here?x=1", 404)]
    site.clear_log()
    assert site.log == []


def test_render_replaces_placeholders_on_bytes() -> None:
    raw = "<a href='{{BASE}}/x'>{{HOSTPORT}}</a> عربي".encode("cp1256")
    out = render(raw, "http://127.0.0.1:9", "127.0.0.1:9")
    assert out.decode("cp1256") == "<a href='http://127.0.0.1:9/x'>127.0.0.1:9</a> عربي"


def test_server_without_a_site_folder_fails_early(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SiteServer(tmp_path / "missing")


# ------------------------------------------------------------------------------------------------
# registry and expectations


@pytest.fixture(scope="module")
def registry(servers: dict[str, SiteServer], tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = write_registry([load_site_source(SITES / n, servers[n].base) for n in NAMES],
                          tmp_path_factory.mktemp("reg") / "demo-sources.yml")
    return {s.id: s for s in load_sources(path)}


def test_site_sources_are_templated(servers: dict[str, SiteServer]) -> None:
    for name, server in servers.items():
        entry = load_site_source(SITES / name, server.base)
        assert entry["id"] == name and entry["domains"] == [server.hostport]
        urls = entry.get("feeds", []) + entry.get("sitemaps", []) + entry.get("start_urls", [])
        assert urls and all(u.startswith(server.base + "/") for u in urls)
        assert not any(u.endswith("/robots.txt") for u in urls)  # robots.txt is read by the crawler anyway
        assert server.source() == entry


def test_generated_registry_loads(registry: dict, servers: dict[str, SiteServer]) -> None:
    assert list(registry) == list(NAMES)
    assert registry["alwaha"].timezone == "Africa/Casablanca"
    assert registry["sahil"].timezone == "Africa/Algiers"
    assert registry["mashriq"].start_urls == (servers["mashriq"].base + "/section/politics",
                                              servers["mashriq"].base + "/section/economy")
    # each fixture outlet owns its own port only
    url = servers["sahil"].base + EXPECTED["sites"]["sahil"]["articles"][0]["path"]
    assert [s.id for s in registry.values() if s.owns(url)] == ["sahil"]


def test_expected_article_urls_are_articles_and_discovery_pages_are_not(registry: dict, servers: dict[str, SiteServer]) -> None:
    for name in NAMES:
        source, base, site = registry[name], servers[name].base, EXPECTED["sites"][name]
        for article in site["articles"]:
            assert source.is_article(base + article["path"]), (name, article["path"])
        for group in site["url_variants"]:
            for path in group["paths"]:
                assert source.is_article(base + path), (name, path)
        for error in site["errors"]:
            planted_as_article = error["kind"] not in ("bad_feed", "bad_sitemap")
            assert source.is_article(base + error["path"]) is planted_as_article, (name, error)
        discovery = site["discovery"]
        pages = discovery["feeds"] + discovery["sitemaps"] + discovery["start_urls"] + discovery.get("section_pages", [])
        for path in pages + ["/", "/robots.txt"]:
            assert not source.is_article(base + path), (name, path)
        for url in (*source.feeds, *source.sitemaps, *source.start_urls):
            assert not source.is_article(url)


def test_every_expected_article_is_served_with_its_title_and_length(servers: dict[str, SiteServer]) -> None:
    counts = {}
    for name in NAMES:
        site = EXPECTED["sites"][name]
        for article in site["articles"]:
            status, headers, body = fetch(servers[name].base + article["path"])
            assert status == 200 and headers["Content-Type"].startswith("text/html"), article["path"]
            page = body.decode(article.get("encoding", "utf-8"))
            assert h1(page) == article["title"], article["path"]
            assert 150 <= body_words(page, name) <= 600, (article["path"], body_words(page, name))
        counts[name] = len(site["articles"])
    assert all(10 <= n <= 14 for n in counts.values()), counts
    titles = [a["title"] for s in EXPECTED["sites"].values() for a in s["articles"]]
    assert len(set(titles)) == len(titles)


def test_discovery_lists_only_planned_urls(servers: dict[str, SiteServer]) -> None:
    """Every URL a feed or sitemap hands out is an expected article, a variant or a planted error."""
    for name, listing in (("alwaha", "/feed"), ("alwaha", "/sitemap.xml"), ("sahil", "/post-sitemap.xml")):
        base, site = servers[name].base, EXPECTED["sites"][name]
        known = {a["path"] for a in site["articles"]} | {e["path"] for e in site["errors"]}
        known |= {p for g in site["url_variants"] for p in g["paths"]}
        body = fetch(base + listing)[2]
        links = [e.text for e in ET.fromstring(body).iter() if e.tag in ("link", SM + "loc")]
        paths = [link[len(base):] for link in links if link.startswith(base + "/")]
        assert paths and set(paths) <= known, (name, listing, set(paths) - known)
    news = gzip.decompress(fetch(servers["sahil"].base + "/news-sitemap.xml.gz")[2])
    assert EXPECTED["sites"]["sahil"]["errors"][1]["path"].encode() in news  # the slow page


def test_error_kinds_and_planted_cases(servers: dict[str, SiteServer]) -> None:
    kinds = {e["kind"] for s in EXPECTED["sites"].values() for e in s["errors"]}
    assert kinds == set(EXPECTED["error_kinds"])
    alwaha = servers["alwaha"].base
    empty = fetch(alwaha + "/2020/11/13/housing-program-new-phase/")[2].decode()
    assert h1(empty) == "" and body_words(empty, "alwaha") == 0 and "الأكثر قراءة" in empty
    listing = fetch(alwaha + "/2020/11/20/daily-news-roundup/")[2].decode()
    assert '<meta property="og:type" content="website">' in listing and listing.count('class="more-link"') == 8
    xss = fetch(alwaha + "/2020/11/16/phishing-xss-admin-sites-warning/")[2].decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xss and "<img src=x onerror=alert(1)>" in xss
    assert h1(xss) == "خبراء يحذرون من ثغرة «<script>alert(1)</script>» في مواقع إدارية"


def shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text)
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def article_text(servers: dict[str, SiteServer], ref: dict) -> str:
    site = ref["site"]
    page = fetch(servers[site].base + ref["path"])[2].decode("utf-8")
    match = re.search(rf'<div class="{BODY_CLASS[site]}"[^>]*>(.*?)\n\s*</div>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1)))


def test_syndicated_pair_is_near_duplicate_and_hard_negative_is_not(servers: dict[str, SiteServer]) -> None:
    pair = EXPECTED["syndicated"][0]
    a, b = shingles(article_text(servers, pair["a"])), shingles(article_text(servers, pair["b"]))
    assert len(a & b) / len(a | b) > 0.6
    assert pair["a"]["path"] != pair["b"]["path"] and pair["same_story"] is True

    neg = EXPECTED["hard_negatives"][0]
    ta, tb = article_text(servers, neg["a"]), article_text(servers, neg["b"])
    assert neg["shared_paragraph"] in ta and neg["shared_paragraph"] in tb
    assert len(neg["shared_paragraph"].split()) >= 60
    a, b = shingles(ta), shingles(tb)
    assert len(a & b) / len(a | b) < 0.3
    assert neg["same_story"] is False


def test_marrakech_standalone_copy(servers: dict[str, SiteServer]) -> None:
    meta = json.loads((REPO / "tests/fixtures/marrakech-coalition-meeting.json").read_text(encoding="utf-8"))
    raw = (REPO / "tests/fixtures/marrakech-coalition-meeting.html").read_bytes()
    assert raw == (SITES / "alwaha" / meta["path"].strip("/") / "index.html").read_bytes()
    page = render(raw, "http://127.0.0.1:8101", "127.0.0.1:8101").decode("utf-8")
    assert h1(page) == meta["title"] == "قادة الأغلبية الحكومية يجتمعون بمراكش لتقييم الحصيلة المرحلية"
    assert meta["published_day"] == "2020-11-20" and meta["section"] == "سياسة" and meta["author"] == "سعيد أيت الحاج"
    assert '<meta property="article:section" content="سياسة">' in page
    assert "الجمعة 20 نونبر 2020 - 09:00" in page and "مراكش" in page
    assert len(meta["body_must"]) == 3 and all(s in page for s in meta["body_must"])
    assert 380 <= body_words(page, "alwaha") <= 450
    alwaha = next(a for a in EXPECTED["sites"]["alwaha"]["articles"] if a["path"] == meta["path"])
    assert alwaha["title"] == meta["title"] and alwaha["published_day"] == meta["published_day"]


def test_cli_serves_sites_and_writes_the_registry(tmp_path: Path) -> None:
    registry = tmp_path / "var" / "demo-sources.yml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.sites", "serve", "--port", "0", "--registry", str(registry),
         str(SITES / "alwaha"), str(SITES / "mashriq")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = [proc.stdout.readline().strip() for _ in range(3)]
        assert lines[0].startswith("alwaha") and lines[1].startswith("mashriq") and lines[2].startswith("registry")
        base = lines[0].split()[-1].rstrip("/")
        assert fetch(base + "/feed")[0] == 200
        sources = load_sources(registry)
        assert [s.id for s in sources] == ["alwaha", "mashriq"]
        assert sources[0].feeds[0] == base + "/feed"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0

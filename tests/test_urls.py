"""canonical_url and pick_canonical: every URL variant family of outlets.md "URL identity"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.registry import Source
from pipelines.urls import canonical_url, pick_canonical

CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"


def src(id: str, domains: tuple[str, ...], pattern: str, canonical_host: str | None = None) -> Source:
    return Source(id=id, name=id, country="MA", language="ar", domains=domains, article_pattern=pattern,
                  canonical_host=canonical_host)


HESPRESS = src("hespress", ("www.hespress.com", "hespress.com"), r"/[^/]+-\d+\.html$|/[a-z]+/\d+\.html$",
               canonical_host="www.hespress.com")
HESPRESS_EDITIONS = src("hespress_all", ("www.hespress.com", "hespress.com", "fr.hespress.com"), r"\.html$")
YOUM7 = src("youm7", ("www.youm7.com", "youm7.com", "m.youm7.com", "m2.youm7.com"),
            r"^https?://[^/]+/story/\d{4}/\d{1,2}/\d{1,2}/[^/]+/\d+$")
ALJAZEERA = src("aljazeera", ("www.aljazeera.net", "aljazeera.net"), r"/\d{4}/\d{1,2}/\d{1,2}/")
SPUTNIK = src("sputnikar", ("arabic.sputniknews.com",), r"/\d{18,}-")
AKHBARELYOM = src("akhbarelyom", ("akhbarelyom.com", "m.akhbarelyom.com", "www.akhbarelyom.com"),
                  r"/news/newdetails/\d+/")
ANNAHAR = src("annahar", ("www.annahar.com", "annahar.com"), r"/arabic/section/[^/]+/\d{17}")
HIBAPRESS = src("hibapress", ("ar.hibapress.com", "www.hibapress.com", "hibapress.com"), r"/details-\d+\.html$",
                canonical_host="ar.hibapress.com")
ALMADENAH = src("almadenah", ("www.almadenahnews.com", "almadenahnews.com"), r"/article/\d+-")
LBCI = src("lbci", ("www.lbcgroup.tv", "lbcgroup.tv"), r"/news/[^/]+/\d+/")
LOCAL = src("local", ("127.0.0.1:8101",), r"/article/\d+")

H_ENC = "%D8%A7%D9%84%D9%85%D9%84%D9%83-1283197.html"  # الملك-1283197.html
H_CANON = f"https://www.hespress.com/{H_ENC}"
Y_SLUG = "وزير-الرى-يشهد-توقيع"
Y_CANON = ("https://www.youm7.com/story/2020/8/24/"
           "%D9%88%D8%B2%D9%8A%D8%B1-%D8%A7%D9%84%D8%B1%D9%89-%D9%8A%D8%B4%D9%87%D8%AF-%D8%AA%D9%88%D9%82%D9%8A%D8%B9/4943459")
S_PATH = "arab_world/202003171044893040-%D9%85%D8%B5%D8%B1"
AK_PATH = "news/newdetails/3126898/1/36-%D8%B9%D8%A7%D9%85%D9%8B%D8%A7"

CASES = [
    # percent-encoding case and raw IRI (Hespress)
    ("https://www.hespress.com/%d8%a7%d9%84%d9%85%d9%84%d9%83-1283197.html", HESPRESS, H_CANON),
    ("https://www.hespress.com/%D8%A7%D9%84%D9%85%D9%84%D9%83-1283197.html", HESPRESS, H_CANON),
    ("https://www.hespress.com/الملك-1283197.html", HESPRESS, H_CANON),
    # bare host, http, tracking parameters, fragment
    ("http://hespress.com/الملك-1283197.html?fbclid=IwAR0abc", HESPRESS, H_CANON),
    ("https://HESPRESS.com/%d8%a7%d9%84%d9%85%d9%84%d9%83-1283197.html#comments", HESPRESS, H_CANON),
    ("https://www.hespress.com:443/الملك-1283197.html?utm_source=fb&utm_medium=social&gclid=x&_ga=2.1", HESPRESS, H_CANON),
    ("https://www.hespress.com/الملك-1283197.html?at_medium=rss&at_campaign=x&mc_cid=1&igshid=2&ref=home", HESPRESS, H_CANON),
    # old Hespress URL shape keeps its path
    ("http://www.hespress.com/politique/490220.html", HESPRESS, "https://www.hespress.com/politique/490220.html"),
    # other editions are not folded; without canonical_host only www/bare/m variants of the first domain are
    ("https://fr.hespress.com/123-x.html", HESPRESS_EDITIONS, "https://fr.hespress.com/123-x.html"),
    ("https://hespress.com/123-x.html", HESPRESS_EDITIONS, "https://www.hespress.com/123-x.html"),
    # m. / m2. hosts and the AMP twin that drops /story/ (Youm7)
    (f"https://m.youm7.com/story/2020/8/24/{Y_SLUG}/4943459", YOUM7, Y_CANON),
    (f"https://m2.youm7.com/story/2020/8/24/{Y_SLUG}/4943459/", YOUM7, Y_CANON),
    (f"https://m.youm7.com/amp/2020/8/24/{Y_SLUG}/4943459", YOUM7, Y_CANON),
    (f"http://youm7.com/story/2020/8/24/{Y_SLUG}/4943459?utm_campaign=x", YOUM7, Y_CANON),
    # id-bearing parameters survive, sorted
    ("https://www.youm7.com/RSS/SectionRss?utm_source=x&SectionID=97", YOUM7,
     "https://www.youm7.com/RSS/SectionRss?SectionID=97"),
    ("https://www.hespress.com/?p=12345&fbclid=x", HESPRESS, "https://www.hespress.com/?p=12345"),
    ("https://www.example.com/news.php?lang=ar&id=77", None, "https://www.example.com/news.php?id=77&lang=ar"),
    # /amp/ prefix (Al Jazeera, Sputnik), trailing slash
    ("https://www.aljazeera.net/amp/news/politics/2022/3/8/slug", ALJAZEERA,
     "https://www.aljazeera.net/news/politics/2022/3/8/slug"),
    ("https://aljazeera.net/news/politics/2022/3/8/slug/", ALJAZEERA,
     "https://www.aljazeera.net/news/politics/2022/3/8/slug"),
    (f"https://arabic.sputniknews.com/amp/{S_PATH}/", SPUTNIK, f"https://arabic.sputniknews.com/{S_PATH}"),
    (f"https://arabic.sputniknews.com/{S_PATH}/", SPUTNIK, f"https://arabic.sputniknews.com/{S_PATH}"),
    # /amp suffix on the m. host (Akhbar El Yom); ?amp, ?amp=1, outputType=amp
    (f"https://m.akhbarelyom.com/{AK_PATH}/amp", AKHBARELYOM, f"https://akhbarelyom.com/{AK_PATH}"),
    (f"https://www.akhbarelyom.com/{AK_PATH}?amp", AKHBARELYOM, f"https://akhbarelyom.com/{AK_PATH}"),
    (f"https://akhbarelyom.com/{AK_PATH}?amp=1", AKHBARELYOM, f"https://akhbarelyom.com/{AK_PATH}"),
    ("https://ar.le360.ma/culture/ZIP7HWP2RFH2TOWFKOTP3C5ELI/?outputType=amp", None,
     "https://ar.le360.ma/culture/ZIP7HWP2RFH2TOWFKOTP3C5ELI"),
    ("https://ar.le360.ma/arc/outboundfeeds/rss/?outputType=xml", None,
     "https://ar.le360.ma/arc/outboundfeeds/rss?outputType=xml"),
    # malformed second '?' (An-Nahar): read as '&', then the tracking/app parameters go
    ("https://www.annahar.com/arabic/section/76-سياسة/25112022093556697?MobileApp=true?ref=aliqtisadi.com", ANNAHAR,
     "https://www.annahar.com/arabic/section/76-%D8%B3%D9%8A%D8%A7%D8%B3%D8%A9/25112022093556697"),
    ("https://www.example.com/a?id=5?utm_source=x", None, "https://www.example.com/a?id=5"),
    # retired host folded to canonical_host (Hibapress)
    ("http://www.hibapress.com/details-122278.html", HIBAPRESS, "https://ar.hibapress.com/details-122278.html"),
    # loopback test site: port and scheme kept
    ("http://127.0.0.1:8101/article/5/?utm_source=x#top", LOCAL, "http://127.0.0.1:8101/article/5"),
    ("http://127.0.0.1:8101/%d8%a7/", None, "http://127.0.0.1:8101/%D8%A7"),
    ("http://localhost:8000/a/b/", None, "http://localhost:8000/a/b"),
    ("http://[::1]:8101/a/?fbclid=x", None, "http://[::1]:8101/a"),
    ("http://10.0.0.7/a", None, "http://10.0.0.7/a"),
    # no source: hosts are not folded
    ("http://www.hespress.com/الملك-1283197.html", None, H_CANON),
    ("http://hespress.com/الملك-1283197.html", None, f"https://hespress.com/{H_ENC}"),
    # root path keeps its slash; host-less or non-http input is returned as is
    ("https://www.hespress.com", HESPRESS, "https://www.hespress.com/"),
    ("mailto:redaction@example.com", None, "mailto:redaction@example.com"),
    ("/relative/path", None, "/relative/path"),
]


@pytest.mark.parametrize(("url", "source", "expected"), CASES, ids=[c[0][:70] for c in CASES])
def test_canonical_url(url: str, source: Source | None, expected: str) -> None:
    assert canonical_url(url, source=source) == expected


@pytest.mark.parametrize(("url", "source", "expected"), CASES, ids=[c[0][:70] for c in CASES])
def test_canonical_url_is_idempotent(url: str, source: Source | None, expected: str) -> None:
    assert canonical_url(expected, source=source) == expected


def test_gold_urls_raw_and_encoded_are_one_identity() -> None:
    """Youm7's gold URLs appear raw and uppercase-encoded; the canonical link is raw."""
    gold = [json.loads(line) for line in (CORPUS / "gold.jsonl").read_text(encoding="utf-8").splitlines() if line]
    youm7 = [g["url"] for g in gold if "youm7.com" in g["url"]]
    assert len(youm7) == 2
    raw = next(u for u in youm7 if "%" not in u)
    encoded = next(u for u in youm7 if "%" in u)
    assert canonical_url(raw, source=YOUM7) == canonical_url(raw.replace("https://www.", "http://m2."), source=YOUM7)
    assert canonical_url(encoded, source=YOUM7).startswith("https://www.youm7.com/story/2024/5/13/%D9%88%D8%B2")
    assert canonical_url(encoded.lower().replace("https://www.youm7.com", "https://m.youm7.com"), source=YOUM7) \
        == canonical_url(encoded, source=YOUM7)


# -- pick_canonical on the declared links of real pages ------------------------------------------


def declared(page: str) -> dict[str, str]:
    html = (CORPUS / "pages" / page).read_text(encoding="utf-8", errors="replace")
    out = {}
    m = re.search(r'<link[^>]*rel="canonical"[^>]*href="([^"]+)"', html)
    if m:
        out["canonical"] = m.group(1)
    m = re.search(r'<meta[^>]*property="og:url"[^>]*content="([^"]+)"', html)
    if m:
        out["og"] = m.group(1)
    m = re.search(r'<link[^>]*rel="amphtml"[^>]*href="([^"]+)"', html)
    if m:
        out["amp"] = m.group(1)
    return out


def gold_url(fragment: str) -> str:
    for line in (CORPUS / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if fragment in line:
            return json.loads(line)["url"]
    raise AssertionError(fragment)


def test_pick_canonical_ignores_bare_ip_og_url() -> None:
    links = declared("almadenahnews.com_825076.html")
    assert links["og"].startswith("https://52.16.95.170/")
    page = gold_url("almadenahnews.com")
    expected = ("https://www.almadenahnews.com/article/825076-%D8%A3%D9%85%D9%8A%D8%B1%D9%83%D8%A7-50-%D8%A7%D9%84%D9%81%D8%A7-"
                "%D8%AD%D8%B5%D9%8A%D9%84%D8%A9-%D8%A7%D9%84%D9%88%D9%81%D9%8A%D8%A7%D8%AA-%D8%A8%D8%B3%D8%A8%D8%A8-"
                "%D9%81%D9%8A%D8%B1%D9%88%D8%B3-%D9%83%D9%88%D8%B1%D9%88%D9%86%D8%A7")
    assert pick_canonical(page, [links["og"], links["canonical"]], ALMADENAH) == expected
    assert pick_canonical(page, [links["og"]], ALMADENAH) == expected  # the page URL itself
    assert pick_canonical(page, [links["og"]], None) == expected


def test_pick_canonical_ignores_lbci_short_form() -> None:
    links = declared("lbcgroup.tv_898682.html")
    assert links["og"] == "https://www.lbcgroup.tv/news/lifestyle/898682/lbci-lebanon-articles/ar"
    page = gold_url("lbcgroup.tv")
    chosen = pick_canonical(page, [links["og"], links["canonical"]], LBCI)
    assert chosen == canonical_url(links["canonical"], source=LBCI)
    assert "lbci-lebanon-articles" not in chosen and "/898682/%D8%B4%D8%B9%D8%B1-" in chosen
    assert pick_canonical(page, [links["og"]], LBCI) == canonical_url(page, source=LBCI)
    # a slug-less short form that keeps the id is no better
    assert pick_canonical(page, ["https://www.lbcgroup.tv/news/898682/ar"], LBCI) == canonical_url(page, source=LBCI)


def test_pick_canonical_amp_page_finds_the_article() -> None:
    links = declared("youm7.com_4943459.html")
    amp_page = links.get("amp") or ""
    assert amp_page.startswith("https://m.youm7.com/amp/")
    assert pick_canonical(amp_page, [links["canonical"], links["og"]], YOUM7) == Y_CANON.split("/4943459")[0].rsplit(
        "/", 1)[0] + "/" + canonical_url(links["canonical"]).split("/")[-2] + "/4943459"
    assert pick_canonical(amp_page, [], YOUM7) == pick_canonical(gold_url("4943459"), [links["canonical"]], YOUM7)
    ak = declared("akhbarelyom.com_3126898.html")
    assert pick_canonical(ak["amp"], [ak["canonical"]], AKHBARELYOM) == canonical_url(ak["canonical"], source=AKHBARELYOM)
    assert canonical_url(ak["amp"], source=AKHBARELYOM) == canonical_url(ak["canonical"], source=AKHBARELYOM)


@pytest.mark.parametrize(
    ("declared_urls", "expected"),
    [
        (["https://www.maghress.com/almassae/23820"], H_CANON),                 # off-site (mirror)
        (["https://www.hespress.com/"], H_CANON),                               # homepage
        (["https://www.hespress.com/politique"], H_CANON),                      # section, not an article
        (["https://www.hespress.com/%D8%A2%D8%AE%D8%B1-999999.html"], H_CANON),  # another article: id lost
        (["https://www.hespress.com/1283197.html"], H_CANON),                   # Arabic slug dropped
        (["", "  "], H_CANON),
        (["/%D8%A7%D9%84%D9%85%D9%84%D9%83-1283197.html?utm_source=x"], H_CANON),  # relative, resolved
        (["https://hespress.com/%D8%A7%D9%84%D9%85%D9%84%D9%83-%D8%AC%D8%AF%D9%8A%D8%AF-1283197.html"],
         "https://www.hespress.com/%D8%A7%D9%84%D9%85%D9%84%D9%83-%D8%AC%D8%AF%D9%8A%D8%AF-1283197.html"),  # new slug
    ],
)
def test_pick_canonical_validation(declared_urls: list[str], expected: str) -> None:
    page = "https://hespress.com/%d8%a7%d9%84%d9%85%d9%84%d9%83-1283197.html?fbclid=abc"
    assert pick_canonical(page, declared_urls, HESPRESS) == expected


def test_pick_canonical_redesigned_url_keeps_old_id() -> None:
    old = "http://www.hespress.com/politique/490220.html"
    new = "https://www.hespress.com/%D8%AC%D8%AF%D9%84-490220.html"
    assert pick_canonical(old, [new], HESPRESS) == new


def test_pick_canonical_on_loopback() -> None:
    page = "http://127.0.0.1:8101/article/5?utm_source=x"
    assert pick_canonical(page, ["http://127.0.0.1:8101/article/5/"], LOCAL) == "http://127.0.0.1:8101/article/5"
    assert pick_canonical(page, ["http://127.0.0.1:9999/article/5"], LOCAL) == "http://127.0.0.1:8101/article/5"
    assert pick_canonical(page, ["http://10.0.0.7/article/5"], None) == "http://127.0.0.1:8101/article/5"

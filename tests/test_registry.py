"""The outlet registry (seeds/sources.yml) and its validation (pipelines/registry.py).

The seeds must only use endpoints recorded in the shared reference, and every article
pattern must accept the article URLs recorded there while rejecting the outlet's own
feeds, sitemaps and listings.
"""

from __future__ import annotations

import copy
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipelines.registry import DEFAULT_SEEDS, RegistryError, Source, load_sources, parse_source

OUTLETS_MD = Path(__file__).resolve().parents[2] / "shared" / "reference" / "outlets.md"

# A filler for URL shapes that outlets.md records with a placeholder (<arabic-slug>, <slug>, …).
SLUG = "%D9%85%D8%AB%D8%A7%D9%84-%D9%84%D9%84%D8%AA%D9%88%D8%B6%D9%8A%D8%AD"  # "مثال-للتوضيح"

# outlet id -> article URLs from outlets.md. Verbatim where outlets.md gives a full URL; "shape" rows
# are the recorded shape with its placeholder filled by SLUG. youm7 uses the gold page URL of
# /work/shared/corpus (the same article outlets.md cites as /story/2020/8/24/…/4943459).
EXAMPLES: dict[str, list[str]] = {
    "hespress": [
        "https://www.hespress.com/%D8%A7%D9%84%D9%85%D9%84%D9%83-1283197.html",
        "https://www.hespress.com/%d8%a7%d9%84%d9%85%d9%84%d9%83-1283197.html",  # lowercase variant
        "https://www.hespress.com/الملك-1283197.html",  # raw-Arabic variant
        "https://hespress.com/%D8%A7%D9%84%D9%85%D9%84%D9%83-1283197.html?fbclid=IwAR0abc",
        "https://www.hespress.com/politique/490220.html",  # before 2021
    ],
    "le360": ["https://ar.le360.ma/culture/ZIP7HWP2RFH2TOWFKOTP3C5ELI/", "http://ar.le360.ma/politique/150906"],
    "barlamane": [f"https://www.barlamane.com/{SLUG}/"],  # shape
    "assabah_ma": ["https://assabah.ma/515817.html"],
    "hibapress": ["https://ar.hibapress.com/details-281066.html", "http://www.hibapress.com/details-122278.html"],
    "dozim": [f"http://www.2m.ma/ar/news/{SLUG}-20190624/"],  # shape
    "febrayer": ["https://www.febrayer.com/644933.html"],
    "goud": [f"https://www.goud.ma/{SLUG}-458329/"],  # shape
    "akhbarona": ["https://www.akhbarona.com/economy/294008.html"],
    "lakome2": ["https://lakome2.com/politique/216525/"],
    "madar21": ["https://www.madar21.com/240606.html"],
    "anfaspress": ["https://anfaspress.com/news/voir/148991-2025-09-05-04-49-06"],
    "tanja24": [f"https://tanja24.com/{SLUG}/"],  # shape
    "aljazeera": [
        f"https://www.aljazeera.net/news/politics/2022/3/8/{SLUG}",  # shape
        f"https://www.aljazeera.net/news/2025/9/29/{SLUG}",  # shape, newer (no section)
        f"https://www.aljazeera.net/amp/news/politics/2022/3/8/{SLUG}",  # AMP twin
    ],
    "alarabiya": [f"https://www.alarabiya.net/arab-and-world/egypt/2022/01/28/{SLUG}"],  # shape
    "bbcarabic": ["https://www.bbc.com/arabic/articles/c8g5yzz3pgvo", "https://www.bbc.com/arabic/vert-fut-55701643"],
    "skynewsarabia": ["https://www.skynewsarabia.com/varieties/1392656"],
    "cnnarabic": ["http://arabic.cnn.com/2013/middle_east/8/3/syria.clashes/index.html"],  # legacy only
    "youm7": [
        "https://www.youm7.com/story/2020/8/24/وزير-الرى-يشهد-توقيع-عقد-دراسة-تحديد-السحب-الآمن-للخزانات/4943459",
        f"https://m.youm7.com/amp/2020/8/24/{SLUG}/4943459",  # AMP twin shape (drops /story/)
    ],
    "masrawy": [f"https://www.masrawy.com/news/news-banking/details/2022/6/28/2250431/{SLUG}"],  # shape
    "ahram": ["https://gate.ahram.org.eg/News/4815678.aspx"],
    "elkhabar": [f"https://www.elkhabar.com/press/article/200636/{SLUG}/"],  # shape
    "annahar": [
        "https://www.annahar.com/arabic/section/76-سياسة/25112022093556697",
        "https://www.annahar.com/arabic/section/76-سياسة/25112022093556697?MobileApp=true?ref=aliqtisadi.com",
    ],
    "aljarida": ["https://www.aljarida.com/article/102203"],
}

# Outlets whose article URL shape outlets.md does not record: they carry the generic conservative
# pattern and must say so in `notes`.
UNKNOWN_SHAPE = {
    "yabiladi", "kifache", "map", "snrtnews", "al3omk", "chouftv", "alakhbar_ma", "almassae", "kech24", "alaoual",
    "france24ar", "rtarabic", "aawsat", "alquds", "indyarabia", "echorouk", "ennahar_dz", "mosaiquefm",
    "saharamedias", "alkhaleej", "alsharq_qa", "okaz", "alyaum", "alsumaria", "royanews", "sana", "almasryalyoum",
}
# Path prefix under which the generic pattern of an unknown-shape outlet is restricted.
GENERIC_PREFIX = {"chouftv": "press/", "france24ar": "ar/", "mosaiquefm": "ar/"}

# Outlets seeded with endpoints that outlets.md only "claims" (nothing verified exists for them).
CLAIMED_ONLY = {
    "hibapress", "map", "dozim", "snrtnews", "al3omk", "febrayer", "goud", "akhbarona", "chouftv", "lakome2",
    "alakhbar_ma", "almassae", "madar21", "kech24", "anfaspress", "alaoual", "tanja24", "alarabiya", "alquds",
    "ahram", "aljarida",
}

# Non-article pages recorded in outlets.md (listings, tags, search) that patterns must reject.
RECORDED_NON_ARTICLES = {
    "hespress": [
        "https://www.hespress.com/all",
        "https://www.hespress.com/politique/index.1.html",
        "https://www.hespress.com/politique/page/2/",
        "https://www.hespress.com/?s=%D8%A7%D9%84%D9%85%D9%84%D9%83",
    ],
    "hibapress": ["https://ar.hibapress.com/section-3.html"],
    "goud": [f"https://www.goud.ma/topics/{SLUG}/"],
    "akhbarona": ["https://www.akhbarona.com/economy/index.1.html"],
    "chouftv": ["https://chouftv.ma/press/page/2", "https://chouftv.ma/press/"],
    "lakome2": ["https://lakome2.com/page/2/"],
    "aljazeera": ["https://www.aljazeera.net/search/x", f"https://www.aljazeera.net/home/search?q={SLUG}"],
    "bbcarabic": ["https://www.bbc.com/arabic", "https://www.bbc.com/news/world-12345678"],
    "kech24": ["https://kech24.com/storage/2020/11/photo-123456.jpg"],
    "france24ar": [f"https://www.france24.com/fr/afrique/20201120-{SLUG}"],
}

# Seeded URLs that are not written out in full in outlets.md, with the recorded text they come from.
DERIVED_URLS = {
    "https://www.aljazeera.net/sitemaps/article-new.xml": "…/sitemaps/article-new.xml",
    "https://feeds.bbci.co.uk/arabic/middleeast/rss.xml": "…/arabic/middleeast/rss.xml",
    "https://feeds.bbci.co.uk/arabic/worldnews/rss.xml": "…/arabic/worldnews/rss.xml",
    "https://www.skynewsarabia.com/rss/middle-east.xml": "`/rss/middle-east.xml`",
    "https://www.skynewsarabia.com/rss/world.xml": "`/rss/world.xml`",
    "https://arabic.cnn.com/sitemaps/news/sitemap.xml": "`/sitemaps/news/sitemap.xml`",
    "https://arabic.cnn.com/story/sitemap.xml": "`/story/sitemap.xml`",
    "https://www.youm7.com/RSS/SectionRss?SectionID=203": "…SectionID=203",
    "https://www.masrawy.com/rss/feed/25/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1": "https://www.masrawy.com/rss/feed/25/أخبار",
    "https://www.echoroukonline.com/feed": "**Feed:** `/feed` **verified** [prod]",
    "https://www.aljarida.com/rss/": "`/rss/`, `/feed/` and `/rssFeed/1`",
    "https://www.aljarida.com/feed/": "`/rss/`, `/feed/` and `/rssFeed/1`",
    "https://www.aljarida.com/rssFeed/1": "`/rss/`, `/feed/` and `/rssFeed/1`",
}


@pytest.fixture(scope="module")
def sources() -> list[Source]:
    return load_sources()


@pytest.fixture(scope="module")
def by_id(sources: list[Source]) -> dict[str, Source]:
    return {s.id: s for s in sources}


def endpoints(source: Source) -> list[str]:
    return [*source.feeds, *source.sitemaps, *source.start_urls]


# ------------------------------------------------------------------------------------------------
# seeds/sources.yml


def test_seeds_load_with_at_least_25_unique_outlets(sources: list[Source]) -> None:
    assert DEFAULT_SEEDS.name == "sources.yml"
    assert len(sources) >= 25
    ids = [s.id for s in sources]
    assert len(ids) == len(set(ids))
    assert all(s.language == "ar" for s in sources)
    assert all(s.name and s.name_en for s in sources)


def test_moroccan_outlets_come_first(sources: list[Source]) -> None:
    countries = [s.country for s in sources]
    first_other = next(i for i, c in enumerate(countries) if c != "MA")
    assert first_other >= 15
    assert "MA" not in countries[first_other:]
    assert sources[0].id == "hespress"


def test_every_endpoint_is_an_absolute_http_url(sources: list[Source]) -> None:
    for source in sources:
        assert endpoints(source), source.id
        for url in endpoints(source):
            parts = urlsplit(url)
            assert parts.scheme in ("http", "https") and parts.netloc, (source.id, url)
            assert url == url.strip() and " " not in url, (source.id, url)


def test_every_endpoint_is_recorded_in_outlets_md(sources: list[Source]) -> None:
    reference = OUTLETS_MD.read_text(encoding="utf-8")
    for source in sources:
        for url in endpoints(source):
            recorded = DERIVED_URLS.get(url, f"`{url}`")
            assert recorded in reference, (source.id, url)
            assert urlsplit(url).netloc.removeprefix("www.") in reference, (source.id, url)


def test_disallowed_and_unusable_endpoints_are_not_seeded(sources: list[Source]) -> None:
    seeded = [u for s in sources for u in endpoints(s)]
    assert not any("alyaoum24.com" in u for u in seeded)  # robots.txt disallows /feed
    assert not any(h in u for u in seeded for h in ("maghress.com", "masress.com", "sauress.com"))
    assert "alyaoum24" not in {s.id for s in sources}
    # the BBC-wide news index covers every edition; the retired Al Jazeera feed is contradicted
    assert "https://www.bbc.com/sitemaps/https-index-com-news.xml" not in seeded
    assert not any("aljazeerarss" in u for u in seeded)


def test_claimed_only_outlets_say_so(by_id: dict[str, Source]) -> None:
    for outlet in CLAIMED_ONLY:
        assert "CLAIMED" in (by_id[outlet].notes or ""), outlet
    verified = {"hespress", "le360", "barlamane", "assabah_ma", "yabiladi", "kifache", "aljazeera", "bbcarabic",
                "skynewsarabia", "youm7", "masrawy", "elkhabar", "annahar", "echorouk", "sana"}
    for outlet in verified:
        assert "CLAIMED" not in (by_id[outlet].notes or ""), outlet


def test_example_table_covers_every_outlet(sources: list[Source]) -> None:
    ids = {s.id for s in sources}
    assert set(EXAMPLES) | UNKNOWN_SHAPE == ids
    assert not set(EXAMPLES) & UNKNOWN_SHAPE


@pytest.mark.parametrize("outlet", sorted(EXAMPLES))
def test_article_pattern_matches_recorded_examples(by_id: dict[str, Source], outlet: str) -> None:
    source = by_id[outlet]
    for url in EXAMPLES[outlet]:
        assert source.is_article(url), (outlet, url)


def test_article_patterns_reject_feeds_sitemaps_listings_and_home(sources: list[Source]) -> None:
    for source in sources:
        rejected = endpoints(source) + RECORDED_NON_ARTICLES.get(source.id, [])
        rejected += [f"https://{d}/" for d in source.domains] + [f"https://{d}" for d in source.domains]
        for url in rejected:
            assert not source.is_article(url), (source.id, url)


def test_unknown_shape_outlets_use_the_generic_conservative_pattern(by_id: dict[str, Source]) -> None:
    for outlet in UNKNOWN_SHAPE:
        source = by_id[outlet]
        assert "UNKNOWN" in (source.notes or ""), outlet
        host = source.domains[0]
        prefix = GENERIC_PREFIX.get(outlet, "")
        # live: an id-bearing or Arabic-slug path is accepted ...
        assert source.is_article(f"https://{host}/{prefix}news/123456/{SLUG}"), outlet
        assert source.is_article(f"https://{host}/{prefix}{SLUG}/"), outlet
        # ... while the usual listing, feed and media paths are not
        for path in ("tag/x/", "category/politics/", "page/2/", "feed/", "rss.xml", "author/someone/",
                     f"{prefix}tag/{SLUG}/", f"{prefix}category/{SLUG}/page/2/", f"{prefix}feed",
                     "wp-content/uploads/2020/11/photo-123456.jpg", f"{prefix}sitemap-news.xml", "search?q=123456"):
            assert not source.is_article(f"https://{host}/{path}"), (outlet, path)


def test_youm7_is_the_only_outlet_whose_utc_label_is_local(sources: list[Source]) -> None:
    assert [s.id for s in sources if s.meta_utc_is_local] == ["youm7"]


def test_youm7_owns_its_mobile_hosts(by_id: dict[str, Source]) -> None:
    youm7 = by_id["youm7"]
    assert youm7.canonical_host == "www.youm7.com"
    assert youm7.owns("https://m2.youm7.com/story/2020/8/24/x/4943459")
    assert not youm7.owns("https://www.masress.com/youm7/184542")  # a mirror is not the outlet


def test_timezones_follow_the_country(by_id: dict[str, Source]) -> None:
    expected = {"MA": "Africa/Casablanca", "EG": "Africa/Cairo", "DZ": "Africa/Algiers", "LB": "Asia/Beirut",
                "QA": "Asia/Qatar", "TN": "Africa/Tunis", "KW": "Asia/Kuwait"}
    for source in by_id.values():
        if source.country in expected:
            assert source.timezone == expected[source.country], source.id
    assert by_id["cnnarabic"].timezone is None  # not on record


def test_as_row_round_trips_discovery_lists(by_id: dict[str, Source]) -> None:
    row = by_id["hespress"].as_row()
    assert row["id"] == "hespress" and row["name"] == "هسبريس"
    assert row["feeds"] == ["https://www.hespress.com/feed"]
    assert row["domains"] == ["www.hespress.com", "hespress.com"]
    assert by_id["hespress"].names == ("هسبريس", "Hespress")


def test_only_filters_and_rejects_unknown_ids() -> None:
    assert [s.id for s in load_sources(only=["youm7", "hespress"])] == ["hespress", "youm7"]
    with pytest.raises(RegistryError, match="unknown outlet id"):
        load_sources(only=["hespress", "nosuchoutlet"])


# ------------------------------------------------------------------------------------------------
# validation errors name the outlet and the key

VALID = {
    "id": "demo",
    "name": "المثال",
    "country": "MA",
    "language": "ar",
    "timezone": "Africa/Casablanca",
    "domains": ["www.example.ma"],
    "feeds": ["https://www.example.ma/feed"],
    "article_pattern": r"^https?://www\.example\.ma/\d+\.html$",
}


def entry(**changes: object) -> dict:
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_valid_entry_parses() -> None:
    source = parse_source(entry())
    assert source.id == "demo" and source.domains == ("www.example.ma",)
    assert source.is_article("https://www.example.ma/123.html")


@pytest.mark.parametrize(
    ("changes", "key", "why"),
    [
        ({"name": None}, "name", "is missing"),
        ({"article_pattern": None}, "article_pattern", "is missing"),
        ({"domains": []}, "domains", "is missing"),
        ({"article_pattern": r"^https?://www\.example\.ma/(\d+\.html"}, "article_pattern", "is not a valid regular expression"),
        ({"article_pattern": "[0-9"}, "article_pattern", "is not a valid regular expression"),
        ({"timezone": "Africa/Rabat"}, "timezone", "is not an IANA time zone"),
        ({"timezone": "GMT+1 Casablanca"}, "timezone", "is not an IANA time zone"),
        ({"feed": ["https://www.example.ma/feed"]}, "feed", "is not a known registry key"),
        ({"timzone": "Africa/Casablanca"}, "timzone", "is not a known registry key"),
        ({"feeds": None}, "feeds", "needs at least one of feeds, sitemaps, start_urls"),
        ({"feeds": [], "sitemaps": [], "start_urls": []}, "feeds", "needs at least one of feeds, sitemaps, start_urls"),
        ({"domains": ["https://www.example.ma"]}, "domains", "has an invalid domain"),
        ({"domains": ["WWW.EXAMPLE.MA"]}, "domains", "has an invalid domain"),
        ({"domains": ["www.example.ma/news"]}, "domains", "has an invalid domain"),
        ({"domains": ["www.example.ma:port"]}, "domains", "has an invalid domain"),
        ({"feeds": ["/feed"]}, "feeds", "is not an absolute http(s) URL"),
        ({"sitemaps": ["ftp://www.example.ma/sitemap.xml"]}, "sitemaps", "is not an absolute http(s) URL"),
        ({"country": "Morocco"}, "country", "must be an ISO 3166 code"),
        ({"language": "ara"}, "language", "must be an ISO 639-1 code"),
        ({"id": "2m"}, "id", "must be lowercase letters"),
        ({"meta_utc_is_local": "yes"}, "meta_utc_is_local", "must be true or false"),
        ({"max_requests": -1}, "max_requests", "must be a non-negative integer"),
    ],
)
def test_validation_error_names_outlet_and_key(changes: dict, key: str, why: str) -> None:
    data = entry(**changes)
    with pytest.raises(RegistryError) as info:
        parse_source(data, "seeds/test.yml", 0)
    message = str(info.value)
    label = data["id"] if isinstance(data.get("id"), str) else "#1"
    assert f"outlet '{label}'" in message
    assert f"key '{key}'" in message
    assert why in message
    assert message.startswith("seeds/test.yml: ")


def test_error_without_id_uses_the_entry_position() -> None:
    with pytest.raises(RegistryError, match=r"outlet '#3': key 'id' is missing"):
        parse_source(entry(id=None), "r.yml", 2)


def test_load_sources_reports_file_outlet_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "sources.yml"
    bad.write_text(
        "sources:\n"
        "  - {id: good, name: جيد, country: MA, language: ar, domains: [good.ma], feeds: ['https://good.ma/feed'],"
        " article_pattern: '/\\d+'}\n"
        "  - {id: broken, name: معطوب, country: MA, language: ar, domains: [broken.ma], feeds: ['https://broken.ma/feed'],"
        " article_pattern: '(unclosed'}\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError) as info:
        load_sources(bad)
    assert str(bad) in str(info.value)
    assert "outlet 'broken'" in str(info.value) and "key 'article_pattern'" in str(info.value)


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    dup = tmp_path / "sources.yml"
    one = "{id: twin, name: توأم, country: MA, language: ar, domains: [t.ma], feeds: ['https://t.ma/feed'], article_pattern: x}"
    dup.write_text(f"sources:\n  - {one}\n  - {one}\n", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"outlet 'twin': key 'id' is duplicated"):
        load_sources(dup)


def test_missing_or_empty_registry_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="registry file not found"):
        load_sources(tmp_path / "nope.yml")
    empty = tmp_path / "empty.yml"
    empty.write_text("sources: []\n", encoding="utf-8")
    with pytest.raises(RegistryError, match="non-empty list"):
        load_sources(empty)


# ------------------------------------------------------------------------------------------------
# owns(): domains with and without ports


def test_owns_with_port_matches_that_port_only() -> None:
    source = parse_source(entry(domains=["127.0.0.1:8101"], feeds=["http://127.0.0.1:8101/feed"],
                                article_pattern=r"^https?://[^/]+/\d{4}/"))
    assert source.owns("http://127.0.0.1:8101/2020/11/20/x/")
    assert not source.owns("http://127.0.0.1:8102/2020/11/20/x/")
    assert not source.owns("http://127.0.0.1/2020/11/20/x/")
    assert source.is_article("http://127.0.0.1:8101/2020/11/20/x/")
    assert not source.is_article("http://127.0.0.1:8102/2020/11/20/x/")


def test_owns_without_port_matches_any_port_and_only_that_host() -> None:
    source = parse_source(entry())
    assert source.owns("https://www.example.ma/1.html")
    assert source.owns("http://www.example.ma:8102/1.html")
    assert source.owns("https://WWW.Example.MA/1.html")
    assert not source.owns("https://example.ma/1.html")  # the bare host is a separate domain entry
    assert not source.owns("https://evil-www.example.ma/1.html")
    assert not source.owns("https://www.example.ma.evil.com/1.html")
    assert not source.owns("ftp://www.example.ma/1.html")
    assert not source.owns("/1.html")
    assert not source.owns("not a url")


def test_two_fixture_outlets_on_one_host_differ_by_port() -> None:
    a = parse_source(entry(id="a", domains=["127.0.0.1:8101"], feeds=["http://127.0.0.1:8101/feed"]))
    b = parse_source(entry(id="b", domains=["127.0.0.1:8102"], feeds=["http://127.0.0.1:8102/feed"]))
    url = "http://127.0.0.1:8102/article/1/x"
    assert [s.id for s in (a, b) if s.owns(url)] == ["b"]

"""pipelines.dates: real-format date strings from five regions, the seven corpus pages, and one small
synthetic page per route of evidence (JSON-LD, meta, RDFa, <time>, hint, visible text, URL)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from pipelines.dates import FoundDate, page_dates, parse_date, parse_iso

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
NOW = datetime(2025, 12, 31, 12, 0)  # naive: read as wall-clock time in the outlet's zone

MA, DZ, TN = "Africa/Casablanca", "Africa/Algiers", "Africa/Tunis"
EG, SA, AE = "Africa/Cairo", "Asia/Riyadh", "Asia/Dubai"
LB, JO, SY, IQ = "Asia/Beirut", "Asia/Amman", "Asia/Damascus", "Asia/Baghdad"
MR = "Africa/Nouakchott"

# (text, outlet time zone, expected "YYYY-MM-DD" or "YYYY-MM-DD HH:MM" in that zone)
MOROCCO = [
    ("الجمعة 20 نونبر 2020 - 09:00", MA, "2020-11-20 09:00"),
    ("16 دجنبر 2025", MA, "2025-12-16"),
    ("1 ماي 2024", MA, "2024-05-01"),
    ("الأربعاء 3 يوليوز 2024 - 14:35", MA, "2024-07-03 14:35"),
    ("12 غشت 2023", MA, "2023-08-12"),
    ("5 غشث 2022", MA, "2022-08-05"),
    ("نشر في: 28 شتنبر 2024 على الساعة 18:45", MA, "2024-09-28 18:45"),
    ("الإثنين 4 نونبر 2024 | 10:12", MA, "2024-11-04 10:12"),
    ("الخميس 6 مارس 2025 - 23:59", MA, "2025-03-06 23:59"),
    ("السبت 07 يونيو 2025 على الساعة 10:00", MA, "2025-06-07 10:00"),
    ("الأحد 13 أبريل 2025 | 17:06", MA, "2025-04-13 17:06"),
    ("نشر بتاريخ: 10 فبراير 2024", MA, "2024-02-10"),
    ("15 ماي 2025 - 11:20", MA, "2025-05-15 11:20"),
    ("الثلاثاء 30 شتنبر 2025", MA, "2025-09-30"),
    ("02.11.2025 - 21:09", MA, "2025-11-02 21:09"),
    ("الأربعاء 1 يناير 2025", MA, "2025-01-01"),
    ("الاثنين 22 يوليو 2024 - 08:15", MA, "2024-07-22 08:15"),
    ("آخر تحديث: الثلاثاء 16 دجنبر 2025 - 08:30", MA, "2025-12-16 08:30"),
]
ALGERIA_TUNISIA = [
    ("الجمعة 8 فيفري 2019", TN, "2019-02-08"),
    ("جريدة الصباح بتاريخ 2019/02/08", TN, "2019-02-08"),
    ("24 جوان 2024", DZ, "2024-06-24"),
    ("30 أوت 2023", DZ, "2023-08-30"),
    ("14 جويلية 2024 - 10:15", DZ, "2024-07-14 10:15"),
    ("10 جانفي 2025", TN, "2025-01-10"),
    ("5 أفريل 2024 على الساعة 16:30", DZ, "2024-04-05 16:30"),
    ("الأحد 1 ماي 2022", TN, "2022-05-01"),
    ("نشر في 03 ديسمبر 2023 | 08:05", DZ, "2023-12-03 08:05"),
    ("الثلاثاء 19 نوفمبر 2024 - 09:44", TN, "2024-11-19 09:44"),
    ("٢٥ جويلية ٢٠٢٣", DZ, "2023-07-25"),
    ("28 سبتمبر 2021", TN, "2021-09-28"),
]
EGYPT_GULF = [
    ("الإثنين، 24 أغسطس 2020 09:23 ص", EG, "2020-08-24 09:23"),
    ("الإثنين، 13 مايو 2024 06:00 ص", EG, "2024-05-13 06:00"),
    ("الأربعاء، 07 أكتوبر 2020 - 12:09 م", EG, "2020-10-07 12:09"),
    ("الإثنين، 19 يناير 2026 04:30 م", EG, "2026-01-19 16:30"),
    ("القاهرة: الأربعاء، 07 أكتوبر 2020 12:19 م", EG, "2020-10-07 12:19"),
    ("السبت 15 يونيه 2024 01:01ص", EG, "2024-06-15 01:01"),
    ("الخميس 4 يوليه 2024 11:45 م", EG, "2024-07-04 23:45"),
    ("٢٣ مارس ٢٠٢٤ - ٠٨:١٥ م", EG, "2024-03-23 20:15"),
    ("الثلاثاء 17 مارس 2020 05:27 مساءً بتوقيت القاهرة", EG, "2020-03-17 17:27"),
    ("نشر في: الأحد 5 مايو 2024 - 10:30 صباحاً", EG, "2024-05-05 10:30"),
    ("آخر تحديث: الخميس 20 يونية 2024 - 3:05 م", EG, "2024-06-20 15:05"),
    ("الأحد 22 سبتمبر 2024م", SA, "2024-09-22"),
    ("2024/05/13", EG, "2024-05-13"),
    ("13-05-2024 18:20", AE, "2024-05-13 18:20"),
    ("الجمعة، 24 مايو 2024 08:43 ص (مكة المكرمة)", SA, "2024-05-24 08:43"),
    ("تاريخ النشر: 12 ديسمبر 2023 الساعة 9:00 مساءً", AE, "2023-12-12 21:00"),
    ("۱۲ دیسمبر ۲۰۲۳", AE, "2023-12-12"),
    ("\u200f24 أغسطس 2020\u200f \u200f09:23 ص", EG, "2020-08-24 09:23"),
    ("12:30 ص الجمعة 3 مايو 2024", EG, "2024-05-03 00:30"),
    ("الأحد 1 إبريل 2018 12:00 م", EG, "2018-04-01 12:00"),
]
LEVANT_IRAQ = [
    ("تم نشره الجمعة 24 نيسان / أبريل 2020 09:22 مساءً", JO, "2020-04-24 21:22"),
    ("٢٣ كانون الأول (ديسمبر) ٢٠١٤", LB, "2014-12-23"),
    ("الثلثاء 5 آذار 2024", LB, "2024-03-05"),
    ("15 شباط/فبراير 2023", SY, "2023-02-15"),
    ("1 كانون الثاني 2024", LB, "2024-01-01"),
    ("الأربعاء 10 تشرين الأول 2023 - 14:20", SY, "2023-10-10 14:20"),
    ("20 تشرين الثاني 2022", IQ, "2022-11-20"),
    ("3 أيار 2021", IQ, "2021-05-03"),
    ("17 حزيران 2020 | 08:00", JO, "2020-06-17 08:00"),
    ("8 تموز 2019", LB, "2019-07-08"),
    ("آخر تحديث: 12 آب 2020 11:30", LB, "2020-08-12 11:30"),
    ("السبت 21 أيلول 2024", SY, "2024-09-21"),
    ("5 كانون 2 2025", IQ, "2025-01-05"),
    ("الخميس 9 تشرين 1 2014", LB, "2014-10-09"),
    ("17 مارس/ آذار 2020", LB, "2020-03-17"),
    ("2026-01-08 | 12:42", LB, "2026-01-08 12:42"),
]
MAURITANIA = [
    ("12 أغشت 2024", MR, "2024-08-12"),
    ("3 شتمبر 2023", MR, "2023-09-03"),
    ("25 دجمبر 2022 - 18:00", MR, "2022-12-25 18:00"),
    ("الخميس 10 إبريل 2025", MR, "2025-04-10"),
    ("نواكشوط، 7 مايو 2024 - 10:15", MR, "2024-05-07 10:15"),
]
HIJRI = [
    ("الاثنين 1427/4/9 هـ - الموافق 8/5/2006 م", SA, "2006-05-08"),  # Gregorian side wins
    ("الجمعة 12 رمضان 1445 هـ الموافق 22 مارس 2024 م", SA, "2024-03-22"),
    ("15 شعبان 1445هـ - 25 فبراير 2024م", SA, "2024-02-25"),
    ("12 رمضان 1445 هـ", SA, "2024-03-22"),  # Hijri only: converted
    ("1445/09/12 هـ", SA, "2024-03-22"),
    ("السبت 1 محرم 1446 للهجرة", SA, "2024-07-07"),
    ("الأحد 5 ذو الحجة 1445 هـ", SA, "2024-06-11"),
    ("٩ ذي الحجة ١٤٤٥ه", SA, "2024-06-15"),
]
RELATIVE = [  # against NOW = 2025-12-31 12:00 outlet time
    ("منذ ساعتين", MA, "2025-12-31 10:00"),
    ("منذ 5 دقائق", MA, "2025-12-31 11:55"),
    ("منذ ساعة", EG, "2025-12-31 11:00"),
    ("منذ ثلاث ساعات", EG, "2025-12-31 09:00"),
    ("منذ 11 ساعة", LB, "2025-12-31 01:00"),
    ("نشر منذ 20 دقيقة", MA, "2025-12-31 11:40"),
    ("قبل 3 أيام", EG, "2025-12-28"),
    ("منذ يومين", MA, "2025-12-29"),
    ("قبل أسبوع", SA, "2025-12-24"),
    ("أمس", MA, "2025-12-30"),
    ("أمس 10:30", EG, "2025-12-30 10:30"),
    ("اليوم 08:15", EG, "2025-12-31 08:15"),
    ("Il y a 6 heures", MA, "2025-12-31 06:00"),
    ("Il y a 2 jours", MA, "2025-12-29"),
    ("hier à 21h30", MA, "2025-12-30 21:30"),
    ("3 hours ago", AE, "2025-12-31 09:00"),
    ("yesterday", AE, "2025-12-30"),
]
FRENCH_ENGLISH = [
    ("dimanche 2 novembre 2025 à 21h09", MA, "2025-11-02 21:09"),
    ("Publié le 15 mai 2024 à 10:30", MA, "2024-05-15 10:30"),
    ("Mis à jour le 3 décembre 2024 à 08h05", DZ, "2024-12-03 08:05"),
    ("17 mars 2020", TN, "2020-03-17"),
    ("1er août 2024", MA, "2024-08-01"),
    ("March 17, 2020 5:27 PM", AE, "2020-03-17 17:27"),
    ("Tuesday 17 March 2020", AE, "2020-03-17"),
    ("Feb. 19 2020", TN, "2020-02-19"),
    ("Updated: 24 Aug 2020, 09:23 AM", EG, "2020-08-24 09:23"),
    ("March the 17th, 2020", AE, "2020-03-17"),  # dateparser fallback shape
    # an explicit GMT label is converted to the outlet's zone (and can change the day)
    ("GMT 17:27 17.03.2020", "Europe/Moscow", "2020-03-17 20:27"),
    ("الثلاثاء 17 مارس 2020 22:30 بتوقيت غرينتش", EG, "2020-03-18 00:30"),
]
GIVE_NONE = [
    "© 2020 حقوق النشر محفوظة لـ اليوم السابع",
    "© الحقوق محفوظة لمؤسسة أخبار اليوم 1944 - 2018",
    "2020",
    "عام 2024",
    "الجمعة 12",
    "مارس الرئيس ضغوطا كبيرة على الحكومة",
    "وصنفت منظمة الصحة العالمية يوم 11 مارس/ آذار مرض فيروس كورونا",
    "في 15 مارس الماضي أعلن الوزير",
    "ماي 2024",
    "Feb 2020",
    "lorem ipsum dolor",
    "",
    "12 مارس 1445",  # year below 1900 without a Hijri marker
    "1445/09/12",
    "32 مارس 2024",
    "30 فبراير 2024",
    "منذ ساعات",  # "some hours ago": unsure
    "اليوم السابع",  # the outlet's name, not "today"
    "2min",
    "غائم جزئيا 25°",
    "10:30",
    "24/7",
    "قبل 2000 عام",
]

ALL_CASES = [
    pytest.param(text, tz, expected, id=f"{region}-{n}")
    for region, table in (
        ("morocco", MOROCCO),
        ("algeria-tunisia", ALGERIA_TUNISIA),
        ("egypt-gulf", EGYPT_GULF),
        ("levant-iraq", LEVANT_IRAQ),
        ("mauritania", MAURITANIA),
        ("hijri", HIJRI),
        ("relative", RELATIVE),
        ("french-english", FRENCH_ENGLISH),
    )
    for n, (text, tz, expected) in enumerate(table)
]


def test_case_table_sizes() -> None:
    assert len(MOROCCO) >= 15 and len(ALGERIA_TUNISIA) >= 10 and len(EGYPT_GULF) >= 15
    assert len(LEVANT_IRAQ) >= 12 and len(MAURITANIA) >= 4 and len(GIVE_NONE) >= 10
    assert len(ALL_CASES) >= 90


@pytest.mark.parametrize(("text", "tz", "expected"), ALL_CASES)
def test_parse_date(text: str, tz: str, expected: str) -> None:
    found = parse_date(text, tz=tz, now=NOW)
    assert found is not None, text
    has_time = " " in expected
    assert found.value.strftime("%Y-%m-%d %H:%M" if has_time else "%Y-%m-%d") == expected
    assert found.precision in (("minute", "second") if has_time else ("day",))
    # the value lives in the outlet's zone: its offset is the zone's offset at that wall-clock time
    assert found.value.utcoffset() == ZoneInfo(tz).utcoffset(found.value.replace(tzinfo=None))
    assert found.source == "text" and not found.year_inferred


@pytest.mark.parametrize("text", GIVE_NONE)
def test_parse_date_gives_none(text: str) -> None:
    assert parse_date(text, tz=MA, now=NOW) is None


def test_year_less_date_takes_the_most_recent_past_year() -> None:
    found = parse_date("السبت 15 نونبر", tz=MA, now=NOW)
    assert found is not None and found.value.strftime("%Y-%m-%d") == "2025-11-15" and found.year_inferred
    later = parse_date("الأربعاء 31 دجنبر 18:00", tz=MA, now=NOW)  # later today: last year
    assert later is not None and later.value.strftime("%Y-%m-%d %H:%M") == "2024-12-31 18:00"
    assert later.year_inferred and later.precision == "minute"


def test_pm_marker_after_a_year_is_the_era() -> None:
    found = parse_date("8/5/2006 م", tz=SA, now=NOW)
    assert found is not None and found.precision == "day" and found.value.hour == 0


def test_found_date_iso() -> None:
    found = parse_date("الجمعة 20 نونبر 2020 - 09:00", tz=MA, now=NOW)
    assert isinstance(found, FoundDate) and found.iso() == "2020-11-20T09:00:00+01:00"


# ---------------------------------------------------------------------------- parse_iso


@pytest.mark.parametrize(
    ("value", "tz", "utc_is_local", "iso", "precision"),
    [
        ("2020-03-17T17:27:41Z", "Europe/Moscow", False, "2020-03-17T20:27:41+03:00", "second"),
        ("2026-01-08T11:42:50+00:00", LB, False, "2026-01-08T13:42:50+02:00", "second"),
        ("2024-05-13T06:00:00Z", EG, True, "2024-05-13T06:00:00+03:00", "second"),
        ("2024-05-13T23:30:00Z", EG, False, "2024-05-14T02:30:00+03:00", "second"),
        ("2019-02-08T00:00:00+01:00", TN, False, "2019-02-08T00:00:00+01:00", "day"),  # offset kept
        ("2019-02-08T00:00:00+01:00", MA, False, "2019-02-08T00:00:00+01:00", "day"),
        ("2020-03-17T17:27", "Europe/Moscow", False, "2020-03-17T17:27:00+03:00", "minute"),  # naive: local
        ("2020-08-24", EG, False, "2020-08-24T00:00:00+02:00", "day"),
        ("2024-05-13T00:00:00Z", EG, False, "2024-05-13T00:00:00+03:00", "day"),  # date-only field
        ("Mon, 24 Aug 2020 09:23:13 +0000", EG, False, "2020-08-24T11:23:13+02:00", "second"),
        ("Tue, 05 Mar 2024 10:00:00 +0100", MA, False, "2024-03-05T10:00:00+01:00", "second"),
        ("٢٠٢٤-٠٥-١٣T٠٦:٠٠:٠٠+03:00", EG, False, "2024-05-13T06:00:00+03:00", "second"),
        ("الأربعاء، 07 أكتوبر 2020 - 12:09 م", EG, False, "2020-10-07T12:09:00+02:00", "minute"),
    ],
)
def test_parse_iso(value: str, tz: str, utc_is_local: bool, iso: str, precision: str) -> None:
    found = parse_iso(value, tz=tz, utc_is_local=utc_is_local)
    assert found is not None and found.iso() == iso and found.precision == precision


@pytest.mark.parametrize("value", ["", "n/a", "0000-00-00", "2020-13-45T10:00:00Z", "2020"])
def test_parse_iso_gives_none(value: str) -> None:
    assert parse_iso(value, tz=EG) is None


# ---------------------------------------------------------------------------- the seven real pages

PAGE_ZONES = {
    "assabah.com.tn": TN,
    "arabic.sputniknews.com": "Europe/Moscow",
    "almadenahnews.com": JO,
    "youm7.com": EG,
    "akhbarelyom.com": EG,
    "lbcgroup.tv": LB,
}
PAGE_NOW = datetime(2026, 6, 1, 12, 0)
# what each page's published value must be: the route, and the exact stamp where the page shows a time
PAGE_EXPECT = {
    "assabah.com.tn_164913_interview-sudan.html": ("rdfa:dc:date", "2019-02-08T00:00:00+01:00"),
    "arabic.sputniknews.com_1044893040.html": ("meta:datepublished", "2020-03-17T20:27:41+03:00"),
    "almadenahnews.com_825076.html": ("text", "2020-04-24T21:22:00+03:00"),
    "youm7.com_4943459.html": ("meta:article:published_time", "2020-08-24T09:23:13+02:00"),
    "akhbarelyom.com_3126898.html": ("meta:article:published_time", "2020-10-07T12:09:00+02:00"),
    "lbcgroup.tv_898682.html": ("json-ld", "2026-01-08T13:42:50+02:00"),
    "youm7.com_6573469.html": ("meta:article:published_time", "2024-05-13T06:00:00+03:00"),
}


def _gold() -> list[dict]:
    lines = (CORPUS / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line]


def _page(record: dict) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((CORPUS / "pages" / record["file"]).read_bytes())


GOLD = _gold()


def test_corpus_has_seven_pages() -> None:
    assert len(GOLD) == 7 and {r["file"] for r in GOLD} == set(PAGE_EXPECT)


@pytest.mark.parametrize("record", GOLD, ids=[r["file"] for r in GOLD])
def test_page_dates_on_real_pages(record: dict) -> None:
    published, modified = page_dates(
        _page(record), url=record["url"], tz=PAGE_ZONES[record["site"]], now=PAGE_NOW
    )
    assert published is not None
    assert published.value.date().isoformat() in [record["date"], *record.get("date_accept", [])]
    source, iso = PAGE_EXPECT[record["file"]]
    assert published.source == source and published.iso() == iso
    if modified is not None:
        assert modified.value >= published.value


def test_sputnik_modified_date() -> None:
    record = next(r for r in GOLD if r["site"] == "arabic.sputniknews.com")
    _, modified = page_dates(_page(record), url=record["url"], tz="Europe/Moscow", now=PAGE_NOW)
    assert modified is not None and modified.iso() == "2020-03-17T20:49:09+03:00"


def _strip_metadata(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """Remove every structured date so only the visible text (and the URL) is left."""
    for el in tree.xpath('//meta | //script[@type="application/ld+json"]'):
        el.drop_tree()
    for el in tree.xpath("//*[@property or @itemprop or @datetime or @pubdate]"):
        for attr in ("property", "itemprop", "datetime", "pubdate", "content"):
            el.attrib.pop(attr, None)
    return tree


@pytest.mark.parametrize("record", GOLD, ids=[r["file"] for r in GOLD])
def test_visible_text_alone_finds_the_gold_day(record: dict) -> None:
    tree = _strip_metadata(_page(record))
    published, _ = page_dates(tree, url="http://example.org/a", tz=PAGE_ZONES[record["site"]], now=PAGE_NOW)
    assert published is not None and published.source == "text"
    assert published.value.date().isoformat() in [record["date"], *record.get("date_accept", [])]


# ---------------------------------------------------------------------------- synthetic pages


def _html(head: str = "", body: str = "") -> lxml.html.HtmlElement:
    return lxml.html.fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


ARTICLE = "<article><h1>عنوان المقال التجريبي الطويل</h1><p>نص المقال بدون أي تاريخ.</p></article>"
URL = "https://example.org/news/123"


@pytest.mark.parametrize(
    ("head", "body", "source", "iso"),
    [
        (  # JSON-LD @graph: the NewsArticle's date, not the WebPage's
            '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
            '{"@type": "WebPage", "datePublished": "2020-01-01T10:00:00+02:00"},'
            '{"@type": "NewsArticle", "datePublished": "2024-03-05T10:00:00+02:00",'
            ' "dateModified": "2024-03-05T12:00:00+02:00"}]}</script>',
            ARTICLE, "json-ld", "2024-03-05T10:00:00+02:00",
        ),
        (  # JSON-LD top-level list, datePublished given as a list
            '<script type="application/ld+json">[{"@type": "BreadcrumbList"},'
            '{"@type": "Article", "datePublished": ["2023-11-20T09:00:00+01:00"]}]</script>',
            ARTICLE, "json-ld", "2023-11-20T09:00:00+01:00",
        ),
        (  # broken JSON-LD: the key is still read
            '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2023-11-20T09:00:00+01:00",,}'
            "</script>",
            ARTICLE, "json-ld", "2023-11-20T09:00:00+01:00",
        ),
        ('<meta property="article:published_time" content="2024-03-05T10:00:00+02:00">', ARTICLE,
         "meta:article:published_time", "2024-03-05T10:00:00+02:00"),
        ('<meta property="og:published_time" content="2024-03-05T10:00:00+02:00">', ARTICLE,
         "meta:og:published_time", "2024-03-05T10:00:00+02:00"),
        ('<meta itemprop="datePublished" content="2024-03-05T10:00:00+02:00">', ARTICLE,
         "meta:datepublished", "2024-03-05T10:00:00+02:00"),
        ('<meta name="pubdate" content="2024-03-05T10:00:00+02:00">', ARTICLE,
         "meta:pubdate", "2024-03-05T10:00:00+02:00"),
        ('<meta name="DC.date.issued" content="2024-03-05">', ARTICLE, "meta:dc.date.issued",
         "2024-03-05T00:00:00+02:00"),
        ("", '<span property="dc:date" datatype="xsd:dateTime" content="2019-02-08T00:00:00+01:00"></span>'
         + ARTICLE, "rdfa:dc:date", "2019-02-08T00:00:00+01:00"),
        ("", '<article><h1>عنوان المقال التجريبي الطويل</h1><span itemprop="datePublished">'
         "2024-03-05T10:00:00+02:00</span></article>", "itemprop:datepublished", "2024-03-05T10:00:00+02:00"),
        ("", '<article><h1>عنوان المقال التجريبي الطويل</h1><time pubdate datetime="2024-03-05T10:00">'
         "5 مارس</time></article>", "time:pubdate", "2024-03-05T10:00:00+02:00"),
        ("", '<nav><time datetime="2020-01-01T08:00">قديم</time></nav>'
         '<article><h1>عنوان المقال التجريبي الطويل</h1><time datetime="2024-03-05T10:00+02:00">5 مارس</time>'
         "</article>", "time", "2024-03-05T10:00:00+02:00"),
    ],
)
def test_structured_routes(head: str, body: str, source: str, iso: str) -> None:
    published, _ = page_dates(_html(head, body), url=URL, tz=EG, now=NOW)
    assert published is not None and published.source == source and published.iso() == iso


def test_json_ld_modified_is_separate() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2024-03-05T10:00:00+02:00",'
        ' "dateModified": "2024-03-06T12:00:00+02:00"}</script>'
    )
    published, modified = page_dates(_html(head, ARTICLE), url=URL, tz=EG, now=NOW)
    assert published is not None and published.iso() == "2024-03-05T10:00:00+02:00"
    assert modified is not None and modified.iso() == "2024-03-06T12:00:00+02:00" and modified.source == "json-ld"


def test_non_iso_metadata_goes_through_the_text_parser() -> None:
    head = '<meta property="article:published_time" content="الأربعاء، 07 أكتوبر 2020 - 12:09 م">'
    published, _ = page_dates(_html(head, ARTICLE), url=URL, tz=EG, now=NOW)
    assert published is not None and published.iso() == "2020-10-07T12:09:00+02:00"


def test_hint_comes_after_metadata_and_before_text() -> None:
    body = '<article><h1>عنوان المقال التجريبي الطويل</h1><span>الإثنين، 24 أغسطس 2020 09:23 ص</span></article>'
    hint = "Sun, 23 Aug 2020 22:30:00 +0000"  # a feed's pubDate: real UTC
    published, _ = page_dates(_html("", body), url=URL, tz=EG, now=NOW, hint=hint)
    assert published is not None and published.source == "hint" and published.iso() == "2020-08-24T00:30:00+02:00"
    head = '<meta property="article:published_time" content="2020-08-20T10:00:00+02:00">'
    published, _ = page_dates(_html(head, body), url=URL, tz=EG, now=NOW, hint=hint)
    assert published is not None and published.source == "meta:article:published_time"


def test_hint_alone() -> None:
    published, _ = page_dates(_html("", ARTICLE), url=URL, tz=MA, now=NOW, hint="2025-11-20T09:00:00+01:00")
    assert published is not None and published.source == "hint" and published.iso() == "2025-11-20T09:00:00+01:00"


def test_visible_text_after_headline_beats_header_widgets_and_footer() -> None:
    body = (
        '<header><div class="date-header">الأربعاء، 31 ديسمبر 2025 10:00 ص</div></header>'
        '<div class="weather-widget">الثلاثاء 30 دجنبر 2025 غائم جزئيا 18°</div>'
        '<article><h1>عنوان المقال التجريبي الطويل</h1><div class="byline">كتب محمد</div>'
        "<span>الجمعة 20 نونبر 2020 - 09:00</span><p>قال الوزير في 15 مارس 2019 إن ...</p></article>"
        "<footer>© 2025 جميع الحقوق محفوظة — آخر تحديث 31 دجنبر 2025</footer>"
    )
    published, modified = page_dates(_html("", body), url=URL, tz=MA, now=NOW)
    assert published is not None and published.source == "text"
    assert published.iso() == "2020-11-20T09:00:00+01:00"
    assert modified is None


def test_visible_text_in_a_date_classed_element() -> None:
    body = (
        '<div class="site-header today">الأربعاء 31 دجنبر 2025</div>'
        '<div class="post"><div class="post-title">عنوان بلا h1</div>'
        '<span class="post-date">نشر في: 28 شتنبر 2024 على الساعة 18:45</span></div>'
    )
    published, _ = page_dates(_html("", body), url=URL, tz=MA, now=NOW)
    assert published is not None and published.iso() == "2024-09-28T18:45:00+01:00"


def test_relative_date_in_a_date_element() -> None:
    body = '<article><h1>عنوان المقال التجريبي الطويل</h1><span class="time">منذ ساعتين</span></article>'
    published, _ = page_dates(_html("", body), url=URL, tz=MA, now=NOW)
    assert published is not None and published.iso() == "2025-12-31T10:00:00+01:00"


def test_visible_update_stamp_is_modified_not_published() -> None:
    body = (
        '<article><h1>عنوان المقال التجريبي الطويل</h1><span>آخر تحديث: 12 مارس 2024 10:00</span>'
        '<span class="meta">نشر في: 11 مارس 2024 08:00</span></article>'
    )
    published, modified = page_dates(_html("", body), url=URL, tz=EG, now=NOW)
    assert published is not None and published.iso() == "2024-03-11T08:00:00+02:00"
    assert modified is not None and modified.iso() == "2024-03-12T10:00:00+02:00"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.aljazeera.net/news/2024/3/5/some-slug", "2024-03-05"),
        ("https://www.alarabiya.net/arab-and-world/egypt/2022/01/28/slug", "2022-01-28"),
        ("https://www.youm7.com/story/2020/8/24/slug/4943459", "2020-08-24"),
        ("https://www.2m.ma/ar/news/slug-20201120/", "2020-11-20"),
        ("https://anfaspress.com/news/voir/148991-2025-09-05-04-49-06", "2025-09-05 04:49"),
        ("https://al-sharq.com/article/05/09/2025/slug", "2025-09-05"),
        ("https://arabic.sputniknews.com/arab_world/202003171044893040-slug/", "2020-03-17"),
    ],
)
def test_url_route(url: str, expected: str) -> None:
    published, _ = page_dates(_html("", ARTICLE), url=url, tz=MA, now=NOW)
    assert published is not None and published.source == "url"
    has_time = " " in expected
    assert published.value.strftime("%Y-%m-%d %H:%M" if has_time else "%Y-%m-%d") == expected


@pytest.mark.parametrize(
    "url",
    ["https://example.org/news/4943459", "https://example.org/2020/08/", "https://example.org/article/2019123456"],
)
def test_url_without_a_full_date(url: str) -> None:
    assert page_dates(_html("", ARTICLE), url=url, tz=MA, now=NOW) == (None, None)


def test_order_of_evidence() -> None:
    meta = '<meta property="article:published_time" content="2024-01-02T10:00:00+02:00">'
    text = '<article><h1>عنوان المقال التجريبي الطويل</h1><span>5 يناير 2024</span></article>'
    url = "https://example.org/2024/01/07/slug"
    assert page_dates(_html(meta, text), url=url, tz=EG, now=NOW)[0].value.day == 2  # type: ignore[union-attr]
    assert page_dates(_html("", text), url=url, tz=EG, now=NOW)[0].value.day == 5  # type: ignore[union-attr]
    assert page_dates(_html("", ARTICLE), url=url, tz=EG, now=NOW)[0].value.day == 7  # type: ignore[union-attr]


def test_modified_is_never_published() -> None:
    head = '<meta property="article:modified_time" content="2024-03-06T12:00:00+02:00">'
    published, modified = page_dates(_html(head, ARTICLE), url=URL, tz=EG, now=NOW)
    assert published is None
    assert modified is not None and modified.iso() == "2024-03-06T12:00:00+02:00"
    published, _ = page_dates(_html(head, ARTICLE), url="https://example.org/2024/3/1/x", tz=EG, now=NOW)
    assert published is not None and published.source == "url" and published.value.day == 1


def test_modified_earlier_than_published_is_dropped() -> None:
    head = (
        '<meta property="article:published_time" content="2024-03-06T12:00:00+02:00">'
        '<meta property="article:modified_time" content="2024-03-01T09:00:00+02:00">'
    )
    published, modified = page_dates(_html(head, ARTICLE), url=URL, tz=EG, now=NOW)
    assert published is not None and published.value.day == 6 and modified is None


def test_future_and_epoch_metadata_are_skipped() -> None:
    head = (
        '<meta property="article:published_time" content="2031-01-01T10:00:00+02:00">'
        '<meta name="pubdate" content="1970-01-01T00:00:00Z">'
        '<meta name="DC.date.issued" content="2024-03-05">'
    )
    published, _ = page_dates(_html(head, ARTICLE), url=URL, tz=EG, now=NOW)
    assert published is not None and published.source == "meta:dc.date.issued"


UTC_META = '<meta property="article:published_time" content="2024-05-13T23:30:00Z">'


def test_utc_stamp_is_converted_to_the_outlet_day() -> None:
    published, _ = page_dates(_html(UTC_META, ARTICLE), url=URL, tz=EG, now=NOW)
    assert published is not None and published.iso() == "2024-05-14T02:30:00+03:00"


def test_utc_is_local_flag_keeps_the_wall_clock() -> None:
    published, _ = page_dates(_html(UTC_META, ARTICLE), url=URL, tz=EG, now=NOW, utc_is_local=True)
    assert published is not None and published.iso() == "2024-05-13T23:30:00+03:00"


def test_visible_wall_clock_equal_to_utc_stamp_means_local() -> None:
    body = '<article><h1>عنوان المقال التجريبي الطويل</h1><span>الإثنين، 13 مايو 2024 11:30 م</span></article>'
    published, _ = page_dates(_html(UTC_META, body), url=URL, tz=EG, now=NOW)
    assert published is not None and published.iso() == "2024-05-13T23:30:00+03:00"


def test_visible_time_that_differs_keeps_utc_meaning() -> None:
    body = '<article><h1>عنوان المقال التجريبي الطويل</h1><span>2024-05-14 | 02:30</span></article>'
    published, _ = page_dates(_html(UTC_META, body), url=URL, tz=EG, now=NOW)
    assert published is not None and published.iso() == "2024-05-14T02:30:00+03:00"


def test_visible_gmt_label_is_not_local_time() -> None:
    body = '<article><h1>عنوان المقال التجريبي الطويل</h1><span>GMT 23:30 13.05.2024</span></article>'
    published, _ = page_dates(_html(UTC_META, body), url=URL, tz=EG, now=NOW)
    assert published is not None and published.iso() == "2024-05-14T02:30:00+03:00"


def test_page_without_any_date() -> None:
    body = ARTICLE + "<footer>© 2024 جميع الحقوق محفوظة</footer>"
    assert page_dates(_html("", body), url=URL, tz=EG, now=NOW) == (None, None)


def test_now_defaults_to_the_clock() -> None:
    found = parse_date("منذ 5 دقائق", tz=EG)
    assert found is not None
    assert abs(found.value - datetime.now(ZoneInfo(EG))) < timedelta(minutes=7)

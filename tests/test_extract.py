"""pipelines.extract on the seven real pages of ../shared/corpus (gold.jsonl) and on small pages built from
real article text, one per rule: headline cleaning, bylines, language, read-also teasers, non-articles."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import lxml.html
import pytest

from pipelines.extract import (
    MAX_BYTES,
    ExtractionError,
    clean_authors,
    clean_title,
    extract_article,
    strip_read_also,
)
from pipelines.language import detect_language
from pipelines.registry import Source, load_sources

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
GOLD = [json.loads(line) for line in (CORPUS / "gold.jsonl").read_text("utf-8").splitlines() if line.strip()]
SOURCES = load_sources()
FETCHED = datetime(2026, 1, 20, 12, 0, tzinfo=timezone.utc)


def norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


@functools.lru_cache(maxsize=None)
def corpus_record(file: str) -> dict:
    """The record of a corpus page, extracted as the crawl would (the outlet's registry entry when there is one)."""
    gold = next(g for g in GOLD if g["file"] == file)
    source = next((s for s in SOURCES if s.owns(gold["url"])), None)
    body = (CORPUS / "pages" / file).read_bytes()
    return extract_article(body, gold["url"], source=source, fetched_at=FETCHED)


def _paragraphs(file: str) -> list[str]:
    gold = next(g for g in GOLD if g["file"] == file)
    tree = lxml.html.fromstring((CORPUS / "pages" / file).read_bytes())
    return [norm(p.text_content()) for p in tree.xpath(gold["body_xpath"]) if norm(p.text_content())]


# Real article text for the small pages below: the LBCI story's paragraphs (as its gold reference lists
# them), then the youm7 and Assabah articles.
ARABIC = (
    next(g for g in GOLD if g["file"] == "lbcgroup.tv_898682.html")["reference"]["paragraphs"]
    + _paragraphs("youm7.com_4943459.html")
    + [p for p in _paragraphs("assabah.com.tn_164913_interview-sudan.html") if len(p.split()) > 30]
)
BODY = "".join(f"<p>{p}</p>\n" for p in ARABIC[:4])


def page(head: str = "", body: str = BODY, *, title: str | None = None, h1: str | None = None) -> bytes:
    title_tag = f"<title>{title}</title>" if title is not None else ""
    h1_tag = f"<h1>{h1}</h1>" if h1 is not None else ""
    return (f'<!DOCTYPE html><html lang="en-US"><head><meta charset="utf-8">{title_tag}{head}</head>'
            f"<body><nav><a href='/'>الرئيسية</a> <a href='/s'>سياسة</a></nav>"
            f"<article>{h1_tag}{body}</article><footer>© جميع الحقوق محفوظة</footer></body></html>").encode("utf-8")


URL = "https://www.example-news.ma/politique/article-12345.html"


# --------------------------------------------------------------------------------------------------------
# The corpus: every gold field, on every page

@pytest.mark.parametrize("gold", GOLD, ids=[g["file"] for g in GOLD])
def test_headline_is_exactly_the_gold_title(gold):
    assert norm(corpus_record(gold["file"])["title"]) == norm(gold["title"])


@pytest.mark.parametrize("gold", GOLD, ids=[g["file"] for g in GOLD])
def test_published_day_is_the_gold_date(gold):
    record = corpus_record(gold["file"])
    assert record["published"] is not None and record["date_source"]
    assert record["published"][:10] in {gold["date"], *gold.get("date_accept", [])}, record["published"]


@pytest.mark.parametrize("gold", GOLD, ids=[g["file"] for g in GOLD])
def test_author_as_shown_or_none(gold):
    record = corpus_record(gold["file"])
    if gold["author"] is None:
        assert record["authors"] == [] and record["author"] is None
    else:
        assert norm(gold["author"]) in [norm(a) for a in record["authors"]]
        assert record["author"] == "، ".join(record["authors"])


@pytest.mark.parametrize("gold", GOLD, ids=[g["file"] for g in GOLD])
def test_body_has_the_article_and_nothing_else(gold):
    record = corpus_record(gold["file"])
    body = norm(record["text"])
    for sentence in gold["body_must"]:
        assert norm(sentence) in body, sentence
    for junk in gold["body_must_not"]:
        assert norm(junk) not in body, junk
    assert norm(gold["body_start"]) in body and norm(gold["body_end"]) in body
    assert unicodedata.is_normalized("NFC", record["text"])
    assert "\n" in record["text"] and "\n\n" not in record["text"]
    assert record["word_count"] == len(record["text"].split())
    assert record["language"] == gold["language"] == "ar"


def test_corpus_side_fields():
    youm7 = corpus_record("youm7.com_4943459.html")
    assert youm7["section"] == "تقارير مصرية"
    assert youm7["tags"] == ["وزير الرى", "الأمن المستدام", "الخزانات الجوفية", "جامعة القاهرة"]
    assert youm7["image"] == "https://img.youm7.com/large/202007190254595459.jpg"
    assert youm7["canonical_url"] == next(g["url"] for g in GOLD if g["file"] == "youm7.com_4943459.html")
    assert youm7["published"] == "2020-08-24T09:23:13+02:00"  # Cairo wall-clock labelled Z (registry)
    assert (youm7["encoding"], youm7["encoding_source"]) == ("utf-8", "meta")
    sputnik = corpus_record("arabic.sputniknews.com_1044893040.html")
    assert sputnik["section"] == "العالم العربي" and sputnik["tags"] == ["مصر", "كورونا", "إصابات"]
    assert sputnik["text"].startswith("أعلنت وزارة الصحة والسكان المصرية")  # lead paragraph recovered
    akhbar = corpus_record("akhbarelyom.com_3126898.html")
    # og:description is the site's name: the meta description is used instead
    assert akhbar["description"].startswith("يصادف اليوم ذكرى ميلاد الفنانة نعيمة عاكف")
    lbc = corpus_record("lbcgroup.tv_898682.html")
    assert lbc["description"] is None  # "| Lebanon News" is no description
    assert lbc["canonical_url"].startswith("https://www.lbcgroup.tv/news/lifestyle/898682/")
    # og:url is a bare IP; rel=canonical is on the outlet's host
    madina = corpus_record("almadenahnews.com_825076.html")
    assert madina["canonical_url"].startswith("https://www.almadenahnews.com/article/825076-")
    assert madina["image"].startswith("https://s3-eu-west-1.amazonaws.com/")
    assabah = corpus_record("assabah.com.tn_164913_interview-sudan.html")
    assert not assabah["text"].startswith("حوار")  # the byline line left the body for the author field
    assert assabah["tags"] == []  # its keywords meta is only the headline again


def test_page_is_parsed_once_and_extraction_is_pure():
    gold = GOLD[0]
    body = (CORPUS / "pages" / gold["file"]).read_bytes()
    again = extract_article(body, gold["url"], fetched_at=FETCHED)
    assert again == extract_article(body, gold["url"], fetched_at=FETCHED)


# --------------------------------------------------------------------------------------------------------
# Headline

def test_title_suffix_and_prefix_site_names_are_removed():
    assert clean_title("وزير الرى يشهد توقيع عقد - اليوم السابع", ["اليوم السابع"]) == "وزير الرى يشهد توقيع عقد"
    assert clean_title("هسبريس | جدل حول الساعة الإضافية", ["هسبريس", "Hespress"]) == "جدل حول الساعة الإضافية"
    assert clean_title("Le Maroc et l'Espagne &amp; le gaz – Le360", ["Le360"]) == "Le Maroc et l'Espagne & le gaz"
    assert clean_title("  عنوان\u00a0 الخبر  \n - هسبريس", ["هسبريس"]) == "عنوان الخبر"
    # a title that is only the site name stays (nothing else to show), colons inside a headline stay
    assert clean_title("هسبريس", ["هسبريس"]) == "هسبريس"
    assert clean_title("أميركا :50 الفا حصيلة الوفيات", ["المدينة نيوز"]) == "أميركا :50 الفا حصيلة الوفيات"
    # a one-word site name must match a whole segment: "الأيام الأخيرة" is part of the headline
    assert clean_title("الأيام الأخيرة - تقرير خاص", ["الأيام"]) == "الأيام الأخيرة - تقرير خاص"
    assert clean_title("تقرير خاص - الأيام", ["الأيام"]) == "تقرير خاص"
    assert clean_title("المغرب - إسبانيا: مباراة ودية", ["المغرب اليوم"]) == "المغرب - إسبانيا: مباراة ودية"


def test_site_name_learned_from_the_page_without_a_registry_entry():
    head = '<meta property="og:site_name" content="هسبريس">'
    record = extract_article(page(head, title="جدل حول الساعة الإضافية - هسبريس"), URL)
    assert record["title"] == "جدل حول الساعة الإضافية"
    head = '<meta name="application-name" content="Alyaoum24">'
    record = extract_article(page(head, title="Alyaoum24 - الحكومة تصادق على مشروع قانون المالية"), URL)
    assert record["title"] == "الحكومة تصادق على مشروع قانون المالية"


def test_yoast_graph_names_the_site_not_the_headline():
    # a WebPage node's name is the page title: taking it for a site name would cut "المغرب - " off
    title = "المغرب - إسبانيا: مباراة ودية في طنجة"
    graph = ('<script type="application/ld+json">{"@context": "https://schema.org", "@graph": ['
             f'{{"@type": "WebPage", "name": "{title}"}}, '
             '{"@type": "WebSite", "name": "موقع الخبر"}, '
             f'{{"@type": "NewsArticle", "headline": "{title}", "author": {{"@type": "Person", "name": "سعاد حسن"}}}}'
             ']}</script>')
    record = extract_article(page(graph, title=f"{title} - موقع الخبر", h1=title), URL)
    assert (record["title"], record["authors"]) == (title, ["سعاد حسن"])
    assert extract_article(page(graph, title=f"{title} - موقع الخبر"), URL)["title"] == title


def test_visible_h1_wins_over_truncated_or_suffixed_declarations():
    full = "وزارة النقل تشغل 10 سيارات كهربائية للعمل تاكسى بالعاصمة الإدارية.. وتؤكد: حجزها يبدأ الأربعاء"
    head = f'<meta property="og:title" content="{full[:60]}">'
    assert extract_article(page(head, title=full + " - اليوم السابع", h1=full), URL)["title"] == full
    # entities decoded once more when the CMS double-escaped them; quotes kept as the reader sees them
    h1 = "&amp;quot;شعر وردي يُشعل السخرية&amp;quot;… لغز لون شعر ترامب"
    head = '<meta property="og:title" content="شعر وردي يُشعل السخرية… لغز لون شعر ترامب">'
    assert extract_article(page(head, h1=h1), URL)["title"] == '"شعر وردي يُشعل السخرية"… لغز لون شعر ترامب'


def test_never_a_comments_heading_or_menu_item_as_title():
    body = "<h1>التعليقات (3)</h1>" + BODY
    record = extract_article(page(body=body, title="الحكومة تصادق على مشروع قانون المالية | موقع الخبر"), URL)
    assert record["title"] == "الحكومة تصادق على مشروع قانون المالية | موقع الخبر"
    head = '<meta property="og:site_name" content="موقع الخبر">'
    record = extract_article(page(head, body=body, title="الحكومة تصادق على مشروع قانون المالية | موقع الخبر"), URL)
    assert record["title"] == "الحكومة تصادق على مشروع قانون المالية"
    # an <h1> in the site header/menu/footer is not the headline
    menu = page('<meta property="og:title" content="الحكومة تصادق على مشروع قانون المالية">',
                body='<div class="main-menu"><h1>أخبار</h1></div>' + BODY)
    assert extract_article(menu, URL)["title"] == "الحكومة تصادق على مشروع قانون المالية"


# --------------------------------------------------------------------------------------------------------
# Authors

@pytest.mark.parametrize(
    "raw, expected",
    [
        ("كتبت أسماء نصار", ["أسماء نصار"]),
        ("كتب: سيد الخلفاوى", ["سيد الخلفاوى"]),
        ("حوار: آسيا العتروس", ["آسيا العتروس"]),
        ("بقلم - محمد الأمين", ["محمد الأمين"]),
        ("إعداد: سعاد حسن", ["سعاد حسن"]),
        ("تقرير: كريم علي", ["كريم علي"]),
        ("بواسطة يوسف بنعلي", ["يوسف بنعلي"]),
        ("By John Smith and Jane Doe", ["John Smith", "Jane Doe"]),
        ("Par Karim Boukhari", ["Karim Boukhari"]),
        ("كتب محمد علي و أحمد حسن", ["محمد علي", "أحمد حسن"]),
        ("بقلم: محمد الأمين، سعاد حسن", ["محمد الأمين", "سعاد حسن"]),
        ("وليد خالد", ["وليد خالد"]),  # a name starting with و is not split
        ("محمد علي - هسبريس", ["محمد علي"]),
        ("Karim B. (Le360)", ["Karim B."]),
        ("بقلم: محمد الأمين.", ["محمد الأمين"]),
        ("هسبريس", []),
        ("Hespress", []),
        ("Sputnik", []),  # the first word of "Sputnik Arabic"
        ("فريق التحرير", []),
        ("admin", []),
        ("https://www.hespress.com/author/12", []),
        ("Developed By Heba Musa", []),
        ("", []),
    ],
)
def test_author_cleaning(raw, expected):
    assert clean_authors(raw, ["هسبريس", "Hespress", "Le360", "Sputnik Arabic"]) == expected


def test_byline_sources_in_a_page():
    ld = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
          '"headline": "x", "author": [{"@type": "Person", "name": "سعاد حسن"}, '
          '{"@type": "Organization", "name": "هسبريس"}]}</script>')
    assert extract_article(page(ld), URL)["authors"] == ["سعاد حسن"]
    byline = '<div class="article-byline"><a href="/category/politics">سياسة</a> <span>بقلم: كريم علي</span></div>'
    assert extract_article(page(body=byline + BODY), URL)["authors"] == ["كريم علي"]
    rel = ('<p class="meta"><a rel="author" href="/u/1">Karim Boukhari</a>, '
           '<a rel="author" href="/u/2">Nadia Lamlili</a></p>')
    assert extract_article(page(body=rel + BODY), URL)["authors"] == ["Karim Boukhari", "Nadia Lamlili"]
    meta = '<meta name="author" content="سعاد حسن"><meta property="article:author" content="https://fb.com/x">'
    assert extract_article(page(meta), URL)["authors"] == ["سعاد حسن"]
    first = "<p>حوار: آسيا العتروس</p>" + BODY
    record = extract_article(page(body=first), URL)
    assert record["authors"] == ["آسيا العتروس"] and not record["text"].startswith("حوار")
    # the outlet as author, a sidebar list of columnists, or no byline at all: none
    outlet = '<meta property="og:site_name" content="هسبريس"><meta name="author" content="هسبريس">'
    assert extract_article(page(outlet), URL)["author"] is None
    aside = '<aside><div class="authors"><span class="author-name">كاتب العمود</span></div></aside>'
    assert extract_article(page(body=BODY + aside), URL)["authors"] == []
    assert extract_article(page(), URL)["authors"] == []
    # a byline in the headline's block wins over one met earlier on the page (a ticker, a teaser card)
    ticker = '<div class="top-strip"><span class="author">نادية بنعلي</span></div>'
    story = '<div class="post"><h1>الحكومة تصادق على مشروع قانون المالية</h1><span class="byline">كتب: كريم علي</span>'
    html = page('<meta property="og:title" content="الحكومة تصادق على مشروع قانون المالية">',
                body=ticker + story + BODY + "</div>")
    assert extract_article(html, URL)["authors"] == ["كريم علي"]


# --------------------------------------------------------------------------------------------------------
# Language

def test_language_from_the_text_not_the_html_lang_attribute():
    assert detect_language(" ".join(ARABIC[:2])) == "ar"
    assert detect_language(
        "Le gouvernement marocain a annoncé jeudi une série de mesures pour soutenir les agriculteurs touchés "
        "par la sécheresse, a indiqué le porte-parole du gouvernement à l'issue du conseil.") == "fr"
    assert detect_language(
        "Morocco's central bank kept its key interest rate unchanged on Tuesday, citing easing inflation and "
        "a better harvest outlook after months of drought.") == "en"
    assert detect_language("شنو كاين فالمغرب اليوم؟ الناس كيهضرو على الغلاء ديال المعيشة") == "ar"  # Darija
    assert detect_language("2024 - 12:30 | ...") is None
    assert extract_article(page(), URL)["language"] == "ar"  # the page says lang="en-US"


PERSIAN = ("وزارت بهداشت ایران روز یکشنبه اعلام کرد که برنامه واکسیناسیون کودکان در همه استان‌های کشور از هفته "
           "آینده آغاز می‌شود و پزشکان گفتند این طرح به کاهش بیماری در میان کودکان کمک خواهد کرد.")
URDU = ("پاکستان کے وزیر اعظم نے اتوار کے روز اعلان کیا کہ ملک بھر میں بچوں کی ویکسینیشن کی مہم اگلے ہفتے سے "
        "شروع ہوگی اور ڈاکٹروں نے کہا کہ اس سے بیماری میں کمی آئے گی۔")


def test_plainly_arabic_text_skips_the_model_and_gets_its_answer():
    """The script shortcut answers only where the model answers 'ar' too; everything else goes to the model."""
    from pipelines.language import language_ranking, plainly_arabic

    paragraphs = [p for p in ARABIC if len(p) > 200]
    assert len(paragraphs) >= 5 and all(plainly_arabic(p[:500]) for p in paragraphs)
    assert all(language_ranking(p)[0][0] == "ar" for p in paragraphs)
    # other languages written in Arabic script have letters of their own: the model decides
    assert not plainly_arabic(PERSIAN) and detect_language(PERSIAN) == "fa"
    assert not plainly_arabic(URDU) and detect_language(URDU) == "ur"
    # Arabic typed on a Persian keyboard (ی, ک) is left to the model too, which still says Arabic
    persian_keyboard = paragraphs[0].replace("ي", "ی").replace("ك", "ک")
    assert not plainly_arabic(persian_keyboard[:500]) and detect_language(persian_keyboard) == "ar"
    # too short to judge by script (a caption), or mostly French with an Arabic quote
    assert not plainly_arabic("صورة من الأرشيف")
    mixed = ("Le ministre a cité un proverbe, « الصبر مفتاح الفرج », avant de présenter la réforme de la "
             "santé publique devant les députés réunis jeudi à Rabat pour la session de printemps.")
    assert not plainly_arabic(mixed) and detect_language(mixed) == "fr"


# --------------------------------------------------------------------------------------------------------
# Body: read-also teasers, share bars, comments

def test_read_also_lines_and_blocks_are_stripped():
    lines = [
        "الفقرة الأولى من الخبر طويلة بما يكفي لتكون نصا حقيقيا.",
        "اقرأ أيضا: الحكومة تصادق على مشروع قانون المالية",
        "الفقرة الثانية من الخبر.",
        "اقرأ أيضاً",
        "عنوان خبر ذي صلة",
        "عنوان خبر آخر ذي صلة",
        "الفقرة الثالثة تنتهي بنقطة.",
        "إقرأ ايضا.. وزير الرى يشهد توقيع عقد",
        "شاهد أيضا: فيديو الحادث",
        "À lire aussi : Le Maroc et l'Espagne",
        "Read also: Morocco wins",
        "مواضيع ذات صلة",
        "عنوان أول",
    ]
    assert strip_read_also(lines) == [
        "الفقرة الأولى من الخبر طويلة بما يكفي لتكون نصا حقيقيا.",
        "الفقرة الثانية من الخبر.",
        "الفقرة الثالثة تنتهي بنقطة.",
    ]


def test_body_has_no_teasers_share_bars_or_comment_prompts():
    body = (f"<p>{ARABIC[0]}</p><p><strong>اقرأ أيضاً:</strong> <a href='/x'>مصر تحظر تصدير الكحول والكمامات</a></p>"
            f"<p>{ARABIC[1]}</p><p>شارك</p><p>{ARABIC[2]}</p><p>اضف تعليقاً واقرأ تعليقات القراء</p>")
    text = extract_article(page(body=body), URL)["text"]
    assert ARABIC[0] in text and ARABIC[2] in text
    for junk in ("اقرأ أيضاً", "مصر تحظر تصدير الكحول والكمامات", "شارك", "اضف تعليقاً واقرأ تعليقات القراء"):
        assert junk not in text


def test_lead_paragraph_before_the_body_container_is_kept():
    lead = ARABIC[4]
    head = f'<meta name="description" content="{" ".join(lead.split()[:15])}...">'
    # Sputnik's layout: trafilatura takes the itemprop=articleBody block and drops the lead beside it
    body = (f'<div class="article__lead" itemprop="description"><p>{lead}</p></div>'
            f'<div class="article__text" itemprop="articleBody">{"".join(f"<p>{p}</p>" for p in ARABIC[5:8])}</div>')
    text = extract_article(page(head, body=body), URL)["text"]
    assert text.split("\n")[0] == lead and ARABIC[6] in text
    # a description that is only a site blurb found in the footer is not a lead
    blurb = "موقع إخباري مغربي مستقل يهتم بأخبار المغرب والعالم العربي والدولي على مدار الساعة"
    footer = f'<footer><p>{blurb}</p></footer>'
    text = extract_article(page(f'<meta name="description" content="{blurb}">', body=BODY + footer), URL)["text"]
    assert blurb not in text


# --------------------------------------------------------------------------------------------------------
# Non-articles

def _kind(body: bytes, **kwargs) -> str:
    with pytest.raises(ExtractionError) as info:
        extract_article(body, URL, **kwargs)
    return info.value.kind


def test_stray_control_characters_do_not_lose_the_article():
    # lxml refuses C0 controls in the trees trafilatura builds; without cleaning, the body came back empty
    gold = next(g for g in GOLD if g["file"] == "youm7.com_4943459.html")
    raw = (CORPUS / "pages" / gold["file"]).read_bytes()
    sentence = gold["body_must"][0].encode("utf-8")
    damaged = raw.replace(sentence, sentence.replace(b" ", b" \x0f", 1)).replace(b"<body", b"<body \x00", 1)
    assert damaged != raw
    record = extract_article(damaged, gold["url"])
    assert all(norm(s) in norm(record["text"]) for s in gold["body_must"])


def test_extraction_error_kinds():
    assert _kind(b"%PDF-1.7\n...", headers={"Content-Type": "text/html"}) == "not_html"
    assert _kind(page(), headers={"Content-Type": "application/pdf"}) == "not_html"
    assert _kind(b'{"items": [1, 2, 3]}', headers={"Content-Type": "application/json"}) == "not_html"
    assert _kind(b'{"items": [1, 2, 3]}') == "not_html"
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    assert _kind(rss) == "not_html"
    assert _kind(b"\x89PNG\r\n\x1a\n....") == "not_html"
    assert _kind(b"") == "empty"
    assert _kind(b"<html><head><title>x</title></head><body>  </body></html>") == "empty"
    assert _kind(b"<html><body>" + b" " * (MAX_BYTES + 1) + b"</body></html>") == "too_large"
    listing = "".join(f"<li><a href='/a/{i}'>{ARABIC[i % 4][:40]}</a></li>" for i in range(3))
    assert _kind(page(body=f"<ul>{listing}</ul>", title="الرئيسية")) == "not_article"
    garbage = " ".join(ARABIC[:2]).encode("utf-8").decode("cp1252", errors="replace")
    assert _kind(page(body=f"<p>{garbage}</p>")) == "mojibake"


def test_short_item_that_says_it_is_an_article_is_kept():
    short = f"<p>{' '.join(ARABIC[0].split()[:25])}.</p>"
    assert _kind(page(body=short)) == "not_article"
    record = extract_article(page('<meta property="og:type" content="article">', body=short), URL)
    assert record["word_count"] == 25


def test_round_up_of_truncated_teasers_is_not_an_article():
    teasers = "".join(
        f'<article class="post excerpt"><h2><a href="/a/{i}">عنوان رقم {i}</a></h2>'
        f'<div class="entry-summary"><p>{" ".join(p.split()[:30])}...</p></div>'
        f'<a class="more-link" href="/a/{i}">اقرأ المزيد</a></article>'
        for i, p in enumerate(ARABIC[:6])
    )
    html = page('<meta property="og:type" content="website">', body=teasers, h1="حصاد اليوم: أبرز أخبار الجمعة")
    assert _kind(html) == "not_article"


def test_collection_page_is_not_an_article():
    ld = '<script type="application/ld+json">{"@type": "CollectionPage", "name": "سياسة"}</script>'
    assert _kind(page(ld)) == "not_article"


# --------------------------------------------------------------------------------------------------------
# canonical_url, fields, CLI

def _source(**kwargs) -> Source:
    fields = dict(id="example", name="مثال", country="MA", language="ar", domains=("www.example-news.ma",),
                  article_pattern=r"/article-\d+\.html$", start_urls=("https://www.example-news.ma/",))
    return Source(**{**fields, **kwargs})


def test_canonical_url_only_when_on_the_outlet():
    def canonical(head: str, **kwargs) -> str | None:
        return extract_article(page(head), URL, **kwargs)["canonical_url"]

    declared = "https://www.example-news.ma/politique/article-12345.html"
    assert canonical(f'<link rel="canonical" href="{declared}">', source=_source()) == declared
    assert canonical('<link rel="canonical" href="/politique/article-12345.html?x=1">') == declared + "?x=1"
    assert canonical('<meta property="og:url" content="https://52.16.95.170/article/12345">') is None
    assert canonical('<link rel="canonical" href="https://other.example.com/a/1">', source=_source()) is None
    assert canonical(f'<link rel="canonical" href="{declared}">',
                     source=_source(domains=("fr.example-news.ma",))) is None
    assert canonical('<link rel="canonical" href="https://www.example-news.ma/">') is None  # the home page
    assert canonical("") is None


def test_side_fields_from_metadata():
    head = ('<meta property="article:section" content="سياسة">'
            '<meta property="article:tag" content="الحكومة"><meta property="article:tag" content="البرلمان">'
            '<meta name="keywords" content="أخبار, المغرب">'
            '<meta property="og:image" content="//cdn.example-news.ma/img/1.jpg">'
            '<meta property="og:description" '
            'content="الحكومة تصادق على مشروع قانون المالية لسنة 2025 في مجلس الحكومة">')
    record = extract_article(page(head), URL)
    assert record["section"] == "سياسة"
    assert record["tags"] == ["الحكومة", "البرلمان"]
    assert record["image"] == "https://cdn.example-news.ma/img/1.jpg"
    assert record["description"] == "الحكومة تصادق على مشروع قانون المالية لسنة 2025 في مجلس الحكومة"
    crumbs = ('<script type="application/ld+json">{"@type": "BreadcrumbList", "itemListElement": ['
              '{"@type": "ListItem", "position": 1, "name": "الرئيسية"}, '
              '{"@type": "ListItem", "position": 2, "name": "اقتصاد"}]}</script>')
    assert extract_article(page(crumbs), URL)["section"] == "اقتصاد"


def test_visible_tags_breadcrumbs_and_sidebar_tables():
    tags = ('<div class="article__tags"><a class="tag" href="/tag/الفاو">الفاو</a> '
            '<a class="tag" href="/tag/الجفاف">#الجفاف</a></div>')
    cloud = "<aside class='widget'>" + "".join(f"<a href='/tag/t{i}'>وسم {i}</a>" for i in range(30)) + "</aside>"
    trail = '<div class="path"><a href="/">الرئيسية</a> &gt; <a href="/section/politics">سياسة</a></div>'
    box = ('<div class="box"><div class="box-title">أسعار العملات</div><table class="rates"><tr><td>دولار أميركي</td>'
           '<td>1507.5</td></tr><tr><td>يورو</td><td>1830.2</td></tr></table></div>'
           '<div class="box"><div class="box-title">الطقس</div><p>بيروت: 21 / 16</p></div>')
    keywords = '<meta name="keywords" content="أخبار, لبنان">'
    record = extract_article(page(keywords, body=trail + BODY + tags + cloud + box), URL)
    assert record["tags"] == ["الفاو", "الجفاف"]  # before the site-wide keywords meta
    assert record["section"] == "سياسة"
    assert "1507.5" not in record["text"] and "بيروت: 21" not in record["text"]
    assert record["text"].endswith(ARABIC[3])


def test_dates_come_from_pipelines_dates():
    head = '<meta property="article:published_time" content="2024-05-13T06:00:00Z">'
    record = extract_article(page(head), URL, source=_source(timezone="Africa/Cairo"), fetched_at=FETCHED)
    assert (record["published"], record["date_source"]) == ("2024-05-13T09:00:00+03:00", "meta:article:published_time")
    local = extract_article(page(head), URL, source=_source(timezone="Africa/Cairo", meta_utc_is_local=True))
    assert local["published"] == "2024-05-13T06:00:00+03:00"
    # no date on the page: the feed's date (hint), else nothing
    assert extract_article(page(), URL, hint_published="2025-03-01T10:00:00+00:00")["date_source"] == "hint"
    assert extract_article(page(), "https://www.example-news.ma/a/x")["published"] is None


def test_record_has_the_contract_fields():
    record = extract_article(page(), URL)
    assert list(record) == [
        "title", "text", "published", "modified", "author", "authors", "section", "tags", "image", "language",
        "word_count", "canonical_url", "encoding", "encoding_source", "date_source", "description",
    ]
    json.dumps(record)


def test_cli_prints_the_stored_record(tmp_path):
    gold = next(g for g in GOLD if g["file"] == "youm7.com_6573469.html")
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.extract", "--url", gold["url"], str(CORPUS / "pages" / gold["file"]),
         "--source", "youm7", "--fetched-at", FETCHED.isoformat()],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and gold["title"][:20] in result.stdout  # one line, not \u-escaped
    record = json.loads(result.stdout)
    expected = extract_article((CORPUS / "pages" / gold["file"]).read_bytes(), gold["url"],
                               source=next(s for s in SOURCES if s.id == "youm7"), fetched_at=FETCHED)
    assert {k: record[k] for k in expected} == expected
    assert record["content_hash"]  # the crawl's own path (pipelines.process) adds the dedup key

    broken = tmp_path / "feed.xml"
    broken.write_bytes(b'<?xml version="1.0"?><rss version="2.0"></rss>')
    result = subprocess.run([sys.executable, "-m", "pipelines.extract", "--url", URL, str(broken)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and json.loads(result.stderr)["error"] == "not_html"

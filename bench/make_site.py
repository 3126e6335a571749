"""Generate a deterministic local news site for the crawl benchmark (no network).

    python bench/make_site.py OUT_DIR [--pages 5000] [--seed 7] [--port 8790]

Three fictional outlets, each served on its own port of 127.0.0.1 (so Scrapy sees three
origins with their own robots.txt) and each with its own layout and date style:

| outlet  | layout                                      | dates in the page                                  |
|---------|---------------------------------------------|----------------------------------------------------|
| wadi    | WordPress theme (Moroccan)                  | `الجمعة 20 نونبر 2020 - 09:00`, article:published_time on 2/3 |
| nahar   | Arc-like, JSON-LD NewsArticle + state blob  | `تم نشره الجمعة 24 نيسان / أبريل 2020 09:22 مساءً`, Eastern digits on some |
| ahram   | old table layout, windows-1256, `.aspx`     | `الأربعاء، 15 مارس 2023 - 09:30 م` only (visible text) |

Every article page is 60–150 KB with what real outlets carry around the story: mega menus,
breaking-news ticker, sidebars (most read, latest), "اقرأ أيضا" blocks inside the body,
tags, share buttons, comments, footers, inline CSS/JS and SVG icons. Bodies are 300–900
words of template-built Arabic (bench/arabic_text.py).

Discovery per outlet: robots.txt (`Sitemap:` line) → sitemap index → child sitemaps of
≤ 1000 URLs (every other one gzipped, served without Content-Encoding as nginx does),
a Google News sitemap, an RSS 2.0 feed of the 50 newest, and (wadi) a home page.

Writes OUT_DIR/<outlet>/..., OUT_DIR/sources.yml (the registry for the three ports) and
OUT_DIR/site.json (what was generated). Pages are split over the outlets 40/35/25.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from arabic_text import SECTIONS, TextGen  # noqa: E402

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=timezone.utc)  # fixed: the site must not depend on the clock
SPAN_DAYS = 900
MIN_BYTES, MAX_BYTES = 60_000, 150_000
SITEMAP_CHUNK = 1000

WEEKDAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")
MONTHS_MA = ("يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو", "يوليوز", "غشت", "شتنبر", "أكتوبر", "نونبر", "دجنبر")
MONTHS_EG = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")
MONTHS_LEV = ("كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول",
              "تشرين الثاني", "كانون الأول")
EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

SECTION_SLUGS = {"سياسة": "politics", "اقتصاد": "economy", "رياضة": "sport", "مجتمع": "society",
                 "ثقافة": "culture", "دولي": "world", "تكنولوجيا": "tech", "صحة": "health"}


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    name_en: str
    country: str
    timezone: str
    layout: str
    share: float
    port_offset: int


OUTLETS = (
    Outlet("wadi", "الوادي بريس", "Alwadi Press", "MA", "Africa/Casablanca", "wordpress", 0.40, 0),
    Outlet("nahar", "النهار الجديد", "Annahar Aljadid", "LB", "Asia/Beirut", "arc", 0.35, 1),
    Outlet("ahram", "الأهرام المسائي", "Al-Ahram Almasaai", "EG", "Africa/Cairo", "table", 0.25, 2),
)

ARTICLE_PATTERNS = {
    "wadi": r"/\d{4}/\d{2}/\d{6,}\.html$",
    "nahar": r"/[a-z]+/\d{4}/\d{2}/\d{2}/story-\d{6,}\.html$",
    "ahram": r"/News/\d{6,}\.aspx$",
}


# -- plan: which article is where, dated when ------------------------------------------------------


@dataclass(frozen=True)
class Article:
    outlet: Outlet
    index: int  # global page index (the seed of its content)
    number: int  # the outlet's article id
    published: datetime  # UTC
    modified: datetime | None
    section: str

    def path(self) -> str:
        local = self.published.astimezone(ZoneInfo(self.outlet.timezone))
        if self.outlet.layout == "wordpress":
            return f"/{local:%Y/%m}/{self.number}.html"
        if self.outlet.layout == "arc":
            return f"/{SECTION_SLUGS[self.section]}/{local:%Y/%m/%d}/story-{self.number}.html"
        return f"/News/{self.number}.aspx"


def plan(pages: int, seed: int) -> dict[str, list[Article]]:
    """Every article of every outlet, oldest first (ids grow with time, as on real sites)."""
    rng = random.Random(seed)
    counts = [int(pages * o.share) for o in OUTLETS]
    counts[0] += pages - sum(counts)
    out: dict[str, list[Article]] = {}
    index = 0
    for outlet, count in zip(OUTLETS, counts):
        offsets = sorted(rng.uniform(0, SPAN_DAYS * 86400) for _ in range(count))
        arts = []
        number = {"wordpress": 512_000, "arc": 1_944_000, "table": 3_126_000}[outlet.layout]
        for offset in offsets:
            published = (NOW - timedelta(seconds=SPAN_DAYS * 86400 - offset)).replace(microsecond=0)
            published = published.replace(second=0) if outlet.layout != "arc" else published
            modified = published + timedelta(minutes=rng.randint(5, 3000)) if rng.random() < 0.4 else None
            number += rng.randint(1, 9)  # ids grow with time, with gaps (drafts, other post types)
            arts.append(Article(outlet, index, number, published, modified, rng.choice(SECTIONS)))
            index += 1
        out[outlet.id] = arts
    return out


# -- date strings -------------------------------------------------------------------------------


def date_ma(local: datetime) -> str:
    return f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS_MA[local.month - 1]} {local.year} - {local:%H:%M}"


def date_lev(local: datetime, eastern: bool) -> str:
    hour = local.hour % 12 or 12
    marker = "صباحاً" if local.hour < 12 else "مساءً"
    text = (f"تم نشره {WEEKDAYS[local.weekday()]} {local.day} {MONTHS_LEV[local.month - 1]} / "
            f"{MONTHS_EG[local.month - 1]} {local.year} {hour:02d}:{local.minute:02d} {marker}")
    return text.translate(EASTERN) if eastern else text


def date_eg(local: datetime) -> str:
    hour = local.hour % 12 or 12
    return (f"{WEEKDAYS[local.weekday()]}، {local.day:02d} {MONTHS_EG[local.month - 1]} {local.year}"
            f" - {hour:02d}:{local.minute:02d} {'ص' if local.hour < 12 else 'م'}")


# -- page parts shared by the layouts -----------------------------------------------------------


def css_blob(rng: random.Random, size: int) -> str:
    """Theme CSS, inlined as many WordPress/Arc pages do."""
    rules = []
    total = 0
    while total < size:
        cls = f".{rng.choice(('td', 'wp', 'c', 'nav', 'card', 'sb', 'ft', 'hd'))}-{rng.choice(('block', 'item', 'title', 'meta', 'wrap', 'grid', 'row', 'col'))}-{rng.randint(1, 999)}"
        rule = (f"{cls}{{margin:{rng.randint(0, 40)}px {rng.randint(0, 40)}px;padding:{rng.randint(0, 24)}px;"
                f"font-size:{rng.randint(11, 32)}px;color:#{rng.randint(0, 0xFFFFFF):06x};"
                f"font-family:'Noto Kufi Arabic','Cairo',Tahoma,sans-serif;direction:rtl}}\n")
        rules.append(rule)
        total += len(rule)
    return "".join(rules)


def js_blob(rng: random.Random, size: int, kind: str) -> str:
    """Ad tags, analytics, consent managers: the scripts that make up a third of real pages."""
    lines = []
    total = 0
    while total < size:
        n = rng.randint(1, 99999)
        line = rng.choice((
            f"googletag.cmd.push(function(){{googletag.defineSlot('/2163{n}/{kind}_{rng.randint(1, 40)}',[[300,250],[336,280]],'div-gpt-ad-{n}').addService(googletag.pubads());}});\n",
            f"window.dataLayer=window.dataLayer||[];dataLayer.push({{'event':'pageview','section':'{kind}','id':{n},'ts':{rng.randint(10**9, 2 * 10**9)}}});\n",
            f"!function(e,t){{var n=t.createElement('script');n.async=!0,n.src='https://cdn.example-ads.net/tag/{n}.js?v={rng.randint(1, 400)}';var a=t.getElementsByTagName('script')[0];a.parentNode.insertBefore(n,a)}}(window,document);\n",
            f"var td_ajax_{n}={{\"ajaxurl\":\"/wp-admin/admin-ajax.php\",\"nonce\":\"{rng.getrandbits(64):016x}\",\"lang\":\"ar\"}};\n",
            f"function _f{n}(a,b){{for(var i=0;i<a.length;i++){{if(a[i].id===b)return a[i]}}return null}}\n",
        ))
        lines.append(line)
        total += len(line)
    return "".join(lines)


SVG_ICONS = "".join(
    f'<svg class="icon icon-{name}" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path d="M{a} {b}l{c} {d}h-{e}v{a}z M{b} {c}a{d} {d} 0 1 0 {e} 0"/></svg>'
    for name, a, b, c, d, e in (("facebook", 12, 2, 7, 5, 9), ("twitter", 3, 14, 8, 2, 6), ("whatsapp", 5, 5, 11, 3, 2),
                                ("telegram", 9, 1, 4, 8, 3), ("youtube", 2, 12, 6, 6, 7), ("instagram", 6, 6, 12, 4, 4),
                                ("search", 10, 10, 5, 5, 8), ("menu", 3, 6, 18, 2, 18))
)


def menu_items(base: str) -> list[tuple[str, str]]:
    items = [(f"{base}/category/{SECTION_SLUGS[s]}/", s) for s in SECTIONS]
    extra = ("فيديو", "صوت وصورة", "كتاب وآراء", "حوارات", "تحقيقات", "جهات", "مغاربة العالم", "منوعات",
             "فن", "أخبار الطقس", "بورتريه", "ملفات", "إعلانات", "اتصل بنا", "من نحن")
    items += [(f"{base}/category/x{i}/", label) for i, label in enumerate(extra)]
    return items


def headline_links(tg: TextGen, base: str, others: list[Article], count: int) -> list[tuple[str, str]]:
    picks = [tg.rng.choice(others) for _ in range(count)] if others else []
    return [(base + a.path(), tg.title(a.section)) for a in picks]


def comments_html(tg: TextGen, count: int, start: datetime, cls: str) -> str:
    rng = tg.rng
    parts = []
    for i in range(count):
        when = start + timedelta(minutes=rng.randint(10, 4000))
        parts.append(
            f'<li class="{cls}" id="comment-{rng.randint(10**5, 10**7)}"><div class="comment-author vcard">'
            f'<img alt="" src="/avatar/{rng.randint(1, 500)}.png" class="avatar" height="48" width="48">'
            f'<cite class="fn">{escape(tg.person() if rng.random() < 0.5 else rng.choice(("مواطن", "مغربي حر", "زائر", "أبو أيوب", "ابن البلد")))}</cite></div>'
            f'<div class="comment-meta"><a href="#c{i}">{when:%Y/%m/%d} {when:%H:%M}</a></div>'
            f'<div class="comment-content"><p>{escape(tg.comment())}</p></div>'
            f'<div class="reply"><a class="comment-reply-link" href="#respond">رد</a> · '
            f'<span class="likes">👍 {rng.randint(0, 300)}</span> <span class="dislikes">👎 {rng.randint(0, 80)}</span></div></li>'
        )
    return "".join(parts)


def pad_to(page_parts: list[str], target: int, filler, encoding: str = "utf-8") -> str:
    """Join the page, then grow the last inline script until the page reaches `target` bytes."""
    page = "".join(page_parts)
    size = len(page.encode(encoding, errors="xmlcharrefreplace"))
    if size < target:
        page = page.replace("<!--PAD-->", filler(target - size), 1)
    else:
        page = page.replace("<!--PAD-->", "", 1)
    return page


# -- the three layouts -----------------------------------------------------------------------


def page_wordpress(a: Article, title: str, base: str, tg: TextGen, others: list[Article], target: int) -> bytes:
    rng = tg.rng
    o = a.outlet
    local = a.published.astimezone(ZoneInfo(o.timezone))
    author = tg.person()
    paras = tg.paragraphs(a.section, rng.randint(300, 900))
    url = base + a.path()
    with_meta = rng.random() < 0.67
    menu = "".join(f'<li class="menu-item"><a href="{u}">{escape(t)}</a></li>' for u, t in menu_items(base))
    mega = "".join(
        f'<div class="mega-col"><h4>{escape(s)}</h4><ul>'
        + "".join(f'<li><a href="{u}">{escape(t)}</a></li>' for u, t in headline_links(tg, base, others, 6))
        + "</ul></div>"
        for s in SECTIONS[:5]
    )
    body = []
    read_also_at = {max(1, len(paras) // 3), max(2, 2 * len(paras) // 3)}
    for i, p in enumerate(paras):
        body.append(f"<p>{escape(p)}</p>")
        if i in read_also_at:
            links = headline_links(tg, base, others, 1)
            body.append(f'<p class="read-also"><strong>اقرأ أيضا:</strong> <a href="{links[0][0]}">{escape(links[0][1])}</a></p>')
        if i == 1:
            body.append(f'<div class="code-block code-block-2" style="margin:8px auto;text-align:center"><div id="div-gpt-ad-{rng.randint(1, 9999)}"></div></div>')
    related = "".join(
        f'<div class="td-related-span4"><div class="td-module-thumb"><a href="{u}"><img src="/img/{rng.randint(1, 9999)}.jpg" width="218" height="150" alt="{escape(t)}"></a></div>'
        f'<h3 class="entry-title td-module-title"><a href="{u}" rel="bookmark">{escape(t)}</a></h3></div>'
        for u, t in headline_links(tg, base, others, 6)
    )
    most_read = "".join(f'<li><span class="rank">{i + 1}</span><a href="{u}">{escape(t)}</a></li>'
                        for i, (u, t) in enumerate(headline_links(tg, base, others, 10)))
    latest = "".join(
        f'<div class="td_module_6"><a href="{u}"><img src="/img/t{rng.randint(1, 9999)}.jpg" width="100" height="70"></a>'
        f'<h3><a href="{u}">{escape(t)}</a></h3><span class="td-post-date">{date_ma(local - timedelta(hours=rng.randint(1, 72)))}</span></div>'
        for u, t in headline_links(tg, base, others, 15)
    )
    tags = "".join(f'<li><a href="{base}/tag/{rng.randint(1, 5000)}/" rel="tag">{escape(tg.tail_name() if rng.random() < 0.5 else rng.choice(SECTIONS))}</a></li>'
                   for _ in range(rng.randint(2, 6)))
    n_comments = rng.randint(0, 45)
    meta = ""
    if with_meta:
        meta = (f'<meta property="article:published_time" content="{local.isoformat()}" />'
                + (f'<meta property="article:modified_time" content="{a.modified.astimezone(ZoneInfo(o.timezone)).isoformat()}" />' if a.modified else ""))
    parts = [
        '<!DOCTYPE html>\n<html dir="rtl" lang="ar">\n<head>\n<meta charset="UTF-8" />\n',
        f'<meta name="viewport" content="width=device-width, initial-scale=1.0">\n<title>{escape(title)} | {escape(o.name)}</title>\n',
        f'<meta name="description" content="{escape(paras[0][:150])}" />\n<link rel="canonical" href="{url}" />\n',
        f'<meta property="og:locale" content="ar_AR" /><meta property="og:type" content="article" />'
        f'<meta property="og:title" content="{escape(title)}" /><meta property="og:url" content="{url}" />'
        f'<meta property="og:site_name" content="{escape(o.name)}" /><meta property="og:image" content="{base}/wp-content/uploads/{local:%Y/%m}/{a.number}.jpg" />\n',
        meta,
        f'<link rel="alternate" type="application/rss+xml" title="{escape(o.name)} &raquo; الخلاصة" href="{base}/feed/" />\n',
        f'<style id="wp-block-library-inline-css">{css_blob(rng, rng.randint(6000, 14000))}</style>\n',
        f'<script type="text/javascript">{js_blob(rng, rng.randint(3000, 8000), "head")}</script>\n</head>\n',
        f'<body class="post-template-default single single-post postid-{a.number} single-format-standard td-standard-pack">\n',
        f'<div id="svg-sprite" style="display:none">{SVG_ICONS}</div>',
        '<div class="td-header-wrap"><div class="td-header-top-menu"><div class="top-bar-date">',
        f'{date_ma(NOW.astimezone(ZoneInfo(o.timezone)))}</div><ul class="top-header-menu">'
        '<li><a href="/about/">من نحن</a></li><li><a href="/contact/">اتصل بنا</a></li><li><a href="/ads/">للإعلان</a></li></ul></div>',
        f'<div class="td-header-menu-wrap"><a class="td-main-logo" href="{base}/"><img src="/logo.png" alt="{escape(o.name)}"></a>',
        f'<nav id="td-header-menu"><ul id="menu-main" class="sf-menu">{menu}</ul></nav><div class="td-mega-menu">{mega}</div></div></div>',
        '<div class="breaking-news"><span class="bn-title">عاجل</span><ul class="bn-list">',
        "".join(f'<li><a href="{u}">{escape(t)}</a></li>' for u, t in headline_links(tg, base, others, 8)),
        '</ul></div>\n<div class="td-main-content-wrap td-container-wrap"><div class="td-container">',
        f'<div class="td-crumb-container"><div class="entry-crumbs"><span><a href="{base}/">الرئيسية</a></span> <i class="td-bread-sep"></i> '
        f'<span><a href="{base}/category/{SECTION_SLUGS[a.section]}/">{escape(a.section)}</a></span></div></div>',
        '<div class="td-pb-row"><div class="td-pb-span8 td-main-content" role="main"><div class="td-ss-main-content">',
        f'<article id="post-{a.number}" class="post-{a.number} post type-post status-publish format-standard has-post-thumbnail">',
        f'<div class="td-post-header"><ul class="td-category"><li class="entry-category"><a href="{base}/category/{SECTION_SLUGS[a.section]}/">{escape(a.section)}</a></li></ul>',
        f'<header class="td-post-title"><h1 class="entry-title">{escape(title)}</h1>',
        f'<div class="td-module-meta-info"><div class="td-post-author-name">بقلم: <a href="{base}/author/{rng.randint(1, 80)}/">{escape(author)}</a></div>',
        f'<span class="td-post-date"><time class="entry-date updated td-module-date"{" datetime=" + chr(34) + local.isoformat() + chr(34) if with_meta else ""}>{date_ma(local)}</time></span>',
        f'<div class="td-post-views"><span class="td-nr-views-{a.number}">{rng.randint(100, 90000)}</span></div></div></header></div>',
        f'<div class="td-post-sharing-top">{SVG_ICONS}<a class="td-social-sharing-button" href="https://www.facebook.com/sharer.php?u={url}">فيسبوك</a>'
        f'<a href="https://twitter.com/intent/tweet?url={url}">تويتر</a><a href="whatsapp://send?text={url}">واتساب</a></div>',
        f'<div class="td-post-featured-image"><figure><img width="696" height="390" src="{base}/wp-content/uploads/{local:%Y/%m}/{a.number}.jpg" alt="">'
        f'<figcaption class="wp-caption-text">{escape(tg.title(a.section))}</figcaption></figure></div>',
        f'<div class="td-post-content tagdiv-type">{"".join(body)}</div>',
        f'<footer><div class="td-post-source-tags"><ul class="td-tags td-post-small-box clearfix"><li><span>الوسوم</span></li>{tags}</ul></div>',
        f'<div class="td-post-sharing-bottom">{SVG_ICONS}</div></footer></article>',
        f'<div class="td_block_wrap td_block_related_posts"><h4 class="td-related-title"><span>مقالات ذات صلة</span></h4><div class="td-related-row">{related}</div></div>',
        f'<div class="comments" id="comments"><h3 class="td-comments-title"><span>التعليقات ({n_comments})</span></h3><ol class="comment-list">',
        comments_html(tg, n_comments, a.published, "comment even thread-even depth-1"),
        '</ol><div id="respond" class="comment-respond"><h3 id="reply-title">أضف تعليقك</h3>'
        '<form action="/wp-comments-post.php" method="post" id="commentform"><textarea id="comment" name="comment" cols="45" rows="8" placeholder="تعليقك"></textarea>'
        '<input id="author" name="author" type="text" placeholder="الاسم"><input name="submit" type="submit" id="submit" value="إرسال"></form></div></div>',
        '</div></div><div class="td-pb-span4 td-main-sidebar" role="complementary"><aside class="td_block_wrap widget">',
        f'<h4 class="block-title"><span>الأكثر قراءة</span></h4><ol class="most-read">{most_read}</ol></aside>',
        f'<aside class="widget"><h4 class="block-title"><span>آخر الأخبار</span></h4>{latest}</aside>',
        '<aside class="widget widget_newsletter"><h4>النشرة البريدية</h4><p>اشترك ليصلك جديد الأخبار يوميا على بريدك الإلكتروني</p>'
        '<form><input type="email" placeholder="بريدك الإلكتروني"><button>اشترك</button></form></aside></div></div></div></div>',
        f'<div class="td-footer-wrapper"><div class="footer-menu"><ul>{menu}</ul></div>',
        f'<div class="footer-text-wrap">{escape(o.name)}: جريدة إلكترونية مغربية مستقلة، تصدر عن شركة الوادي للإعلام والنشر. '
        'رقم الملف الصحافي 2014/12. جميع المقالات المنشورة تعبر عن آراء أصحابها.</div>',
        f'<div class="td-sub-footer-copy">جميع الحقوق محفوظة © {NOW.year} {escape(o.name)}</div></div>',
        '<script type="text/javascript"><!--PAD-->', js_blob(rng, rng.randint(4000, 9000), "footer"), "</script>\n</body>\n</html>\n",
    ]
    page = pad_to(parts, target, lambda n: js_blob(rng, n, "lazy"))
    return page.encode("utf-8")


def page_arc(a: Article, title: str, base: str, tg: TextGen, others: list[Article], target: int) -> bytes:
    rng = tg.rng
    o = a.outlet
    local = a.published.astimezone(ZoneInfo(o.timezone))
    authors = [tg.person() for _ in range(1 if rng.random() < 0.85 else 2)]
    paras = tg.paragraphs(a.section, rng.randint(300, 900))
    url = base + a.path()
    slug = SECTION_SLUGS[a.section]
    eastern = rng.random() < 0.3
    jsonld = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "datePublished": a.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dateModified": (a.modified or a.published).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "author": [{"@type": "Person", "name": n} for n in authors],
        "publisher": {"@type": "Organization", "name": o.name, "logo": {"@type": "ImageObject", "url": f"{base}/logo.png"}},
        "image": [f"{base}/resizer/{a.number}/1200x675.jpg"], "articleSection": a.section, "inLanguage": "ar",
        "description": paras[0][:160],
    }
    nav = "".join(f'<li class="nav-item"><a class="nav-link" href="{u}">{escape(t)}</a></li>' for u, t in menu_items(base))
    body = []
    for i, p in enumerate(paras):
        body.append(f'<p class="article-body__paragraph" data-type="text">{escape(p)}</p>')
        if i == len(paras) // 2:
            u, t = headline_links(tg, base, others, 1)[0]
            body.append(f'<div class="interstitial-link"><span>اقرأ أيضا</span> <a href="{u}">{escape(t)}</a></div>')
        if i % 4 == 2:
            body.append(f'<div class="ad-container" data-slot="in-article-{i}"><div id="arcad-{rng.randint(1, 99999)}"></div></div>')
    cards = "".join(
        f'<div class="card"><a class="card__link" href="{u}"><picture><source srcset="/resizer/{rng.randint(1, 9999)}/400x225.webp" type="image/webp">'
        f'<img src="/resizer/{rng.randint(1, 9999)}/400x225.jpg" alt="" loading="lazy"></picture>'
        f'<h2 class="card__headline">{escape(t)}</h2></a><span class="card__time">منذ {rng.randint(2, 23)} ساعات</span></div>'
        for u, t in headline_links(tg, base, others, 12)
    )
    state_items = [{"_id": f"{rng.getrandbits(80):020X}", "headlines": {"basic": t}, "canonical_url": u.replace(base, ""),
                    "display_date": (a.published - timedelta(hours=rng.randint(1, 200))).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "taxonomy": {"primary_section": {"_id": f"/{slug}", "name": a.section}}}
                   for u, t in headline_links(tg, base, others, 20)]
    n_comments = rng.randint(0, 30)
    parts = [
        '<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        f'<title>{escape(title)} - {escape(o.name)}</title>',
        f'<link rel="canonical" href="{url}"/><meta property="og:url" content="{url}"/>',
        f'<meta property="og:title" content="{escape(title)}"/><meta property="og:type" content="article"/>',
        f'<meta name="twitter:card" content="summary_large_image"/><meta name="twitter:title" content="{escape(title)}"/>',
        f'<meta name="description" content="{escape(paras[0][:160])}"/>',
        f'<script type="application/ld+json">{json.dumps(jsonld, ensure_ascii=False)}</script>',
        '<script type="application/ld+json">' + json.dumps({"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "الرئيسية", "item": base + "/"},
            {"@type": "ListItem", "position": 2, "name": a.section, "item": f"{base}/{slug}/"}]}, ensure_ascii=False) + "</script>",
        f'<style>{css_blob(rng, rng.randint(9000, 20000))}</style>',
        f'<script>{js_blob(rng, rng.randint(2000, 6000), "arc-head")}</script></head>',
        f'<body><div id="fusion-app" class="layout-article"><header class="site-header">{SVG_ICONS}',
        f'<a class="logo" href="{base}/" aria-label="{escape(o.name)}"><img src="/logo.svg" alt="{escape(o.name)}"/></a>',
        f'<nav class="main-nav" aria-label="الأقسام"><ul>{nav}</ul></nav>',
        '<div class="ticker"><strong>آخر الأخبار</strong><ul>',
        "".join(f'<li><a href="{u}">{escape(t)}</a></li>' for u, t in headline_links(tg, base, others, 6)),
        '</ul></div></header><main class="article-layout"><div class="article-layout__main">',
        f'<nav class="breadcrumbs"><a href="{base}/">الرئيسية</a> › <a href="{base}/{slug}/">{escape(a.section)}</a></nav>',
        f'<article class="article"><header class="article-header"><a class="overline" href="{base}/{slug}/">{escape(a.section)}</a>',
        f'<h1 class="headline">{escape(title)}</h1><h2 class="subheadline">{escape(paras[0][:110])}…</h2>',
        f'<div class="byline">{"، ".join(f"<a href={chr(34)}{base}/author/{rng.randint(1, 60)}/{chr(34)}>{escape(n)}</a>" for n in authors)}</div>',
        f'<div class="date">{date_lev(local, eastern)}</div>',
        (f'<div class="date date--updated">آخر تحديث: {date_lev(a.modified.astimezone(ZoneInfo(o.timezone)), eastern).replace("تم نشره ", "")}</div>' if a.modified else ""),
        f'</header><figure class="lead-art"><img src="{base}/resizer/{a.number}/1200x675.jpg" alt=""/>'
        f'<figcaption>{escape(tg.title(a.section))} (أرشيف)</figcaption></figure>',
        f'<div class="article-body">{"".join(body)}</div>',
        f'<div class="tags">{"".join(f"<a class={chr(34)}tag{chr(34)} href={chr(34)}{base}/tags/{rng.randint(1, 3000)}/{chr(34)}>{escape(tg.tail_name())}</a>" for _ in range(rng.randint(2, 5)))}</div>',
        f'<div class="share-bar">{SVG_ICONS}</div></article>',
        f'<section class="comments"><h3>تعليقات القراء ({n_comments})</h3><ul>{comments_html(tg, n_comments, a.published, "comment")}</ul></section>',
        f'<section class="more-stories"><h3>المزيد من {escape(a.section)}</h3><div class="card-list">{cards}</div></section></div>',
        '<aside class="article-layout__rail"><div class="rail-block"><h3>الأكثر قراءة</h3><ol>',
        "".join(f'<li><a href="{u}">{escape(t)}</a></li>' for u, t in headline_links(tg, base, others, 10)),
        '</ol></div><div class="rail-block ad"><div id="arcad-rail"></div></div></aside></main>',
        f'<footer class="site-footer"><ul class="footer-nav">{nav}</ul><p class="copyright">© {NOW.year} {escape(o.name)}. جميع الحقوق محفوظة. '
        'يمنع نسخ أو إعادة نشر المحتوى دون إذن مسبق.</p></footer></div>',
        '<script id="fusion-metadata" type="application/javascript">window.Fusion=window.Fusion||{};Fusion.globalContent=',
        json.dumps({"_id": str(a.number), "headlines": {"basic": title}, "content_elements": [{"type": "text", "content": p} for p in paras[:3]],
                    "related": state_items}, ensure_ascii=False),
        ';Fusion.deployment="' + f"{rng.randint(100, 999)}" + '";<!--PAD--></script>',
        f'<script>{js_blob(rng, rng.randint(2000, 5000), "arc-foot")}</script></body></html>',
    ]
    page = pad_to(parts, target, lambda n: "Fusion.contentCache=" + json.dumps(
        {f"content-api-{i}": {"headline": tg.title(rng.choice(SECTIONS)), "url": f"/{slug}/{rng.randint(10**6, 10**7)}/"}
         for i in range(max(1, n // 190))}, ensure_ascii=False) + ";")
    return page.encode("utf-8")


def page_table(a: Article, title: str, base: str, tg: TextGen, others: list[Article], target: int) -> bytes:
    rng = tg.rng
    o = a.outlet
    local = a.published.astimezone(ZoneInfo(o.timezone))
    author = tg.person()
    paras = tg.paragraphs(a.section, rng.randint(300, 900))
    row_links = lambda n: "".join(  # noqa: E731
        f'<tr><td class="bullet"><img src="/images/arrow.gif" width="7" height="7"></td><td class="newslink"><a href="{u}">{escape(t)}</a></td></tr>'
        for u, t in headline_links(tg, base, others, n))
    menu = "".join(f'<td class="menu"><a href="{u}">{escape(t)}</a></td>' for u, t in menu_items(base)[:14])
    body = f"<b>كتب - {escape(author)}:</b><br><br>" + "<br><br>".join(escape(p) for p in paras)
    u, t = headline_links(tg, base, others, 1)[0]
    body = body.replace("<br><br>", f'<br><br><font color="#990000"><b>اقرأ أيضا: </b></font><a href="{u}">{escape(t)}</a><br><br>', 1)
    n_comments = rng.randint(0, 25)
    comments = "".join(
        f'<tr><td class="comm_name">{escape(tg.person())}</td><td class="comm_date">{date_eg(local + timedelta(hours=rng.randint(1, 48)))}</td></tr>'
        f'<tr><td colspan="2" class="comm_text">{escape(tg.comment())}</td></tr>'
        for _ in range(n_comments))
    parts = [
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<html dir="rtl"><head>',
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">',
        f'<title>{escape(o.name)} - {escape(title)}</title>',
        f'<link href="/css/style.css" rel="stylesheet" type="text/css"><style type="text/css">{css_blob(rng, rng.randint(3000, 8000))}</style>',
        f'<script language="javascript">{js_blob(rng, rng.randint(2000, 5000), "old")}</script></head>',
        '<body topmargin="0" leftmargin="0" bgcolor="#FFFFFF"><table width="980" border="0" cellspacing="0" cellpadding="0" align="center">',
        f'<tr><td colspan="3" class="header"><table width="100%"><tr><td><a href="{base}/"><img src="/images/logo.gif" border="0" alt="{escape(o.name)}"></a></td>',
        f'<td class="today">{date_eg(NOW.astimezone(ZoneInfo(o.timezone)))}</td><td><img src="/banners/top{rng.randint(1, 9)}.gif" width="468" height="60"></td></tr></table></td></tr>',
        f'<tr><td colspan="3"><table class="menubar" width="100%"><tr>{menu}</tr></table></td></tr>',
        '<tr><td width="180" valign="top" class="rightcol"><table width="100%" class="box"><tr><td class="boxtitle">أخبار عاجلة</td></tr>',
        row_links(12), '</table><table width="100%" class="box"><tr><td class="boxtitle">استطلاع الرأي</td></tr>',
        '<tr><td>هل توافق على قرار رفع أسعار الوقود؟<br><input type="radio" name="v">نعم<br><input type="radio" name="v">لا<br><input type="radio" name="v">لا أدري</td></tr></table></td>',
        '<td valign="top" class="maincol"><table width="100%" border="0" cellpadding="4">',
        f'<tr><td class="path"><a href="{base}/">الرئيسية</a> &gt; <a href="{base}/Section/{SECTION_SLUGS[a.section]}.aspx">{escape(a.section)}</a></td></tr>',
        f'<tr><td class="newstitle"><font size="5" color="#003366"><b>{escape(title)}</b></font></td></tr>',
        f'<tr><td class="newsdate"><font color="#666666">{date_eg(local)}</font></td></tr>',
        f'<tr><td align="center"><img src="/Upload/News/{a.number}.jpg" width="400" border="0"></td></tr>',
        f'<tr><td class="newsbody" style="line-height:24px;font-size:15px">{body}</td></tr>',
        f'<tr><td class="share"><a href="/print.aspx?id={a.number}">طباعة</a> | <a href="/send.aspx?id={a.number}">أرسل لصديق</a> | '
        f'<a href="#comments">التعليقات ({n_comments})</a></td></tr>',
        f'<tr><td><table width="100%" class="related"><tr><td class="boxtitle">أخبار متعلقة</td></tr>{row_links(8)}</table></td></tr>',
        f'<tr><td><a name="comments"></a><table width="100%" class="comments"><tr><td class="boxtitle" colspan="2">التعليقات ({n_comments})</td></tr>{comments}</table></td></tr>',
        '</table></td><td width="180" valign="top" class="leftcol"><table width="100%" class="box"><tr><td class="boxtitle">الأكثر قراءة</td></tr>',
        row_links(15), '</table><table width="100%" class="box"><tr><td class="boxtitle">مقالات الرأي</td></tr>', row_links(10),
        '</table></td></tr>',
        f'<tr><td colspan="3" class="footer" align="center">جميع الحقوق محفوظة لمؤسسة {escape(o.name)} © 2005 - {NOW.year}<br>'
        'يمنع النقل أو الاقتباس دون ذكر المصدر | <a href="/contact.aspx">اتصل بنا</a> | <a href="/adv.aspx">أعلن معنا</a></td></tr></table>',
        '<script language="javascript"><!--PAD--></script></body></html>',
    ]
    page = pad_to(parts, target, lambda n: js_blob(rng, n, "banner"), encoding="cp1256")
    # windows-1256 cannot encode a few symbols the generator uses: old CMSs wrote them as entities.
    return page.encode("cp1256", errors="xmlcharrefreplace")


LAYOUTS = {"wordpress": page_wordpress, "arc": page_arc, "table": page_table}


# -- listings -----------------------------------------------------------------------------------


def iso(dt: datetime, tz: str | None = None) -> str:
    return (dt.astimezone(ZoneInfo(tz)) if tz else dt).isoformat()


def sitemap_xml(urls: list[tuple[str, datetime]], tz: str) -> bytes:
    rows = "".join(f"<url><loc>{escape(u)}</loc><lastmod>{iso(m, tz)}</lastmod></url>\n" for u, m in urls)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{rows}</urlset>\n").encode("utf-8")


def news_sitemap_xml(arts: list[Article], base: str, tz: str, titles: dict[int, str]) -> bytes:
    rows = "".join(
        f"<url><loc>{escape(base + a.path())}</loc><news:news><news:publication><news:name>{escape(a.outlet.name)}</news:name>"
        f"<news:language>ar</news:language></news:publication><news:publication_date>{iso(a.published, tz)}</news:publication_date>"
        f"<news:title>{escape(titles[a.index])}</news:title></news:news></url>\n" for a in arts)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' f"{rows}</urlset>\n").encode("utf-8")


def rss_xml(outlet: Outlet, arts: list[Article], base: str, titles: dict[int, str]) -> bytes:
    from email.utils import format_datetime
    items = "".join(
        f"<item><title>{escape(titles[a.index])}</title><link>{escape(base + a.path())}</link>"
        f"<guid isPermaLink=\"true\">{escape(base + a.path())}</guid><pubDate>{format_datetime(a.published.astimezone(ZoneInfo(outlet.timezone)))}</pubDate>"
        f"<category>{escape(a.section)}</category><description>{escape(titles[a.index])}</description></item>\n" for a in arts)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
            f"<title>{escape(outlet.name)}</title><link>{base}/</link><description>آخر الأخبار</description><language>ar</language>\n"
            f"{items}</channel></rss>\n").encode("utf-8")


# -- generation -----------------------------------------------------------------------------------


def page_seed(seed: int, index: int) -> int:
    return seed * 1_000_003 + index


def article_title(seed: int, a: Article) -> str:
    """The headline, from its own random stream: the page, the feed and the news sitemap agree on it."""
    return TextGen(random.Random(page_seed(seed, a.index) ^ 0x5EED)).title(a.section)


_WORKER: dict = {}


def _init_worker(seed: int, pages: int, bases: dict[str, str], out_dir: str) -> None:
    arts = plan(pages, seed)
    _WORKER.update(seed=seed, arts=arts, flat=[a for g in arts.values() for a in g], bases=bases, out=Path(out_dir))


def render(index: int) -> int:
    """Render and write one article page (in a worker); returns its size in bytes."""
    w = _WORKER
    a = w["flat"][index]
    rng = random.Random(page_seed(w["seed"], index))
    target = rng.randint(MIN_BYTES, MAX_BYTES)
    body = LAYOUTS[a.outlet.layout](a, article_title(w["seed"], a), w["bases"][a.outlet.id], TextGen(rng),
                                    w["arts"][a.outlet.id], target)
    path = w["out"] / a.outlet.id / a.path().lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return len(body)


def generate(out_dir: Path, pages: int = 5000, seed: int = 7, port: int = 8790, workers: int | None = None) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    bases = {o.id: f"http://127.0.0.1:{port + o.port_offset}" for o in OUTLETS}
    arts = plan(pages, seed)
    workers = workers or os.cpu_count() or 1
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(seed, pages, bases, str(out_dir))) as pool:
        sizes = list(pool.map(render, range(pages), chunksize=32))
    titles = {a.index: article_title(seed, a) for group in arts.values() for a in group}
    for outlet in OUTLETS:
        write_listings(out_dir / outlet.id, outlet, arts[outlet.id], bases[outlet.id], titles)
    write_registry(out_dir / "sources.yml", bases)
    info = {
        "pages": pages, "seed": seed, "port": port, "bases": bases,
        "per_outlet": {k: len(v) for k, v in arts.items()},
        "bytes_total": sum(sizes), "bytes_min": min(sizes), "bytes_max": max(sizes),
        "bytes_mean": sum(sizes) / len(sizes),
    }
    (out_dir / "site.json").write_text(json.dumps(info, indent=1))
    return info


def write_listings(root: Path, outlet: Outlet, arts: list[Article], base: str, titles: dict[int, str]) -> None:
    tz = outlet.timezone
    urls = [(base + a.path(), a.modified or a.published) for a in arts]
    children = []
    for n, start in enumerate(range(0, len(urls), SITEMAP_CHUNK)):
        chunk = urls[start:start + SITEMAP_CHUNK]
        data = sitemap_xml(chunk, tz)
        name = f"sitemap-posts-{n + 1}.xml"
        if n % 2 == 1:
            name += ".gz"
            data = gzip.compress(data, mtime=0)
        (root / name).write_bytes(data)
        children.append((f"{base}/{name}", max(m for _, m in chunk)))
    newest = sorted(arts, key=lambda a: a.published)[-100:][::-1]
    (root / "sitemap-news.xml").write_bytes(news_sitemap_xml(newest, base, tz, titles))
    children.append((f"{base}/sitemap-news.xml", newest[0].published if newest else NOW))
    index = "".join(f"<sitemap><loc>{u}</loc><lastmod>{iso(m, tz)}</lastmod></sitemap>\n" for u, m in children)
    (root / "sitemap.xml").write_bytes(
        ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
         f"{index}</sitemapindex>\n").encode("utf-8"))
    (root / "feed.xml").write_bytes(rss_xml(outlet, newest[:50], base, titles))
    (root / "robots.txt").write_text(
        "User-agent: *\nDisallow: /wp-admin/\nDisallow: /search\nAllow: /\n\n"
        f"Sitemap: {base}/sitemap.xml\n", encoding="utf-8")
    if outlet.layout == "wordpress":
        links = "".join(f'<li><a href="{base}{a.path()}">{escape(titles[a.index])}</a></li>' for a in newest[:60])
        (root / "index.html").write_text(
            f'<!DOCTYPE html><html dir="rtl" lang="ar"><head><meta charset="utf-8"><title>{escape(outlet.name)}</title></head>'
            f'<body><h1>{escape(outlet.name)}</h1><ul>{links}</ul></body></html>', encoding="utf-8")


def write_registry(path: Path, bases: dict[str, str]) -> None:
    lines = ["# Generated by bench/make_site.py: the benchmark's fictional outlets on 127.0.0.1.", "sources:"]
    for o in OUTLETS:
        base = bases[o.id]
        host = base.split("//", 1)[1]
        lines += [
            f"  - id: {o.id}", f"    name: {o.name}", f"    name_en: {o.name_en}", f"    country: {o.country}",
            "    language: ar", f"    timezone: {o.timezone}", f"    domains: ['{host}']",
            f"    article_pattern: '{ARTICLE_PATTERNS[o.id]}'",
            f"    sitemaps: ['{base}/sitemap.xml']", f"    feeds: ['{base}/feed.xml']",
        ]
        if o.layout == "wordpress":
            lines.append(f"    start_urls: ['{base}/']")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--port", type=int, default=8790, help="first of three consecutive ports (one per outlet)")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    info = generate(args.out, args.pages, args.seed, args.port, args.workers)
    print(json.dumps(info, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()

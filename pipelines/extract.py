"""Page bytes + URL → the article record the archive stores (headline, body, dates, bylines, language...).

Why our own code around trafilatura: on Arabic news pages its metadata is wrong where it matters most. Its
title keeps the site-name suffix (`… - اليوم السابع`) or takes "التعليقات (N)" on table layouts; its author is
often the outlet, a web developer or a logo URL; its date falls back to a wrong `YYYY-01-01` (htmldate knows no
Arabic months). So trafilatura extracts the *body* only (`with_metadata=False`: its metadata pass would cost
~40% more time and runs htmldate), and every other field is read here from one lxml tree, which is also what
trafilatura and `pipelines.dates.page_dates` get: the page is parsed once.

Rules are generic (no per-site code): the headline is the visible <h1> that agrees with og:title / JSON-LD /
<title>; site names come from the registry *and* from the page (og:site_name, application-name, publisher,
the host, and whatever <title> adds around the headline), and are stripped from titles and refused as authors.

Body text is trafilatura's with `favor_precision=True` (measured: on the gold corpus both modes keep every gold
sentence and precision also drops a stray caption; on the fixture outlets the default mode turns a menu-only
page into a 44-word "article"), then cleaned of what it leaves on top (headline, date line, byline line) and of teasers, share bars, comment
prompts, footers and trailing sidebar tables; a lead paragraph it drops beside the body block is put back.

`python -m pipelines.extract --url URL FILE.html [--source ID] [--tz TZ] [--content-type CT] [--hint DATE]
[--fetched-at ISO]` prints the record the crawl stores (with its dedup key) as one JSON object.
"""

from __future__ import annotations

import argparse
import html
import ipaddress
import json
import re
import sys
import unicodedata
import zlib
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import HTML_PARSER

from pipelines.dates import page_dates, parse_date
from pipelines.encoding import ExtractionError, decode_html
from pipelines.language import detect_language
from pipelines.registry import Source, load_sources

__all__ = [
    "ExtractionError",
    "extract_article",
    "clean_title",
    "clean_authors",
    "strip_read_also",
    "MAX_BYTES",
    "MIN_ARTICLE_WORDS",
]

MAX_BYTES = 8 * 1024 * 1024  # larger bodies are not news articles (and would stall a worker)
MIN_ARTICLE_WORDS = 40  # below this, only a page that says it is an article is kept
FAVOR_PRECISION = True  # measured on the corpus: same body sentences kept, fewer stray captions/date lines

# --------------------------------------------------------------------------------------------------------
# Text helpers

_SPACE = re.compile(r"\s+")
_INVISIBLE = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff\u00ad]")
_MARK = re.compile("[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_NONWORD = re.compile(r"[\W_]+")
_FOLD_TABLE = str.maketrans(
    {**{c: str(i % 10) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")}, "ى": "ي", "ة": "ه", "ی": "ي", "ک": "ك"}
)


def clean_text(value: str | None, *, unescape: bool = False) -> str:
    """Display form of a short text: NFC, entities decoded (when asked), all whitespace runs → one space."""
    if not value:
        return ""
    if unescape and "&" in value:
        value = html.unescape(value)
    value = _INVISIBLE.sub("", value)
    return unicodedata.normalize("NFC", _SPACE.sub(" ", value)).strip()


def _fold(value: str) -> str:
    """Comparison form: no marks or tatweel, أ/إ/آ→ا, ى→ي, ة→ه, ASCII digits, case-folded."""
    value = unicodedata.normalize("NFKD", value.translate(_FOLD_TABLE))
    return _MARK.sub("", value).casefold()


def _key(value: str) -> str:
    """Letters and digits of the comparison form only: punctuation, quotes and spaces do not count."""
    return _NONWORD.sub("", _fold(value))


def _words(value: str) -> list[str]:
    return [w for w in _NONWORD.split(_fold(value)) if w]


# --------------------------------------------------------------------------------------------------------
# What the page declares: <meta>, JSON-LD

def _meta(tree: HtmlElement) -> dict[str, list[str]]:
    """All <meta> values by lowercased property/name/itemprop, in page order."""
    found: dict[str, list[str]] = {}
    for el in tree.iter("meta"):
        content = el.get("content")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop"):
            key = el.get(attr)
            if key:
                for k in key.lower().split():
                    found.setdefault(k, []).append(content)
    return found


def _json_ld(tree: HtmlElement) -> list[dict[str, Any]]:
    """Every JSON-LD object on the page (lists and @graph flattened), broken blocks skipped."""
    nodes: list[dict[str, Any]] = []

    def walk(node: Any, depth: int) -> None:
        if depth > 4:
            return
        if isinstance(node, list):
            for item in node:
                walk(item, depth + 1)
        elif isinstance(node, dict):
            nodes.append(node)
            if "@graph" in node:
                walk(node["@graph"], depth + 1)

    for script in tree.iter("script"):
        if "ld+json" not in (script.get("type") or ""):
            continue
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            try:  # trailing commas are the commonest breakage
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", raw), strict=False)
            except ValueError:
                continue
        walk(data, 0)
    return nodes


def _types(node: Mapping[str, Any]) -> list[str]:
    value = node.get("@type")
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


_ARTICLE_TYPE = re.compile(r"Article$|BlogPosting|Report$|^Posting$", re.I)
# Nodes whose name is the outlet's (never WebPage: its name is the page's title).
_ORG_TYPE = re.compile(r"Organization|Corporation|WebSite|Brand", re.I)


def _articles(nodes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [n for n in nodes if any(_ARTICLE_TYPE.search(t) for t in _types(n))]


def _ld_strings(value: Any) -> list[str]:
    """Names out of a JSON-LD value that may be a string, an object with a name, or a list of either."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return _ld_strings(name) if name else []
    if isinstance(value, list):
        return [s for item in value for s in _ld_strings(item)]
    return []


# --------------------------------------------------------------------------------------------------------
# Marked elements: every rule that looks at class / itemprop / rel / itemtype values shares one lookup.
# (XPath `//*[contains(@class, ...)]` with a dozen patterns costs 5-20 ms on a big page; reading the attribute
# values as plain strings and fetching only the elements that carry a wanted value is several times cheaper,
# and creates no Python proxies for the thousands of other elements.)

_CLASS_VALUES = etree.XPath("//@class", smart_strings=False)
_ITEMPROP_VALUES = etree.XPath("//@itemprop", smart_strings=False)
_REL_VALUES = etree.XPath("//@rel", smart_strings=False)
_ITEMTYPE_VALUES = etree.XPath("//@itemtype", smart_strings=False)
# Lowercase substrings of a byline class (writeBy, post-meta-author, c-byline, article__writer, ...); found with
# `in` on the joined values (a case-insensitive regex alternation is 20x slower on a 500 KB page).
_BYLINE_WORDS = ("author", "byline", "by-line", "writer", "writeby", "write-by", "written", "reporter",
                 "journalist", "kateb", "katib", "contributor")
_ITEMPROPS = frozenset({"author", "headline", "articlesection", "publisher", "articlebody"})
# Breadcrumb trails: "breadcrumb" says it; "path"/"trail"/"crumbs" only with a home link first (checked later).
_CRUMB_WORDS = ("crumb", "path", "trail", "ariane")
_CRUMB_CLASS = re.compile(r"(?:^|[-_])(?:breadcrumbs?|crumbs?|path|trail|fil-?ariane|ariane)(?:$|[-_])", re.I)
_HOME_WORDS = frozenset(_key(w) for w in ("الرئيسية", "الصفحة الرئيسية", "home", "accueil", "inicio", "الرئيسيه"))


def _wanted(values: list[str], words: Iterable[str]) -> list[str]:
    """The distinct values that contain one of `words` (case-insensitive)."""
    joined = "\n".join(values).lower()
    present = [w for w in words if w in joined]
    if not present:
        return []
    return [v for v in set(values) if any(w in v.lower() for w in present)]


def _document_order(el: HtmlElement) -> tuple[int, ...]:
    """Sort key putting elements in page order (for the handful of marked elements only)."""
    path = []
    parent = el.getparent()
    while parent is not None:
        path.append(parent.index(el))
        el, parent = parent, parent.getparent()
    return tuple(reversed(path))


def _marked(tree: HtmlElement) -> dict[str, list[HtmlElement]]:
    """Elements by role, in page order: 'byline', 'breadcrumb', and itemprop 'author', 'headline',
    'articlesection', 'publisher', 'articlebody'. One query per attribute (an XPath union of them, or a
    test on every attribute, is 5-10x slower in libxml2 on a big page)."""
    elements: list[HtmlElement] = []
    for attr, values in (
        ("class", [v for v in _wanted(_CLASS_VALUES(tree), (*_BYLINE_WORDS, *_CRUMB_WORDS))
                   if any(_AUTHOR_CLASS.search(c) or _CRUMB_CLASS.search(c) for c in v.split())]),
        ("itemprop", [v for v in set(_ITEMPROP_VALUES(tree)) if _ITEMPROPS.intersection(v.lower().split())]),
        ("rel", [v for v in set(_REL_VALUES(tree)) if "author" in v.lower().split()]),
        ("itemtype", [v for v in set(_ITEMTYPE_VALUES(tree)) if "breadcrumblist" in v.lower()]),
    ):
        if values:
            tests = " or ".join(f".=$v{i}" for i in range(len(values)))
            hits = tree.xpath(f"//@{attr}[{tests}]", **{f"v{i}": v for i, v in enumerate(values)})
            elements += [hit.getparent() for hit in hits]
    found: dict[str, list[HtmlElement]] = {}
    for el in sorted(dict.fromkeys(elements), key=_document_order):  # one element may carry two wanted attributes
        cls = el.get("class") or ""
        props = set((el.get("itemprop") or "").lower().split())
        if "author" in (el.get("rel") or "").lower().split() or "author" in props or (
            cls and any(_AUTHOR_CLASS.search(c) for c in cls.split())
        ):
            found.setdefault("byline", []).append(el)
        if any(_CRUMB_CLASS.search(c) for c in cls.split()) or "breadcrumblist" in (el.get("itemtype") or "").lower():
            found.setdefault("breadcrumb", []).append(el)
        for prop in props & _ITEMPROPS:
            found.setdefault(prop, []).append(el)
    return found


# --------------------------------------------------------------------------------------------------------
# Page regions

_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:footer|copyrights?|menu|navbar|nav|sidebar|widget|related|comments?|logo|breadcrumbs?|"
    r"most-?read|trending|share|social|newsletter|subscribe)(?:$|[\s_-])",
    re.I,
)
_BOILER_TAGS = frozenset({"footer", "nav", "aside"})


def _class_id(el: HtmlElement) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}"


def _in_boilerplate(el: HtmlElement) -> bool:
    """Inside a footer, menu, sidebar, related-links or comments block (by tag or by class/id words)."""
    node: HtmlElement | None = el
    while node is not None and isinstance(node.tag, str):
        if node.tag in _BOILER_TAGS or _BOILERPLATE.search(_class_id(node)):
            return True
        node = node.getparent()
    return False


# --------------------------------------------------------------------------------------------------------
# Site names

_SEPARATORS = re.compile(r"(\s+[-–—|/~•·»«:]{1,2}\s+|\s*\|\s*|\s+[-–—]\s*|\s*[-–—]\s+|\s*[»«•·]\s*)")
_SLD = frozenset({"com", "co", "net", "org", "gov", "gouv", "edu", "ac", "info", "news", "press"})


class SiteNames:
    """The names an outlet goes by, compared in folded word form; grows as the page reveals more."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._words: list[list[str]] = []
        self._keys: set[str] = set()
        for name in names:
            self.add(name)

    def add(self, name: str | None) -> None:
        name = clean_text((name or "").lstrip("@"), unescape=True)
        words = _words(name)
        if not words or len(words) > 8:
            return
        key = "".join(words)
        if key not in self._keys:
            self._keys.add(key)
            self._words.append(words)

    def __contains__(self, text: str) -> bool:
        """True when `text` is one of the names, or a name of two words or more with up to three more
        around it (`بوابة أخبار اليوم الإلكترونية` for `بوابة اخبار اليوم`; a one-word name such as
        `الأيام` must match alone, so that "الأيام الأخيرة" stays a headline)."""
        words = _words(text)
        if not words:
            return False
        if "".join(words) in self._keys:
            return True
        return any(len(name) >= 2 and len(words) <= len(name) + 3 and _contains_run(words, name)
                   for name in self._words)

    def byline(self, text: str) -> bool:
        """As `in`, and also the first word(s) of a name: a byline "Sputnik" for "Sputnik Arabic" (in a
        title, "المغرب" is not the outlet "المغرب اليوم")."""
        words = _words(text)
        return bool(words) and (text in self or any(name[: len(words)] == words for name in self._words))

    def exactly(self, text: str) -> bool:
        """True when `text` is one of the names (up to case, punctuation and spelling variants)."""
        return _key(text) in self._keys

    def __iter__(self) -> Iterator[str]:
        return (" ".join(words) for words in self._words)


def _contains_run(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _host_label(url: str) -> str | None:
    """The outlet's label in its host name: `youm7` for www.youm7.com, `assabah` for www.assabah.com.tn."""
    host = (urlsplit(url).hostname or "").lower()
    if not host or _is_ip(host):
        return None
    labels = host.split(".")[:-1]
    if len(labels) > 1 and labels[-1] in _SLD:
        labels = labels[:-1]
    label = labels[-1] if labels else ""
    return label if len(label) >= 3 and label not in ("www", "localhost") else None


def _page_site_names(marked: Mapping[str, list[HtmlElement]], meta: Mapping[str, list[str]],
                     nodes: list[dict[str, Any]], url: str, source: Source | None) -> SiteNames:
    names = SiteNames(source.names if source else ())
    for key in ("og:site_name", "application-name", "apple-mobile-web-app-title", "twitter:site", "publisher",
                "twitter:app:name:iphone", "al:ios:app_name", "al:android:app_name"):
        for value in meta.get(key, ()):
            if "http" not in value:
                names.add(value)
    for node in nodes:
        types = _types(node)
        if any(_ORG_TYPE.search(t) for t in types):
            for name in _ld_strings(node.get("name")):
                names.add(name)
        for name in _ld_strings(node.get("publisher")):
            names.add(name)
    for publisher in marked.get("publisher", []):
        for el in publisher.xpath('.//*[@itemprop="name"]')[:1] or ([publisher] if publisher.tag == "meta" else []):
            names.add(el.get("content") or el.text_content())
    names.add(_host_label(url))
    return names


def _segments(title: str) -> list[str]:
    """A title cut at its separators, keeping them: ['X', ' - ', 'Site', ' | ', 'Other']."""
    return [part for part in _SEPARATORS.split(title) if part != ""]


def strip_site_names(title: str, names: SiteNames) -> str:
    """Drop leading/trailing site-name segments (`X - هسبريس`, `اليوم السابع | X`), never the whole title."""
    parts = _segments(title)
    changed = True
    while changed and len(parts) >= 3:
        changed = False
        if parts[-1] in names and not _SEPARATORS.fullmatch(parts[-1]):
            parts = parts[:-2]
            changed = True
        elif parts[0] in names and not _SEPARATORS.fullmatch(parts[0]):
            parts = parts[2:]
            changed = True
    return clean_text("".join(parts))


def _learn_affixes(full: str, headline: str, names: SiteNames) -> None:
    """What a <title> or og:title adds around the headline is the site's name (`X - المدينة نيوز`)."""
    parts = _segments(full)
    target = _key(headline)
    if not target or target == _key(full) or target not in _key(full):
        return
    for i in range(0, len(parts)):
        for j in range(len(parts), i, -1):
            if _key("".join(parts[i:j])) == target:
                for part in parts[:i] + parts[j:]:
                    if not _SEPARATORS.fullmatch(part) and len(_words(part)) <= 6:
                        names.add(part)
                return


# --------------------------------------------------------------------------------------------------------
# Headline

_COMMENTS_HEADING = re.compile(
    r"^(?:ال)?تعليقات\b|^(?:اضف|أضف|إضافة|اضافة|اكتب)\s+(?:تعليق|رد)|^(?:\d+\s+)?(?:comments?|commentaires?|"
    r"reactions?|réactions?)\b|^\d+\s+تعليق",
    re.I,
)


def _same_headline(a: str, b: str) -> bool:
    """Same headline up to punctuation, quotes, diacritics, a site-name affix or an og:title truncation."""
    ka, kb = _key(a), _key(b)
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    short, long = sorted((ka, kb), key=len)
    return len(short) >= 8 and short in long and len(short) >= 0.5 * len(long)


def _headline_candidates(tree: HtmlElement, marked: Mapping[str, list[HtmlElement]],
                         meta: Mapping[str, list[str]], articles: list[dict[str, Any]]) -> list[str]:
    """Declared titles, best first: og:title, JSON-LD headline, twitter:title, microdata, <title>."""
    found: list[str] = []
    for key in ("og:title",):
        found += meta.get(key, [])
    for node in articles:
        found += _ld_strings(node.get("headline")) + _ld_strings(node.get("name"))
    for key in ("twitter:title", "headline", "title", "dc.title", "sailthru.title", "parsely-title"):
        found += meta.get(key, [])
    found += [el.text_content() for el in marked.get("headline", []) if el.tag != "meta"]
    found += [el.text_content() for el in tree.xpath("//head/title | /html/title")]
    cleaned = []
    for value in found:
        value = clean_text(value, unescape=True)
        if value and not _COMMENTS_HEADING.search(value):
            cleaned.append(value)
    return list(dict.fromkeys(cleaned))


def _h1s(tree: HtmlElement, names: SiteNames) -> list[tuple[str, HtmlElement]]:
    """Visible <h1>s that can be a headline: not in footers/menus/sidebars, not the site name or a
    comments heading."""
    out = []
    for el in tree.iter("h1"):
        text = clean_text(el.text_content(), unescape=True)
        if not text or _COMMENTS_HEADING.search(text) or names.exactly(text) or _in_boilerplate(el):
            continue
        out.append((text, el))
    return out


def clean_title(title: str, names: SiteNames | Iterable[str] = ()) -> str:
    """A declared title as a reader sees the headline: entities decoded, whitespace normalized, site-name
    prefix/suffix removed."""
    if not isinstance(names, SiteNames):
        names = SiteNames(names)
    return strip_site_names(clean_text(title, unescape=True), names)


def _headline(tree: HtmlElement, marked: Mapping[str, list[HtmlElement]], meta: Mapping[str, list[str]],
              articles: list[dict[str, Any]], names: SiteNames) -> tuple[str | None, HtmlElement | None]:
    """(headline, its <h1> element when the headline is a visible one)."""
    declared = _headline_candidates(tree, marked, meta, articles)
    h1s = _h1s(tree, names)
    # 1. The visible <h1> that a declared title confirms: the reader's wording (quotes, full length), with
    #    og:title truncations and site-name affixes out of the way.
    title, element = next(((h, el) for h, el in h1s if any(_same_headline(h, d) for d in declared)), (None, None))
    if title is None:
        # 2. A declared title, once site names are stripped: the ones we know, and what one declared title
        #    adds around another (og:title "المدينة نيوز - X" beside twitter:title "X").
        for short in declared:
            for full in declared:
                if short is not full:
                    _learn_affixes(full, short, names)
        stripped = [strip_site_names(d, names) for d in declared]
        title = next((s for s in stripped if s and not _COMMENTS_HEADING.search(s)), None)
        if title is None and h1s:
            title, element = h1s[0]
    if title is None:
        return None, None
    for full in declared:
        _learn_affixes(full, title, names)
    cleaned = strip_site_names(title, names)
    return cleaned or title, element


# --------------------------------------------------------------------------------------------------------
# Authors

_PREFIX_STRONG = (
    r"بقلم|كتبت|كتب|كتبه|كتبها|بواسطة|حاوره|حاورته|حاورها|حاورتها|أجرى الحوار|اجرى الحوار|أجرت الحوار|"
    r"written by|posted by|reported by|reporting by|words by|story by|by|"
    r"écrit par|ecrit par|publié par|publie par|rédigé par|redige par|propos recueillis par|par"
)
_PREFIX_WEAK = (
    r"حوار|تقرير|إعداد|اعداد|تحرير|متابعة|ترجمة|إشراف|اشراف|تصوير|الكاتب|الكاتبة|الكاتب الصحفي|الصحفي|الصحفية|"
    r"المحرر|محرر|مراسل|مراسلة|المراسل|auteur|author|autor|reporter"
)
_SEP = r"\s*[:：\-–—ـ]+\s*"
_PREFIX_LOOSE = re.compile(rf"^(?:{_PREFIX_STRONG}|{_PREFIX_WEAK})(?:{_SEP}|\s+)", re.I)
# In running text a weak word ("تقرير", "حوار") starts sentences too, so it needs a colon or dash there.
_BYLINE_LINE = re.compile(rf"^(?:(?:{_PREFIX_STRONG})(?:{_SEP}|\s+)|(?:{_PREFIX_WEAK}){_SEP})(?P<name>.+)$", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:[،,;&]|\s+و\s+|\s+and\s+|\s+et\s+|\s+y\s+)\s*", re.I)
_NOT_PERSON = frozenset(
    _key(v)
    for v in (
        "admin", "administrator", "editor", "editors", "staff", "webmaster", "rédaction", "la rédaction",
        "redaction", "newsdesk", "news desk", "desk", "unknown", "anonymous", "guest", "التحرير", "هيئة التحرير",
        "فريق التحرير", "أسرة التحرير", "المحرر", "محرر الموقع", "زائر", "مجهول", "editorial team", "team",
    )
)
_URLISH = re.compile(r"https?://|www\.|\w@\w|\.(?:com|net|org)/", re.I)
_NOT_NAME = re.compile(r"https?:|www\.|@|\.(?:com|net|org|ma|png|jpg)\b|\d{2,}|developed|designed|powered|©", re.I)
_AUTHOR_CLASS = re.compile(
    r"(?:by-?line|author|writer|write-?by|written-?by|reporter|journalist|kateb|katib|contributor)"
    r"(?:[-_]?(?:name|names|info|link|links|text|box|wrap|wrapper|container|block|meta|details|title))?s?$",
    re.I,
)
_SKIP_IN_BYLINE = re.compile(r"categor|section|tag|topic|date|time|share|comment|social|icon|img|avatar|photo", re.I)
_TAXONOMY_HREF = re.compile(r"/(?:category|categories|section|sections|tag|tags|topic|topics|rubrique)/", re.I)


def _strip_prefixes(text: str) -> str:
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX_LOOSE.sub("", text).strip(" :-–—ـ")
    return text


def _clean_author(name: str, names: SiteNames) -> str | None:
    name = _strip_prefixes(clean_text(name, unescape=True))
    # "محمد علي - هسبريس", "Karim B. (Le360)": the outlet's own name is not part of the byline
    name = re.sub(r"\s*[(\[](.+?)[)\]]\s*$", lambda m: "" if names.byline(m.group(1)) else m.group(0), name).strip()
    if _segments(name) and len(_segments(name)) >= 3:
        name = strip_site_names(name, names)
    name = name.strip(" :-–—ـ\"'«»")
    if name.endswith(".") and not re.search(r"(?:^|\s)\w\.$", name):
        name = name[:-1]  # a sentence full stop, not the dot of an initial ("Karim B.")
    words = name.split()
    if not words or len(words) > 5 or len(name) > 50 or len(name) < 3:
        return None
    if _NOT_NAME.search(name) or ":" in name or _key(name) in _NOT_PERSON or names.byline(name):
        return None
    if not any(ch.isalpha() for ch in name):
        return None
    return name


def clean_authors(raw: str | Iterable[str], names: SiteNames | Iterable[str] = ()) -> list[str]:
    """Byline text(s) → person names: prefixes (بقلم، كتب، حوار، By, Par...) and the outlet's name removed,
    several authors split ("أ و ب", "A, B"), outlet/desk names and URLs refused."""
    if not isinstance(names, SiteNames):
        names = SiteNames(names)
    values = [raw] if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for value in values:
        value = _strip_prefixes(clean_text(value, unescape=True))
        if _URLISH.search(value):
            continue  # a profile URL or e-mail, not a byline
        for part in _AUTHOR_SPLIT.split(value):
            name = _clean_author(part, names)
            if name and _key(name) not in {_key(n) for n in out}:
                out.append(name)
    return out


def _text_without(el: HtmlElement, skip) -> str:
    """Text of `el` leaving out sub-elements `skip` rejects (category links, dates, icons inside a byline)."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and not skip(child):
            parts.append(_text_without(child, skip))
        parts.append(child.tail or "")
    return " ".join(parts)


def _skip_in_byline(el: HtmlElement) -> bool:
    if el.tag in ("time", "script", "style", "img", "svg", "button", "noscript"):
        return True
    if _SKIP_IN_BYLINE.search(_class_id(el)):
        return True
    return bool(el.tag == "a" and _TAXONOMY_HREF.search(el.get("href") or ""))


def _closeness(anchor: HtmlElement | None, levels: int = 6):
    """How far above the headline the nearest common ancestor with an element is (0 = same parent block);
    None when they only share <body> or nothing is known about the headline."""
    if anchor is None:
        return lambda el: None
    around = [a for a in list(anchor.iterancestors())[:levels] if a.tag not in ("body", "html")]

    def closeness(el: HtmlElement) -> int | None:
        for ancestor in el.iterancestors():
            if ancestor in around:
                return around.index(ancestor)
        return None

    return closeness


def _visible_bylines(marked: Mapping[str, list[HtmlElement]], names: SiteNames,
                     headline: HtmlElement | None = None) -> list[str]:
    """Names in rel=author / itemprop=author / byline-class elements, from the first one that has any;
    bylines closest to the headline in the page's tree come first (before tickers, cards, widgets)."""
    first_parent = None
    out: list[str] = []
    closeness = _closeness(headline)
    ranked = [(closeness(el), i, el) for i, el in enumerate(marked.get("byline", []))]
    candidates = [el for _, _, el in sorted(ranked, key=lambda r: (r[0] is None, r[0] or 0, r[1]))]
    for el in candidates:
        is_marked = el.get("rel") == "author" or el.get("itemprop") == "author"
        if out and (not is_marked or el.getparent() is not first_parent):
            continue  # only siblings of the first hit (several rel=author links); not sidebar author lists
        if "organization" in (el.get("itemtype") or "").lower() or _in_boilerplate(el):
            continue
        if el.tag == "meta":
            text = el.get("content") or ""
        else:
            named = el.xpath('.//*[@itemprop="name"]')
            text = (named[0].get("content") or named[0].text_content()) if named else _text_without(el, _skip_in_byline)
        text = clean_text(text)
        if not text or len(text) > 200:
            continue
        found = clean_authors(text, names)
        if found and len(found) <= 6:
            out += [n for n in found if _key(n) not in {_key(o) for o in out}]
            first_parent = el.getparent()
    return out


def _ld_authors(articles: list[dict[str, Any]], names: SiteNames) -> list[str]:
    out: list[str] = []
    for node in articles:
        authors = node.get("author") or node.get("creator")
        for item in authors if isinstance(authors, list) else [authors]:
            if isinstance(item, dict) and any(_ORG_TYPE.search(t) for t in _types(item)):
                continue
            for name in _ld_strings(item):
                out += [n for n in clean_authors(name, names) if n not in out]
        if out:
            break
    return out


def _meta_authors(meta: Mapping[str, list[str]], names: SiteNames) -> list[str]:
    for key in ("author", "article:author", "dc.creator", "dc:creator", "byl", "parsely-author",
                "sailthru.author", "cxenseparse:author"):
        values = [v for v in meta.get(key, ()) if "http" not in v and "/" not in v]
        found = clean_authors(values, names) if values else []
        if found:
            return found
    return []


def _byline_line(line: str, names: SiteNames) -> list[str]:
    """Names when a body line is only a byline ("حوار: آسيا العتروس", "By John Smith")."""
    if len(line) > 80 or line.endswith((".", "؟", "?", "!")):
        return []
    match = _BYLINE_LINE.match(line)
    if not match or len(match.group("name").split()) > 8:
        return []
    return clean_authors(match.group("name"), names)


# --------------------------------------------------------------------------------------------------------
# Body

_READ_ALSO = re.compile(
    r"^(?:(?:اقرا|اقرء|طالع|شاهد|تابع|انظر|راجع)\s+(?:ايضا|كذلك|المزيد)|اقرا\s*:|للمزيد\b|المزيد\s*:|"
    r"(?:مواضيع|اخبار|مقالات|موضوعات|روابط|قصص)\s+(?:ذات\s+(?:صله|علاقه)|متعلقه|مرتبطه|مشابهه|اخري)|"
    r"(?:a\s+)?lire\s+(?:aussi|également|egalement)|voir\s+aussi|lisez\s+aussi|sur\s+le\s+meme\s+sujet|"
    r"read\s+(?:also|more)|also\s+read|see\s+also|related\s*(?:articles?|stories|news)?\s*:?$)",
    re.I,
)
_SHARE_LINE = re.compile(
    r"^(?:شارك|مشاركه|شارك\s+(?:الخبر|المقال|علي)|share|share this|partager|tweet|طباعه|print|"
    r"نسخ الرابط|انسخ الرابط|copy link|whatsapp|facebook|twitter|telegram|email)$",
    re.I,
)
_FOLLOW_LINE = re.compile(r"^(?:تابعو(?:ا|نا)|تابع|follow us|suivez-nous)\b.*(?:نيوز|news|تليجرام|تلغرام|"
                          r"فيسبوك|تويتر|واتساب|يوتيوب|انستغرام|google|telegram|facebook|whatsapp)", re.I)
_COMMENT_LINE = re.compile(r"^(?:اضف|أضف|إضافة|اضافه|اكتب)\s+تعليق|^التعليقات\b|^add (?:a )?comment", re.I)
_FOOTER_LINE = re.compile(r"©|جميع الحقوق محفوظة|حقوق النشر محفوظة|all rights reserved|tous droits réservés", re.I)
_PUBLISHED_PREFIX = re.compile(
    r"^(?:تم نشره|تم النشر|نشر في|نشر بتاريخ|نشرت في|تاريخ النشر|آخر تحديث|اخر تحديث|"
    r"publié le|mis à jour|published|updated|posted)\b",
    re.I,
)


_SHORT_LINE = 200  # characters: teasers, share bars, prompts and footers are shorter than a paragraph


def _folded_short(lines: list[str]) -> list[str | None]:
    """The comparison form of each short line (None for paragraphs, which are never boilerplate lines)."""
    return [_fold(line).strip(" .:-|•*►«\"") if len(line) <= _SHORT_LINE else None for line in lines]


def strip_read_also(lines: list[str], folded: list[str | None] | None = None) -> list[str]:
    """Remove "اقرأ أيضا"/"Lire aussi" teasers: the marker line, and when the marker stands alone, the
    headline lines that follow it (short lines that do not end a sentence)."""
    folded = folded if folded is not None else _folded_short(lines)
    out: list[str] = []
    skipping = 0
    for line, fold in zip(lines, folded):
        marker = _READ_ALSO.match(fold) if fold else None
        if marker:
            rest = fold[marker.end():].strip(" :-–—.")
            skipping = 0 if len(rest.split()) >= 3 else 6  # "اقرأ أيضا: <headline>" is one line
            continue
        if skipping:
            if len(line.split()) <= 16 and not line.endswith((".", ":", "؛", "!", "…")):
                skipping -= 1
                continue
            skipping = 0
        out.append(line)
    return out


def _is_date_line(line: str, tz: str | None) -> bool:
    """A publication stamp left on top of the body: "تم نشره الجمعة 24 نيسان / أبريل 2020 09:22 مساءً"."""
    words = len(line.split())
    if not any(ch.isdigit() for ch in line):
        return False
    if _PUBLISHED_PREFIX.match(line) and words <= 12:
        return True
    return words <= 8 and parse_date(line, tz=tz) is not None


def _body_lines(text: str) -> list[str]:
    lines = (clean_text(line) for line in text.splitlines())
    return [line for line in lines if line]


def _clean_body(lines: list[str], title: str | None, names: SiteNames, tz: str | None) -> tuple[list[str], list[str]]:
    """Body lines without the headline, date and byline lines trafilatura leaves on top, teasers, share bars,
    comment prompts and footers. Returns (lines, authors found in a byline line)."""
    authors: list[str] = []
    head = 0
    while head < len(lines) and head < 4:
        line = lines[head]
        if title and len(line) <= 2 * len(title) + 20 and _same_headline(line, title) and (
            len(_key(line)) >= 0.8 * len(_key(title))
        ):
            head += 1
        elif _is_date_line(line, tz):
            head += 1
        elif found := _byline_line(line, names):
            authors = authors or found
            head += 1
        else:
            break
    kept, kept_folded = [], []
    for line, fold in zip(lines[head:], _folded_short(lines[head:])):
        if fold is not None and (  # paragraphs of running text are never share bars or footers
            _SHARE_LINE.match(fold) or _FOLLOW_LINE.match(fold)
            or _COMMENT_LINE.match(line) or _FOOTER_LINE.search(line)
        ):
            continue
        kept.append(line)
        kept_folded.append(fold)
    return _drop_trailing_widgets(strip_read_also(kept, kept_folded)), authors


_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "header", "li", "blockquote", "h2", "h3", "td", "body"})


def _teaser_listing(lines: list[str]) -> bool:
    """Most of the prose lines are excerpts cut with an ellipsis: a listing, whatever the page claims."""
    prose = [line for line in lines if len(line.split()) >= 10]
    cut = [line for line in prose if line.rstrip().endswith(("...", "…", "..", "[…]"))]
    return len(cut) >= 3 and len(cut) >= 0.5 * len(prose)


def _drop_trailing_widgets(lines: list[str]) -> list[str]:
    """A small table after the last paragraph (currency rates, prayer times, weather) and the short lines
    around it are a sidebar box, not the article."""
    last_prose = max((i for i, line in enumerate(lines) if len(line.split()) >= 10 and not line.startswith("|")),
                     default=-1)
    rows = [i for i in range(last_prose + 1, len(lines)) if lines[i].startswith("|")]
    if not rows or len(rows) > 12:
        return lines
    tail = lines[rows[0]:]
    if all(line.startswith("|") or len(line.split()) <= 8 for line in tail):
        return lines[: rows[0]]
    return lines


def _find_block(tree: HtmlElement, probe: str) -> HtmlElement | None:
    """The nearest block element around the first text node that contains `probe` (a linear scan of text
    nodes, not of every element's string value)."""
    if '"' in probe and "'" in probe:
        return None
    for hit in tree.xpath("//body//text()[contains(normalize-space(.), $probe)]", probe=probe):
        el = hit.getparent()
        if el is not None and getattr(hit, "is_tail", False):
            el = el.getparent()
        if el is None or el.tag in ("script", "style", "noscript", "template", "textarea"):
            continue  # JSON state blobs repeat the description
        while el is not None and el.tag not in _BLOCK_TAGS:
            el = el.getparent()
        return el
    return None


def _recover_lead(tree: HtmlElement, description: str | None, lines: list[str],
                  extracted: list[str]) -> str | None:
    """The standfirst/lead paragraph when trafilatura dropped it: a block that starts with the page's
    description, sits just before the body's first paragraph (`lines[0]`), and is not among the lines
    trafilatura `extracted` (the description then is the body's opening, a byline, or a site blurb)."""
    if not description or not lines:
        return None
    words = description.rstrip(".…").split()
    if len(words) < 8:
        return None
    probe = " ".join(words[:4])
    opening = " ".join(words[:6])
    if opening in " ".join(extracted) or _key(opening) in _key(" ".join(extracted[:6])):
        return None
    lead = _find_block(tree, probe)
    first = _find_block(tree, " ".join(lines[0].split()[:4]))
    if lead is None or first is None or lead is first or _in_boilerplate(lead):
        return None
    if lead.xpath("ancestor-or-self::a") or lead.tag == "body":
        return None
    text = clean_text(lead.text_content())
    if not _key(text).startswith(_key(probe)) or len(text.split()) > 150:
        return None
    # nearest common ancestor at most 4 levels above the lead, and the lead comes first
    first_path = [first, *first.iterancestors()]
    lead_path = [lead, *lead.iterancestors()]
    for depth in range(1, min(5, len(lead_path))):
        ancestor = lead_path[depth]
        if ancestor in first_path:
            first_child = first_path[first_path.index(ancestor) - 1]
            if first_child is lead_path[depth - 1]:
                return None  # the body's first line is inside the "lead": not a separate block
            return text if ancestor.index(lead_path[depth - 1]) < ancestor.index(first_child) else None
    return None


# --------------------------------------------------------------------------------------------------------
# Other fields

def _section(marked: Mapping[str, list[HtmlElement]], meta: Mapping[str, list[str]],
             articles: list[dict[str, Any]], nodes: list[dict[str, Any]], title: str | None) -> str | None:
    candidates = list(meta.get("article:section", []))
    for node in articles:
        candidates += _ld_strings(node.get("articleSection"))
    candidates += [el.get("content") or el.text_content() for el in marked.get("articlesection", [])]
    crumbs: list[str] = []
    for node in nodes:
        if "BreadcrumbList" in _types(node) and isinstance(node.get("itemListElement"), list):
            items = [i for i in node["itemListElement"] if isinstance(i, dict)]
            items.sort(key=lambda i: int(i["position"]) if str(i.get("position", "")).isdigit() else 0)
            for item in items:
                inner = item.get("item")
                name = item.get("name") or (inner.get("name") if isinstance(inner, dict) else None)
                crumbs += _ld_strings(name)
            break
    if not crumbs:
        for trail in marked.get("breadcrumb", []):
            links = list(trail.iter("a"))
            if len(links) < 2:
                continue
            explicit = "crumb" in (trail.get("class") or "").lower() or trail.get("itemtype")
            first = links[0]
            home = _key(first.text_content()) in _HOME_WORDS or urlsplit(first.get("href") or "").path in ("", "/")
            if explicit or home:
                crumbs = [a.text_content() for a in links]
                break
    crumbs = [clean_text(c, unescape=True) for c in crumbs]
    crumbs = [c for c in crumbs if c and _key(c) not in _HOME_WORDS and not (title and _same_headline(c, title))]
    if crumbs:
        candidates.append(crumbs[-1])
    for value in candidates:
        value = clean_text(value, unescape=True)
        if value and len(value.split()) <= 6 and "http" not in value:
            return value
    return None


_TAG_HREF = re.compile(r"/(?:tags?|keywords?|mots?-cles?|etiquettes?|hashtag)/|[?&]tag=", re.I)
_HREFS = etree.XPath("//a/@href", smart_strings=False)


def _tag_links(tree: HtmlElement) -> list[str]:
    """Texts of the article's visible tag links (rel=tag or /tag/ URLs), not of a sidebar tag cloud."""
    links: list[HtmlElement] = []
    for attr, values in (
        ("rel", [v for v in set(_REL_VALUES(tree)) if "tag" in v.lower().split()]),
        ("href", [h for h in set(_HREFS(tree)) if _TAG_HREF.search(h)]),
    ):
        if values:
            tests = " or ".join(f".=$v{i}" for i in range(len(values)))
            hits = tree.xpath(f"//a/@{attr}[{tests}]", **{f"v{i}": v for i, v in enumerate(values)})
            links += [hit.getparent() for hit in hits]
    links.sort(key=_document_order)
    texts = [clean_text(a.text_content()).lstrip("#") for a in dict.fromkeys(links) if not _in_boilerplate(a)]
    texts = [t for t in texts if t]
    return texts if len(texts) <= 15 else []  # more is a tag cloud


def _tags(tree: HtmlElement, meta: Mapping[str, list[str]], articles: list[dict[str, Any]],
          title: str | None) -> list[str]:
    """The first of: article:tag, JSON-LD keywords, news_keywords (all per-article by definition), the
    visible tag links, the keywords meta (often the same site-wide words on every page, hence last)."""
    groups = [
        lambda: meta.get("article:tag", []),
        lambda: [s for node in articles for s in _ld_strings(node.get("keywords"))],
        lambda: meta.get("news_keywords", []),
        lambda: _tag_links(tree),
        lambda: meta.get("keywords", []),
    ]
    for group in groups:
        tags: list[str] = []
        for value in group():
            for tag in re.split(r"[,،;]", value):
                tag = clean_text(tag, unescape=True)
                if not tag or len(tag.split()) > 6 or (title and _same_headline(tag, title)):
                    continue
                if _key(tag) not in {_key(t) for t in tags}:
                    tags.append(tag)
        if tags:
            return tags
    return []


def _image(tree: HtmlElement, meta: Mapping[str, list[str]], articles: list[dict[str, Any]], url: str) -> str | None:
    candidates = [v for k in ("og:image", "og:image:url", "og:image:secure_url", "twitter:image",
                              "twitter:image:src", "image", "thumbnailurl") for v in meta.get(k, [])]
    for node in articles:
        image = node.get("image")
        for item in image if isinstance(image, list) else [image]:
            if isinstance(item, str):
                candidates.append(item)
            elif isinstance(item, dict) and isinstance(item.get("url"), str):
                candidates.append(item["url"])
    candidates += [link.get("href") or "" for link in _links(tree, "image_src")]
    for value in candidates:
        value = (value or "").strip()
        if not value or value.startswith("data:"):
            continue
        absolute = urljoin(url, value)
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
    return None


def _description(meta: Mapping[str, list[str]], articles: list[dict[str, Any]], names: SiteNames) -> str | None:
    candidates = [v for k in ("og:description", "description", "twitter:description") for v in meta.get(k, [])]
    candidates += [s for node in articles for s in _ld_strings(node.get("description"))]
    for value in candidates:
        value = clean_text(value, unescape=True)
        stripped = strip_site_names(value, names).strip(" |-–—:")
        if stripped and stripped not in names and len(stripped.split()) >= 3:
            return stripped
    return None


def _links(tree: HtmlElement, rel: str) -> list[HtmlElement]:
    """<link> elements whose rel tokens include `rel` (case-insensitive)."""
    return [link for link in tree.iter("link") if rel in (link.get("rel") or "").lower().split()]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _bare_host(host: str) -> str:
    return re.sub(r"^(?:www\d?|m|amp|mobile)\.", "", host.lower())


def _canonical(tree: HtmlElement, meta: Mapping[str, list[str]], url: str, source: Source | None) -> str | None:
    """The page's declared URL (rel=canonical, then og:url) when it is on the outlet and not a bare IP."""
    declared = [link.get("href") or "" for link in _links(tree, "canonical")] + meta.get("og:url", [])
    page = urlsplit(url)
    for href in declared:
        href = (href or "").strip()
        if not href:
            continue
        absolute = urljoin(url, href)
        parts = urlsplit(absolute)
        host = parts.hostname or ""
        if parts.scheme not in ("http", "https") or not host or _is_ip(host):
            continue
        if source is not None:
            if not source.owns(absolute):
                continue
        elif _bare_host(host) != _bare_host(page.hostname or ""):
            continue
        if parts.path in ("", "/") and page.path not in ("", "/"):
            continue  # a canonical pointing at the home page is a template bug, not the article's URL
        return absolute
    return None


_ARTICLE_META = ("article:published_time", "article:section", "article:author", "article:tag")
_LISTING_TYPE = re.compile(r"CollectionPage|ItemList|SearchResultsPage|ProfilePage", re.I)


def _article_markers(tree: HtmlElement, marked: Mapping[str, list[HtmlElement]], meta: Mapping[str, list[str]],
                     nodes: list[dict[str, Any]]) -> bool:
    """The page says it is an article: og:type article, an Article JSON-LD or microdata type, article:* meta."""
    if any(v.strip().lower().startswith("article") for v in meta.get("og:type", [])):
        return True
    if _articles(nodes) or any(k in meta for k in _ARTICLE_META):
        return True
    return bool(marked.get("articlebody")) or any("Article" in t for t in _ITEMTYPE_VALUES(tree))


# --------------------------------------------------------------------------------------------------------
# Bytes → tree

_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"RIFF", b"ID3", b"OggS",
                 b"\x00\x00\x01\x00", b"wOFF", b"wOF2", b"fLaC", b"\x1a\x45\xdf\xa3")
_HTML_MIME = frozenset({"text/html", "application/xhtml+xml", "text/plain", "application/octet-stream",
                        "application/x-httpd-php", "text/x-server-parsed-html", ""})
_HTML_MARKERS = (b"<html", b"<head", b"<body", b"<!doctype html", b"<meta", b"<title", b"<div", b"<p>", b"<p ")
_FEED_ROOTS = (b"<rss", b"<feed", b"<urlset", b"<sitemapindex", b"<rdf:rdf")


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value if isinstance(value, str) else str(value)
    return None


def _check_html(body: bytes, content_type: str | None) -> bytes:
    """Refuse what is not an HTML document (by Content-Type, then by its first bytes); gunzip a stray body."""
    if len(body) > MAX_BYTES:
        raise ExtractionError("too_large", f"{len(body)} bytes > {MAX_BYTES}")
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime not in _HTML_MIME:
        raise ExtractionError("not_html", f"Content-Type {mime}")
    if body[:2] == b"\x1f\x8b":  # gzip the HTTP layer did not undo
        try:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            body = inflater.decompress(body, MAX_BYTES + 1)
        except zlib.error as exc:
            raise ExtractionError("not_html", f"broken gzip body: {exc}") from None
        if len(body) > MAX_BYTES:
            raise ExtractionError("too_large", f"gzip body inflates beyond {MAX_BYTES} bytes")
    if not body.strip():
        raise ExtractionError("empty", "no bytes")
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:16]
    if start.startswith(_BINARY_MAGIC):
        raise ExtractionError("not_html", f"binary content ({start[:8]!r})")
    head = body[:65536].lower()
    if b"\x00" in body[:1024] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionError("not_html", "binary content (NUL bytes)")
    if not any(marker in head for marker in _HTML_MARKERS):
        if start.lstrip()[:1] in (b"{", b"["):
            raise ExtractionError("not_html", "JSON body")
        raise ExtractionError("not_html", "no HTML markup in the first 64 KB")
    if b"<html" not in head and any(root in head[:4096] for root in _FEED_ROOTS):
        raise ExtractionError("not_html", "XML feed or sitemap")
    return body


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")


def _parse(text: str) -> HtmlElement:
    """One lxml tree with trafilatura's own parser settings (comments and PIs dropped). C0 control
    characters (stray \x0f or \x00 pasted into CMS text) are dropped first: lxml refuses them in the trees
    trafilatura builds, and trafilatura then silently returns no text at all."""
    text = _CONTROL.sub("", text)
    try:
        try:
            tree = lxml.html.fromstring(text, parser=HTML_PARSER)
        except ValueError:  # "Unicode strings with encoding declaration are not supported"
            tree = lxml.html.fromstring(text.encode("utf-8"), parser=HTML_PARSER)
    except Exception as exc:  # lxml.etree.ParserError and friends
        if not text.strip():
            raise ExtractionError("empty", "blank document") from None
        raise ExtractionError("parse", f"{type(exc).__name__}: {exc}") from None
    if tree is None or not isinstance(tree.tag, str):
        raise ExtractionError("parse", "no document element")
    return tree


# --------------------------------------------------------------------------------------------------------
# The record

def extract_article(
    body: bytes,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    source: Source | None = None,
    hint_published: str | None = None,
    fetched_at: datetime | None = None,
    tz: str | None = None,
) -> dict[str, Any]:
    """Extract one article page. Raises ExtractionError for pages that are not articles / empty / garbled.

    `tz` overrides the outlet's time zone (for pages extracted without a registry entry).
    """
    content_type = _header(headers, "content-type")
    body = _check_html(body, content_type)
    text, encoding, encoding_source = decode_html(body, content_type)
    tree = _parse(text)
    tz = tz or (source.timezone if source else None)
    if fetched_at is not None and fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=timezone.utc)

    meta = _meta(tree)
    nodes = _json_ld(tree)
    articles = _articles(nodes)
    marked = _marked(tree)
    names = _page_site_names(marked, meta, nodes, url, source)
    title, headline_el = _headline(tree, marked, meta, articles, names)

    document = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, with_metadata=False, favor_precision=FAVOR_PRECISION,
        include_tables=True, deduplicate=False,
    )
    raw_text = (getattr(document, "text", None) or "") if document is not None else ""
    extracted = _body_lines(raw_text)
    lines, line_authors = _clean_body(extracted, title, names, tz)
    description = _description(meta, articles, names)
    lead = _recover_lead(tree, description, lines, extracted)
    if lead:
        lines.insert(0, lead)
    article_text = "\n".join(lines)
    word_count = len(article_text.split())

    markers = _article_markers(tree, marked, meta, nodes)
    if _teaser_listing(lines):
        raise ExtractionError("not_article", "a list of truncated teasers (listing or round-up page)")
    if word_count == 0:
        # nothing visible at all, or an article page whose text is not in the HTML (rendered by scripts)
        page_body = tree.find("body")
        visible = len(page_body.text_content().split()) if page_body is not None else 0
        kind = "empty" if markers or visible < 3 else "not_article"
        raise ExtractionError(kind, "no article text found")
    if word_count < MIN_ARTICLE_WORDS and not markers:
        raise ExtractionError("not_article", f"{word_count} words and no article markers (listing or index page?)")
    if not markers and any(_LISTING_TYPE.search(t) for n in nodes for t in _types(n)):
        raise ExtractionError("not_article", "the page declares itself a listing (CollectionPage/ItemList)")

    authors = (_ld_authors(articles, names) or _visible_bylines(marked, names, headline_el) or line_authors
               or _meta_authors(meta, names))
    section = _section(marked, meta, articles, nodes, title)
    published, modified = page_dates(
        tree, url=url, tz=tz, now=fetched_at, hint=hint_published,
        utc_is_local=bool(source.meta_utc_is_local) if source else False,
    )
    return {
        "title": title,
        "text": article_text,
        "published": published.iso() if published else None,
        "modified": modified.iso() if modified else None,
        "author": "، ".join(authors) if authors else None,
        "authors": authors,
        "section": section,
        "tags": _tags(tree, meta, articles, title),
        "image": _image(tree, meta, articles, url),
        "language": detect_language(f"{title or ''}\n{article_text}"),
        "word_count": word_count,
        "canonical_url": _canonical(tree, meta, url, source),
        "encoding": encoding,
        "encoding_source": encoding_source,
        "date_source": published.source if published else None,
        "description": description,
    }


# --------------------------------------------------------------------------------------------------------
# CLI

def _load_source(source_id: str, seeds: str | None) -> Source:
    return load_sources(seeds, only=[source_id])[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.extract", description="Print the article record the crawl stores for one page."
    )
    parser.add_argument("file", help="saved HTML page (raw bytes as served)")
    parser.add_argument("--url", required=True, help="the page's URL")
    parser.add_argument("--source", help="outlet id in the registry (site names, time zone, domains)")
    parser.add_argument("--seeds", help="registry file (default: seeds/sources.yml)")
    parser.add_argument("--tz", help="IANA time zone of the outlet (overrides the registry's)")
    parser.add_argument("--content-type", help="Content-Type header the page was served with")
    parser.add_argument("--hint", help="publication date given by the feed/sitemap")
    parser.add_argument("--fetched-at", help="fetch time, ISO 8601 (default: now)")
    args = parser.parse_args(argv)

    source = _load_source(args.source, args.seeds) if args.source else None
    if args.tz and source is not None:
        source = replace(source, timezone=args.tz)
    fetched_at = datetime.fromisoformat(args.fetched_at) if args.fetched_at else datetime.now(timezone.utc)
    headers = {"Content-Type": args.content_type} if args.content_type else {}
    body = Path(args.file).read_bytes()
    try:
        if args.tz and source is None:
            # no registry entry to carry the time zone: extract directly, then add the dedup key the way
            # pipelines.process.process_page does
            record = extract_article(body, args.url, headers=headers, hint_published=args.hint,
                                     fetched_at=fetched_at, tz=args.tz)
            from pipelines.dedup import content_hash

            record["content_hash"] = content_hash(record.get("text") or "")
        else:
            from pipelines.process import process_page  # the crawl's own path

            record = process_page(
                body, args.url, headers=headers, source=source,
                hints={"published": args.hint} if args.hint else None, fetched_at=fetched_at.isoformat(),
            )
    except ExtractionError as exc:
        print(json.dumps({"error": exc.kind, "message": exc.message}, ensure_ascii=False), file=sys.stderr)
        return 2
    print(json.dumps(record, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

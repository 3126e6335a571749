"""Publication and modification dates of Arabic news pages.

Why this module exists: htmldate knows no Arabic month names and falls back to
a wrong `YYYY-01-01`; dateparser knows only the Egyptian/Gulf names, misreads
Hijri dates and guesses words into dates. So we normalize strings ourselves,
extract with our own regexes (fast, predictable) and use dateparser only as a
guarded last resort. When unsure we return None: never a year-only or
month-only date, never a January-1st guess.

Order of evidence in `page_dates` (first usable value wins):

1. structured metadata: JSON-LD `datePublished` (also inside `@graph` and
   lists, Article-like types first, then `dateCreated`), `<meta>`
   (`article:published_time`, og, `itemprop=datePublished`, `pubdate`,
   `DC.date.issued` ...), RDFa (`property="dc:date" content=...`) and
   microdata on other elements, then `<time pubdate>` and `<time datetime>`;
2. `hint`: the date the feed or news sitemap gave when the URL was discovered;
3. visible text: right after the headline, then elements whose class/id says
   date/time/publish/meta (first in the headline's block, then anywhere;
   skipping headers, navigation, widgets, cards and footers: that is where
   "today's date", weather and copyright live), then right before the
   headline, then short date-stamp lines in the first 3,000 characters;
4. date patterns in the URL (`/2020/8/24/`, `-20201120/`, `-2025-09-05-04-49-06`).

`modified` comes from `dateModified` / `article:modified_time` / ... (or a
visible "آخر تحديث" stamp); it is never used as the published date, and a
modified date earlier than the published one is dropped.

Time zones: naive times are the outlet's wall-clock (`tz`, IANA; UTC when
None). A non-UTC offset written in metadata is kept as given (Assabah's
`2019-02-08T00:00:00+01:00` stays the 8th). A UTC-labelled stamp (`Z`,
`+00:00`) is converted to `tz`, unless it is really local wall-clock time
(Youm7): `utc_is_local=True`, or the page visibly shows the same date and
HH:MM as the stamp. A midnight stamp is a date-only field: its written
calendar date is kept. The calendar day of `FoundDate.value` is the outlet's.

Month-only strings (`ماي 2024`) give None. A day and month without a year
(`السبت 15 نونبر`) get the most recent such date not after `now`, with
`FoundDate.year_inferred=True`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from functools import cached_property, lru_cache
from itertools import chain, islice
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml.html import HtmlElement

__all__ = ["FoundDate", "parse_date", "parse_iso", "page_dates"]

MIN_YEAR, MAX_YEAR = 1900, 2100  # plausible Gregorian years in a date string
PAGE_MIN_YEAR = 1990  # no web page was published earlier (catches 1970-01-01 junk)
FUTURE_SLACK = timedelta(days=1)  # publication dates later than now + this are rejected
STAMP_MAX_CHARS = 80  # longest text node the first-part-of-page fallback reads as a date stamp


@dataclass(frozen=True)
class FoundDate:
    """A date found on a page: tz-aware value, how precise it is, where it came from."""

    value: datetime  # tz-aware; .date() is the outlet's calendar day
    precision: str  # 'day' | 'minute' | 'second'
    source: str  # 'json-ld', 'meta:article:published_time', 'rdfa:dc:date', 'time', 'hint', 'text', 'url', 'iso'...
    year_inferred: bool = False  # the string had no year; it was taken from `now`

    def iso(self) -> str:
        """ISO 8601 with offset, e.g. 2019-02-08T00:00:00+01:00."""
        return self.value.isoformat(timespec="seconds")


# --------------------------------------------------------------------------
# Normalization: everything is matched against a folded form of the string.

_DIGITS = {ord(c): str(i % 10) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")}
_LETTERS = {
    ord("ى"): "ي", ord("ی"): "ي", ord("ے"): "ي", ord("ة"): "ه", ord("ۀ"): "ه", ord("ہ"): "ه",
    ord("ک"): "ك", ord("ـ"): None, ord("٫"): ".", ord("٬"): None, ord("،"): "، ",
}
_FOLD_TABLE = {**_DIGITS, **_LETTERS}
# combining marks (Latin accents, harakat, hamza/madda left by NFKD) and bidi/zero-width controls
_MARKS = re.compile(
    "[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    "\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff\u00ad]"
)
_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    """Matching form: NFKD without marks (أ إ آ→ا, é→e), ى→ي, ة→ه, ASCII digits, no bidi, lower case."""
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    return _SPACES.sub(" ", text.translate(_FOLD_TABLE).lower()).strip()


def _alternation(words: Iterable[str]) -> str:
    """Regex alternation of folded words, longest first, spaces flexible."""
    forms = sorted({_fold(w) for w in words}, key=len, reverse=True)
    return "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in forms)


# --------------------------------------------------------------------------
# Month, weekday and Hijri names (arabic.md §4.1, §4.2).

_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    # per month: standard (Egypt/Gulf) spellings, Moroccan, Algerian/Tunisian, Levantine/Iraqi (with the
    # "كانون 2" digit forms), Mauritanian, then English and French (accents fold away, so févr = fevr)
    1: ("يناير", "جانفي", "كانون الثاني", "كانون ثاني", "كانون 2", "january", "jan", "janvier", "janv"),
    2: ("فبراير", "فيفري", "شباط", "february", "feb", "février", "févr", "fév"),
    3: ("مارس", "آذار", "march", "mar", "mars"),
    4: ("أبريل", "إبريل", "ابريل", "أفريل", "نيسان", "april", "apr", "avril", "avr"),
    5: ("مايو", "ماي", "أيار", "مايس", "may", "mai"),
    6: ("يونيو", "يونيه", "يونية", "جوان", "حزيران", "june", "jun", "juin"),
    7: ("يوليو", "يوليه", "يولية", "يوليوز", "جويلية", "جويليه", "تموز", "july", "jul", "juillet", "juil"),
    8: ("أغسطس", "غشت", "غشث", "أوت", "آب", "أغشت", "august", "aug", "août"),
    9: ("سبتمبر", "شتنبر", "أيلول", "شتمبر", "september", "sept", "sep", "septembre"),
    10: ("أكتوبر", "تشرين الأول", "تشرين أول", "تشرين 1", "october", "oct", "octobre"),
    11: ("نوفمبر", "نونبر", "تشرين الثاني", "تشرين ثاني", "تشرين 2", "november", "nov", "novembre"),
    12: ("ديسمبر", "دجنبر", "كانون الأول", "كانون أول", "كانون 1", "دجمبر", "december", "dec", "décembre", "déc"),
}
_MONTHS = {_fold(name): n for n, names in _MONTH_NAMES.items() for name in names}

_HIJRI_NAMES: dict[int, tuple[str, ...]] = {
    1: ("محرم", "محرم الحرام"),
    2: ("صفر",),
    3: ("ربيع الأول", "ربيع أول"),
    4: ("ربيع الآخر", "ربيع الثاني", "ربيع آخر", "ربيع ثاني"),
    5: ("جمادى الأولى", "جمادى الأول", "جمادى أولى"),
    6: ("جمادى الآخرة", "جمادى الثانية", "جمادى الآخر", "جمادى الثاني"),
    7: ("رجب",),
    8: ("شعبان",),
    9: ("رمضان",),
    10: ("شوال",),
    11: ("ذو القعدة", "ذي القعدة"),
    12: ("ذو الحجة", "ذي الحجة"),
}
_HIJRI_MONTHS = {_fold(name): n for n, names in _HIJRI_NAMES.items() for name in names}

_WEEKDAYS = (
    "الأحد", "الإثنين", "الاثنين", "الثلاثاء", "الثلثاء", "الأربعاء", "الخميس", "الجمعة", "السبت",
    "أحد", "اثنين", "ثلاثاء", "أربعاء", "خميس", "جمعة", "سبت",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun",
)
# words that may surround a date string without making it part of a sentence
_FILLERS = frozenset(
    _fold(w)
    for w in (
        *_WEEKDAYS,
        "نشر", "نشرت", "نشره", "تم", "النشر", "تاريخ", "بتاريخ", "في", "على", "الساعة", "آخر", "اخر",
        "تحديث", "التحديث", "حدث", "تعديل", "منشور", "يوم", "بتوقيت", "غرينتش", "مكة", "المكرمة", "القاهرة",
        "الرباط", "بيروت", "الجزائر", "تونس", "عمان", "الرياض", "الدوحة", "دبي", "نواكشوط", "بغداد", "دمشق",
        "م", "ميلادي", "ميلادية", "منذ", "قبل", "published", "posted", "updated", "update", "on", "at",
        "le", "publie", "mis", "a", "jour", "par", "gmt", "utc", "am", "pm",
    )
)

_MON = _alternation(_MONTHS)
_HMON = _alternation(_HIJRI_MONTHS)
_WDAY = _alternation(_WEEKDAYS)
_NOT_LETTER_BEFORE = r"(?<![^\W\d_])"
_NOT_LETTER_AFTER = r"(?![^\W\d_])"
_HIJRI_MARK = rf"(?:للهجره|هجريه|هجري|ه){_NOT_LETTER_AFTER}"

# --------------------------------------------------------------------------
# Regexes (compiled once; they run on folded text).

_MONTH_X = rf"{_NOT_LETTER_BEFORE}(?:{_MON})\.?{_NOT_LETTER_AFTER}(?!(?<=\d)\d)"
# a month, optionally doubled: كانون الاول (ديسمبر), شباط/فبراير, نيسان / ابريل
_MONTH_PAIR = rf"(?P<{{g}}>{_MONTH_X})(?:\s*[(/\-–]\s*{_MONTH_X}\s*\)?)?"

_ABSOLUTE = re.compile(
    # 24 اغسطس 2020, 8 فيفري 2019, 1er mai 2024, 17th of march 2020, 15 نونبر (no year)
    r"(?P<dmy>(?<!\d)(?P<d1>[0-3]?\d)(?:er|st|nd|rd|th)?\s*[-/.]?\s*(?:of\s+|de\s+)?"
    + _MONTH_PAIR.format(g="m1")
    + r"(?:\s*[,،.\-/]?\s*(?:سنه\s+|عام\s+)?(?P<y1>\d{4})(?!\d))?)"
    # march 17, 2020 / feb. 19 2020
    + r"|(?P<mdy>"
    + _MONTH_PAIR.format(g="m2")
    + r"\s*(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?(?!\d)\s*[,،]?\s*(?P<y2>\d{4})(?!\d))"
    # 17.03.2020, 2026-01-08, 8/5/2006
    + r"|(?P<num>(?<![\d.:/\-])(?P<a>\d{1,4})(?P<s>[./\-])(?P<b>\d{1,2})(?P=s)(?P<c>\d{1,4})(?!\d|[.:/\-]\d))"
)
_HIJRI = re.compile(
    rf"(?<!\d)(?P<d>[0-3]?\d)\s*(?:من\s+)?(?P<m>{_HMON}){_NOT_LETTER_AFTER}\s*[,،]?\s*(?P<y>1[2-5]\d\d)(?!\d)"
    rf"(?:\s*{_HIJRI_MARK})?"
    rf"|(?<![\d.:/\-])(?:(?P<ya>1[2-5]\d\d)(?P<sa>[./\-])(?P<ma>\d{{1,2}})(?P=sa)(?P<da>\d{{1,2}})"
    rf"|(?P<db>\d{{1,2}})(?P<sb>[./\-])(?P<mb>\d{{1,2}})(?P=sb)(?P<yb>1[2-5]\d\d))(?!\d)\s*{_HIJRI_MARK}"
)
_AMPM = r"صباحا|صباح|ص|مساء|مساءا|م|ظهرا|عصرا|ليلا|فجرا|a\.?m\.?|p\.?m\.?"
_TIME = (
    r"(?<![\d:])(?P<H>[01]?\d|2[0-3])\s*(?::|h(?=\s*\d))\s*(?P<M>[0-5]\d)(?::(?P<S>[0-5]\d))?(?!\d)"
    rf"(?:\s*(?P<ap>{_AMPM}){_NOT_LETTER_AFTER})?"
)
_SEP = r"[\s\-–—|,،؛:/()]*"
_TIME_RE = re.compile(_TIME)
_TIME_AFTER = re.compile(rf"{_SEP}(?:(?:علي|عند|في)\s+)?(?:الساعه|at|a|um|vers)?{_SEP}{_TIME}")
_TIME_BEFORE = re.compile(
    rf"{_TIME}\s*(?:gmt|utc)?\s*[\-–—|,،]*\s*(?:{_NOT_LETTER_BEFORE}(?:{_WDAY}){_NOT_LETTER_AFTER}\s*[,،]?\s*)?$"
)
_TZ_LABEL = re.compile(
    rf"{_NOT_LETTER_BEFORE}(?:gmt|utc|غرينتش|جرينتش|غرينيتش|جرينيتش)"
    r"(?:\s*(?P<sign>[+-])\s*(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?)?"
)
_WORD = re.compile(r"[^\W\d_]+")
_TIME_ZONE_PHRASE = re.compile(r"بتوقيت\s+[^\W\d_]+(?:\s+[^\W\d_]+)?|\([^)]{0,30}\)")
_UPDATE_WORD = re.compile(r"تحديث|محدث|تعديل|معدل|updated?|modifi|mis a jour")
_PUBLISH_WORD = re.compile(r"نشر|published|publie|posted")
_JUNK_TEXT = re.compile(r"©|copyright|جميع الحقوق|حقوق النشر|حقوق الطبع|الحقوق محفوظه|الطقس|درجه الحراره")

# relative dates: منذ ساعتين, قبل 3 ايام, il y a 6 heures, 3 hours ago
_NUM_WORDS = {
    "واحد": 1, "واحده": 1, "اثنين": 2, "اثنتين": 2, "اثنان": 2, "ثلاث": 3, "ثلاثه": 3, "اربع": 4,
    "اربعه": 4, "خمس": 5, "خمسه": 5, "ست": 6, "سته": 6, "سبع": 7, "سبعه": 7, "ثمان": 8, "ثماني": 8,
    "ثمانيه": 8, "تسع": 9, "تسعه": 9, "عشر": 10, "عشره": 10, "un": 1, "une": 1, "a": 1, "an": 1, "one": 1,
}
# unit word -> (unit, implied count: 1 singular, 2 dual, 0 plural = count required)
_UNITS: dict[str, tuple[str, int]] = {}
for _unit, _forms in {
    "seconds": (("ثانيه", 1), ("ثانيتين", 2), ("ثانيتان", 2), ("ثوان", 0), ("ثواني", 0),
                ("seconde", 1), ("secondes", 0), ("second", 1), ("seconds", 0), ("sec", 1), ("secs", 0)),
    "minutes": (("دقيقه", 1), ("دقيقتين", 2), ("دقيقتان", 2), ("دقائق", 0), ("دقايق", 0),
                ("minute", 1), ("minutes", 0), ("min", 1), ("mins", 0), ("mn", 1)),
    "hours": (("ساعه", 1), ("ساعتين", 2), ("ساعتان", 2), ("ساعات", 0),
              ("heure", 1), ("heures", 0), ("hour", 1), ("hours", 0), ("hr", 1), ("hrs", 0), ("h", 1)),
    "days": (("يوم", 1), ("يومين", 2), ("يومان", 2), ("ايام", 0),
             ("jour", 1), ("jours", 0), ("day", 1), ("days", 0)),
    "weeks": (("اسبوع", 1), ("اسبوعين", 2), ("اسبوعان", 2), ("اسابيع", 0),
              ("semaine", 1), ("semaines", 0), ("week", 1), ("weeks", 0)),
}.items():
    for _form, _count in _forms:
        _UNITS[_fold(_form)] = (_unit, _count)
_UNIT_RE = _alternation(_UNITS)
_NUM_RE = r"\d+|" + _alternation(_NUM_WORDS)
_RELATIVE = re.compile(
    rf"(?:{_NOT_LETTER_BEFORE}(?:منذ|قبل|il y a)\s+)(?:(?P<n>{_NUM_RE})\s*)?(?P<u>{_UNIT_RE}){_NOT_LETTER_AFTER}"
    rf"(?:\s*(?:واحده|واحد){_NOT_LETTER_AFTER})?"
    rf"|{_NOT_LETTER_BEFORE}(?P<n2>{_NUM_RE})\s*(?P<u2>{_UNIT_RE})\s+ago{_NOT_LETTER_AFTER}"
)
_DAY_WORDS = {
    "اول امس": 2, "امس": 1, "البارحه": 1, "avant-hier": 2, "hier": 1, "yesterday": 1,
    "اليوم": 0, "aujourd'hui": 0, "aujourd’hui": 0, "today": 0,
}
_DAY_WORD = re.compile(rf"{_NOT_LETTER_BEFORE}(?P<w>{_alternation(_DAY_WORDS)}){_NOT_LETTER_AFTER}")
_NOW_WORD = re.compile(
    rf"{_NOT_LETTER_BEFORE}(?:الان|منذ لحظات|قبل لحظات|منذ قليل|قبل قليل|just now|a l'instant|now){_NOT_LETTER_AFTER}"
)
_DIGIT = re.compile(r"\d")
_DAY_NUMBER = re.compile(r"(?<!\d)(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th|er)?(?![\d:])")
_YEAR_ANYWHERE = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_MONTH_ANYWHERE = re.compile(_MONTH_X)


# --------------------------------------------------------------------------
# Time-zone helpers.


@lru_cache(maxsize=64)
def _zone(tz: str | None) -> tzinfo:
    """IANA zone of the outlet; UTC when unknown (naive times then keep their written day)."""
    return ZoneInfo(tz) if tz else timezone.utc


def _now_in(now: datetime | None, zone: tzinfo) -> datetime:
    """`now` as an aware datetime in the outlet zone (naive `now` is outlet wall-clock)."""
    if now is None:
        return datetime.now(zone)
    return now.replace(tzinfo=zone) if now.tzinfo is None else now.astimezone(zone)


# --------------------------------------------------------------------------
# parse_date: visible date strings.


@dataclass(frozen=True)
class _Hit:
    found: FoundDate
    start: int  # position in the folded string


def parse_date(text: str, *, tz: str | None = None, now: datetime | None = None) -> FoundDate | None:
    """First date in a visible Arabic/French/English string, or None when unsure.

    Gregorian dates win over Hijri ones (a Hijri date is converted only when no
    Gregorian date is present); relative dates (منذ ساعتين) count against `now`
    and only when they are the whole string.
    """
    if not text:
        return None
    hit = next(_hits(_fold(text), _zone(tz), now), None)
    return hit.found if hit else None


def _hits(folded: str, zone: tzinfo, now: datetime | None) -> Iterator[_Hit]:
    """All dates of a folded string, in text order: Gregorian, else Hijri, else relative, else dateparser."""
    if not folded:
        return
    if _DIGIT.search(folded):  # every absolute date has digits: skip the big regexes otherwise
        masked, hijri = _mask_hijri(folded, zone)
        found_any = False
        for hit in _gregorian(masked, zone, now):
            found_any = True
            yield hit
        if found_any:
            return
        if hijri is not None:
            yield hijri
            return
    relative = _relative(folded, zone, now)
    if relative is not None:
        yield relative
        return
    fallback = _dateparser_fallback(folded, zone, now)
    if fallback is not None:
        yield fallback


def _mask_hijri(folded: str, zone: tzinfo) -> tuple[str, _Hit | None]:
    """Blank out Hijri dates (so 1427/4/9 is not read as a Gregorian year) and keep the first, converted."""
    matches = list(_HIJRI.finditer(folded))
    if not matches:
        return folded, None
    first = next(filter(None, (_hijri_hit(m, zone) for m in matches)), None)
    return _HIJRI.sub(lambda m: " " * len(m.group(0)), folded), first


def _hijri_hit(m: re.Match[str], zone: tzinfo) -> _Hit | None:
    from hijridate import Hijri  # imported lazily: only needed for Hijri-only pages

    if m.group("m"):
        y, mo, d = int(m.group("y")), _HIJRI_MONTHS[_SPACES.sub(" ", m.group("m"))], int(m.group("d"))
    elif m.group("ya"):
        y, mo, d = int(m.group("ya")), int(m.group("ma")), int(m.group("da"))
    else:
        y, mo, d = int(m.group("yb")), int(m.group("mb")), int(m.group("db"))
    try:
        g = Hijri(y, mo, d).to_gregorian()
    except (ValueError, OverflowError):
        return None
    return _Hit(FoundDate(datetime(g.year, g.month, g.day, tzinfo=zone), "day", "text"), m.start())


def _gregorian(folded: str, zone: tzinfo, now: datetime | None) -> Iterator[_Hit]:
    for m in _ABSOLUTE.finditer(folded):
        ymd = _ymd(m)
        if ymd is None:
            continue
        y, mo, d = ymd
        inferred = y == 0
        time_m, start, end = _attached_time(folded, m)
        if inferred and not _only_fillers(folded[:start] + " " + folded[end:]):
            continue  # a day-month without year counts only as the whole string (السبت 15 نونبر)
        hour, minute, second = _clock(time_m) if time_m else (0, 0, 0)
        if inferred:
            y = _infer_year(mo, d, hour, minute, zone, now)
            if y is None:
                continue
        try:
            wall = datetime(y, mo, d, hour, minute, second)
        except ValueError:
            continue
        label = _tz_label(folded, start, end) if time_m else None  # a GMT label needs a clock time
        value = _localize(wall, label, zone)
        precision = ("second" if time_m.group("S") else "minute") if time_m else "day"
        yield _Hit(FoundDate(value, precision, "text", year_inferred=inferred), start)


def _ymd(m: re.Match[str]) -> tuple[int, int, int] | None:
    """(year, month, day) of an absolute match; year 0 = not written; None = not a plausible date."""
    if m.group("dmy"):
        y = int(m.group("y1")) if m.group("y1") else 0
        mo, d = _month(m.group("m1")), int(m.group("d1"))
    elif m.group("mdy"):
        y, mo, d = int(m.group("y2")), _month(m.group("m2")), int(m.group("d2"))
    else:
        a, b, c = m.group("a"), m.group("b"), m.group("c")
        if len(a) == 4:
            y, mo, d = int(a), int(b), int(c)
        elif len(c) == 4:
            y, mo, d = int(c), int(b), int(a)  # DMY, as every Arabic outlet writes it
            if mo > 12 and d <= 12:  # only valid month-first (03/17/2020)
                mo, d = d, mo
        else:
            return None
    if y and not MIN_YEAR <= y <= MAX_YEAR:
        return None  # years below 1900 without a Hijri marker: not a date we trust
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return y, mo, d


def _month(name: str) -> int:
    return _MONTHS[_SPACES.sub(" ", name.rstrip("."))]


def _only_fillers(rest: str) -> bool:
    """True when what surrounds a date is only words like نشر في / آخر تحديث / a weekday (no other digits)."""
    rest = _TIME_ZONE_PHRASE.sub(" ", rest)
    if _DIGIT.search(rest):
        return False
    return all(w in _FILLERS for w in _WORD.findall(rest))


def _attached_time(folded: str, m: re.Match[str]) -> tuple[re.Match[str] | None, int, int]:
    """The clock time right after (or right before) the date, and the span of both."""
    after = _TIME_AFTER.match(folded, m.end())
    if after:
        return after, m.start(), after.end()
    before = _TIME_BEFORE.search(folded, max(0, m.start() - 40), m.start())
    if before:
        return before, before.start(), m.end()
    return None, m.start(), m.end()


def _clock(t: re.Match[str]) -> tuple[int, int, int]:
    """Hour, minute, second with ص/م, صباحا/مساء, am/pm applied."""
    hour, minute = int(t.group("H")), int(t.group("M"))
    second = int(t.group("S") or 0)
    marker = (t.group("ap") or "").replace(".", "")
    if hour > 12 or hour == 0:
        return hour, minute, second  # already a 24-hour clock: the marker adds nothing
    if marker in ("م", "مساء", "مساءا", "pm", "عصرا") or (marker == "ظهرا" and hour < 6):
        hour = hour % 12 + 12
    elif marker in ("ص", "صباحا", "صباح", "am", "فجرا"):
        hour %= 12
    elif marker == "ليلا":
        hour = hour % 12 + 12 if 6 <= hour < 12 else hour % 12 if hour == 12 else hour
    return hour, minute, second


def _tz_label(folded: str, start: int, end: int) -> timezone | None:
    """An explicit GMT/UTC(+h) label next to the date+time, as a fixed zone."""
    m = _TZ_LABEL.search(folded, max(0, start - 12), min(len(folded), end + 20))
    if not m:
        return None
    if not m.group("sign"):
        return timezone.utc
    offset = timedelta(hours=int(m.group("oh")), minutes=int(m.group("om") or 0))
    return timezone(-offset if m.group("sign") == "-" else offset)


def _localize(wall: datetime, label: timezone | None, zone: tzinfo) -> datetime:
    """Naive wall-clock -> aware in the outlet zone (converted when the text labelled it GMT/UTC)."""
    if label is None:
        return wall.replace(tzinfo=zone)
    return wall.replace(tzinfo=label).astimezone(zone)


def _infer_year(mo: int, d: int, hour: int, minute: int, zone: tzinfo, now: datetime | None) -> int | None:
    """Most recent year in which day/month (at that time) is not after `now`."""
    ref = _now_in(now, zone)
    for y in range(ref.year, ref.year - 8, -1):
        try:
            candidate = datetime(y, mo, d, hour, minute, tzinfo=zone)
        except ValueError:  # 29 February
            continue
        if candidate <= ref + timedelta(minutes=1):
            return y
    return None


def _relative(folded: str, zone: tzinfo, now: datetime | None) -> _Hit | None:
    """منذ ساعتين / قبل 3 ايام / امس 10:30 / il y a 6 heures / 3 hours ago, as the whole string only."""
    ref = _now_in(now, zone)
    m = _RELATIVE.search(folded)
    if m:
        if not _only_fillers(folded[: m.start()] + " " + folded[m.end() :]):
            return None
        number, unit_word = (m.group("n"), m.group("u")) if m.group("u") else (m.group("n2"), m.group("u2"))
        unit, implied = _UNITS[unit_word]
        count = _count(number) if number else implied
        if not count:
            return None  # "منذ ساعات": some hours ago, unsure
        if unit in ("seconds", "minutes", "hours"):  # elapsed time: subtract in UTC (DST-safe)
            value = (ref.astimezone(timezone.utc) - timedelta(**{unit: count})).astimezone(zone)
            value = value.replace(second=0, microsecond=0)
            return _Hit(FoundDate(value, "minute", "text"), m.start())
        days = count * (7 if unit == "weeks" else 1)
        value = (ref - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
        return _Hit(FoundDate(value, "day", "text"), m.start())
    m = _DAY_WORD.search(folded)
    if m:
        time_m = _TIME_AFTER.match(folded, m.end())
        end = time_m.end() if time_m else m.end()
        if not _only_fillers(folded[: m.start()] + " " + folded[end:]):
            return None
        day = ref - timedelta(days=_DAY_WORDS[_SPACES.sub(" ", m.group("w"))])
        if time_m:
            hour, minute, _ = _clock(time_m)
            value = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
            return _Hit(FoundDate(value, "minute", "text"), m.start())
        return _Hit(FoundDate(day.replace(hour=0, minute=0, second=0, microsecond=0), "day", "text"), m.start())
    m = _NOW_WORD.search(folded)
    if m and _only_fillers(folded[: m.start()] + " " + folded[m.end() :]):
        return _Hit(FoundDate(ref.replace(second=0, microsecond=0), "minute", "text"), m.start())
    return None


def _count(number: str) -> int:
    return int(number) if number.isdigit() else _NUM_WORDS.get(number, 0)


def _dateparser_fallback(folded: str, zone: tzinfo, now: datetime | None) -> _Hit | None:
    """Last resort for shapes our regexes miss ('March the 17th, 2020'); guarded against invented dates."""
    if (
        len(folded) > 120
        or not _YEAR_ANYWHERE.search(folded)
        or not _MONTH_ANYWHERE.search(folded)
        or not _DAY_NUMBER.search(_TIME_RE.sub(" ", folded))
    ):
        return None  # dateparser needs a year, a month name and a day number to be worth its cost
    import dateparser  # imported lazily: slow to import, rarely needed

    ref = _now_in(now, zone).replace(tzinfo=None)
    settings = {
        "DATE_ORDER": "DMY",
        "RELATIVE_BASE": ref,
        "PREFER_DATES_FROM": "past",
        "REQUIRE_PARTS": ["day", "month", "year"],
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        result = dateparser.parse(folded, languages=["ar", "fr", "en"], settings=settings)
    except (ValueError, OverflowError, TypeError):
        return None
    if result is None or not MIN_YEAR <= result.year <= MAX_YEAR:
        return None
    numbers = set(re.findall(r"\d+", folded))
    if str(result.year) not in numbers or not {str(result.day), f"{result.day:02d}"} & numbers:
        return None  # dateparser filled in a part that is not in the string
    has_time = re.search(r"\d:\d\d", folded) is not None
    value = result if has_time else result.replace(hour=0, minute=0, second=0, microsecond=0)
    return _Hit(FoundDate(value.replace(tzinfo=zone), "minute" if has_time else "day", "text"), 0)


# --------------------------------------------------------------------------
# parse_iso: metadata values.

_ISO = re.compile(
    r"(?P<y>\d{4})-?(?P<mo>\d\d)-?(?P<d>\d\d)"
    r"(?:[T\s]+(?P<H>\d\d):?(?P<M>\d\d)(?::?(?P<S>\d\d)(?:[.,]\d+)?)?)?"
    r"\s*(?P<tz>[zZ]|UTC|GMT|[+-]\d\d(?::?\d\d)?)?"
)


@dataclass(frozen=True)
class _Stamp:
    """A metadata value before the time-zone decision."""

    wall: datetime  # naive, as written
    offset: timedelta | None  # written offset; None when none was written
    precision: str
    year_inferred: bool = False

    @property
    def utc_labelled(self) -> bool:
        return self.offset == timedelta(0)


def parse_instant(value: str | None) -> datetime | None:
    """A stored or listed ISO 8601 date or date-time as an aware datetime (UTC when it has no offset);
    None when absent or unreadable. For values the archive and discovery already hold, not page text."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def parse_iso(value: str, *, tz: str | None = None, utc_is_local: bool = False) -> FoundDate | None:
    """A metadata date (ISO 8601, RFC 2822, or visible-style text such as Akhbar El Yom's)."""
    zone = _zone(tz)
    stamp = _stamp(value, zone)
    if stamp is None:
        return None
    return FoundDate(_place(stamp, zone, utc_is_local), stamp.precision, "iso", stamp.year_inferred)


def _stamp(value: str, zone: tzinfo) -> _Stamp | None:
    text = (value or "").translate(_DIGITS).strip()
    if not text:
        return None
    m = _ISO.fullmatch(text)
    if m:
        return _iso_stamp(m)
    if re.search(r"[A-Za-z]{3}", text) and re.search(r"\d\d:\d\d", text):
        try:
            dt = parsedate_to_datetime(text)  # RFC 2822, as in RSS pubDate
        except (TypeError, ValueError, IndexError):
            dt = None
        if dt is not None:
            offset = dt.utcoffset() if dt.tzinfo else timedelta(0)  # -0000: UTC, zone unknown
            return _Stamp(dt.replace(tzinfo=None), offset, "second")
    hit = next(_hits(_fold(text), zone, None), None)
    if hit is None:
        return None
    found = hit.found
    return _Stamp(found.value.replace(tzinfo=None), None, found.precision, found.year_inferred)


def _iso_stamp(m: re.Match[str]) -> _Stamp | None:
    try:
        wall = datetime(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0), int(m["S"] or 0))
    except ValueError:
        return None
    if not MIN_YEAR <= wall.year <= MAX_YEAR:
        return None
    if not m["H"] or (wall.hour, wall.minute, wall.second) == (0, 0, 0):
        precision = "day"  # a midnight stamp is a date-only field
    else:
        precision = "second" if m["S"] else "minute"
    label = m["tz"]
    if label is None:
        offset = None
    elif label.upper() in ("Z", "UTC", "GMT"):
        offset = timedelta(0)
    else:
        digits = label[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        offset = -offset if label[0] == "-" else offset
    return _Stamp(wall, offset, precision)


def _place(stamp: _Stamp, zone: tzinfo, utc_is_local: bool) -> datetime:
    """Aware datetime whose calendar day is the outlet's (see the module docstring)."""
    if stamp.offset is None:
        return stamp.wall.replace(tzinfo=zone)
    if stamp.utc_labelled:
        if utc_is_local or stamp.precision == "day":
            return stamp.wall.replace(tzinfo=zone)
        return stamp.wall.replace(tzinfo=timezone.utc).astimezone(zone)
    return stamp.wall.replace(tzinfo=timezone(stamp.offset))


# --------------------------------------------------------------------------
# page_dates: structured metadata.

_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "og:published_time", "published_time",
    "datepublished", "pubdate", "publishdate", "publish-date", "publish_date", "publication_date",
    "article.published", "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued",
    "dc.date.created", "dcterms.created", "datecreated", "dc.date", "dcterms.date", "date",
)
_MODIFIED_META = (
    "article:modified_time", "og:article:modified_time", "og:updated_time", "datemodified", "lastmod",
    "last-modified", "article.updated", "dc.date.modified", "dcterms.modified", "modified_time",
)
_RDFA_PUBLISHED = (
    "dc:date", "dc:issued", "dcterms:issued", "dc:created", "dcterms:created", "dcterms:date",
    "schema:datepublished", "datepublished", "datecreated", "schema:datecreated",
)
_RDFA_MODIFIED = ("dcterms:modified", "dc:modified", "schema:datemodified", "datemodified")
_ARTICLE_TYPE = re.compile(r"article|posting|report|news", re.I)
_JSON_DATE = re.compile(r'"(datePublished|dateCreated|dateModified)"\s*:\s*"([^"]{6,40})"')


def _by_tag(tree: HtmlElement) -> dict[str, list[HtmlElement]]:
    """<meta>, <script> and <time> elements, collected in one walk over the tree."""
    found: dict[str, list[HtmlElement]] = {"meta": [], "script": [], "time": []}
    for el in tree.iter("meta", "script", "time"):
        found[el.tag].append(el)
    return found


def _json_ld(scripts: list[HtmlElement]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """datePublished / dateModified from JSON-LD, Article-like objects first."""
    found: list[tuple[int, str, str]] = []  # (rank, key, value)
    for script in scripts:
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        raw = script.text.strip().removeprefix("<!--").removesuffix("-->").strip()
        try:
            _walk_ld(json.loads(raw, strict=False), found)
        except ValueError:  # broken JSON: read the keys directly
            found.extend((3, key, value) for key, value in _JSON_DATE.findall(raw))
    found.sort(key=lambda item: item[0])  # stable: document order within a rank
    pub = [("json-ld", v) for r, k, v in found if k == "datePublished"]
    pub += [("json-ld:dateCreated", v) for r, k, v in found if k == "dateCreated"]
    mod = [("json-ld", v) for r, k, v in found if k == "dateModified"]
    return pub, mod


def _walk_ld(node: Any, out: list[tuple[int, str, str]], depth: int = 0) -> None:
    if depth > 5:
        return
    if isinstance(node, list):
        for item in node:
            _walk_ld(item, out, depth + 1)
        return
    if not isinstance(node, dict):
        return
    types = node.get("@type") or ""
    type_text = " ".join(map(str, types)) if isinstance(types, list) else str(types)
    rank = 0 if _ARTICLE_TYPE.search(type_text) else 1 if "page" in type_text.lower() else 2
    for key in ("datePublished", "dateCreated", "dateModified"):
        value = node.get(key)
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str)), None)
        if isinstance(value, str) and value.strip():
            out.append((rank, key, value))
    for key in ("@graph", "mainEntity", "mainEntityOfPage"):
        if isinstance(node.get(key), (list, dict)):
            _walk_ld(node[key], out, depth + 1)


def _meta(elements: list[HtmlElement]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Published / modified <meta> values in the order of _PUBLISHED_META / _MODIFIED_META."""
    metas: dict[str, str] = {}
    for el in elements:
        content = (el.get("content") or "").strip()
        if not content:
            continue
        for attr in ("property", "name", "itemprop"):
            key = el.get(attr)
            if key:
                metas.setdefault(key.strip().lower(), content)
    pub = [(f"meta:{k}", metas[k]) for k in _PUBLISHED_META if k in metas]
    mod = [(f"meta:{k}", metas[k]) for k in _MODIFIED_META if k in metas]
    return pub, mod


def _rdfa_microdata(tree: HtmlElement) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """RDFa `property` / microdata `itemprop` date values on elements other than <meta>."""
    pub: list[tuple[str, str]] = []
    mod: list[tuple[str, str]] = []
    for attr_value in tree.xpath("//@property | //@itemprop"):  # attribute values: cheap to filter
        el = attr_value.getparent()
        if el.tag == "meta":
            continue
        prefix = "rdfa" if attr_value.attrname == "property" else "itemprop"
        for key in attr_value.lower().split():
            bucket = pub if key in _RDFA_PUBLISHED else mod if key in _RDFA_MODIFIED else None
            if bucket is None:
                continue
            value = el.get("content") or el.get("datetime") or el.text_content()
            if value and value.strip():
                bucket.append((f"{prefix}:{key}", value.strip()))
    pub.sort(key=lambda item: not item[0].startswith("rdfa"))  # RDFa before microdata, stable
    return pub, mod


def _time_elements(times: list[HtmlElement]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """<time pubdate> first, then the first <time datetime> outside navigation/sidebars/related lists."""
    flagged: list[tuple[str, str]] = []
    generic: list[tuple[str, str]] = []
    mod: list[tuple[str, str]] = []
    for el in times:
        value = (el.get("datetime") or "").strip()
        if el.get("pubdate") is not None:
            flagged.append(("time:pubdate", value or el.text_content().strip()))
        elif value and _UPDATED_CLASS.search(_class_id(el)):
            mod.append(("time:modified", value))
        elif value and not generic and not _in_boilerplate(el):
            generic.append(("time", value))
    return flagged + generic, mod


# --------------------------------------------------------------------------
# page_dates: visible text.

_DATE_CLASS_WORDS = ("date", "time", "publish", "posted", "created", "meta", "byline", "تاريخ")
_SKIP_OWN = re.compile(
    r"header|nav|menu|widget|footer|copyright|weather|related|sidebar|card|most|comment|ticker|breaking"
    r"|today|clock|prayer|currency|newsletter|cookie|timezone|timeline|subscribe|share|social",
    re.I,
)
_SKIP_ANCESTOR = re.compile(
    r"(?:^|\s)(?:related|sidebar|side-bar|widget|footer|most|comment|weather|ticker|nav|menu)", re.I
)
_SKIP_BLOCK = re.compile(
    r"nav|menu|widget|footer|copyright|weather|related|sidebar|most|comment|ticker|breaking|newsletter"
    r"|cookie|share|social",
    re.I,
)
_SKIP_BLOCK_BODY = re.compile(_SKIP_BLOCK.pattern + r"|header|masthead|topbar|top-bar", re.I)
_UPDATED_CLASS = re.compile(r"upd|modif", re.I)
_SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "nav", "footer", "aside", "form", "select", "button", "svg", "iframe",
     "template", "option"}
)


def _class_id(el: HtmlElement) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}"


def _in_boilerplate(el: HtmlElement) -> bool:
    """Inside nav/footer/aside, a site <header> (not an article's), or a sidebar/related/widget block."""
    in_header = False
    for anc in el.iterancestors():
        tag = anc.tag
        if tag in ("nav", "footer", "aside"):
            return True
        if tag == "header":
            in_header = True
        elif tag in ("article", "main"):
            in_header = False
            break
        if _SKIP_ANCESTOR.search(anc.get("class") or ""):
            return True
    return in_header


def _headline(tree: HtmlElement) -> HtmlElement | None:
    """The article's <h1> (not a logo h1 in the site header)."""
    for h1 in tree.iter("h1"):
        if len(h1.text_content().strip()) >= 10 and not _in_boilerplate(h1):
            return h1
    return None


def _texts(
    el: HtmlElement, skip: re.Pattern[str] = _SKIP_BLOCK, skip_tags: frozenset[str] = _SKIP_TAGS
) -> Iterator[str]:
    """Visible text of an element and its tail, skipping scripts, forms, navigation and side blocks."""
    tag = el.tag
    if isinstance(tag, str) and tag not in skip_tags and not skip.search(_class_id(el)):
        if el.text:
            yield el.text
        for child in el:
            yield from _texts(child, skip, skip_tags)
    if el.tail:
        yield el.tail


def _following_texts(el: HtmlElement) -> Iterator[str]:
    if el.tail:
        yield el.tail
    node: HtmlElement | None = el
    while node is not None:
        for sib in node.itersiblings():
            yield from _texts(sib)
        node = node.getparent()
        if node is not None and node.tail:
            yield node.tail


def _preceding_window(el: HtmlElement) -> list[str]:
    """The last few visible text nodes before the headline, in document order."""
    nodes = el.xpath("preceding::text()[normalize-space()][position() <= 12]")  # nearest first
    texts = [str(t) for t in nodes if t.is_tail or t.getparent().tag not in _SKIP_TAGS]
    return list(reversed(_window(texts, 150, 6)))


def _window(texts: Iterable[str], max_chars: int, max_nodes: int) -> list[str]:
    out: list[str] = []
    total = 0
    for text in texts:
        text = text.strip()
        if not text:
            continue
        out.append(text)
        total += len(text)
        if total >= max_chars or len(out) >= max_nodes:
            break
    return out


def _head_text(el: HtmlElement, max_chars: int) -> str:
    return " ".join(_window(el.itertext(), max_chars, 40))[:max_chars]


def _text_hits(
    texts: list[str], zone: tzinfo, now: datetime | None, modified: bool = False
) -> Iterator[tuple[FoundDate, bool]]:
    """Dates in the texts joined (a date or its GMT label may span elements); when there are none, in
    each text alone (relative dates count only as a whole string). Copyright/weather texts are dropped."""
    folded = [f for f in map(_fold, texts) if f and not _JUNK_TEXT.search(f)]
    chunks = [" ".join(folded)] if len(folded) == 1 else [" ".join(folded), *folded]
    for n, chunk in enumerate(chunks):
        found_any = False
        for hit in _hits(chunk, zone, now):
            found_any = True
            yield hit.found, modified or _labelled_update(chunk, hit.start)
        if n == 0 and found_any:
            return


def _labelled_update(folded: str, start: int) -> bool:
    """True when the date is introduced as an update ("آخر تحديث:", "محدثة", "Updated")."""
    before = folded[max(0, start - 40) : start]
    updates = [m.end() for m in _UPDATE_WORD.finditer(before)]
    if not updates:
        return False
    publishes = [m.end() for m in _PUBLISH_WORD.finditer(before)]
    return not publishes or updates[-1] > publishes[-1]


class _Visible:
    """Dates in the visible text of one page, nearest to the headline first, computed once and lazily.

    `narrow`: the text right after the headline, then date-classed elements of the headline's block.
    `wide()`: narrow, then date-classed elements anywhere, then the text right before the headline.
    """

    def __init__(self, tree: HtmlElement, zone: tzinfo, now: datetime) -> None:
        self.tree, self.zone, self.now = tree, zone, now

    @cached_property
    def h1(self) -> HtmlElement | None:
        return _headline(self.tree)

    @cached_property
    def block(self) -> HtmlElement | None:
        return _headline_block(self.h1) if self.h1 is not None else None

    @cached_property
    def narrow(self) -> list[tuple[FoundDate, bool]]:
        hits: list[tuple[FoundDate, bool]] = []
        if self.h1 is not None:
            hits.extend(_text_hits(_window(_following_texts(self.h1), 250, 12), self.zone, self.now))
        if self.block is not None:
            hits.extend(islice(_classed_hits(self.block, self.zone, self.now), 40))
        return [(f, upd) for f, upd in hits if _is_plausible(f, self.now)]

    def wide(self) -> Iterator[tuple[FoundDate, bool]]:
        yield from self.narrow
        more = _classed_hits(self.tree, self.zone, self.now, exclude=self.block)
        if self.h1 is not None:
            more = chain(more, _text_hits(_preceding_window(self.h1), self.zone, self.now))
        yield from _plausible(more, self.now)


def _headline_block(h1: HtmlElement) -> HtmlElement:
    """The article/main element around the headline, else its third ancestor."""
    block = h1
    for depth, anc in enumerate(h1.iterancestors()):
        if anc.tag in ("article", "main"):
            return anc
        if depth < 3 and anc.tag not in ("body", "html"):
            block = anc
    return block


def _date_classed(root: HtmlElement) -> Iterator[HtmlElement]:
    """Elements whose class/id says date/time/publish/meta (substring tests: fast on 500 KB pages)."""
    for el in root.iter():
        cls, ident = el.get("class"), el.get("id")
        if (cls is None and ident is None) or not isinstance(el.tag, str):
            continue
        label = f"{cls or ''} {ident or ''}".lower()
        if any(word in label for word in _DATE_CLASS_WORDS) and el.tag not in ("meta", "body", "html"):
            yield el


def _classed_hits(
    root: HtmlElement, zone: tzinfo, now: datetime | None, exclude: HtmlElement | None = None
) -> Iterator[tuple[FoundDate, bool]]:
    for n, el in enumerate(_date_classed(root)):
        if n >= 80:
            break
        label = _class_id(el)
        if _SKIP_OWN.search(label) or _in_boilerplate(el):
            continue
        if exclude is not None and (el is exclude or exclude in el.iterancestors()):
            continue
        yield from _text_hits([_head_text(el, 200)], zone, now, bool(_UPDATED_CLASS.search(label)))


def _body_start(tree: HtmlElement, zone: tzinfo, now: datetime | None) -> Iterator[tuple[FoundDate, bool]]:
    """Date stamps in the first 3,000 characters of the page's visible text (the last text resort).

    Only short text nodes count: a stamp stands alone, while a date inside a sentence is usually
    what the article talks about, not when it was published.
    """
    body = tree.find(".//body")
    walk = _texts(body if body is not None else tree, _SKIP_BLOCK_BODY, _SKIP_TAGS | {"header"})
    for text in _window(walk, 3000, 400):
        if len(text) <= STAMP_MAX_CHARS:
            yield from _text_hits([text], zone, now)


# --------------------------------------------------------------------------
# page_dates: URL.

_URL_DATES = (
    # /2020/8/24/ (Al Jazeera, Youm7), /2022/01/28/ (Al Arabiya)
    re.compile(r"/(?P<y>(?:19|20)\d\d)/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?=[/_.-]|$)"),
    # -2025-09-05-04-49-06 (Anfaspress), /2020-08-24/
    re.compile(
        r"(?<=[/_-])(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)"
        r"(?:-(?P<H>\d\d)-(?P<M>\d\d)(?:-(?P<S>\d\d))?)?(?=[/_.-]|$)"
    ),
    # /05/09/2025/ (Al-Sharq)
    re.compile(r"/(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>(?:19|20)\d\d)(?=/|$)"),
    # -20201120/ (2M), /202003171044893040- (date + id, Sputnik)
    re.compile(r"(?<=[/_-])(?P<y>(?:19|20)\d\d)(?P<m>\d\d)(?P<d>\d\d)(?=[/_.-]|$|\d{6,}(?:[/_.-]|$))"),
)


def _url_date(url: str, zone: tzinfo) -> FoundDate | None:
    path = urlsplit(url).path
    for pattern in _URL_DATES:
        for m in pattern.finditer(path):
            groups = m.groupdict()
            try:
                wall = datetime(
                    int(groups["y"]), int(groups["m"]), int(groups["d"]),
                    int(groups.get("H") or 0), int(groups.get("M") or 0), int(groups.get("S") or 0),
                )
            except ValueError:
                continue
            precision = "second" if groups.get("H") else "day"
            return FoundDate(wall.replace(tzinfo=zone), precision, "url")
    return None


# --------------------------------------------------------------------------
# page_dates.


def page_dates(
    tree: HtmlElement,
    *,
    url: str,
    tz: str | None = None,
    now: datetime | None = None,
    hint: str | None = None,
    utc_is_local: bool = False,
) -> tuple[FoundDate | None, FoundDate | None]:
    """(published, modified) of an article page; see the module docstring for the order of evidence."""
    zone = _zone(tz)
    ref = _now_in(now, zone)
    pub_candidates, mod_candidates = _structured(tree)
    pub_stamp = _first_stamp(pub_candidates, zone, ref, utc_is_local)
    mod_stamp = _first_stamp(mod_candidates, zone, ref, utc_is_local)
    hint_stamp = None if pub_stamp or not hint else _first_stamp([("hint", hint)], zone, ref, utc_is_local)

    stamps = [item[1] for item in (pub_stamp, mod_stamp, hint_stamp) if item is not None]
    visible = _Visible(tree, zone, ref)
    local_utc = utc_is_local or _visible_confirms_local(visible, stamps, zone)

    published = _found(pub_stamp or hint_stamp, zone, local_utc)
    modified = _found(mod_stamp, zone, local_utc)
    if published is None:  # wide() starts with the narrow hits, so nothing is computed twice
        published = next((replace(f, source="text") for f, upd in visible.wide() if not upd), None)
    if modified is None:  # a visible "آخر تحديث" stamp near the headline
        modified = next((replace(f, source="text") for f, upd in visible.narrow if upd), None)
    if published is None:
        published = next((f for f, upd in _plausible(_body_start(tree, zone, ref), ref) if not upd), None)
    if published is None:
        candidate = _url_date(url, zone)
        if candidate is not None and _is_plausible(candidate, ref):
            published = candidate
    if modified is not None and published is not None and _earlier(modified, published):
        modified = None  # a modified date before publication is wrong; never swap the two
    return published, modified


def _structured(tree: HtmlElement) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(source, raw value) candidates for published and modified: JSON-LD, <meta>, RDFa/microdata, <time>."""
    elements = _by_tag(tree)
    jp, jm = _json_ld(elements["script"])
    mp, mm = _meta(elements["meta"])
    rp, rm = _rdfa_microdata(tree)
    tp, tm = _time_elements(elements["time"])
    return [*jp, *mp, *rp, *tp], [*jm, *mm, *rm, *tm]


def _first_stamp(
    candidates: list[tuple[str, str]], zone: tzinfo, ref: datetime, utc_is_local: bool
) -> tuple[str, _Stamp] | None:
    """The first candidate that parses to a plausible date, with its source label."""
    for label, value in candidates:
        stamp = _stamp(value, zone)
        if stamp is None:
            continue
        tentative = FoundDate(_place(stamp, zone, utc_is_local), stamp.precision, label)
        if _is_plausible(tentative, ref):
            return label, stamp
    return None


def _found(item: tuple[str, _Stamp] | None, zone: tzinfo, local_utc: bool) -> FoundDate | None:
    if item is None:
        return None
    label, stamp = item
    return FoundDate(_place(stamp, zone, local_utc), stamp.precision, label, stamp.year_inferred)


def _is_plausible(found: FoundDate, ref: datetime) -> bool:
    return found.value.year >= PAGE_MIN_YEAR and found.value <= ref + FUTURE_SLACK


def _plausible(hits: Iterable[tuple[FoundDate, bool]], ref: datetime) -> Iterator[tuple[FoundDate, bool]]:
    return ((f, upd) for f, upd in hits if _is_plausible(f, ref))


def _earlier(modified: FoundDate, published: FoundDate) -> bool:
    if "day" in (modified.precision, published.precision):
        return modified.value.date() < published.value.date()
    return modified.value < published.value


def _visible_confirms_local(visible: _Visible, stamps: list[_Stamp], zone: tzinfo) -> bool:
    """True when the page shows a UTC-labelled stamp's own date and HH:MM: the label is wrong, the time is local."""
    walls = {
        s.wall.replace(second=0)
        for s in stamps
        if s.utc_labelled and s.precision != "day" and s.wall.replace(tzinfo=zone).utcoffset() != timedelta(0)
    }
    if not walls:
        return False
    return any(
        found.precision != "day" and found.value.replace(tzinfo=None, second=0) in walls
        for found, _ in visible.narrow
    )

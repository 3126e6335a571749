"""Page bytes → text, with the charset used and where it came from, and a check that the text is readable.

Why not just Scrapy's `response.text`: the HTTP header wins over everything there, and legacy Arabic stacks
announce `charset=utf-8` (or the server default `iso-8859-1`) for windows-1256 pages; decoding then "succeeds"
with U+FFFD or `Ø§Ù„` garbage and nothing notices. So we decide the way Scrapy does (BOM → header → <meta> →
sniff, with w3lib and charset_normalizer), then *verify* the result and, when it is garbled, retry with the
declared <meta> charset and a whole-document sniff. Text that stays garbled is refused (`ExtractionError('mojibake')`)
rather than archived: the raw bytes are kept elsewhere, so a later fix can re-decode them.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

__all__ = ["ExtractionError", "decode_html", "garbled", "header_charset"]


class ExtractionError(Exception):
    """A page that must not become an article row; `.kind` says why.

    Kinds: 'not_html', 'empty', 'not_article', 'mojibake', 'too_large', 'parse'. Defined here, in the lowest
    layer, so decoding can raise it without a circular import; `pipelines.extract` re-exports it.
    """

    KINDS = frozenset({"not_html", "empty", "not_article", "mojibake", "too_large", "parse"})

    def __init__(self, kind: str, message: str = "") -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown ExtractionError kind {kind!r}")
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.message = message

    def __reduce__(self):  # picklable across the extraction process pool
        return (type(self), (self.kind, self.message))


# --- garbling detectors -------------------------------------------------------------------------------
# UTF-8 read as a single-byte charset: every non-ASCII character becomes a lead byte (0xC2-0xDF for the
# Latin-1 and Arabic blocks) followed by a continuation byte (0x80-0xBF). Build the character pairs each
# wrong codec turns those bytes into. Punctuation that really follows letters in Arabic text (، ؛ ؟ « »,
# no-break space, joiners) and the Persian letters are left out of the second position.
_REAL_AFTER_LETTER = set("،؛؟«»\u00a0\u200c\u200dپچژگک")


def _pair_class(codec: str) -> tuple[str, str]:
    lead = "".join(bytes([b]).decode(codec, errors="ignore") for b in range(0xC2, 0xE0))
    cont = "".join(c for b in range(0x80, 0xC0) for c in bytes([b]).decode(codec, errors="ignore")
                   if c not in _REAL_AFTER_LETTER)
    return re.escape(lead), re.escape(cont)


_L1252, _C1252 = _pair_class("cp1252")  # 'Ø§Ù„'
_L1256, _C1256 = _pair_class("cp1256")  # 'ط§ظ„'
_UTF8_AS_1252 = re.compile(f"[{_L1252}][{_C1252}]")
_UTF8_AS_1256 = re.compile(f"[{_L1256}][{_C1256}]")
# Legacy Arabic read as Latin-1/cp1252 ('ÇáÓáÇã'), or one Arabic charset read as the other ('ظنêمه'):
# Latin-1 letters inside Arabic words, or whole runs of them.
_LATIN1_LETTERS = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff"  # without × and ÷
_MIXED_SCRIPT = re.compile(f"[\u0621-\u064a][{_LATIN1_LETTERS}]|[{_LATIN1_LETTERS}][\u0621-\u064a]")
_LATIN1_LETTER = re.compile("[\u00c0-\u00ff]")
_LATIN1_RUN = re.compile("[\u00c0-\u00ff]{4,}")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_ASCII_RUN = re.compile("[\x00-\x7f]+")
# 'ال' and 'ا' (the commonest Arabic bigram and letter) as stored-mojibake in a valid UTF-8 page.
_BIGRAMS = ("Ø§", "Ù„", "ط§", "ظ„")

_SAMPLE = 300_000  # characters of the page examined (markup is mostly ASCII and is squeezed out first)
_KEEP = 20_000  # non-ASCII characters examined: plenty to judge a charset


def garbled(text: str, encoding: str | None = None) -> str | None:
    """Why `text` looks wrongly decoded ('replacement', 'utf8-as-cp1252', ...), or None when it reads fine.

    Thresholds are ratios, so broken bytes here and there in a real UTF-8 page do not condemn it, while a
    wrong codec (which damages nearly every non-ASCII character) always does. With `encoding='utf-8'` only
    U+FFFD and mojibake stored in the page itself are possible, and a cheap screen for them comes first.
    """
    head = text[:_SAMPLE]
    utf8 = encoding == "utf-8"
    if utf8 and head.count("\ufffd") < 3 and not any(head.count(b) >= 3 for b in _BIGRAMS):
        return None
    # Only non-ASCII characters can be damaged: squeeze ASCII runs to one space (keeps word boundaries).
    sample = _ASCII_RUN.sub(" ", head)[:_KEEP]
    non_ascii = len(sample) - sample.count(" ")
    if non_ascii <= 0:
        return None
    # Legacy Arabic read as UTF-8 turns most letters into U+FFFD; a single-byte codec gives U+FFFD only for
    # its few unassigned bytes, so there a small share already means the wrong codec.
    fffd = sample.count("\ufffd")
    if fffd >= 3 and fffd >= (0.10 if utf8 else 0.02) * non_ascii:
        return "replacement"
    pairs = len(_UTF8_AS_1252.findall(sample))
    if pairs >= 3 and 2 * pairs >= 0.3 * non_ascii:
        return "utf8-as-cp1252"
    # The patterns below are rare in readable text, so they are searched first and the (costlier) count of
    # Arabic letters is made only when one of them shows up.
    pairs = len(_UTF8_AS_1256.findall(sample))
    latin1 = len(_LATIN1_LETTER.findall(sample))
    mixed = len(_MIXED_SCRIPT.findall(sample)) if latin1 >= 3 else 0
    if pairs >= 3 or mixed >= 3:
        arabic = len(_ARABIC_LETTER.findall(sample))
        if pairs >= 3 and pairs >= 0.2 * max(arabic, 1):
            return "utf8-as-cp1256"
        if mixed >= 3 and mixed >= 0.02 * arabic:
            return "mixed-script"
    if latin1 >= 10 and latin1 >= 0.25 * non_ascii:
        # French has accents, but not runs of four Latin-1 letters in a row, which is what legacy Arabic
        # bytes (0xC0-0xFF) look like when read as Latin-1.
        if len(_LATIN1_RUN.findall(sample)) >= 3:
            return "arabic-as-latin1"
    return None


# --- charset discovery --------------------------------------------------------------------------------
_META_CHARSET = re.compile(rb"""<meta[^>]{0,300}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)


def header_charset(value: str | None) -> str | None:
    """Python codec for a Content-Type header value ('text/html; charset=windows-1256') or a bare label."""
    if not value:
        return None
    value = value.strip()
    if "=" in value or ";" in value or "/" in value:
        return http_content_type_encoding(value)
    return resolve_encoding(value)


def _declared(body: bytes) -> str | None:
    """<meta>/<?xml?> charset: w3lib's scan of the first 4096 bytes, then a wider look into long <head>s."""
    found = html_body_declared_encoding(body)
    if found:
        return found
    head = body[:65536]
    end = head.lower().find(b"<body")
    match = _META_CHARSET.search(head if end < 0 else head[:end])
    return resolve_encoding(match.group(1).decode("ascii", "ignore")) if match else None


def _sniff(body: bytes) -> str | None:
    """Whole-document guess: UTF-8 when the bytes are (nearly all) valid UTF-8, else charset_normalizer."""
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        if garbled(body.decode("utf-8", errors="replace"), "utf-8") is None:
            return "utf-8"  # a few damaged bytes in a UTF-8 page
    best = from_bytes(body).best()
    return resolve_encoding(best.encoding) if best is not None and best.encoding else None


def _decode(body: bytes, encoding: str) -> str:
    text = body.decode(encoding, errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_html(body: bytes, header_charset_value: str | None = None) -> tuple[str, str, str]:
    """Decode an HTML page: returns (text, encoding, source), source in 'bom'|'header'|'meta'|'sniffed'.

    `header_charset_value` is the charset from the HTTP header, or the whole Content-Type value, or None.
    Raises ExtractionError('mojibake') when no candidate charset yields readable text.
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding:
        text = body[len(bom):].decode(bom_encoding, errors="replace")
        if garbled(text, _codec(bom_encoding)) is None:
            return text, _codec(bom_encoding) or bom_encoding, "bom"

    from_header = _codec(header_charset(header_charset_value))
    from_meta = _codec(_declared(body))

    def candidates():
        # Scrapy's order (header, then <meta>, then a sniff), continued when the result is garbled: the meta
        # charset (the header lied), a sniff of the whole document, the two legacy Arabic charsets last.
        if from_header:
            yield from_header, "header"
        yield from_meta, "meta"
        yield _codec(_sniff(body)), "sniffed"
        yield "cp1256", "sniffed"
        yield "iso8859-6", "sniffed"

    tried: dict[str, str] = {}
    for encoding, source in candidates():
        if not encoding or encoding in tried:
            continue
        text = _decode(body, encoding)
        why = garbled(text, encoding)
        if why is None:
            return text, encoding, source
        tried[encoding] = why
    detail = ", ".join(f"{enc}: {why}" for enc, why in tried.items())
    raise ExtractionError("mojibake", f"no charset gives readable text ({detail})")

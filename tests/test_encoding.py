"""pipelines.encoding: a real Arabic article (youm7, from ../shared/corpus) written out in windows-1256 and
ISO-8859-6, served with every combination of HTTP charset (none, right, lying) and <meta> charset (none,
<meta charset>, http-equiv), must decode to the article's own text; garbled text must never pass."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from pipelines.encoding import ExtractionError, decode_html, garbled, header_charset
from pipelines.extract import extract_article

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
GOLD = {json.loads(line)["file"]: json.loads(line) for line in (CORPUS / "gold.jsonl").read_text("utf-8").splitlines()
        if line.strip()}
PAGE = GOLD["youm7.com_4943459.html"]


def _article() -> tuple[str, list[str]]:
    tree = lxml.html.fromstring((CORPUS / "pages" / PAGE["file"]).read_bytes())
    paragraphs = [" ".join(p.text_content().split()) for p in tree.xpath(PAGE["body_xpath"])]
    return PAGE["title"], [p for p in paragraphs if p]


TITLE, PARAGRAPHS = _article()
CODECS = {"cp1256": "windows-1256", "iso8859-6": "iso-8859-6"}
METAS = {
    "no meta": "",
    "meta charset": '<meta charset="{label}">',
    "http-equiv": '<meta http-equiv="Content-Type" content="text/html; charset={label}">',
}


def _encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
        return True
    except UnicodeEncodeError:
        return False


def _page(codec: str, meta: str) -> bytes:
    head = meta.format(label=CODECS[codec])
    body = "".join(f"<p>{p}</p>\n" for p in PARAGRAPHS)
    html = (f"<!DOCTYPE html>\n<html lang=\"ar\" dir=\"rtl\"><head>{head}<title>{TITLE} - اليوم السابع</title>"
            f"</head><body><article><h1>{TITLE}</h1>\n{body}</article></body></html>")
    # Both charsets lack some characters (Arabic-Indic digits...): legacy pages write them as entities.
    return html.encode(codec, errors="xmlcharrefreplace")


def test_the_article_really_needs_the_legacy_charsets():
    for codec in CODECS:
        raw = _page(codec, "")
        assert raw.decode(codec).count("&#") < 20, "the text is mostly real legacy-charset bytes"
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("meta", METAS)
@pytest.mark.parametrize("header", ["none", "text/html", "right", "utf-8 (lie)", "iso-8859-1 (lie)"])
def test_legacy_arabic_decodes_whatever_the_declarations(codec, meta, header):
    content_type = {
        "none": None,
        "text/html": "text/html",
        "right": f"text/html; charset={CODECS[codec]}",
        "utf-8 (lie)": "text/html; charset=utf-8",
        "iso-8859-1 (lie)": "text/html; charset=ISO-8859-1",
    }[header]
    text, encoding, source = decode_html(_page(codec, METAS[meta]), content_type)

    assert encoding == codec
    expected_source = "header" if header == "right" else ("sniffed" if meta == "no meta" else "meta")
    assert source == expected_source
    assert garbled(text) is None and "\ufffd" not in text
    assert TITLE in text
    checked = [p for p in PARAGRAPHS if _encodable(p, codec)]
    assert len(checked) >= len(PARAGRAPHS) - 2
    for paragraph in checked:
        assert paragraph in text


@pytest.mark.parametrize("codec", CODECS)
def test_extract_article_reads_legacy_pages_served_with_a_lying_header(codec):
    record = extract_article(
        _page(codec, ""), "https://www.youm7.com/story/2020/8/24/x/4943459",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    assert record["title"] == TITLE
    assert (record["encoding"], record["encoding_source"]) == (codec, "sniffed")
    for sentence in PAGE["body_must"]:
        assert sentence in record["text"]
    assert record["language"] == "ar"


def test_utf8_page_with_a_lying_legacy_header_is_read_as_utf8():
    raw = (CORPUS / "pages" / PAGE["file"]).read_bytes()
    text, encoding, source = decode_html(raw, "text/html; charset=windows-1256")
    assert (encoding, source) == ("utf-8", "meta")
    assert PAGE["body_must"][0] in text
    # no declaration at all: a whole-document sniff
    stripped = raw.replace(b'charset=utf-8', b'')
    assert decode_html(stripped, None)[1:] == ("utf-8", "sniffed")


def test_bom_wins_over_a_lying_header():
    raw = "\ufeff<html><body><p>السلام عليكم ورحمة الله</p></body></html>".encode("utf-8")
    text, encoding, source = decode_html(raw, "text/html; charset=windows-1256")
    assert (encoding, source) == ("utf-8", "bom")
    assert text.startswith("<html>") and "السلام" in text


def test_a_few_broken_bytes_do_not_condemn_a_utf8_page():
    raw = (CORPUS / "pages" / PAGE["file"]).read_bytes()
    broken = raw[:40000] + b"\xd8" + raw[40000:]  # one truncated Arabic character
    text, encoding, source = decode_html(broken, "text/html; charset=utf-8")
    assert (encoding, source) == ("utf-8", "header")
    assert text.count("\ufffd") == 1


def test_damaged_bytes_in_an_undeclared_utf8_page_are_not_a_charset_problem():
    raw = (CORPUS / "pages" / PAGE["file"]).read_bytes().replace(b"charset=utf-8", b"")
    damaged = bytearray(raw)
    for position in range(30000, len(raw) - 1000, len(raw) // 40):  # 40 truncated characters, ~1% of them
        damaged[position] = 0xD8
    text, encoding, source = decode_html(bytes(damaged), None)
    assert (encoding, source) == ("utf-8", "sniffed")
    assert 0 < text.count("\ufffd") <= 80


def test_mojibake_stored_in_the_page_is_refused():
    sentence = " ".join(PARAGRAPHS[:3])
    mojibake = sentence.encode("utf-8").decode("cp1252", errors="replace")  # 'Ø´Ù‡Ø¯ ...'
    raw = f"<html><head><meta charset='utf-8'></head><body><p>{mojibake}</p></body></html>".encode("utf-8")
    with pytest.raises(ExtractionError) as info:
        decode_html(raw, "text/html; charset=utf-8")
    assert info.value.kind == "mojibake"
    with pytest.raises(ExtractionError) as info:
        extract_article(raw, "https://example.com/a/1")
    assert info.value.kind == "mojibake"


@pytest.mark.parametrize(
    "source, wrong, reason",
    [
        ("utf-8", "cp1252", "utf8-as-cp1252"),
        ("utf-8", "cp1256", "utf8-as-cp1256"),
        ("utf-8", "iso8859-6", "replacement"),
        ("cp1256", "utf-8", "replacement"),
        ("cp1256", "cp1252", "arabic-as-latin1"),
        ("cp1256", "iso8859-6", "replacement"),
        ("iso8859-6", "utf-8", "replacement"),
        ("iso8859-6", "cp1256", "mixed-script"),
        ("iso8859-6", "cp1252", "arabic-as-latin1"),
    ],
)
def test_every_wrong_codec_is_detected(source, wrong, reason):
    sentence = " ".join(PARAGRAPHS[:2])
    raw = sentence.encode(source, errors="ignore")
    assert garbled(raw.decode(wrong, errors="replace"), wrong) == reason
    assert garbled(raw.decode(source)) is None


def test_french_accents_are_not_mojibake():
    french = [
        "Le gouvernement marocain a annoncé jeudi à Rabat une réforme évaluée à trois milliards de dirhams.",
        "Ça concerne l'élève, l'hôpital et la sécurité sociale : où en est-on, se demandent les syndicats ?",
        "Le ministre de l'Économie a précisé que les premières mesures entreront en vigueur dès février.",
        "Noël approche, et les commerçants de Fès espèrent une saison meilleure que l'année dernière.",
    ]
    assert all(garbled(line) is None for line in french)
    # a whole legacy (cp1252) page without any declaration: sniffed, accents intact
    raw = ("<html><head><title>Réforme</title></head><body>" + "".join(f"<p>{p}</p>" for p in french * 2)
           + "</body></html>").encode("cp1252")
    text, encoding, source = decode_html(raw, None)
    assert source == "sniffed" and all(line in text for line in french)


def test_header_charset_accepts_a_content_type_or_a_label():
    assert header_charset("text/html; charset=Windows-1256") == "cp1256"
    assert header_charset("arabic") == "iso8859-6"
    assert header_charset("text/html") is None
    assert header_charset(None) is None


def test_extraction_error_kind_is_checked_and_pickles():
    import pickle

    error = pickle.loads(pickle.dumps(ExtractionError("mojibake", "cp1256: replacement")))
    assert (error.kind, error.message) == ("mojibake", "cp1256: replacement")
    with pytest.raises(ValueError):
        ExtractionError("whatever")

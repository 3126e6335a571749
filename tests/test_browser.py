"""The published archive in a real headless Chromium (Debian package `chromium`): the rendered DOM
(--dump-dom), then screenshots under artifacts/ (git-ignored) whose pixels are checked, without
any JavaScript or CDP, to read right to left."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import urllib.parse
import zlib
from pathlib import Path

import pytest

from tests.test_publish import ROOT, start_server

ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--lang=en-US"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("browser"))
    yield srv
    srv.process.terminate()
    srv.process.wait(timeout=10)


@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    return tmp_path_factory.mktemp("chromium-profile")


def chromium(profile: Path, url: str, *extra: str) -> str:
    assert CHROMIUM, "chromium is not installed: apt-get install -y chromium"
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def dump_dom(server, profile: Path, path: str, params: dict | None = None, *extra: str) -> str:
    url = server.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    dom = chromium(profile, url, "--dump-dom", *extra)
    assert "</html>" in dom
    return dom


def screenshot(server, profile: Path, path: str, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    target.unlink(missing_ok=True)
    chromium(profile, server.base + path, f"--screenshot={target}", "--window-size=1280,900")
    assert target.exists() and target.stat().st_size > 10_000
    return target


def read_png(path: Path) -> tuple[int, int, list[bytes], int]:
    """Minimal PNG reader for Chromium screenshots (8-bit RGB/RGBA, not interlaced): rows of pixels."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and color in (2, 6) and interlace == 0
            bpp = 4 if color == 6 else 3
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def text_lines(path: Path, x_min: int, x_max: int, gap: int = 4) -> list[tuple[int, int]]:
    """(leftmost, rightmost) x of near-black ink for each text line: runs of pixel rows holding such
    ink, closer than `gap` rows (so Arabic dots stay with their line), within [x_min, x_max)."""
    width, _, rows, bpp = read_png(path)
    lines: list[list[int]] = []  # [first_y, last_y, left, right]
    for y, row in enumerate(rows):
        xs = [x for x in range(x_min, min(x_max, width))
              if row[x * bpp] < 70 and row[x * bpp + 1] < 70 and row[x * bpp + 2] < 90]
        if not xs:
            continue
        if lines and y - lines[-1][1] <= gap:
            line = lines[-1]
            line[1], line[2], line[3] = y, min(line[2], xs[0]), max(line[3], xs[-1])
        else:
            lines.append([y, y, xs[0], xs[-1]])
    return [(left, right) for _, _, left, right in lines if right - left >= 20]  # not a lone "·"


# -- DOM ------------------------------------------------------------------------------------------


def test_table_page_dom_has_rtl_css_and_dir_auto_cells(server, profile):
    dom = dump_dom(server, profile, "/archive/articles")
    assert '<link rel="stylesheet" href="/assets/akhbar.css">' in dom
    assert "dir=" not in re.search(r"<html[^>]*>", dom).group(0)  # never a global right-to-left page
    assert 'dir="rtl"' not in dom.split("<body", 1)[0]
    assert dom.count('<div class="ak-cell" dir="auto">') >= 40
    assert '<div class="ak-cell" dir="auto">قافلة مساعدات مغربية لغزة</div>' in dom
    # the crawled <script> title is text in the DOM, never an element
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom and "<script>alert(1)</script>" not in dom


@pytest.mark.parametrize("path,params", [("/archive/articles", {"_search": "الحُكومة"}),
                                         ("/archive/search", {"q": "الحُكومة"})])
def test_arabic_search_results_render(server, profile, path, params):
    dom = dump_dom(server, profile, path, params)
    for ref in ("gov-1", "gov-2", "gov-3"):
        assert f'href="/archive/articles/{server.ids[ref]}"' in dom, ref
    for ref in ("court-1", "court-2"):
        assert f'href="/archive/articles/{server.ids[ref]}"' not in dom, ref


def test_article_page_dom(server, profile):
    dom = dump_dom(server, profile, f"/archive/articles/{server.ids['gov-1']}")
    assert '<h1 class="ak-headline" dir="auto">الحكومة تصادق على مشروع قانون المالية لسنة 2025</h1>' in dom
    assert dom.count('<p dir="auto">') >= 3
    assert 'class="ak-meta" dir="rtl"' in dom


def test_chart_renders_as_inline_svg(server, profile):
    dom = dump_dom(server, profile, "/-/akhbar/chart")
    assert "<svg" in dom and dom.count('class="series"') == 4


# -- screenshots ------------------------------------------------------------------------------------


def test_screenshots(server, profile):
    table = screenshot(server, profile, "/archive/articles", "table")
    article = screenshot(server, profile, f"/archive/articles/{server.ids['gov-1']}", "article")
    screenshot(server, profile, "/archive/search?" + urllib.parse.urlencode({"q": "رمضان"}), "search")
    screenshot(server, profile, "/-/akhbar/chart", "chart")
    assert read_png(table)[:2] == (1280, 900)

    # The article (headline + body, near-black ink) is right-aligned: every line ends at the same
    # right edge, and the short last line of a paragraph leaves room on its left.
    lines = text_lines(article, 200, 1100)  # "All fields" (x < 120) and blue/grey links are not near-black
    assert len(lines) >= 6, lines  # 2 headline lines + 5 body lines at 1280 px
    right_edge = max(right for _, right in lines)
    assert all(right >= right_edge - 12 for _, right in lines), lines
    lefts = [left for left, _ in lines]
    assert max(lefts) - min(lefts) > 200, lines  # ragged left side

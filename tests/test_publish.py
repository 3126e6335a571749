"""The published archive, end to end: a real `publish/serve.sh` Datasette over an archive built by
pipelines.store from tests/fixtures/search_articles.json, queried over HTTP."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from pipelines import arabic
from pipelines.registry import parse_source
from pipelines.dedup import refresh_story
from pipelines.store import Archive

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "search_articles.json"
DATA = json.loads(FIXTURE.read_text(encoding="utf-8"))
QUERIES = DATA["queries"]
SCRIPT_TITLE = "<script>alert(1)</script>"
IMG_PAYLOAD = "<img src=x onerror=alert(1)>"


OWN_DESCRIPTION = "ملخص: تدابير حكومية جديدة لمواجهة غلاء المعيشة"


def description_of(item: dict) -> str | None:
    """gov-1's description is its opening sentence, spaced differently (the body repeats it); gov-2 has its own."""
    if item["ref"] == "gov-1":
        return item["text"].splitlines()[0].replace(" ", "\n  ", 1)
    return OWN_DESCRIPTION if item["ref"] == "gov-2" else None


def build_archive(path: Path) -> dict[str, int]:
    """Write the fixture through the lead's store API; returns {fixture ref: article id}."""
    archive = Archive(path)
    archive.upsert_sources(parse_source(s) for s in DATA["sources"])
    domains = {s["id"]: s["domains"][0] for s in DATA["sources"]}
    ids: dict[str, int] = {}
    for n, item in enumerate(DATA["articles"], start=1):
        ids[item["ref"]] = archive.insert_article({
            "source": item["source"],
            "url": f"https://{domains[item['source']]}/{n}",
            "title": item["title"],
            "text": item["text"],
            "published": item["published"],
            "author": item["author"],
            "authors": [item["author"]] if item["author"] else [],
            "section": item["section"],
            "tags": [],
            "language": item["language"],
            "word_count": len(item["text"].split()),
            "description": description_of(item),
            "fetched_at": "2025-01-22T00:00:00+00:00",
        })
    archive.commit()
    stories: dict[str, list[int]] = {}
    for item in DATA["articles"]:
        if item["story"]:
            stories.setdefault(item["story"], []).append(ids[item["ref"]])
    with archive.item():  # the fixture's labelled stories, written as StoryIndex writes them
        for members in stories.values():
            archive.conn.executemany("UPDATE articles SET story_id = ? WHERE id = ?",
                                     [(min(members), article_id) for article_id in members])
            refresh_story(archive.conn, min(members))
    archive.commit()
    per_outlet = {}
    for source in ("hespress", "alyaoum24", "aljazeera", "le360", "mwn", "alakhbar"):
        per_outlet[source] = {"discovered": 10, "fetched": 10,
                              "stored": sum(a["source"] == source for a in DATA["articles"])}
    per_outlet["alyaoum24"]["stored"] = 0  # fetched pages, stored nothing: a silent outlet
    run = archive.start_run(list(per_outlet))
    archive.finish_run(run, "finished", "finished", per_outlet)
    archive.close()
    return ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base: str, ids: dict[str, int], process: subprocess.Popen):
        self.base, self.ids, self.process = base, ids, process

    def get(self, path: str, params: dict | None = None, method: str = "GET", data: bytes | None = None):
        url = self.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(url, method=method, data=data)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode("utf-8", "replace")

    def json(self, path: str, params: dict | None = None):
        status, _, body = self.get(path, params)
        assert status == 200, (path, params, status, body[:500])
        return json.loads(body)


def start_server(tmp: Path, name: str = "archive.db") -> Server:
    db = tmp / name
    ids = build_archive(db)
    port = free_port()
    log = open(tmp / "datasette.log", "wb")
    process = subprocess.Popen([str(ROOT / "publish" / "serve.sh"), str(db), str(port)],
                               cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((tmp / "datasette.log").read_text())
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=2).read()
            return Server(base, ids, process)
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("datasette did not start: " + (tmp / "datasette.log").read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_server(tmp_path_factory.mktemp("publish"))
    yield srv
    srv.process.terminate()
    srv.process.wait(timeout=10)


def refs_to_ids(server: Server, refs: list[str]) -> set[int]:
    return {server.ids[r] for r in refs}


# -- search through three routes -------------------------------------------------------------------


def table_json_ids(server: Server, q: str) -> set[int]:
    rows = server.json("/archive/articles.json", {"_search": q, "_shape": "array", "_size": "max", "_col": "title"})
    return {row["id"] for row in rows}


def canned_json_ids(server: Server, q: str) -> set[int]:
    rows = server.json("/archive/search.json", {"q": q, "_shape": "array"})
    return {row["id"] for row in rows}


def html_search_ids(server: Server, q: str) -> set[int]:
    status, _, html = server.get("/archive/articles", {"_search": q, "_size": "max"})
    assert status == 200
    return {int(i) for i in re.findall(r'<td class="col-Link[^"]*"[^>]*><a href="/archive/articles/(\d+)"', html)} | {
        int(i) for i in re.findall(r'<td class="col-id type-pk"><a href="/archive/articles/(\d+)"', html)}


def newest_json_ids(server: Server, q: str) -> set[int]:
    rows = server.json("/archive/search_latest.json", {"q": q, "_shape": "array"})
    # newest published first, as instants (offsets differ); undated articles last
    instants = [datetime.fromisoformat(row["published"]).timestamp() if row["published"] else float("-inf") for row in rows]
    assert instants == sorted(instants, reverse=True)
    return {row["id"] for row in rows}


ROUTES = {"table ?_search= JSON": table_json_ids, "search canned query JSON": canned_json_ids,
          "table ?_search= HTML": html_search_ids, "search_latest canned query JSON": newest_json_ids}


def test_fixture_has_enough_labelled_queries():
    kinds = " ".join(q["why"] for q in QUERIES)
    assert len(QUERIES) >= 20 and len(DATA["articles"]) >= 40
    for needle in ("diacritized", "hamza", "ى", "ة", "clitic", "two words", "French"):
        assert needle in kinds, needle


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("item", QUERIES, ids=[q["q"] for q in QUERIES])
def test_labelled_queries_find_expected_and_not_distractors(server, route, item):
    hits = ROUTES[route](server, item["q"])
    expected, distractors = refs_to_ids(server, item["expect"]), refs_to_ids(server, item["distractors"])
    assert expected <= hits, f"missing {sorted(r for r in item['expect'] if server.ids[r] not in hits)}"
    assert not hits & distractors, f"distractors {sorted(r for r in item['distractors'] if server.ids[r] in hits)}"


def test_raw_searchmode_shows_what_the_override_fixes(server):
    # Datasette's own behaviour with normalization bypassed: the diacritized query finds nothing.
    rows = server.json("/archive/articles.json", {"_search": "الحُكُومَة", "_searchmode": "raw", "_shape": "array"})
    assert rows == []
    assert table_json_ids(server, "الحُكُومَة") >= refs_to_ids(server, ["gov-1", "gov-2", "gov-3"])


def test_column_search_is_normalized_too(server):
    rows = server.json("/archive/articles.json", {"_search_title": "الحُكومة", "_shape": "array", "_col": "title"})
    assert {r["id"] for r in rows} == refs_to_ids(server, ["gov-1", "gov-2", "gov-3"])


@pytest.mark.parametrize("hostile", ["x') or 1=1 --", "الحكومة' union select 1 --", 'title: "الحكومة" OR *'])
def test_column_search_cannot_inject_sql_or_fts_syntax(server, hostile):
    status, _, body = server.get("/archive/articles.json", {"_search_title": hostile, "_shape": "array"})
    assert status == 200, body[:300]
    assert len(json.loads(body)) < len(DATA["articles"])


def test_search_with_fts_syntax_in_the_box_is_not_an_error(server):
    for q in ['"', "NEAR(", "a OR", "(", "title:x", "*", "-"]:
        status, _, body = server.get("/archive/articles.json", {"_search": q, "_shape": "array"})
        assert status == 200, (q, body[:300])
        status, _, body = server.get("/archive/search.json", {"q": q, "_shape": "array"})
        assert status == 200, (q, body[:300])
        status, _, body = server.get("/archive/search_latest.json", {"q": q, "_shape": "array"})
        assert status == 200, (q, body[:300])


def test_canned_search_ranks_and_shows_original_text(server):
    rows = server.json("/archive/search.json", {"q": "رمضان", "_shape": "array"})
    by_id = {r["id"]: r for r in rows}
    ramadan2 = by_id[server.ids["ramadan-2"]]
    assert "رَمَضَانَ" in ramadan2["excerpt"]  # original diacritized text, not the stemmed index
    assert set(ramadan2) == {"id", "title", "source", "published", "excerpt", "url"}
    # title matches outrank a body-only match
    order = [r["id"] for r in rows]
    assert order.index(server.ids["ramadan-1"]) < order.index(server.ids["prices-1"]) or \
        order.index(server.ids["ramadan-2"]) < order.index(server.ids["prices-1"])
    assert server.json("/archive/search.json", {"q": "", "_shape": "array"}) == []


def test_sql_functions_are_registered(server):
    rows = server.json("/archive.json", {
        "sql": "select ar_fts_query(:q) as f, ar_normalize(:q) as n, ar_search_text(:q) as s, escape_fts(:q) as e",
        "q": "بالرباطِ", "_shape": "array"})
    assert rows == [{"f": arabic.fts_query("بالرباطِ"), "n": "بالرباط", "s": "رباط", "e": arabic.fts_query("بالرباطِ")}]


# -- safety ----------------------------------------------------------------------------------------


def _assert_escaped(html: str):
    assert SCRIPT_TITLE not in html and IMG_PAYLOAD not in html
    assert "onerror=alert(1)>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_xss_payload_is_escaped_on_table_page(server):
    status, _, html = server.get("/archive/articles", {"_size": "max"})
    assert status == 200
    _assert_escaped(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_xss_payload_is_escaped_on_row_page(server):
    status, _, html = server.get(f"/archive/articles/{server.ids['xss']}")
    assert status == 200
    _assert_escaped(html)
    assert '<p dir="auto">&lt;img src=x onerror=alert(1)&gt;</p>' in html


@pytest.mark.parametrize("path,params", [("/archive/articles", {"_search": "اختباري"}),
                                         ("/archive/search", {"q": "عنوان اختباري"})])
def test_xss_payload_is_escaped_on_search_pages(server, path, params):
    status, _, html = server.get(path, params)
    assert status == 200
    assert f"/archive/articles/{server.ids['xss']}" in html
    _assert_escaped(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_security_headers(server):
    _, headers, _ = server.get("/archive/articles")
    headers = {k.lower(): v for k, v in headers.items()}
    assert "object-src 'none'" in headers["content-security-policy"]
    assert "img-src 'self' data:" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("sql", [
    "insert into articles (source, url, title) values ('hespress', 'https://x.test/1', 'x')",
    "delete from articles",
    "update articles set title = 'pwned'",
    "with x as (select 1) delete from articles",
    "select 1; delete from articles",
    "drop table articles",
    "pragma journal_mode=delete",
    "attach database '/tmp/evil.db' as evil",
])
def test_writes_through_sql_are_refused(server, sql):
    before = server.json("/archive.json", {"sql": "select count(*) as n, max(title) as t from articles",
                                           "_shape": "array"})
    status, _, body = server.get("/archive.json", {"sql": sql})
    assert status != 200 or json.loads(body).get("ok") is False, body[:300]
    after = server.json("/archive.json", {"sql": "select count(*) as n, max(title) as t from articles",
                                          "_shape": "array"})
    assert after == before


def test_canned_queries_are_read_only(server):
    status, _, _ = server.get("/archive/search", method="POST", data=b"q=x")
    assert status == 405
    queries = server.json("/archive.json")["queries"]
    assert {q["name"] for q in queries} == {"search", "search_latest", "latest", "per_outlet_per_day", "top_stories",
                                                "silent_outlets", "outlet_health"}
    assert not any(q.get("write") for q in queries)


def test_database_download_is_refused(server):
    status, _, _ = server.get("/archive.db")
    assert status == 403


def test_settings(server):
    settings = server.json("/-/settings.json")
    assert settings["default_allow_sql"] is True
    assert settings["sql_time_limit_ms"] == 2000
    assert settings["max_returned_rows"] == 1000
    assert settings["allow_download"] is False
    assert settings["allow_csv_stream"] is True


def test_runaway_sql_is_interrupted(server):
    start = time.monotonic()
    status, _, body = server.get("/archive.json", {
        "sql": "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"})
    assert time.monotonic() - start < 10
    assert status == 400 and "interrupted" in body.lower()


# -- pages, facets, canned queries, chart ---------------------------------------------------------------


def test_table_json_has_configured_facets(server):
    data = server.json("/archive/articles.json", {"_search": "الحكومة"})
    assert {"source", "language", "section", "published_day"} <= set(data["facet_results"])
    sources = {f["value"] for f in data["facet_results"]["source"]["results"]}
    assert {"hespress", "alyaoum24", "aljazeera"} <= sources
    assert "sorted by search_key descending" in data["human_description_en"]


def test_table_and_its_search_list_newest_published_first(server):
    """search_key is publication order: the table page, searched or not, lists the newest instant first."""
    for params in ({}, {"_search": "الحكومة"}):
        rows = server.json("/archive/articles.json", {**params, "_shape": "array", "_size": "max"})
        assert len(rows) >= (3 if params else len(DATA["articles"]))
        instants = [datetime.fromisoformat(r["published"]).timestamp() if r["published"] else float("-inf") for r in rows]
        assert instants == sorted(instants, reverse=True)


def test_internal_tables_hidden(server):
    tables = {t["name"]: t["hidden"] for t in server.json("/archive.json")["tables"]}
    assert tables["articles"] is False and tables["sources"] is False and tables["captures"] is False
    assert tables["articles_search"] is True
    assert all(hidden for name, hidden in tables.items() if name.startswith("articles_search_fts"))
    assert tables["article_minhash"] is True and tables["lsh_buckets"] is True


def test_home_page_links_css_chart_and_search(server):
    status, _, html = server.get("/")
    assert status == 200
    assert "أخبار Akhbar" in html
    assert 'href="/assets/akhbar.css"' in html
    assert 'href="/-/akhbar/chart"' in html and 'href="/archive/search"' in html
    status, headers, css = server.get("/assets/akhbar.css")
    assert status == 200 and "unicode-bidi: plaintext" in css and "text-align: start" in css
    assert 'dir="rtl"' not in html and "dir=rtl" not in css.replace(" ", "")


def test_arabic_cells_carry_dir_auto(server):
    _, _, html = server.get("/archive/articles")
    assert '<div class="ak-cell" dir="auto">الحكومة تصادق على مشروع قانون المالية لسنة 2025</div>' in html
    assert '<div class="ak-cell" dir="auto">Le gouvernement' not in html  # Latin-only cells left alone
    _, _, html = server.get("/archive/search", {"q": "الحكومة"})
    assert f'<a href="/archive/articles/{server.ids["gov-1"]}"><div class="ak-cell" dir="auto">' in html


def test_article_row_page_is_readable(server):
    status, _, html = server.get(f"/archive/articles/{server.ids['gov-1']}")
    assert status == 200
    assert '<h1 class="ak-headline" dir="auto">الحكومة تصادق على مشروع قانون المالية لسنة 2025</h1>' in html
    assert ">هسبريس</a>" in html and "محمد بلقاسم" in html and 'datetime="2025-01-16T18:40:00+01:00"' in html
    assert ">2025-01-16 18:40</time>" in html
    body = re.search(r'<div class="ak-body">(.*?)</div>\s*</div>', html, re.S).group(1)
    assert body.count('<p dir="auto">') == 3
    assert '<p dir="auto">ويراهن المشروع على نسبة نمو في حدود 4.6 في المائة.</p>' in body
    # the table view truncates long Arabic cells instead
    _, _, table = server.get("/archive/articles")
    assert '<p dir="auto">' not in table


def test_article_page_shows_the_description_unless_the_body_opens_with_it(server):
    _, _, html = server.get(f"/archive/articles/{server.ids['gov-1']}")
    assert 'class="ak-description"' not in html
    _, _, html = server.get(f"/archive/articles/{server.ids['gov-2']}")
    assert f'<p class="ak-description" dir="auto">{OWN_DESCRIPTION}</p>' in html


def test_latest_top_stories_per_day(server):
    latest = server.json("/archive/latest.json", {"_shape": "array"})
    assert len(latest) == len(DATA["articles"])
    assert latest[0]["id"] == server.ids["isr-2"]
    # ordered by instant across time zones: 12:00+03:00 (09:00Z) comes after 10:30+01:00 (09:30Z)
    instants = [datetime.fromisoformat(r["published"]) for r in latest]
    assert instants == sorted(instants, reverse=True)
    order = [r["id"] for r in latest]
    assert order.index(server.ids["prices-2"]) < order.index(server.ids["ramadan-2"])

    stories = server.json("/archive/top_stories.json", {"_shape": "array", "days": "30"})
    assert stories[0]["id"] == server.ids["gov-1"] and stories[0]["outlets"] == 3
    assert stories[0]["sources"] == "alyaoum24, hespress, le360"

    days = server.json("/archive/per_outlet_per_day.json", {"_shape": "array", "days": "30"})
    window_start = date(2025, 1, 21) - timedelta(days=29)
    expected = sum(date.fromisoformat(a["published"][:10]) >= window_start for a in DATA["articles"])
    assert sum(r["articles"] for r in days) == expected
    assert days[0]["day"] == "2025-01-21"


def test_silent_outlets(server):
    rows = server.json("/archive/silent_outlets.json", {"_shape": "array", "days": "7"})
    why = {r["source"]: r["why"] for r in rows}
    assert why == {"alakhbar": "no articles", "mwn": "no recent article",
                   "alyaoum24": "nothing stored in its latest runs"}


def _expected_outlets(days: int) -> set[str]:
    newest = max(date.fromisoformat(a["published"][:10]) for a in DATA["articles"])
    start = newest - timedelta(days=days - 1)
    return {a["source"] for a in DATA["articles"] if date.fromisoformat(a["published"][:10]) >= start}


@pytest.mark.parametrize("days", [30, 90])
def test_chart_svg_has_one_series_per_outlet(server, days):
    status, headers, body = server.get("/-/akhbar/chart.svg", {"days": str(days)})
    assert status == 200 and headers["content-type"].startswith("image/svg+xml")
    svg = ET.fromstring(body)
    ns = {"s": "http://www.w3.org/2000/svg"}
    series = svg.findall("s:g[@class='series']", ns)
    assert {g.get("data-source") for g in series} == _expected_outlets(days)
    assert len(series) == len(_expected_outlets(days))
    for g in series:
        assert len(g.find("s:polyline", ns).get("points").split()) == days
    legend = " ".join("".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "هسبريس" in legend and "<script" not in body


def test_chart_page_inlines_svg(server):
    status, _, html = server.get("/-/akhbar/chart")
    assert status == 200
    assert "<svg" in html and html.count('<g class="series"') == len(_expected_outlets(30))
    assert 'href="/assets/akhbar.css"' in html
    status, _, _ = server.get("/-/akhbar/chart", {"db": "nope"})
    assert status == 404


def test_serve_script_accepts_any_file_name(tmp_path):
    srv = start_server(tmp_path, name="snapshot-2025.db")
    try:
        assert srv.json("/archive/search.json", {"q": "الحكومة", "_shape": "array"})
        assert [d["name"] for d in srv.json("/-/databases.json")] == ["archive"]
        assert srv.get("/archive.db")[0] == 403
    finally:
        srv.process.terminate()
        srv.process.wait(timeout=10)

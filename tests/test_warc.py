"""WARC export (pipelines/warc.py) of an archive filled by two real crawls of the corpus pages.

The second crawl's sitemap announces every page as modified, so the crawler fetches each page
again: the same payloads are captured twice, and the export must turn the second captures
into revisit records. The files are checked by warcio's own command-line tools.
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipelines.store import Archive, Capture
from pipelines.warc import export_warc, payload_digest, still_encoded
from tests.conftest import CORPUS, ROOT, rows
from tests.sites import SiteServer
from tests.test_reextract import CRAWLED, LATE, STUB, build_site, crawl_site

WARCIO = ROOT / ".venv" / "bin" / "warcio"
PAGES = {r["file"]: (CORPUS / "pages" / r["file"]).read_bytes() for r in CRAWLED}
PAGES["stub.html"] = STUB
PAGES["late.html"] = (CORPUS / "pages" / LATE["file"]).read_bytes()  # served gzip-encoded
LATE_GZ = gzip.compress(PAGES["late.html"], mtime=0)


@pytest.fixture(scope="module")
def twice_crawled(tmp_path_factory):
    site = tmp_path_factory.mktemp("warc-site")
    db = site.parent / "twice.db"
    (site / "late.gz").write_bytes(LATE_GZ)
    (site / "_routes.yml").write_text(
        "/late.html: {body_file: late.gz, content_type: 'text/html; charset=utf-8',"
        " headers: {Content-Encoding: gzip}}\n", encoding="utf-8")
    build_site(site, extra=("late.html",))
    with SiteServer(site) as server:
        crawl_site(site, db, server)
        build_site(site, lastmod="2099-01-01", extra=("late.html",))  # every page "changed since": fetched again
        crawl_site(site, db, server)
        log = list(server.log)
    return db, log


def read_warc(path: Path) -> list[dict]:
    records = []
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            records.append({
                "type": record.rec_type,
                "headers": dict(record.rec_headers.headers),
                "http": record.http_headers,
                "payload": record.content_stream().read(),
            })
    return records


def warcio(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(WARCIO), *args], capture_output=True, text=True, timeout=120)


def test_same_payload_was_captured_twice(twice_crawled):
    db, log = twice_crawled
    fetched = Counter(path for _, path, _ in log if path.endswith(".html"))
    assert fetched == {f"/{name}": 2 for name in PAGES}
    assert rows(db, "SELECT COUNT(*) AS n FROM captures")[0]["n"] == 2 * len(PAGES)
    assert rows(db, "SELECT COUNT(DISTINCT body_sha1) AS n FROM captures")[0]["n"] == len(PAGES)
    # Scrapy decoded the gzip page and dropped Content-Encoding, but kept the wire Content-Length
    [late] = rows(db, "SELECT headers, body_size FROM captures WHERE final_url LIKE '%/late.html' LIMIT 1")
    headers = {k.lower(): v for k, v in json.loads(late["headers"]).items()}
    assert late["body_size"] == len(PAGES["late.html"]) and "content-encoding" not in headers
    assert headers["content-length"] == str(len(LATE_GZ))
    # the refetch updated the articles to their second capture
    assert {r["run_id"] for r in rows(db, "SELECT c.run_id FROM articles a JOIN captures c ON c.id = a.capture_id")} == {2}


def test_export_passes_warcio_check_and_index(twice_crawled, tmp_path):
    db, _ = twice_crawled
    out = tmp_path / "akhbar.warc.gz"
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.warc", str(db), str(out)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"{2 * len(PAGES)} capture(s), {len(PAGES)} response(s), {len(PAGES)} revisit(s)" in result.stdout
    assert not out.with_name(out.name + ".part").exists()

    check = warcio("check", "-v", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 1 + 2 * 2 * len(PAGES) + len(PAGES)  # all but the revisits
    assert check.stdout.count("digest present but not checked (revisit)") == len(PAGES)

    index = warcio("index", "-f", "warc-type,warc-target-uri,warc-date", str(out))
    assert index.returncode == 0, index.stderr
    entries = [json.loads(line) for line in index.stdout.splitlines()]
    assert entries[0]["warc-type"] == "warcinfo"
    captures = rows(db, "SELECT final_url, fetched_at FROM captures ORDER BY id")
    by_uri: dict[str, Counter] = {}
    for entry in entries[1:]:
        by_uri.setdefault(entry["warc-target-uri"], Counter())[entry["warc-type"]] += 1
    assert set(by_uri) == {c["final_url"] for c in captures}
    for uri, kinds in by_uri.items():
        assert kinds == {"request": 2, "response": 1, "revisit": 1, "metadata": 2}, uri
    # records come capture by capture, oldest first, dated by the fetch
    triples = [entries[i:i + 3] for i in range(1, len(entries), 3)]
    assert len(triples) == len(captures)
    for capture, triple in zip(captures, triples):
        assert [e["warc-type"] for e in triple][0] == "request" and triple[2]["warc-type"] == "metadata"
        assert {e["warc-target-uri"] for e in triple} == {capture["final_url"]}
        assert triple[1]["warc-date"] == capture["fetched_at"].replace("+00:00", "Z")

    # the file is a series of gzip members, one per record
    assert gzip.open(out).read(9) == b"WARC/1.1\r"


def test_records_carry_the_archive(twice_crawled, tmp_path):
    db, _ = twice_crawled
    out = tmp_path / "corpus.warc.gz"
    report = export_warc(db, out, source="corpus")
    assert (report.captures, report.responses, report.revisits) == (2 * len(PAGES), len(PAGES), len(PAGES))
    records = read_warc(out)
    info = records[0]
    assert info["type"] == "warcinfo" and b"WARC File Format 1.1" in info["payload"]
    info_id = info["headers"]["WARC-Record-ID"]

    articles = {r["capture_id"]: r for r in rows(db, "SELECT id, url, capture_id FROM articles")}
    article_by_url = {r["url"]: r["id"] for r in rows(db, "SELECT id, url FROM articles")}
    first_response: dict[str, dict] = {}
    for request, main, meta in (records[i:i + 3] for i in range(1, len(records), 3)):
        uri = main["headers"]["WARC-Target-URI"]
        name = uri.rsplit("/", 1)[1]
        for record in (request, main, meta):
            assert record["headers"]["WARC-Warcinfo-ID"] == info_id
            assert record["headers"]["WARC-Target-URI"] == uri
        main_id = main["headers"]["WARC-Record-ID"]

        assert request["type"] == "request" and request["headers"]["WARC-Concurrent-To"] == main_id
        assert request["http"].protocol == "GET" and request["http"].statusline.startswith(f"/{name} HTTP/1.1")
        assert request["http"].get_header("User-Agent").startswith("AkhbarArchiveBot/")
        assert request["http"].get_header("Referer").endswith("/sitemap.xml")

        assert (main["http"].protocol, main["http"].statusline) == ("HTTP/1.1", "200 OK")
        assert main["http"].get_header("Content-Length") == str(len(PAGES[name]))
        wire_length = str(len(LATE_GZ)) if name == "late.html" else str(len(PAGES[name]))
        assert main["http"].get_header("X-Archive-Orig-Content-Length") == wire_length
        assert main["http"].get_header("Content-Encoding") is None
        assert main["http"].get_header("Transfer-Encoding") is None
        digest = main["headers"]["WARC-Payload-Digest"]
        if main["type"] == "response":
            assert main["payload"] == PAGES[name]  # the body byte for byte, nothing decoded twice
            assert uri not in first_response
            first_response[uri] = main["headers"]
        else:
            assert main["type"] == "revisit" and main["payload"] == b""
            original = first_response[uri]
            assert main["headers"]["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
            assert main["headers"]["WARC-Refers-To-Target-URI"] == original["WARC-Target-URI"]
            assert main["headers"]["WARC-Refers-To-Date"] == original["WARC-Date"]
            assert main["headers"]["WARC-Refers-To"] == original["WARC-Record-ID"]
            assert digest == original["WARC-Payload-Digest"]
            assert main["headers"]["WARC-Date"] > original["WARC-Date"]

        assert meta["type"] == "metadata" and meta["headers"]["Content-Type"] == "application/json"
        assert meta["headers"]["WARC-Concurrent-To"] == main_id
        data = json.loads(meta["payload"])
        capture = rows(db, "SELECT * FROM captures WHERE id = ?", (data["capture_id"],))[0]
        assert (data["final_url"], data["run_id"], data["outlet"]) == (uri, capture["run_id"], {"id": "corpus", "name": "مدونة الاختبار"})
        assert digest == payload_digest(capture["body_sha1"]) == payload_digest(data["body_sha1"])
        assert data["hints"]["via"].endswith("/sitemap.xml") and json.loads(capture["hints"]) == data["hints"]
        if name == "stub.html":
            assert data["article_id"] is None and data["extraction_error"] in ("empty", "not_article")
        else:
            assert data["article_id"] == article_by_url[uri]
            assert data["extracted_from_this_capture"] == (data["capture_id"] in articles)
            assert data["extraction_error"] is None
    assert len(first_response) == len(PAGES)

    assert export_warc(db, tmp_path / "none.warc.gz", source="nosuch").captures == 0


def test_headers_describe_the_stored_body(tmp_path):
    """Planted captures: stale wire headers are renamed; a coding the body still has is kept."""
    db = tmp_path / "planted.db"
    body = (CORPUS / "pages" / CRAWLED[0]["file"]).read_bytes()
    stale = {"Content-Type": "text/html; charset=UTF-8", "Content-Encoding": "gzip",
             "Transfer-Encoding": "chunked", "Content-Length": "1234", "Server": "nginx"}
    archive = Archive(db)
    for second in (1, 2):  # the same decoded payload twice: a response, then a revisit
        archive.add_capture(Capture(
            url="https://example.com/a?utm_source=x", final_url="https://example.com/a", status=200,
            headers=stale, body=body, fetched_at=f"2024-03-01T10:00:0{second}+00:00", hints={},
        ), run_id=None)
    encoded = gzip.compress(body, mtime=0)  # e.g. a coding Scrapy could not undo: the body still has it
    archive.add_capture(Capture(
        url="https://example.com/b", final_url="https://example.com/b", status=200,
        headers={"Content-Type": "text/html", "Content-Encoding": "gzip", "Content-Length": str(len(encoded))},
        body=encoded, fetched_at="2024-03-01T10:00:03Z", hints={},
    ), run_id=None)
    archive.commit()
    archive.add_capture(Capture(  # a crawl's batch still open while the export runs
        url="https://example.com/c", final_url="https://example.com/c", status=200, headers={},
        body=b"<html>later</html>", fetched_at="2024-03-01T10:00:04Z"), run_id=None)

    out = tmp_path / "planted.warc.gz"
    report = export_warc(db, out)  # neither blocks nor sees the uncommitted capture
    archive.close()
    assert (report.captures, report.responses, report.revisits) == (3, 2, 1)
    check = warcio("check", "-v", str(out))
    assert check.returncode == 0 and check.stdout.count("digest pass") == 1 + 3 + 2 + 3, check.stdout
    records = read_warc(out)
    first, revisit, second = (r for r in records if r["type"] in ("response", "revisit"))

    http = first["http"]
    assert first["payload"] == body
    assert http.get_header("Content-Length") == str(len(body))
    assert http.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert http.get_header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    assert http.get_header("X-Archive-Orig-Content-Length") == "1234"
    assert http.get_header("Content-Encoding") is None and http.get_header("Transfer-Encoding") is None
    assert http.get_header("Server") == "nginx"
    assert first["headers"]["WARC-Date"] == "2024-03-01T10:00:01Z"
    assert revisit["type"] == "revisit" and revisit["headers"]["WARC-Refers-To-Date"] == "2024-03-01T10:00:01Z"

    assert second["http"].get_header("Content-Encoding") == "gzip"  # true of the stored bytes: kept
    assert second["http"].get_header("Content-Length") == str(len(encoded))
    assert second["payload"] == body  # warcio undoes the coding the record declares

    meta = json.loads(next(r for r in records if r["type"] == "metadata")["payload"])
    assert (meta["requested_url"], meta["article_id"], meta["outlet"]) == (
        "https://example.com/a?utm_source=x", None, {"id": None, "name": None})
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM captures").fetchone()[0] == 4  # the export only reads
    conn.close()


def test_still_encoded():
    html = b"<!DOCTYPE html><html></html>"
    assert not still_encoded(html, "gzip") and still_encoded(gzip.compress(html), "gzip")
    assert not still_encoded(html, "deflate") and still_encoded(zlib.compress(html), "deflate")
    assert not still_encoded(html, "identity") and still_encoded(html, "br")
    assert still_encoded(gzip.compress(html), "br, gzip")  # the outermost coding is the last one

"""Export the archive's captures as a WARC 1.1 file, the format web archives exchange.

    python -m pipelines.warc archive.db out.warc.gz [--source ID]

The file opens with a `warcinfo` record, then for each capture, oldest first:

- `request`: the GET the crawler sent, reconstructed (the archive keeps no request headers):
  request line, Host, the crawler's User-Agent, Scrapy's default Accept/Accept-Language, and the
  Referer the crawler set (the feed or sitemap that listed the page).
- `response`: status line, the response headers and the body exactly as stored; or, when the
  same payload (sha1) was already written earlier in this file, a `revisit` record (profile
  identical-payload-digest, WARC-Refers-To-Target-URI/-Date/WARC-Refers-To) with headers only.
- `metadata`: JSON with the outlet, run id, requested and final URL, discovery hints, and the
  article the capture became (if any), or the extraction error it gave.

Each record is its own gzip member (`.warc.gz`), so tools can seek to any record.

Why some headers change: the stored body is what Scrapy handed to the spider. Its HTTP client
has undone chunked transfer coding, and HttpCompressionMiddleware has undone gzip/deflate/br/zstd
content coding and then deleted `Content-Encoding`; but `Content-Length` (and any
`Transfer-Encoding`) still describe the bytes on the wire. A WARC reader would cut or pad the
payload at a stale length, de-chunk plain HTML, or gunzip it if a stale `Content-Encoding`
came from another writer. So `Transfer-Encoding` and `Content-Length` are always renamed
`X-Archive-Orig-<name>` (the pywb/warcprox convention: nothing is lost, nothing misleads) and
the stored body's length is written. A `Content-Encoding` that is still there is normally
true (Scrapy keeps only the codings it could not undo, e.g. br without a brotli library, and
then the stored bytes are still encoded), so it is kept, unless the body plainly is not in
that coding (no gzip/zstd magic, no zlib header), in which case it is renamed too. The
payload digest is thus the archive's `body_sha1`. The HTTP version was not recorded; HTTP/1.1
is written.

Reads through its own read-only connection in one read transaction (one consistent WAL
snapshot), so an export can run while a crawl writes; the file is written under `<out>.part` and renamed when
complete.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sqlite3
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from importlib.metadata import version
from io import BytesIO
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.store import decompress

# The crawler's User-Agent (crawler/settings.py USER_AGENT with the default AKHBAR_CONTACT);
# pipelines/ never imports the crawler, so it is repeated here and can be overridden.
DEFAULT_USER_AGENT = "AkhbarArchiveBot/0.1 (+https://github.com/akhbar-archive/akhbar)"
# Scrapy's DEFAULT_REQUEST_HEADERS, which the crawler does not change.
REQUEST_HEADERS = (
    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
    ("Accept-Language", "en"),
)
WARC_1_1 = "WARC/1.1"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"


@dataclass
class ExportReport:
    captures: int = 0
    responses: int = 0
    revisits: int = 0
    payload_bytes: int = 0  # uncompressed bodies written in response records
    file_bytes: int = 0

    def summary(self, out: str | Path) -> str:
        return (f"wrote {out}: {self.captures} capture(s), {self.responses} response(s), {self.revisits} revisit(s),"
                f" {self.payload_bytes / 1e6:.1f} MB of payload in {self.file_bytes / 1e6:.1f} MB")


def warc_date(value: str) -> str:
    """An ISO 8601 instant as a WARC 1.1 date: UTC, `Z`, fractional seconds only when present."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone(timezone.utc)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{when.microsecond:06d}" if when.microsecond else "") + "Z"


def payload_digest(sha1_hex: str) -> str:
    """The archive's hex sha1 as a WARC digest (`sha1:` + base32), as warcio computes it."""
    return "sha1:" + base64.b32encode(bytes.fromhex(sha1_hex)).decode("ascii")


def response_headers(status: int, headers: Mapping[str, str], body: bytes) -> StatusAndHeaders:
    """HTTP status line and headers describing the stored body; see the module docstring."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    fields: list[tuple[str, str]] = []
    for name, value in headers.items():
        lower = name.lower()
        stale = lower in ("transfer-encoding", "content-length") or (
            lower == "content-encoding" and not still_encoded(body, value)
        )
        fields.append((f"X-Archive-Orig-{name}" if stale else name, value))
    fields.append(("Content-Length", str(len(body))))
    return StatusAndHeaders(f"{status} {reason}".strip(), fields, protocol="HTTP/1.1")


def still_encoded(body: bytes, content_encoding: str) -> bool:
    """Whether `body` can still be in the outermost coding `Content-Encoding` names.

    Checked by magic bytes where the coding has them (gzip, zstd, a zlib header for deflate);
    other codings (br, compress, unknown) are taken at their word.
    """
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    if not codings or codings[-1] == "identity":
        return False
    outer = codings[-1]
    if outer in ("gzip", "x-gzip"):
        return body[:2] == b"\x1f\x8b"
    if outer == "zstd":
        return body[:4] == b"\x28\xb5\x2f\xfd"
    if outer == "deflate":
        if len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0:
            return True  # a zlib header (RFC 1950)
        return not body.lstrip()[:1] == b"<"  # raw deflate has no magic; markup is plainly decoded
    return True


def request_headers(url: str, user_agent: str, referer: str | None) -> StatusAndHeaders:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    fields = [("Host", parts.netloc), ("User-Agent", user_agent), *REQUEST_HEADERS]
    if referer:
        fields.append(("Referer", referer))
    return StatusAndHeaders(f"GET {target} HTTP/1.1", fields, is_http_request=True)


# Derived tables instead of correlated subqueries: errors.url has no index, and SQLite builds a
# temporary one on each derived table once per export (articles.capture_id has one: articles_capture).
CAPTURES_SQL = """
SELECT c.id, c.run_id, c.source, s.name AS source_name, c.url, c.final_url, c.status, c.headers, c.fetched_at,
       c.body, c.codec, c.body_sha1, c.hints,
       COALESCE(own.article_id,
                (SELECT u.article_id FROM article_urls u WHERE u.url = c.final_url),
                (SELECT u.article_id FROM article_urls u WHERE u.url = c.url)) AS article_id,
       own.article_id IS NOT NULL AS extracted_from_this,
       e.kind AS error_kind
FROM captures c
LEFT JOIN sources s ON s.id = c.source
LEFT JOIN (SELECT capture_id, MIN(id) AS article_id FROM articles WHERE capture_id IS NOT NULL GROUP BY capture_id) own
       ON own.capture_id = c.id
LEFT JOIN (SELECT run_id, url, MAX(id) AS error_id FROM errors GROUP BY run_id, url) last_error
       ON last_error.run_id = c.run_id AND last_error.url = c.final_url
LEFT JOIN errors e ON e.id = last_error.error_id
{where}
ORDER BY c.id
"""


def export_warc(db: str | Path, out: str | Path, *, source: str | None = None,
                user_agent: str = DEFAULT_USER_AGENT) -> ExportReport:
    """Write every capture of `db` (or of one outlet) to the WARC file `out`; see the module docstring."""
    db, out = Path(db), Path(out)
    if not db.exists():
        raise FileNotFoundError(f"{db}: no such archive")
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("BEGIN")  # one read transaction: both queries see the same snapshot
    where, params = ("WHERE c.source = ?", [source]) if source else ("", [])
    # Payloads stored more than once: only their first record needs remembering (memory stays
    # proportional to duplicates, not to the archive).
    repeated = {
        row[0] for row in conn.execute(
            f"SELECT c.body_sha1 FROM captures c {where} GROUP BY c.body_sha1 HAVING COUNT(*) > 1", params
        )
    }
    first_seen: dict[str, tuple[str, str, str]] = {}  # sha1 -> (uri, WARC-Date, WARC-Record-ID)
    report = ExportReport()
    partial = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(partial, "wb") as stream:
            writer = WARCWriter(stream, gzip=True, warc_version=WARC_1_1)
            info = writer.create_warcinfo_record(out.name, {
                "software": f"Akhbar pipelines.warc, warcio {version('warcio')}",
                "format": "WARC File Format 1.1",
                "conformsTo": CONFORMS_TO,
                "isPartOf": db.stem,
                "description": "Arabic news pages captured by the Akhbar crawler"
                               + (f" (outlet {source})" if source else ""),
                "robots": "obey",
                "http-header-user-agent": user_agent,
                "exported-at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            })
            writer.write_record(info)
            info_id = info.rec_headers.get_header("WARC-Record-ID")
            for row in conn.execute(CAPTURES_SQL.format(where=where), params):
                _write_capture(writer, row, info_id, user_agent, repeated, first_seen, report)
        report.file_bytes = partial.stat().st_size
        os.replace(partial, out)
    finally:
        conn.close()
        if partial.exists():
            partial.unlink()
    return report


def _write_capture(writer: WARCWriter, row: sqlite3.Row, info_id: str, user_agent: str, repeated: set[str],
                   first_seen: dict[str, tuple[str, str, str]], report: ExportReport) -> None:
    uri, date, sha1 = row["final_url"], warc_date(row["fetched_at"]), row["body_sha1"]
    hints = json.loads(row["hints"]) if row["hints"] else {}
    headers = json.loads(row["headers"] or "{}")
    common = {"WARC-Date": date, "WARC-Warcinfo-ID": info_id}
    body = decompress(row["body"], row["codec"])
    http = response_headers(row["status"], headers, body)

    original = first_seen.get(sha1) if body else None
    if original:
        ref_uri, ref_date, ref_id = original
        main = writer.create_revisit_record(
            uri, payload_digest(sha1), ref_uri, ref_date, http_headers=http,
            warc_headers_dict={**common, "WARC-Refers-To": ref_id},
        )
        report.revisits += 1
    else:
        main = writer.create_warc_record(
            uri, "response", payload=BytesIO(body), length=len(body), http_headers=http,
            warc_headers_dict={**common, "WARC-Payload-Digest": payload_digest(sha1)},
        )
        report.responses += 1
        report.payload_bytes += len(body)
    main_id = main.rec_headers.get_header("WARC-Record-ID")
    if sha1 in repeated and not original:
        first_seen[sha1] = (uri, date, main_id)

    request = writer.create_warc_record(
        uri, "request", http_headers=request_headers(uri, user_agent, hints.get("via")),
        warc_headers_dict={**common, "WARC-Concurrent-To": main_id},
    )
    metadata = {
        "capture_id": row["id"],
        "outlet": {"id": row["source"], "name": row["source_name"]},
        "run_id": row["run_id"],
        "requested_url": row["url"],
        "final_url": uri,
        "fetched_at": row["fetched_at"],
        "hints": hints,
        "article_id": row["article_id"],
        "extracted_from_this_capture": bool(row["extracted_from_this"]),
        "extraction_error": row["error_kind"] if not row["extracted_from_this"] else None,
        "body_sha1": sha1,
    }
    payload = json.dumps(metadata, ensure_ascii=False, sort_keys=True).encode("utf-8")
    meta = writer.create_warc_record(
        uri, "metadata", payload=BytesIO(payload), length=len(payload), warc_content_type="application/json",
        warc_headers_dict={**common, "WARC-Refers-To": main_id, "WARC-Concurrent-To": main_id},
    )
    for record in (request, main, meta):
        writer.write_record(record)
    report.captures += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.warc",
                                     description="Export the archive's captures as WARC 1.1 (.warc.gz).")
    parser.add_argument("db", help="the SQLite archive")
    parser.add_argument("out", help="output file, e.g. akhbar.warc.gz")
    parser.add_argument("--source", help="only this outlet id")
    parser.add_argument("--user-agent", default=DEFAULT_USER_AGENT, help="User-Agent of the reconstructed requests")
    args = parser.parse_args(argv)
    try:
        report = export_warc(args.db, args.out, source=args.source, user_agent=args.user_agent)
    except FileNotFoundError as exc:
        print(f"warc: {exc}", file=sys.stderr)
        return 2
    print(report.summary(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

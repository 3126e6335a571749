"""Serve the fictional fixture outlets (tests/fixtures/sites/<site>/) over real HTTP.

Used by the tests and by `make demo`, so the crawler is exercised end to end
against pages with known answers, without touching the network.

    with SiteServer(Path("tests/fixtures/sites/alwaha")) as site:
        urllib.request.urlopen(site.base + "/feed")

    python -m tests.sites serve --port 8101 tests/fixtures/sites/alwaha tests/fixtures/sites/sahil ...

URL path -> file (first hit wins; a path with `..` or a `_`-prefixed segment is 404):
  1. a route in `root/_routes.yml` whose key is the path with its query, the path, or the path
     with/without its trailing slash; a route may give `body_file` (relative to root), `status`,
     `content_type`, `headers` (mapping), `delay` (seconds before any byte), `statuses` (a list:
     the status of the 1st, 2nd, ... request for that path, the last one repeating; e.g. [429, 200]);
     other keys (`note`, `encoding`) are documentation only;
  2. `?page=N` (N >= 2) on a folder holding `page-*.html` files -> `<path>/page-N.html`, or 404
     past the last page; elsewhere the query is ignored;
  3. the file itself; `X.gz` is also served from `X.gz.src`, templated then gzipped;
  4. `<path>.html`, `<path>.xml` (paths without a trailing slash), then `<path>/index.html`,
     `<path>/index.xml`; e.g. /feed -> feed/index.xml, /feed/broken -> feed/broken.xml,
     /section/politics -> section/politics/index.html, /section/politics?page=2 ->
     section/politics/page-2.html, /article/1/x -> article/1/x.html.
  Other query strings are ignored (like a real site ignoring utm_*). Unknown paths -> 404.

Templating: in text files (.html .htm .xml .txt .rss .atom .yml .json, and `.src` sources)
`{{BASE}}` becomes e.g. `http://127.0.0.1:8123` and `{{HOSTPORT}}` becomes `127.0.0.1:8123`.
Replacement is done on bytes, so legacy-encoded pages (windows-1256, ISO-8859-6) stay intact.
`source.yml` (the site's registry entry) and `_routes.yml` are never served.

What the server saw: `log` is (method, path, status) per request; `requests` adds the User-Agent and
when the request arrived and when the server began to answer (time.monotonic()); `max_in_flight` is
the most requests the server held at once (from arrival until the answer begins, so never more than
the client had open).
"""

from __future__ import annotations

import argparse
import gzip
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any, Iterable
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

TEXT_EXT = {".html", ".htm", ".xml", ".txt", ".rss", ".atom", ".yml", ".json"}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".yml": "text/yaml; charset=utf-8",
    ".gz": "application/gzip",
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".css": "text/css",
    ".js": "application/javascript",
}
HIDDEN = {"source.yml"}
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sites"
DEMO_ORDER = ("alwaha", "sahil", "mashriq")  # default `serve` order: ports --port, --port+1, ...


def render(data: bytes, base: str, hostport: str) -> bytes:
    """Replace the placeholders in a text file's bytes."""
    return data.replace(b"{{BASE}}", base.encode("ascii")).replace(b"{{HOSTPORT}}", hostport.encode("ascii"))


class _Handler(BaseHTTPRequestHandler):
    server_version = "akhbar-fixture/1.0"
    site: "SiteServer"  # set on the per-server subclass

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self, head: bool) -> None:
        # logged on receipt, so the entry exists before the client sees any byte (and for slow pages)
        entry = self.site._arrive(self.command, self.path, self.headers.get("User-Agent"))
        try:
            status, headers, body, delay = self.site.resolve(self.path, attempt=entry["attempt"])
            entry["status"] = status
            self.site._record(self.command, self.path, status)
            if delay and self.site._stopping.wait(delay):
                return  # server shutting down: drop the connection
            # no longer in flight from here: the client cannot have the whole response before this
            self.site._leave(entry)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. a download timeout)
        finally:
            self.site._leave(entry)


class SiteServer:
    """One fixture site on one port, in a background thread (a context manager)."""

    def __init__(self, root: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"fixture site not found: {self.root}")
        self.host = host
        self._port = port
        self._lock = threading.Lock()
        self._log: list[tuple[str, str, int]] = []
        self._requests: list[dict[str, Any]] = []
        self._attempts: dict[str, int] = {}
        self._in_flight = 0
        self._max_in_flight = 0
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.routes: dict[str, dict[str, Any]] = {}
        self.reload_routes()

    def reload_routes(self) -> None:
        """Read `_routes.yml` again (a test may rewrite a site between two crawls)."""
        routes_file = self.root / "_routes.yml"
        self.routes = yaml.safe_load(routes_file.read_text(encoding="utf-8")) or {} if routes_file.exists() else {}

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> "SiteServer":
        handler = type("Handler", (_Handler,), {"site": self})
        self._httpd = ThreadingHTTPServer((self.host, self._port), handler)
        self._httpd.daemon_threads = True
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"site-{self.root.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "SiteServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- public attributes -----------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self._port}"

    @property
    def base(self) -> str:
        return f"http://{self.hostport}"

    @property
    def log(self) -> list[tuple[str, str, int]]:
        """A snapshot of (method, path_with_query, status) for every request so far."""
        with self._lock:
            return list(self._log)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A snapshot of every request so far: method, path, status, user_agent, attempt (0 for the first
        request of that path), arrived and answered (time.monotonic(); answered is None while in flight)."""
        with self._lock:
            return [dict(entry) for entry in self._requests]

    @property
    def max_in_flight(self) -> int:
        """The most requests this server was handling at the same time."""
        with self._lock:
            return self._max_in_flight

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()
            self._requests.clear()
            self._attempts.clear()
            self._max_in_flight = self._in_flight

    def _record(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self._log.append((method, path, status))

    def _arrive(self, method: str, path: str, user_agent: str | None) -> dict[str, Any]:
        with self._lock:
            attempt = self._attempts.get(path, 0)
            self._attempts[path] = attempt + 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            entry = {"method": method, "path": path, "status": None, "user_agent": user_agent,
                     "attempt": attempt, "arrived": time.monotonic(), "answered": None}
            self._requests.append(entry)
            return entry

    def _leave(self, entry: dict[str, Any]) -> None:
        with self._lock:
            if entry["answered"] is None:
                self._in_flight -= 1
                entry["answered"] = time.monotonic()

    def source(self) -> dict[str, Any]:
        """This site's registry entry, templated with the live base URL."""
        return load_site_source(self.root, self.base)

    # -- request -> response ---------------------------------------------------------------------
    def resolve(self, raw_path: str, attempt: int = 0) -> tuple[int, dict[str, str], bytes, float]:
        """(status, headers, body, delay) for a request path with its query; `attempt` counts earlier
        requests for the same path (it picks the status from a route's `statuses`)."""
        parts = urlsplit(raw_path)
        path = unquote(parts.path) or "/"
        route = self._route(raw_path, path)
        status = int(route.get("status", 200))
        if route.get("statuses"):
            statuses = list(route["statuses"])
            status = int(statuses[min(attempt, len(statuses) - 1)])
        delay = float(route.get("delay", 0) or 0)
        extra = {str(k): str(v) for k, v in (route.get("headers") or {}).items()}
        found = self._file(route, path, parts.query)
        if found is None:
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            return 404, {"Content-Type": "text/html; charset=utf-8"}, body, delay
        file, body, served_name = found
        ctype = route.get("content_type") or CONTENT_TYPES.get(PurePosixPath(served_name).suffix, "application/octet-stream")
        return status, {"Content-Type": str(ctype), **extra}, body, delay

    def _route(self, raw_path: str, path: str) -> dict[str, Any]:
        alt = path[:-1] if path.endswith("/") and path != "/" else path + "/"
        for key in (raw_path, path, alt):
            if key in self.routes:
                return self.routes[key] or {}
        return {}

    def _safe(self, rel: str) -> Path | None:
        segments = [s for s in rel.split("/") if s]
        if any(s in ("..", ".") or s.startswith("_") for s in segments):
            return None
        candidate = self.root.joinpath(*segments) if segments else self.root
        if segments and segments[-1] in HIDDEN:
            return None
        return candidate

    def _file(self, route: dict[str, Any], path: str, query: str) -> tuple[Path, bytes, str] | None:
        if route.get("body_file"):
            file = (self.root / str(route["body_file"])).resolve()
            return file, self._read(file), file.name
        base = self._safe(path)
        if base is None:
            return None
        candidates: list[Path] = []
        page = parse_qs(query).get("page", [""])[0]
        if page.isdigit() and int(page) >= 2:
            if base.is_dir() and any(base.glob("page-*.html")):
                file = base / f"page-{int(page)}.html"  # a paginated listing: past the last page is 404
                return (file, self._read(file), file.name) if file.is_file() else None
        if not path.endswith("/"):
            candidates.append(base)
            src = base.with_name(base.name + ".src")
            if base.suffix == ".gz" and src.is_file():
                data = gzip.compress(render(src.read_bytes(), self.base, self.hostport), mtime=0)
                return src, data, base.name
            candidates += [base.with_name(base.name + ".html"), base.with_name(base.name + ".xml")]
        candidates += [base / "index.html", base / "index.xml"]
        for file in candidates:
            if file.is_file():
                return file, self._read(file), file.name
        return None

    def _read(self, file: Path) -> bytes:
        data = file.read_bytes()
        if file.suffix in TEXT_EXT:
            data = render(data, self.base, self.hostport)
        return data


def consecutive_free_ports(count: int, first: int = 21000) -> int:
    """The first of `count` consecutive free loopback ports (outlets told apart by port need a known range)."""
    for base in range(first, 60000, 97):
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


def load_site_source(root: Path | str, base: str) -> dict[str, Any]:
    """The site's `source.yml` registry entry with `{{BASE}}` / `{{HOSTPORT}}` filled in."""
    hostport = urlsplit(base).netloc
    text = render((Path(root) / "source.yml").read_bytes(), base.rstrip("/"), hostport).decode("utf-8")
    entry = yaml.safe_load(text)
    if not isinstance(entry, dict):
        raise ValueError(f"{root}/source.yml: expected one registry entry (a mapping)")
    return entry


def write_registry(entries: Iterable[dict[str, Any]], path: Path | str) -> Path:
    """Write entries as a registry file (`sources:` list) that pipelines.registry.load_sources reads."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump({"sources": list(entries)}, allow_unicode=True, sort_keys=False, width=120)
    path.write_text("# Generated by tests/sites.py for the fixture outlets; do not edit.\n" + text, encoding="utf-8")
    return path


def _serve(args: argparse.Namespace) -> int:
    stop = threading.Event()  # handlers first: a caller may signal as soon as the URLs are printed
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    servers = []
    try:
        for offset, site in enumerate(args.sites):
            port = args.port + offset if args.port else 0
            servers.append(SiteServer(Path(site), port=port, host=args.host).start())
    except OSError as exc:
        for server in servers:
            server.stop()
        print(f"cannot start fixture servers: {exc}", file=sys.stderr)
        return 1
    registry = write_registry([s.source() for s in servers], args.registry)
    for server in servers:
        print(f"{server.root.name:10s} {server.base}/", flush=True)
    print(f"registry   {registry}", flush=True)
    while not stop.wait(0.2):
        pass
    for server in servers:
        server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sites", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve fixture sites on consecutive ports until killed")
    serve.add_argument("sites", nargs="*", help="site folders (default: every site under tests/fixtures/sites)")
    serve.add_argument("--port", type=int, default=8101, help="first port (0: any free port); default 8101")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--registry", default="var/demo-sources.yml", help="registry file to write")
    args = parser.parse_args(argv)
    if not args.sites:
        found = [p for p in FIXTURES.iterdir() if (p / "source.yml").is_file()]
        order = {name: i for i, name in enumerate(DEMO_ORDER)}
        args.sites = [str(p) for p in sorted(found, key=lambda p: (order.get(p.name, len(order)), p.name))]
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())

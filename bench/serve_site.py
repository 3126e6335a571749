"""Serve a generated benchmark site on 127.0.0.1, one port per outlet, fast enough not to be the bottleneck.

    python bench/serve_site.py SITE_DIR [--port 8790] [--server twisted|threaded]

`twisted` (default): Twisted's static `File` on the asyncio-free default reactor, no access
log, keep-alive; files are streamed by a producer, so one process serves hundreds of pages
per second for a small share of one core (bench/bench_crawl.py prints its CPU use).
`threaded`: the stdlib `ThreadingHTTPServer` + `SimpleHTTPRequestHandler` (HTTP/1.1), kept
for the comparison in bench/README.md.

Content types as nginx's defaults would send them: `.aspx` pages as text/html without a
charset (the page's <meta> says windows-1256), `.xml.gz` as application/gzip with no
Content-Encoding (the crawler must gunzip the body itself). Prints `ready` once listening.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from functools import partial
from pathlib import Path

OUTLET_DIRS = ("wadi", "nahar", "ahram")
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".aspx": "text/html",
    ".xml": "application/xml",
    ".gz": "application/gzip",
    ".txt": "text/plain; charset=utf-8",
}


def outlet_ports(site: Path, port: int | None) -> list[tuple[Path, int]]:
    info = json.loads((site / "site.json").read_text())
    first = port or info["port"]
    return [(site / name, first + i) for i, name in enumerate(OUTLET_DIRS)]


def serve_twisted(site: Path, port: int | None) -> None:
    from twisted.internet import reactor
    from twisted.web import server, static

    class Quiet(server.Site):
        def log(self, request):  # no access log: it would cost more than serving
            pass

    for root, p in outlet_ports(site, port):
        resource = static.File(str(root))
        resource.contentTypes = {**resource.contentTypes, **TYPES}
        resource.contentEncodings = {}  # serve .gz files as they are, like nginx
        resource.indexNames = ["index.html"]
        reactor.listenTCP(p, Quiet(resource), interface="127.0.0.1", backlog=512)
    reactor.callWhenRunning(lambda: print("ready", flush=True))
    reactor.run()


def serve_threaded(site: Path, port: int | None) -> None:
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Handler(SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **TYPES}

        def guess_type(self, path):
            return TYPES.get(Path(str(path)).suffix, "application/octet-stream")

        def log_message(self, *args):
            pass

    servers = []
    for root, p in outlet_ports(site, port):
        httpd = ThreadingHTTPServer(("127.0.0.1", p), partial(Handler, directory=str(root)))
        httpd.daemon_threads = True
        servers.append(httpd)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("site", type=Path)
    ap.add_argument("--port", type=int, default=None, help="first port (default: the one the site was generated for)")
    ap.add_argument("--server", choices=("twisted", "threaded"), default="twisted")
    args = ap.parse_args(argv)
    (serve_twisted if args.server == "twisted" else serve_threaded)(args.site, args.port)


if __name__ == "__main__":
    sys.exit(main())

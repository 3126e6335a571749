"""Akhbar's Datasette plugin (0.65.5): Arabic-aware search, right-to-left cells, readable articles, a chart.

- SQL functions `ar_normalize`, `ar_search_text`, `ar_fts_query`, `ar_snippet` for canned and ad-hoc SQL.
- `escape_fts` re-registered *last* so the stock search box and `?_search=` (HTML and JSON) go through
  `pipelines.arabic.fts_query`: without `trylast` Datasette's own escape_fts silently wins.
- Cells holding Arabic are wrapped in `<div dir="auto">` (always escaped); an article's body is shown as
  paragraphs on its row page.
- `/-/akhbar/chart` (HTML) and `/-/akhbar/chart.svg`: articles per day per outlet, drawn server-side.
Needs the repository root on PYTHONPATH (publish/serve.sh sets it) for `pipelines.arabic`.
"""

from __future__ import annotations

import contextvars
import re
import sys
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from datasette import Response, hookimpl
from markupsafe import Markup, escape

try:
    from pipelines import arabic
except ImportError:  # started without PYTHONPATH: fall back to the repository this file lives in
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from pipelines import arabic

ARTICLES = "articles"
# Canned queries whose rows carry an article `id`: their `title` cells link to the article page.
ARTICLE_QUERIES = {"search", "latest", "top_stories"}
SNIPPET_WORDS = 40
CHART_DAYS_DEFAULT, CHART_DAYS_MAX = 30, 366
# Okabe-Ito + Tableau: distinguishable for most colour-blind readers.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442",
           "#4E79A7", "#B07AA1", "#9C755F", "#76B7B2", "#EDC948", "#FF9DA7", "#59A14F", "#E15759")
# Same-origin only: nothing is fetched from elsewhere, crawled markup could never load anything.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")

READ_METHODS = {"GET", "HEAD", "OPTIONS"}

# The FTS rowid is articles.search_key (publication order), given to Datasette as fts_pk. Datasette 0.65.5
# honours fts_pk for ?_search= but writes `rowid in (...)` for ?_search_<column>=, which would compare
# article ids with search keys; column_search_as_where() turns such a request into the right clause.
_ARTICLES_PATH = re.compile(r"^/[^/]+/articles(\.\w+)?$")
FTS_COLUMNS = ("title", "text")

_request_path: contextvars.ContextVar[str] = contextvars.ContextVar("akhbar_request_path", default="")


# -- SQL functions ------------------------------------------------------------------------------


def _fold_latin(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def snippet(text: str | None, query: str | None, size: int = SNIPPET_WORDS) -> str:
    """An excerpt of the ORIGINAL text around the first word matching the query (FTS5's snippet() would
    return stemmed index text). Falls back to the opening words when only the title matched."""
    if not text:
        return ""
    words = text.split()
    wanted = {_fold_latin(alt) for group in arabic.query_terms(query or "") for alt in group}
    start = 0
    if wanted:
        for index, word in enumerate(words):
            if any(_fold_latin(t) in wanted for t in arabic.tokens(word)):
                start = max(0, index - size // 4)
                break
    excerpt = " ".join(words[start:start + size])
    return ("… " if start else "") + excerpt + (" …" if start + size < len(words) else "")


def _text_or_none(fn):
    def wrapped(value):
        return None if value is None else fn(str(value))
    return wrapped


@hookimpl
def prepare_connection(conn):
    conn.create_function("ar_normalize", 1, _text_or_none(arabic.normalize), deterministic=True)
    conn.create_function("ar_search_text", 1, _text_or_none(arabic.search_text), deterministic=True)
    conn.create_function("ar_fts_query", 1, lambda q: arabic.fts_query(q or ""), deterministic=True)
    conn.create_function("ar_snippet", 2, snippet, deterministic=True)


@hookimpl(specname="prepare_connection", trylast=True)
def override_escape_fts(conn):
    """Runs after Datasette's own prepare_connection, so this escape_fts is the one SQL sees."""
    conn.create_function("escape_fts", 1, lambda q: arabic.fts_query(q or ""), deterministic=True)


# -- request context and security headers ----------------------------------------------------------


@hookimpl
def asgi_wrapper(datasette):
    """Remember the request path (render_cell gets no request in 0.65), add security headers,
    refuse methods that could write."""

    def wrap(app):
        async def wrapped(scope, receive, send):
            if scope.get("type") != "http":
                return await app(scope, receive, send)
            if scope.get("method") not in READ_METHODS:
                # A read-only archive: no writable canned query, no login. (Datasette 0.65.5 answers a
                # POST to a read-only canned query with a 500 AttributeError; this is a clean 405.)
                await send({"type": "http.response.start", "status": 405, "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"), (b"allow", b"GET, HEAD, OPTIONS")]})
                await send({"type": "http.response.body", "body": b"405 Method Not Allowed: read-only archive\n"})
                return

            async def send_with_headers(message):
                if message.get("type") == "http.response.start":
                    headers = [h for h in message.get("headers", []) if h[0].lower() != b"content-security-policy"]
                    headers += [
                        (b"content-security-policy", CSP.encode()),
                        (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"no-referrer"),
                    ]
                    message = {**message, "headers": headers}
                await send(message)

            if _ARTICLES_PATH.match(scope.get("path", "")):
                rewritten = column_search_as_where(scope.get("query_string", b""))
                if rewritten is not None:
                    scope = {**scope, "query_string": rewritten}
            token = _request_path.set(scope.get("path", ""))
            try:
                await app(scope, receive, send_with_headers)
            finally:
                _request_path.reset(token)

        return wrapped

    return wrap


def column_search_as_where(query_string: bytes) -> bytes | None:
    """`_search_title=q` -> `_where=search_key in (... "title" match ar_fts_query('q'))`; None if no such argument.

    The query text only ever reaches SQL as a quoted string literal, and ar_fts_query() turns it into
    quoted FTS5 terms, so nothing typed is SQL or FTS5 syntax.
    """
    pairs = parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True)
    columns = {f"_search_{c}": c for c in FTS_COLUMNS}
    if not any(key in columns for key, _ in pairs):
        return None
    kept = []
    for key, value in pairs:
        if key in columns:
            if value.strip():
                literal = value.replace("'", "''")
                kept.append(("_where", f'search_key in (select rowid from articles_search_fts'
                                       f' where "{columns[key]}" match ar_fts_query(\'{literal}\'))'))
        else:
            kept.append((key, value))
    return urlencode(kept).encode()


def _on_row_page(datasette, database: str, table: str | None) -> bool:
    if not table:
        return False
    prefix = datasette.urls.table(database, table) + "/"
    path = _request_path.get()
    return path.startswith(prefix) and "/" not in path[len(prefix):] and not path.endswith(".json")


def _canned_query_name(datasette, database: str) -> str | None:
    prefix = datasette.urls.database(database) + "/"
    path = _request_path.get()
    if not path.startswith(prefix):
        return None
    return path[len(prefix):] or None


# -- cells -------------------------------------------------------------------------------------------


def paragraphs(text: str) -> Markup:
    """An article body as escaped paragraphs, one <p> per non-empty line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    body = Markup("").join(Markup('<p dir="auto">{}</p>').format(line) for line in lines)
    return Markup('<div class="ak-text" dir="auto">{}</div>').format(body)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if not isinstance(value, str):
        return None
    on_row_page = _on_row_page(datasette, database, table)
    if table == ARTICLES and column == "text" and on_row_page:
        return paragraphs(value)
    if not arabic.has_arabic(value) or re.match(r"^https?://\S+$", value.strip()):
        return None  # Datasette's default: escaping, truncation, links
    shown = value
    limit = 0 if on_row_page else datasette.setting("truncate_cells_html")
    if limit and len(shown) > limit:
        shown = shown[:limit] + "\u2026"
    cell = Markup('<div class="ak-cell" dir="auto">{}</div>').format(shown)
    if table is None and column == "title" and _canned_query_name(datasette, database) in ARTICLE_QUERIES:
        keys = row.keys() if hasattr(row, "keys") else ()
        if "id" in keys and row["id"] is not None:
            href = datasette.urls.row(database, ARTICLES, str(row["id"]))
            cell = Markup('<a href="{}">{}</a>').format(href, cell)
    return cell


# -- row page of an article -----------------------------------------------------------------------


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if view_name != "row" or table != ARTICLES or request is None:
        return {}

    async def inner() -> dict[str, Any]:
        pk = request.url_vars.get("pks", "")
        db = datasette.get_database(database)
        try:
            result = await db.execute(
                "select s.name, s.name_en from articles a join sources s on s.id = a.source where a.id = ?",
                [pk],
            )
        except Exception:  # noqa: BLE001 - an archive without sources still renders
            return {"akhbar_source": None}
        first = result.first()
        return {"akhbar_source": dict(first) if first else None}

    return inner


# -- chart ---------------------------------------------------------------------------------------------


async def _archive_database(datasette, name: str | None):
    names = [name] if name else list(datasette.databases)
    for candidate in names:
        db = datasette.databases.get(candidate)
        if db is not None and await db.table_exists(ARTICLES):
            return db
    return None


async def chart_data(db, days: int) -> dict[str, Any]:
    """Counts per (day, outlet) for the `days` days up to the newest sane publication day."""
    newest = (await db.execute(
        "select max(published_day) from articles where published_day <= date('now', '+1 day')"
    )).first()[0]
    if not newest:
        return {"days": [], "series": []}
    end = date.fromisoformat(newest)
    start = end - timedelta(days=days - 1)
    rows = (await db.execute(
        "select a.published_day, a.source, count(*) from articles a"
        " where a.published_day between :start and :end group by a.published_day, a.source",
        {"start": start.isoformat(), "end": end.isoformat()},
    )).rows
    names: dict[str, str] = {}
    if await db.table_exists("sources"):
        names = {r[0]: r[1] for r in (await db.execute("select id, name from sources")).rows}
    day_list = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    counts: dict[str, dict[str, int]] = {}
    for day, source, count in rows:
        counts.setdefault(source, {})[day] = count
    series = [
        {"source": source, "name": names.get(source) or source,
         "counts": [counts[source].get(d, 0) for d in day_list], "total": sum(counts[source].values())}
        for source in sorted(counts, key=lambda s: (-sum(counts[s].values()), s))
    ]
    return {"days": day_list, "series": series}


def _nice_max(value: int) -> int:
    """The smallest of 5, 10, 20, 25, 50, 100, 200, ... that is >= value (round y-axis labels)."""
    value = max(value, 5)
    magnitude = 10 ** (len(str(value)) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= value:
            return int(factor * magnitude)
    return value


def chart_svg(data: dict[str, Any], width: int = 960, height: int = 420) -> Markup:
    """An inline SVG line chart, one <g class="series"> per outlet; every text is escaped."""
    days, series = data["days"], data["series"]
    left, right, top, bottom = 48, 230, 16, 40  # legend on the right: swatch, name, total
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((max(s["counts"]) for s in series), default=1) or 1)
    step_x = plot_w / max(len(days) - 1, 1)

    def x(i: int) -> float:
        return round(left + i * step_x, 1)

    def y(v: int) -> float:
        return round(top + plot_h - plot_h * v / top_value, 1)

    parts = [Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="ak-chart" role="img" viewBox="0 0 {w} {h}" '
        'width="{w}" height="{h}" font-family="sans-serif" font-size="12">'
    ).format(w=width, h=height)]
    parts.append(Markup("<title>{}</title>").format(
        f"Articles per day per outlet, {days[0]} to {days[-1]}" if days else "No dated articles"))
    for k in range(6):  # horizontal grid and y labels
        value = round(top_value * k / 5)
        parts.append(Markup(
            '<line x1="{}" x2="{}" y1="{y}" y2="{y}" stroke="#ddd"/>'
            '<text x="{}" y="{}" text-anchor="end" fill="#555">{}</text>'
        ).format(left, left + plot_w, left - 6, y(value) + 4, value, y=y(value)))
    label_every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        if i % label_every == 0 or i == len(days) - 1:
            parts.append(Markup('<text x="{}" y="{}" text-anchor="middle" fill="#555">{}</text>').format(
                x(i), top + plot_h + 18, day[5:]))
    parts.append(Markup('<line x1="{l}" x2="{l}" y1="{t}" y2="{b}" stroke="#999"/>'
                        '<line x1="{l}" x2="{r}" y1="{b}" y2="{b}" stroke="#999"/>').format(
        l=left, r=left + plot_w, t=top, b=top + plot_h))
    for n, s in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(s["counts"]))
        dots = Markup("").join(
            Markup('<circle cx="{}" cy="{}" r="2.5" fill="{}"><title>{}</title></circle>').format(
                x(i), y(v), color, f"{days[i]} · {s['name']} ({s['source']}): {v}")
            for i, v in enumerate(s["counts"]) if v
        ) if len(days) <= 92 else Markup("")
        legend_y = top + 14 + n * 18
        parts.append(Markup(
            '<g class="series" data-source="{src}"><title>{label}</title>'
            '<polyline fill="none" stroke="{c}" stroke-width="2" points="{pts}"/>{dots}'
            '<rect x="{lx}" y="{ly}" width="12" height="12" fill="{c}"/>'
            '<text x="{tx}" y="{ty}">{name}</text>'
            '<text x="{nx}" y="{ty}" text-anchor="end" fill="#555">{total}</text></g>'
        ).format(src=s["source"], label=f"{s['name']} ({s['source']})", c=color, pts=points, dots=dots,
                 lx=left + plot_w + 16, ly=legend_y - 10, tx=left + plot_w + 34, ty=legend_y,
                 nx=width - 8, name=s["name"], total=s["total"]))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def _days(request) -> int:
    try:
        return min(max(int(request.args.get("days", CHART_DAYS_DEFAULT)), 1), CHART_DAYS_MAX)
    except ValueError:
        return CHART_DAYS_DEFAULT


async def _chart(datasette, request):
    await datasette.ensure_permissions(request.actor, ["view-instance"])
    db = await _archive_database(datasette, request.args.get("db"))
    if db is None:
        return None, None, Response.text("No database with an articles table", status=404)
    await datasette.ensure_permissions(
        request.actor, [("view-table", (db.name, ARTICLES)), ("view-database", db.name)]
    )
    days = _days(request)
    return db, await chart_data(db, days), None


async def chart_page(datasette, request):
    db, data, error = await _chart(datasette, request)
    if error:
        return error
    return Response.html(await datasette.render_template(
        "akhbar_chart.html",
        {"svg": chart_svg(data), "data": data, "database": db.name, "days": len(data["days"]) or _days(request)},
        request=request,
        view_name="akhbar_chart",
    ))


async def chart_svg_view(datasette, request):
    _, data, error = await _chart(datasette, request)
    if error:
        return error
    return Response(str(chart_svg(data)), content_type="image/svg+xml; charset=utf-8")


@hookimpl
def register_routes():
    return [
        (r"^/-/akhbar/chart$", chart_page),
        (r"^/-/akhbar/chart\.svg$", chart_svg_view),
    ]


@hookimpl
def menu_links(datasette, actor):
    return [{"href": datasette.urls.path("/-/akhbar/chart"), "label": "Articles per day (chart)"}]

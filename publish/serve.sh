#!/usr/bin/env bash
# Serve an Akhbar archive with Datasette 0.65.5: metadata and canned queries, the akhbar plugin
# (Arabic search, RTL cells, chart), article templates, RTL CSS, and the public-instance settings.
#
#   publish/serve.sh DB [PORT]          e.g. publish/serve.sh var/archive.db 8001
#   env: HOST (default 127.0.0.1), DATASETTE (default .venv/bin/datasette)
#
# The database is served mutable (never -i on a live archive: Datasette would stop seeing new rows)
# and read-only for visitors. metadata.yml configures the database named "archive", so a file with
# another name is served through a symlink called archive.db (SQLite follows it; WAL files stay put).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
DB="${1:?usage: publish/serve.sh DB [PORT]}"
PORT="${2:-8001}"
HOST="${HOST:-127.0.0.1}"
DATASETTE="${DATASETTE:-$ROOT/.venv/bin/datasette}"
[ -x "$DATASETTE" ] || DATASETTE="datasette"

[ -f "$DB" ] || { echo "serve.sh: no such database: $DB" >&2; exit 2; }
DB="$(cd "$(dirname "$DB")" && pwd)/$(basename "$DB")"
if [ "$(basename "$DB")" != "archive.db" ]; then
    # One stable link directory per database path (no pile-up of temporary directories).
    LINKDIR="${TMPDIR:-/tmp}/akhbar-serve-$(id -u)/$(printf '%s' "$DB" | cksum | cut -d' ' -f1)"
    mkdir -p "$LINKDIR"
    ln -sfn "$DB" "$LINKDIR/archive.db"
    DB="$LINKDIR/archive.db"
fi

# The plugin imports pipelines.arabic from the repository root.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

exec "$DATASETTE" serve "$DB" \
    --metadata "$HERE/metadata.yml" \
    --plugins-dir "$HERE/plugins" \
    --template-dir "$HERE/templates" \
    --static "assets:$HERE/static" \
    --setting default_allow_sql on \
    --setting sql_time_limit_ms 2000 \
    --setting max_returned_rows 1000 \
    --setting allow_download off \
    --setting allow_csv_stream on \
    --setting suggest_facets off \
    --setting facet_time_limit_ms 500 \
    --setting truncate_cells_html 300 \
    -h "$HOST" -p "$PORT"

"""Recall of Arabic search designs on the labelled set in tests/fixtures/search_articles.json.

Each design indexes title + text in an in-memory FTS5 table (unicode61 remove_diacritics 2,
or trigram) and turns each query into a MATCH expression; a query's hits are compared with
its hand labels: `expect` (must be found) and `distractors` (must not be).
The set is small and hand-made: a ranking of designs, not an estimate of real-world recall.

    .venv/bin/python bench/search_recall.py            # recall table + misses of the shipped design
    .venv/bin/python bench/search_recall.py --speed    # normalize / search_text throughput
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
import unicodedata
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines import arabic  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "search_articles.json"


def datasette_escape_fts(query: str) -> str:
    """Datasette 0.65's stock escape_fts: quote whitespace-separated terms, AND them."""
    if query.count('"') % 2:
        query += '"'
    bits = [b for b in re.split(r'\s+|(".*?")', query) if b and b != '""']
    return " ".join('"{}"'.format(b) if not b.startswith('"') else b for b in bits)


def _quoted_and(words: list[str]) -> str:
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in words) or '""'


def _expansion(q: str, *, bare: bool) -> str:
    """Proclitic expansion for stems of >= 3 letters: stem(c + stem) as storage-and-speed.md §3 words it,
    or stem(c + bare word) (article removed, suffixes kept: what the index sees)."""
    groups = []
    for word in arabic.tokens(q, stem=False):
        stem = arabic.light_stem(word)
        alts = {stem}
        if len(stem) >= 3 and arabic.has_arabic(stem):
            base = arabic._strip_prefixes(word) if bare else stem
            alts.update(arabic.light_stem(c + base) for c in "بلكف")
        groups.append("(" + " OR ".join(f'"{a}"' for a in sorted(alts)) + ")")
    return " AND ".join(groups) or '""'


Design = tuple[str, str, Callable[[str], str], Callable[[str], str]]  # name, tokenizer, index fn, query fn

DESIGNS: list[Design] = [
    ("raw text, unicode61 (Datasette default)", "unicode61 remove_diacritics 2", lambda t: t, datasette_escape_fts),
    ("raw text, trigram", "trigram", lambda t: t, datasette_escape_fts),
    ("normalize() only", "unicode61 remove_diacritics 2", arabic.normalize,
     lambda q: _quoted_and(arabic.tokens(q, stem=False))),
    ("normalize(), trigram", "trigram", arabic.normalize, lambda q: _quoted_and(arabic.tokens(q, stem=False))),
    ("normalize() + Light10", "unicode61 remove_diacritics 2", arabic.search_text,
     lambda q: _quoted_and(arabic.tokens(q))),
    ("+ expansion stem(c + stem) (reference §3)", "unicode61 remove_diacritics 2", arabic.search_text,
     lambda q: _expansion(q, bare=False)),
    ("+ expansion stem(c + bare word)", "unicode61 remove_diacritics 2", arabic.search_text,
     lambda q: _expansion(q, bare=True)),
    ("+ ل for short ة words = arabic.fts_query (shipped)", "unicode61 remove_diacritics 2", arabic.search_text,
     arabic.fts_query),
]


def run_design(data: dict, tokenizer: str, index: Callable[[str], str], query: Callable[[str], str]) -> dict:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(ref UNINDEXED, title, text, tokenize='{tokenizer}')")
    conn.executemany(
        "INSERT INTO f (ref, title, text) VALUES (?, ?, ?)",
        [(a["ref"], index(a["title"]), index(a["text"])) for a in data["articles"]],
    )
    found, missed, wrong = 0, [], []
    expected = distract = 0
    for item in data["queries"]:
        try:
            hits = {r for (r,) in conn.execute("SELECT ref FROM f WHERE f MATCH ?", (query(item["q"]),))}
        except sqlite3.OperationalError:
            hits = set()
        expected += len(item["expect"])
        distract += len(item["distractors"])
        for ref in item["expect"]:
            if ref in hits:
                found += 1
            else:
                missed.append((item["q"], ref))
        wrong += [(item["q"], ref) for ref in item["distractors"] if ref in hits]
    return {"found": found, "expected": expected, "missed": missed, "wrong": wrong, "distractors": distract}


def recall_table(data: dict) -> list[tuple[str, dict]]:
    results = [(name, run_design(data, tok, idx, qry)) for name, tok, idx, qry in DESIGNS]
    n_articles, n_queries = len(data["articles"]), len(data["queries"])
    print(f"{n_articles} articles, {n_queries} queries, {results[0][1]['expected']} relevant hits, "
          f"{results[0][1]['distractors']} labelled distractors\n")
    print(f"{'design':<50} {'recall':>14} {'distractors hit':>16}")
    for name, r in results:
        pct = 100 * r["found"] / r["expected"]
        print(f"{name:<50} {r['found']:>3}/{r['expected']} {pct:5.1f}% {len(r['wrong']):>16}")
    final = results[-1][1]
    print("\nshipped design, misses:", final["missed"] or "none")
    print("shipped design, distractors hit:", final["wrong"] or "none")
    return results


def speed() -> None:
    sample = (
        "أعلنت الحكومةُ المغربية، يوم الأربعاء، عن إطلاق برنامج جديد لدعم الفلاحين المتضررين من الجفاف "
        "في جهة مراكش آسفي، وقال وزير الفلاحة إن البرنامج سيكلف ٣٫٥ مليار درهم خلال سنة ٢٠٢٤. "
    ) * 20
    replacements = [(c, "") for c in arabic._DELETE] + list(arabic._FOLD)

    def chain_only(text: str) -> str:
        text = unicodedata.normalize("NFKC", text)
        for old, new in replacements:
            text = text.replace(old, new)
        return text.lower()

    table = {ord(a): b for a, b in replacements}

    def translate(text: str) -> str:
        return unicodedata.normalize("NFKC", text).translate(table).lower()

    for name, fn in [("normalize (regex delete + replace folds)", arabic.normalize),
                     ("97-step str.replace chain", chain_only), ("str.translate", translate),
                     ("search_text (normalize + Light10, cached)", arabic.search_text)]:
        assert fn is arabic.search_text or fn(sample) == arabic.normalize(sample)
        n, start = 2000, time.perf_counter()
        for _ in range(n):
            fn(sample)
        print(f"{name:<45} {n / (time.perf_counter() - start):8.0f} docs/s ({len(sample)} chars)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", action="store_true", help="also time normalize/search_text")
    args = parser.parse_args()
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    recall_table(data)
    if args.speed:
        print()
        speed()


if __name__ == "__main__":
    main()

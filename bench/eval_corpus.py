"""Per-field accuracy of `pipelines.extract` on the real pages of ../shared/corpus against gold.jsonl.

    python bench/eval_corpus.py [--timing] [--reps N] [--recall-mode] [--corpus DIR] [-v]

Fields: title (exact, whitespace-normalized; `title_accept` also accepted), date (outlet's calendar day of
`published`; `date_accept` also accepted), author (gold null → no author; else the gold name among
`authors`), body_must (every sentence in the body), body_must_not (none of them in it), body_start /
body_end (first and last words present), language. The outlet's registry entry (time zone, names) is used
when seeds/sources.yml has one for the page's host, as in a crawl.

--timing adds CPU ms/page (fastest of --reps interleaved runs after one warm-up) for bare trafilatura
(`bare_extraction` on the bytes with metadata, as trafilatura is usually run), for trafilatura's body pass
alone, and for `extract_article` (everything the crawl stores).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines import extract  # noqa: E402
from pipelines.extract import ExtractionError, extract_article  # noqa: E402
from pipelines.registry import RegistryError, load_sources  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
FIELDS = ("title", "date", "author", "body_must", "body_must_not", "body_start", "body_end", "language")


def norm(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def score(gold: dict, record: dict | None) -> dict[str, tuple[bool, str]]:
    """field → (correct, what we got when wrong)."""
    if record is None:
        return {field: (False, "no record") for field in FIELDS}
    body = norm(record["text"])
    titles = {norm(gold["title"]), *(norm(t) for t in gold.get("title_accept", []))}
    days = {gold["date"], *gold.get("date_accept", [])}
    day = (record["published"] or "")[:10] or None
    if gold["author"] is None:
        author_ok = not record["authors"]
    else:
        author_ok = norm(gold["author"]) in {norm(a) for a in record["authors"]}
    missing = [s for s in gold["body_must"] if norm(s) not in body]
    junk = [s for s in gold["body_must_not"] if norm(s) in body]
    return {
        "title": (norm(record["title"]) in titles, repr(record["title"])),
        "date": (day in days, f"{record['published']} ({record['date_source']})"),
        "author": (author_ok, repr(record["authors"])),
        "body_must": (not missing, f"missing {missing}"),
        "body_must_not": (not junk, f"contains {junk}"),
        "body_start": (norm(gold["body_start"]) in body, body[:100]),
        "body_end": (norm(gold["body_end"]) in body, body[-100:]),
        "language": (record["language"] == gold["language"], repr(record["language"])),
    }


def source_for(url: str, sources: list) -> object | None:
    return next((s for s in sources if s.owns(url)), None)


def timed(fns: list, reps: int) -> list[float]:
    """CPU ms of each function: the fastest of `reps` rounds after a warm-up. The functions run interleaved
    (one of each per round) and CPU time is used, so that load from other processes hits all alike."""
    for fn in fns:
        fn()  # warm-up (imports, model loading, caches)
    best = [float("inf")] * len(fns)
    for _ in range(reps):
        for i, fn in enumerate(fns):
            start = time.process_time()
            fn()
            best[i] = min(best[i], time.process_time() - start)
    return [b * 1000 for b in best]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--timing", action="store_true", help="also measure ms/page")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--recall-mode", action="store_true", help="run trafilatura without favor_precision")
    parser.add_argument("-v", "--verbose", action="store_true", help="show what was extracted for wrong fields")
    args = parser.parse_args(argv)

    if args.recall_mode:
        extract.FAVOR_PRECISION = False
    golds = [json.loads(line) for line in (args.corpus / "gold.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    try:
        sources = load_sources()
    except RegistryError:
        sources = []

    results: list[tuple[dict, dict[str, tuple[bool, str]]]] = []
    for gold in golds:
        body = (args.corpus / "pages" / gold["file"]).read_bytes()
        try:
            record = extract_article(body, gold["url"], source=source_for(gold["url"], sources))
        except ExtractionError as exc:
            print(f"{gold['file']}: ExtractionError {exc}")
            record = None
        results.append((gold, score(gold, record)))

    width = max(len(g["file"]) for g in golds)
    print(f"favor_precision={extract.FAVOR_PRECISION}")
    print(f"{'page':<{width}}  " + " ".join(f"{f:>13}" for f in FIELDS))
    for gold, fields in results:
        print(f"{gold['file']:<{width}}  " + " ".join(f"{'ok' if fields[f][0] else 'WRONG':>13}" for f in FIELDS))
    totals = {f: sum(fields[f][0] for _, fields in results) for f in FIELDS}
    print(f"{'accuracy':<{width}}  " + " ".join(f"{f'{totals[f]}/{len(results)}':>13}" for f in FIELDS))
    wrong = [(g["file"], f, got) for g, fields in results for f, (ok, got) in fields.items() if not ok]
    if wrong and args.verbose:
        print("\nwrong fields:")
        for file, field, got in wrong:
            print(f"  {file} {field}: {got}")

    if args.timing:
        import trafilatura

        print(f"\nCPU ms/page, fastest of {args.reps} interleaved runs after a warm-up")
        print(f"{'page':<{width}}  {'KB':>5} {'trafilatura':>12} {'traf. body':>11} {'extract':>8} {'vs traf.':>9}")
        sums = [0.0, 0.0, 0.0]
        for gold in golds:
            body = (args.corpus / "pages" / gold["file"]).read_bytes()
            source = source_for(gold["url"], sources)
            bare, body_only, ours = timed([
                lambda: trafilatura.bare_extraction(body, url=gold["url"], include_comments=False, with_metadata=True),
                lambda: trafilatura.bare_extraction(body, url=gold["url"], include_comments=False,
                                                    with_metadata=False, favor_precision=extract.FAVOR_PRECISION),
                lambda: extract_article(body, gold["url"], source=source),
            ], args.reps)
            sums = [sums[0] + bare, sums[1] + body_only, sums[2] + ours]
            print(f"{gold['file']:<{width}}  {len(body) // 1024:>5} {bare:>12.1f} {body_only:>11.1f} {ours:>8.1f}"
                  f" {ours / bare - 1:>+9.0%}")
        n = len(golds)
        print(f"{'mean':<{width}}  {'':>5} {sums[0] / n:>12.1f} {sums[1] / n:>11.1f} {sums[2] / n:>8.1f}"
              f" {sums[2] / sums[0] - 1:>+9.0%}")
        print(f"extract_article vs trafilatura's body pass alone: {sums[2] / sums[1] - 1:+.0%}")
    return 0 if all(totals[f] == len(results) for f in FIELDS if f not in ("body_start", "body_end")) else 1


if __name__ == "__main__":
    sys.exit(main())

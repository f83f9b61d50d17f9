"""How well `pipeline.redact` finds the identifiers planted in benchmarks/data/redaction_*.jsonl, and how fast.

    .venv/bin/python benchmarks/redaction_accuracy.py [--split dev|heldout|fresh|planted|all]
        [--unlisted-names] [--show-errors] [--speed-texts N]

Prints recall and precision per kind (an identifier is found when placeholders
of its kind cover it; a false positive is a redaction overlapping no planted
identifier), the speed of `Redactor.find` on the texts, and the machine.

Splits: `dev` (redaction_planted.jsonl, the texts the rules are tuned on),
`heldout` (every fifth planted text: not read while tuning, but its figures have
been seen, so it is no longer blind), `fresh` (redaction_fresh.jsonl, 201 texts
written before the name rules were reworked and never tuned on), `planted` (dev and
heldout) and `all` (the three). `--show-errors` lists the misses and false
positives of the dev split only: the held-out texts stay unread.

`--unlisted-names` first drops the split's own planted names from the first-name
list (`pipeline.redact.names.FIRST_NAMES`), to measure the rules on names the list does
not know. The list was written after the fresh set, by the same hand, so the fresh
figure with the list is not blind; the figure with `--unlisted-names` is the honest
one for names outside the list.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import spacy

from pipeline.redact import names
from pipeline.redact.patterns import KINDS
from pipeline.redact.redactor import Redactor, redaction_figures

DATA = Path(__file__).resolve().parent / "data"
PLANTED = DATA / "redaction_planted.jsonl"  # splits dev and heldout
FRESH = DATA / "redaction_fresh.jsonl"  # split fresh
SPLITS = ("dev", "heldout", "fresh", "planted", "all")


def planted(split: str) -> list[dict]:
    """The texts of a split: dev, heldout, fresh, planted (dev and heldout) or all (the three)."""
    records = [json.loads(line) for path in (PLANTED, FRESH) for line in path.read_text(encoding="utf-8").splitlines()]
    wanted = {"all": {"dev", "heldout", "fresh"}, "planted": {"dev", "heldout"}}.get(split, {split})
    return [r for r in records if r["split"] in wanted]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (OSError, ValueError):
        memory = float("nan")
    return (
        f"{cpu}; {os.cpu_count()} cores; {memory:.0f} GiB; Python {platform.python_version()}; "
        f"spaCy {spacy.__version__}; {platform.system()} {platform.machine()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=SPLITS, default="all")
    parser.add_argument("--show-errors", action="store_true", help="List misses and false positives (dev split only).")
    parser.add_argument(
        "--unlisted-names",
        action="store_true",
        help="Drop the split's own planted names from the first-name list first (names the list does not know).",
    )
    parser.add_argument("--speed-texts", type=int, default=3000, help="Texts to time (the set repeated).")
    args = parser.parse_args()

    records = planted(args.split)
    if args.unlisted_names:
        own = {
            names._fold(word)
            for r in records for start, end, kind in r["entities"] if kind == "NAME"
            for word in r["text"][start:end].split()
        }
        print(f"first-name list: {len(names.FIRST_NAMES & own)} of its {len(names.FIRST_NAMES)} names dropped")
        names.FIRST_NAMES = names.FIRST_NAMES - own  # find_names reads the module's list at call time
    start = time.perf_counter()
    redactor = Redactor()
    load = time.perf_counter() - start
    texts = [r["text"] for r in records]
    found = redactor.find(texts)
    figures = redaction_figures([r["entities"] for r in records], found)

    print(f"machine: {machine()}")
    sources = {"fresh": FRESH.name, "all": f"{PLANTED.name} + {FRESH.name}"}.get(args.split, PLANTED.name)
    print(f"planted set: {sources}, split {args.split}: {len(records)} texts")
    print(f"{'kind':<11} {'planted':>8} {'found':>6} {'recall':>7} {'redacted':>9} {'false +':>8} {'precision':>9}")
    for kind in KINDS:
        c = figures["per_kind"][kind]
        recall = "–" if c["recall"] is None else f"{c['recall']:.3f}"
        precision = "–" if c["precision"] is None else f"{c['precision']:.3f}"
        print(
            f"{kind:<11} {c['expected']:>8} {c['found']:>6} {recall:>7} {c['redactions']:>9} "
            f"{c['false_positives']:>8} {precision:>9}"
        )
    print(f"all kinds: recall {figures['recall']:.3f}, precision {figures['precision']:.3f}")

    many = (texts * (args.speed_texts // max(1, len(texts)) + 1))[: args.speed_texts]
    start = time.perf_counter()
    redactor.redact(many)
    rate = len(many) / (time.perf_counter() - start)
    words = sum(len(t.split()) for t in many) / len(many)
    print(f"speed: {rate:.0f} texts/s ({len(many)} texts, {words:.0f} words each on average; model load {load:.1f} s)")

    if args.show_errors:
        if args.split != "dev":
            raise SystemExit("--show-errors is for the dev split only: the held-out texts stay unseen while tuning")
        for record, spans in zip(records, found):
            for s, e, kind in record["entities"]:
                covered = {i for f in spans if f.kind == kind for i in range(f.start, f.end)}
                if not all(i in covered for i in range(s, e)):
                    print(f"MISS {kind:<10} {record['id']}: {record['text'][s:e]!r} in {record['text']!r}")
        for index, f in figures["false_positives"]:
            record = records[index]
            print(f"FP   {f.kind:<10} {record['id']}: {record['text'][f.start:f.end]!r} in {record['text']!r}")


if __name__ == "__main__":
    main()

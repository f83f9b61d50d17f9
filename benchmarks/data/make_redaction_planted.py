"""Turn the hand-written answers in redaction_planted.txt and redaction_fresh.txt into JSON Lines.

    .venv/bin/python benchmarks/data/make_redaction_planted.py

Each line of the source is `REGISTER | TEXT` with the identifiers marked in place:
`[[surface|TYPE]]` is an identifier to redact, `{{NHS}}` becomes a valid NHS number
and `{{NHS_BAD}}` one with a wrong check digit (not an identifier), each written
as ten digits, 3-3-4 with spaces or 3-3-4 with dashes. The output records every
text with its exact expected spans, `entities: [[start, end, TYPE], ...]`, and a
`split`: in redaction_planted.jsonl every fifth text is `heldout`, kept out of
rule tuning and reported separately; every text of redaction_fresh.jsonl (ids
`f001`...) is `fresh`, a second held-out set written before the name rules were
reworked and never tuned on. Deterministic: the same source always gives the same file.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "redaction_planted.txt"
TARGET = HERE / "redaction_planted.jsonl"
FRESH_SOURCE = HERE / "redaction_fresh.txt"
FRESH_TARGET = HERE / "redaction_fresh.jsonl"
TYPES = {"NAME", "EMAIL", "PHONE", "NHS_NUMBER", "POSTCODE", "STAFF_ID"}
MARK = re.compile(r"\[\[(?P<surface>[^|\]]+)\|(?P<type>[A-Z_]+)\]\]|\{\{(?P<nhs>NHS(?:_BAD)?)\}\}")
HELDOUT_EVERY = 5


def nhs_check_digit(nine: str) -> int | None:
    """The Modulus 11 check digit of the first nine digits; None when no digit is valid (remainder 10)."""
    check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(nine)) % 11
    return {11: 0, 10: None}.get(check, check)


def nhs_number(rng: random.Random, valid: bool) -> str:
    while True:
        nine = str(rng.randint(4, 7)) + "".join(str(rng.randint(0, 9)) for _ in range(8))
        check = nhs_check_digit(nine)
        if check is not None:
            break
    last = check if valid else (check + rng.randint(1, 9)) % 10
    digits = f"{nine}{last}"
    style = rng.choice(("plain", "spaced", "spaced", "dashed"))
    if style == "plain":
        return digits
    sep = " " if style == "spaced" else "-"
    return sep.join((digits[:3], digits[3:6], digits[6:]))


def parse(marked: str, rng: random.Random) -> tuple[str, list[list]]:
    """The plain text and its entity spans."""
    text, entities, at = [], [], 0
    for match in MARK.finditer(marked):
        text.append(marked[at : match.start()])
        start = sum(map(len, text))
        if match["nhs"]:
            surface = nhs_number(rng, valid=match["nhs"] == "NHS")
            if match["nhs"] == "NHS":
                entities.append([start, start + len(surface), "NHS_NUMBER"])
        else:
            surface, kind = match["surface"], match["type"]
            if kind not in TYPES:
                raise ValueError(f"unknown type {kind!r} in: {marked}")
            entities.append([start, start + len(surface), kind])
        text.append(surface)
        at = match.end()
    text.append(marked[at:])
    return "".join(text), entities


def build(source: Path, target: Path, rng: random.Random, fresh: bool = False) -> None:
    """One source file to its JSON Lines: splits dev/heldout, or all `fresh` (ids f001...)."""
    records = []
    for line in source.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        register, marked = (part.strip() for part in line.split(" | ", 1)) if " | " in line else (line.strip(" |"), "")
        text, entities = parse(marked.replace("\\n", "\n"), rng)
        n = len(records)
        if fresh:
            split = "fresh"
        else:
            split = "heldout" if n % HELDOUT_EVERY == HELDOUT_EVERY - 1 else "dev"
        records.append(
            {
                "id": f"{'f' if fresh else 'r'}{n + 1:03d}",
                "register": register,
                "split": split,
                "text": text,
                "entities": entities,
            }
        )
    target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    print(f"{len(records)} texts, {sum(len(r['entities']) for r in records)} entities → {target}")


def main() -> None:
    build(SOURCE, TARGET, random.Random(20240607))
    build(FRESH_SOURCE, FRESH_TARGET, random.Random(20250301), fresh=True)


if __name__ == "__main__":
    main()

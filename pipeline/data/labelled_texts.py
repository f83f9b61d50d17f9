"""Every text already labelled anywhere in the labelled folder, as `text_key`s: what `labelled suggest` never offers.

Every CSV below the folder counts, whatever its schema: the gold files, the pool's and
the new writers' batches and parts, the hedged set, the contrast pairs (`text_a`,
`text_z`). A column named `text` or starting `text_` holds texts; other columns are
left alone.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.data.rows import display_path, text_key
from pipeline.errors import InputError


def _text_columns(header: list[str]) -> list[int]:
    names = [name.strip().lstrip("\ufeff") for name in header]
    return [i for i, name in enumerate(names) if name == "text" or name.startswith("text_")]


def labelled_text_keys(folder: Path) -> set[str]:
    """The `text_key` of every text in every CSV below `folder` (an `InputError` for a file that cannot be read)."""
    keys: set[str] = set()
    for path in sorted(Path(folder).rglob("*.csv")):
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle)
                columns = _text_columns(next(reader, []))
                for record in reader:
                    keys.update(text_key(record[i]) for i in columns if i < len(record) and record[i].strip())
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"{display_path(path)}: cannot read the labelled texts ({exc.__class__.__name__})") from None
    return keys

"""The board report's drift section: what `behaviours drift --json` found about the batch (`--drift DRIFT.json`).

Only the verdict, its reason, the novelty share and the tag-rate changes are shown, with the
phrases exactly as `behaviours drift` filtered them (used by enough different texts, redacted).
A file that is not such a result is refused in one line before any report is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError
from pipeline.taxonomy import Taxonomy

VERDICTS = ("ok", "review", "relabel")


@dataclass(frozen=True)
class DriftSection:
    verdict: str
    reason: str
    novelty_share: float
    novelty_interval: tuple[float, float]
    expected_share: float
    changes: list[tuple[str, float, float, float, float, float]]  # name, batch, reference, change, low, high
    phrases: list[str]
    against: str


def read_drift(path: Path, taxonomy: Taxonomy) -> DriftSection:
    """The drift result in `path` (the JSON `behaviours drift --json` prints), checked."""
    try:
        figures = json.loads(Path(path).read_text(encoding="utf-8"))
        novelty = figures["novelty"]
        section = DriftSection(
            verdict=str(figures["verdict"]),
            reason=str(figures["reason"]),
            novelty_share=float(novelty["share"]),
            novelty_interval=(float(novelty["interval_90"][0]), float(novelty["interval_90"][1])),
            expected_share=float(novelty["expected_share"]),
            changes=[
                (taxonomy[c["behaviour"]].name, float(c["batch"]), float(c["reference"]), float(c["change"]),
                 float(c["interval_90"][0]), float(c["interval_90"][1]))
                for c in figures["tag_rates"]
            ],
            phrases=[str(p["phrase"]) for p in figures["phrases"]],
            against=str(figures["against"]),
        )
    except FileNotFoundError:
        raise InputError(f"{path}: file not found (--drift)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path}: not a JSON file (--drift takes what `behaviours drift --json` prints)") from None
    except (KeyError, TypeError, ValueError, IndexError):
        raise InputError(f"{path}: not a `behaviours drift --json` result (--drift)") from None
    if section.verdict not in VERDICTS:
        raise InputError(f"{path}: verdict {section.verdict!r} is not one of {', '.join(VERDICTS)} (--drift)")
    return section

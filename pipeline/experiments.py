"""Named experiments: the product's parameters with a few overrides, compared on the same data and split.

Each `configs/experiments/<name>.yaml` holds an `about` line and overrides of
`configs/params.yaml` sections. Running one trains on the training rows, evaluates
on the fixed test split (and, when asked, leaving each register out), times the
training, logs an MLflow run tagged with the experiment's name, and writes
`experiments/results/<name>.json`; `docs/experiments.md` is the table of all
results, rewritten after each run.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from pipeline.config import Params, params_from_dict
from pipeline.errors import InputError


def experiment_params(base: Params, path: Path) -> tuple[str, Params]:
    """(about, parameters) of an experiment file: the base parameters with its overrides."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise InputError(f"{path}: no such experiment") from None
    except yaml.YAMLError:
        raise InputError(f"{path}: not valid YAML") from None
    about = raw.pop("about", "")
    merged = {section: {**values, **raw.get(section, {})} for section, values in dataclasses.asdict(base).items()}
    unknown = sorted(set(raw) - set(merged))
    if unknown:
        raise InputError(f"{path}: unknown section(s) {', '.join(unknown)}")
    return about, params_from_dict(merged, where=str(path))


def results_table(results: list[dict]) -> str:
    """The Markdown table of experiment results, best test macro-F1 first."""
    registers = ("exit_survey", "appraisal_note", "coaching_note", "feedback_360", "staff_survey")
    lines = [
        "| experiment | test macro-F1 | no-behaviour untagged | micro-F1 | "
        + " | ".join(f"LORO {r}" for r in registers)
        + " | training time | what it is |",
        "|---|---:|---:|---:|" + "---:|" * len(registers) + "---:|---|",
    ]
    for result in sorted(results, key=lambda r: -r["test"]["macro_f1"]):
        test, loro = result["test"], result.get("leave_register_out", {})
        cells = [f"{loro[r]['macro_f1']:.3f}" if r in loro else "–" for r in registers]
        lines.append(
            f"| {result['name']} | {test['macro_f1']:.3f} | {test['none_untagged']:.3f} | {test['micro_f1']:.3f} | "
            + " | ".join(cells)
            + f" | {result['train_seconds']:.0f} s | {result['about']} |"
        )
    return "\n".join(lines) + "\n"

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
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.config import PROJECT_ROOT, Params, params_from_dict
from pipeline.data.split import LabelledSplit
from pipeline.encoders.cached import cached_encoder
from pipeline.errors import InputError
from pipeline.io.files import atomic_write_text
from pipeline.taxonomy import Taxonomy
from pipeline.text import SentenceSplitter
from pipeline.training import comparisons
from pipeline.training.metrics import headline_figures

TABLE_PREAMBLE = """# Experiments

Every experiment trains on the same training rows and is evaluated on the same fixed
test split (labelled/test_ids.txt); LORO columns: trained without that register, evaluated on all
of its rows. Rewritten by `behaviours experiment NAME… [--leave-register-out]`
(configs in `configs/experiments/`, results in `experiments/results/`, runs in MLflow
tagged `experiment`). Training time includes evaluating on the test split, on 2 CPU
cores. Why the shipped model is what it is: `docs/decisions.md`.

"""


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


@dataclass(frozen=True)
class ExperimentPaths:
    """Where experiments are read from and their results written."""

    configs: Path = PROJECT_ROOT / "configs" / "experiments"  # <name>.yaml
    results: Path = PROJECT_ROOT / "experiments" / "results"  # <name>.json
    table: Path = PROJECT_ROOT / "docs" / "experiments.md"


def run_experiments(
    names: list[str],
    base: Params,
    split: LabelledSplit,
    taxonomy: Taxonomy,
    cache: Path,
    leave_register_out: bool,
    paths: ExperimentPaths,
    on_result: Callable[[str, Params, dict, dict], None],
) -> list[dict]:
    """Run each named experiment (all are read first, so a bad name fails before any training), write its
    result, call `on_result(name, params, result, test figures)`; then rewrite the table of every result.
    Returns every result in `paths.results`."""
    planned = [(name, *experiment_params(base, paths.configs / f"{name}.yaml")) for name in names]
    for name, about, params in planned:
        splitter = SentenceSplitter(params.text)

        def new_encoder(params=params):
            return cached_encoder(params.encoder, cache)

        start = time.perf_counter()
        figures = comparisons.train_and_evaluate(split.train, split.test, params, taxonomy, new_encoder, splitter)
        result = {"name": name, "about": about, "train_seconds": round(time.perf_counter() - start, 1)}
        result["test"] = headline_figures(figures)
        if leave_register_out:
            by_register = comparisons.leave_register_out(split.train, split.rows, params, taxonomy, new_encoder, splitter)
            result["leave_register_out"] = {register: headline_figures(f) for register, f in by_register.items()}
        paths.results.mkdir(parents=True, exist_ok=True)
        atomic_write_text(paths.results / f"{name}.json", json.dumps(result, indent=2) + "\n")
        on_result(name, params, result, figures)
    results = [json.loads(path.read_text()) for path in sorted(paths.results.glob("*.json"))]
    atomic_write_text(paths.table, TABLE_PREAMBLE + results_table(results))
    return results

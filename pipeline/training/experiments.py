"""Named experiments: the product's parameters with a few overrides, compared on the same data and sets.

Each `configs/experiments/<name>.yaml` holds an `about` line and overrides of
`configs/params.yaml` sections. Running one trains on the gold training rows (plus
the pool and contrast pairs when its `train.pool` / `train.pairs` ask), evaluates on
the new writers' development part — the set models are chosen on — and on the fixed
test split (and, when asked, leaving each register out), times the training, logs
an MLflow run tagged with the experiment's name, and writes
`experiments/results/<name>.json`, with a fingerprint of its parameters and rows so that
leave-one-register-out figures are only ever merged into or kept with the same model;
`docs/experiments.md` is the table of all results, rewritten after each run. The sealed
final part is never read here.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.config import PROJECT_ROOT, Params, params_from_dict
from pipeline.data.pool import DEVELOPMENT_FILE, NEW_WRITERS
from pipeline.data.rows import USER_REGISTERS, LabelledRow, load_labelled
from pipeline.data.split import load_split
from pipeline.encoders.cached import cached_encoder
from pipeline.errors import InputError
from pipeline.io.files import atomic_write_text
from pipeline.taxonomy import Taxonomy
from pipeline.text import SentenceSplitter
from pipeline.training import comparisons
from pipeline.training.fit import data_fingerprint
from pipeline.training.metrics import headline_figures
from pipeline.training.train import extra_training_rows

TABLE_PREAMBLE = """# Experiments

Every experiment trains on the gold training rows (plus what its `train.pool` and
`train.pairs` add: "extra rows") and is evaluated on the new writers' development part
(`labelled/newwriters/dev.csv`, where models are chosen; 90% bootstrap interval beside
it) and on the fixed test split (labelled/test_ids.txt); LORO columns: trained on the
experiment's training rows (gold, and the pool and pairs when it reads them) without that
register, evaluated on all of its gold rows (a long run can be split: `--leave-register-out
--register R`, in separate processes, adds registers to the last result if it was made with
the same parameters and rows; a rerun keeps them on the same terms). Long notes: notes
joined from 5, 20 and 60 development answers (the longest cut to what its behaviour-free
answers fill: 53 today), two of them showing a behaviour (`behaviours evaluate --long-notes`),
tags per note over true behaviours per note (90% intervals over notes in the results
files). Rows are ordered by
development macro-F1; experiments run before the development part existed show "–"
there. Rewritten by `behaviours experiment NAME… [--leave-register-out]` (configs in
`configs/experiments/`, results in `experiments/results/`, runs in MLflow tagged
`experiment`). Training time includes evaluating, on 2 CPU cores. Why the shipped
model is what it is: `docs/decisions.md`.

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
    """The Markdown table of experiment results, best development macro-F1 first (then test)."""
    registers = USER_REGISTERS
    lines = [
        "| experiment | development macro-F1 | test macro-F1 | no-behaviour untagged (test) | micro-F1 (test) | "
        + " | ".join(f"LORO {r}" for r in registers)
        + " | long notes, tags ÷ true (development; 5 / 20 / longest) | extra rows | training time | what it is |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(registers) + "---:|---:|---:|---|",
    ]

    def order(result: dict) -> tuple[float, float]:
        development = result.get("development")
        return (-development["macro_f1"] if development else 1.0, -result["test"]["macro_f1"])

    for result in sorted(results, key=order):
        test, loro, development = result["test"], result.get("leave_register_out", {}), result.get("development")
        cells = [f"{loro[r]['macro_f1']:.3f}" if r in loro else "–" for r in registers]
        chosen_on = "–"
        if development:
            low, high = development.get("macro_f1_interval_90") or (None, None)
            chosen_on = f"{development['macro_f1']:.3f}" + (f" ({low:.3f}–{high:.3f})" if low is not None else "")
        extra = sum(result.get("extra_rows", {}).values())
        notes = result.get("long_notes", {}).get("development")
        long_notes = " / ".join(f"{m['tags_to_true']:.2f}" for m in notes.values()) if notes else "–"
        lines.append(
            f"| {result['name']} | {chosen_on} | {test['macro_f1']:.3f} | {test['none_untagged']:.3f} | {test['micro_f1']:.3f} | "
            + " | ".join(cells)
            + f" | {long_notes} | {extra} | {result['train_seconds']:.0f} s | {result['about']} |"
        )
    return "\n".join(lines) + "\n"


def long_note_summary(figures: dict[int, dict], aggregation: str) -> dict[str, dict]:
    """Per note length (answers), the experiment's own aggregation on long notes: macro-F1, tags per note,
    true behaviours per note and their ratio (1.0: as many tags as true behaviours), with 90% intervals."""
    return {
        str(answers): {
            "macro_f1": round(m[aggregation]["macro_f1"], 4),
            "macro_f1_interval_90": m[aggregation]["macro_f1_interval_90"],
            "tags_per_note": round(m[aggregation]["tags_per_note"], 3),
            "true_per_note": round(m["labels_per_note"], 3),
            "tags_to_true": round(m[aggregation]["tags_to_true"], 3),
            "tags_to_true_interval_90": m[aggregation]["tags_to_true_interval_90"],
        }
        for answers, m in figures.items()
    }


@dataclass(frozen=True)
class ExperimentPaths:
    """Where experiments are read from and their results written."""

    configs: Path = PROJECT_ROOT / "configs" / "experiments"  # <name>.yaml
    results: Path = PROJECT_ROOT / "experiments" / "results"  # <name>.json
    table: Path = PROJECT_ROOT / "docs" / "experiments.md"


def run_experiments(
    names: list[str],
    base: Params,
    labelled: Path,
    taxonomy: Taxonomy,
    cache: Path,
    leave_register_out: bool,
    paths: ExperimentPaths,
    on_result: Callable[[str, Params, dict, dict], None],
    registers: tuple[str, ...] = (),
) -> list[dict]:
    """Run each named experiment (all are read first, so a bad name fails before any training), write its
    result, call `on_result(name, params, result, development figures or else test figures)`; then rewrite
    the table of every result. Returns every result in `paths.results`.

    With `registers` (and `leave_register_out`), only those registers are left out, one at a time, and
    their figures are merged into the experiment's last result, whose other figures are kept: separate
    processes can each take some registers of a long run (the merge holds a lock on the result file)."""
    if registers and not leave_register_out:
        raise InputError("--register needs --leave-register-out")
    unknown = sorted(set(registers) - set(USER_REGISTERS))
    if unknown:
        raise InputError(f"--register {unknown[0]!r} is not one of {', '.join(USER_REGISTERS)}")
    planned = [(name, *experiment_params(base, paths.configs / f"{name}.yaml")) for name in names]
    if registers:
        missing = [name for name, _, _ in planned if not (paths.results / f"{name}.json").exists()]
        if missing:
            raise InputError(f"{missing[0]}: no result to add registers to; run it once without --register")
    split = load_split(labelled, taxonomy)
    development_file = labelled / NEW_WRITERS / DEVELOPMENT_FILE
    eval_sets = {"test": split.test}
    if development_file.exists():
        eval_sets["development"] = load_labelled([development_file], taxonomy)
    for name, about, params in planned:
        splitter = SentenceSplitter(params.text)

        def new_encoder(params=params):
            return cached_encoder(params.encoder, cache)

        extra = extra_training_rows(labelled, params, taxonomy)
        train_rows = split.train + [row for rows in extra.values() for row in rows]
        result_file = paths.results / f"{name}.json"
        fingerprint = experiment_fingerprint(params, train_rows, split.rows)
        if registers:
            check_same_model(result_file, fingerprint)  # before hours of training, not only after
            by_register = comparisons.leave_register_out(
                train_rows, split.rows, params, taxonomy, new_encoder, splitter, registers
            )
            result = merge_leave_register_out(
                result_file, {r: headline_figures(f) for r, f in by_register.items()}, fingerprint
            )
            on_result(name, params, result, result.get("development", result["test"]))
            continue
        start = time.perf_counter()
        figures = comparisons.train_and_evaluate_on(
            train_rows, eval_sets, params, taxonomy, new_encoder, splitter, with_long_notes=True
        )
        result = {
            "name": name, "about": about, "fingerprint": fingerprint, "train_seconds": round(time.perf_counter() - start, 1)
        }
        result["extra_rows"] = {source: len(rows) for source, rows in extra.items()}
        result |= {set_name: headline_figures(set_figures) for set_name, set_figures in figures.items()}
        result["long_notes"] = {
            set_name: long_note_summary(set_figures["long_notes"], params.train.aggregation)
            for set_name, set_figures in figures.items()
            if "long_notes" in set_figures
        }
        if leave_register_out:
            by_register = comparisons.leave_register_out(train_rows, split.rows, params, taxonomy, new_encoder, splitter)
            result["leave_register_out"] = {register: headline_figures(f) for register, f in by_register.items()}
        paths.results.mkdir(parents=True, exist_ok=True)
        with _results_lock(paths.results):
            result = kept_leave_register_out(result_file, result)
            atomic_write_text(result_file, json.dumps(result, indent=2) + "\n")
        on_result(name, params, result, figures.get("development", figures["test"]))
    with _results_lock(paths.results):  # the table read and written whole, never beside another process's merge
        results = [json.loads(path.read_text()) for path in sorted(paths.results.glob("*.json"))]
        atomic_write_text(paths.table, TABLE_PREAMBLE + results_table(results))
    return results


@contextmanager
def _results_lock(folder: Path):
    """Held while a result is merged or the table rewritten, so that processes finishing together all land."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


MODEL_SECTIONS = ("encoder", "text", "pool", "train", "finetune", "polarity")  # what a trained model depends on


def experiment_fingerprint(params: Params, train_rows: list[LabelledRow], evaluated_rows: list[LabelledRow]) -> str:
    """SHA-256 of everything an experiment's figures depend on: the parameter sections a model depends on, its
    training rows and the rows leave-one-register-out evaluates on (texts, labels, registers; never stored,
    only hashed). Settings for scoring, reports or suggestions do not change it."""
    content = {
        "params": {section: dataclasses.asdict(getattr(params, section)) for section in MODEL_SECTIONS},
        "train": data_fingerprint(train_rows),
        "evaluated": data_fingerprint(evaluated_rows),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def kept_leave_register_out(result_file: Path, result: dict) -> dict:
    """`result`, keeping the leave-one-register-out figures of the last result when it has none of its own and
    the last one was made with the same parameters and rows (a rerun does not lose hours of runs; a changed
    experiment does not keep figures of another model). Call under the results folder's lock."""
    if "leave_register_out" in result or not result_file.exists():
        return result
    last = json.loads(result_file.read_text())
    if last.get("fingerprint") == result["fingerprint"] and "leave_register_out" in last:
        return result | {"leave_register_out": last["leave_register_out"]}
    return result


def check_same_model(result_file: Path, fingerprint: str | None) -> dict:
    """The last result in `result_file`, refused when it was made with other parameters or rows than
    `fingerprint` says (a result from before fingerprints, or no fingerprint given, is taken as it is)."""
    result = json.loads(result_file.read_text())
    if fingerprint is not None and result.get("fingerprint", fingerprint) != fingerprint:
        raise InputError(
            f"{result_file.stem}: its last result was made with other parameters or rows; "
            "run it again without --register first"
        )
    return result


def merge_leave_register_out(result_file: Path, by_register: dict[str, dict], fingerprint: str | None = None) -> dict:
    """The result in `result_file` with these registers' leave-one-out figures added (or replaced), written back
    under the results folder's lock. With `fingerprint`, a result made with other parameters or rows (another
    fingerprint) is refused: its figures would mix two models."""
    with _results_lock(result_file.parent):
        result = check_same_model(result_file, fingerprint)
        result["leave_register_out"] = result.get("leave_register_out", {}) | by_register
        atomic_write_text(result_file, json.dumps(result, indent=2) + "\n")
    return result

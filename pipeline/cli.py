"""The `behaviours` command: parses arguments, prints for people, calls the rest.

Every expected failure (bad file, missing column, missing model, bad config) is
an `InputError`: one line on stderr and exit code 2, never a traceback, and no
output file written.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pipeline import comparisons
from pipeline.additions import (
    Match,
    Plan,
    Prefer,
    corpus_problems,
    current_text,
    plan_addition,
    read_new_rows,
    relabelled,
    with_labels_replaced,
    with_rows_appended,
    write_files,
)
from pipeline.config import DEFAULT_PARAMS, PROJECT_ROOT, DataParams, Params, ScoreParams, load_params
from pipeline.data import (
    REGISTERS,
    LabelledRow,
    Problem,
    by_position,
    display_path,
    label_matrix,
    labelled_files,
    load_labelled,
    near_duplicate_problems,
    validate_files,
)
from pipeline.batch import PartialRun, ProgressLines, ScoreOptions, Summary, run_fingerprint, score_export, validate
from pipeline.backends import BACKENDS, backend_model_dir
from pipeline.encode import CachedEncoder, load_encoder
from pipeline.errors import InputError
from pipeline.evaluate import evaluation_report, plot_tables, polarity_report, tagger_report
from pipeline.experiments import experiment_params, results_table
from pipeline.exports import open_export
from pipeline.io import atomic_write_text, read_table, table_format, write_chunks, write_table
from pipeline.label_check import suspects
from pipeline.model import load_model, save_model
from pipeline.onnx_encoder import export_onnx
from pipeline.promote import refusals
from pipeline.redact import KINDS as IDENTIFIER_KINDS
from pipeline.redact import Redactor, replace
from pipeline.report import model_figures, read_card, render_html, write_workbook
from pipeline.report import summarise as summarise_report
from pipeline.split import make_test_split, partition, read_test_ids, write_test_ids
from pipeline.static_encoder import StaticEncoder, fit_static_model, save_static_model
from pipeline.stats import corpus_stats, coverage_gaps
from pipeline.tagger import AGGREGATIONS, Tagger, TagResult, embed_texts, model_encoder, result_matrices, tag_in_chunks
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.text import SentenceSplitter
from pipeline.tracking import (
    REGISTERED_MODEL,
    log_evaluation,
    log_experiment,
    log_training,
    record_promotion,
    registered_tagger,
)
from pipeline.train import fit_model, out_of_fold_probabilities, summarise

DEFAULT_LABELLED = PROJECT_ROOT / "labelled"
DEFAULT_MODEL = PROJECT_ROOT / "models" / "default"
EMBEDDING_CACHE = PROJECT_ROOT / ".cache" / "embeddings.sqlite3"  # labelled texts only, never scored ones
EXPERIMENTS_DIR = PROJECT_ROOT / "configs" / "experiments"
RESULTS_DIR = PROJECT_ROOT / "experiments" / "results"
EXPERIMENTS_TABLE = PROJECT_ROOT / "docs" / "experiments.md"
EXPERIMENTS_PREAMBLE = """# Experiments

Every experiment trains on the same training rows and is evaluated on the same fixed
test split (labelled/test_ids.txt); LORO columns: trained without that register, evaluated on all
of its rows. Rewritten by `behaviours experiment NAME… [--leave-register-out]`
(configs in `configs/experiments/`, results in `experiments/results/`, runs in MLflow
tagged `experiment`). Training time includes evaluating on the test split, on 2 CPU
cores. Why the shipped model is what it is: `docs/decisions.md`.

"""
TEST_IDS = "test_ids.txt"  # inside the labelled folder

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    help=(
        "Tag NHS and public-sector free text (exit surveys, appraisals, coaching notes, 360 feedback, "
        "staff-survey comments) with the thirteen behaviours of the System Leadership Behaviours "
        "Framework, with the sentences that are the evidence. Everything runs on this machine."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
labelled_app = typer.Typer(
    help="The labelled training data in labelled/: validate, add, stats, export, check.", no_args_is_help=True
)
app.add_typer(labelled_app, name="labelled")

ModelOption = Annotated[Path, typer.Option("--model", help="Model folder made by `behaviours train`.")]
ParamsOption = Annotated[Path, typer.Option("--params", help="Parameters file (YAML).")]
LabelledOption = Annotated[Path, typer.Option("--labelled", help="Folder of labelled *.csv files.")]
BackendOption = Annotated[
    Optional[str],
    typer.Option("--backend", help=f"Encoder backend: {' | '.join(BACKENDS)} (default: backend.name in params)."),
]
BackendModelOption = Annotated[
    Optional[Path],
    typer.Option("--model", help="Model folder (default: models/default, or models/static with --backend static)."),
]


@app.callback()
def _setup(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _load_tagger(model_dir: Path | None, params: Params, taxonomy: Taxonomy, backend: str | None = None) -> Tagger:
    """The model in `model_dir` (default: the backend's) ready to tag, encoding with `backend` (default: params)."""
    backend = backend or params.backend.name
    model_dir = backend_model_dir(model_dir, backend, params.backend)
    model = load_model(model_dir, taxonomy.ids)
    encoder = model_encoder(model, backend, model_dir, params.backend)
    return Tagger(model, encoder=encoder, max_evidence=params.score.max_evidence_per_behaviour)


# ---------------------------------------------------------------- labelled data

ADDED_FILE = "added.csv"  # default target of `labelled add`, inside the labelled folder
SHORT_REGISTERS = {  # column headings narrow enough for an 80-column terminal
    "exit_survey": "exit",
    "appraisal_note": "appr",
    "coaching_note": "coach",
    "feedback_360": "360",
    "staff_survey": "staff",
    "brainstorm": "brain",
    "framework": "frame",
}
CacheOption = Annotated[Path, typer.Option("--embedding-cache", help="Cache of labelled texts' vectors (SQLite).")]
TrackOption = Annotated[
    bool, typer.Option("--track/--no-track", help="Log the run to MLflow (experiments/, or MLFLOW_TRACKING_URI).")
]


def _text_vectors(texts: list[str], params: Params, cache: Path) -> np.ndarray:
    """Text vectors exactly as training makes them (sentences, pieces, their mean), through the embedding cache."""
    encoder = CachedEncoder(load_encoder(params.encoder), cache)
    return embed_texts(texts, SentenceSplitter(params.text), encoder).text_vectors()


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        console.print(str(problem), markup=False, highlight=False, soft_wrap=True)


@labelled_app.command("validate")
def labelled_validate(
    files: Annotated[Optional[list[Path]], typer.Argument(help="Labelled CSV files (default: all in labelled/).")] = None,
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    cache: CacheOption = EMBEDDING_CACHE,
) -> None:
    """Check schema, ids, polarity alignment, empty texts, duplicates and near duplicates; exit 2 on any problem."""
    params = load_params(params_file)
    rows, problems = validate_files(files or labelled_files(labelled), load_taxonomy())
    if len(rows) > 1:
        vectors = _text_vectors([r.text for r in rows], params, cache)
        problems = by_position(problems + near_duplicate_problems(rows, vectors, params.data.near_duplicate_cosine))
    _print_problems(problems)
    if problems:
        err_console.print(f"{len(problems)} problem(s) in labelled data")
        raise typer.Exit(2)
    threshold = params.data.near_duplicate_cosine
    console.print(f"{len(rows)} labelled rows, no problems (near duplicates: cosine ≥ {threshold})")


@labelled_app.command("stats")
def labelled_stats(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts and gaps as JSON.")] = False,
) -> None:
    """Rows per behaviour × register × polarity, and the gaps against the targets (params.yaml, data:)."""
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    stats = corpus_stats(load_labelled(labelled_files(labelled), taxonomy), taxonomy)
    gaps = coverage_gaps(stats, params.data)
    if as_json:
        gap_list = [dataclasses.asdict(g) for g in gaps]
        print(json.dumps({"stats": stats, "params": dataclasses.asdict(params.data), "gaps": gap_list}, indent=2))
        return
    _print_stats(stats, params.data)
    for gap in gaps:
        console.print(str(gap), style="bold yellow", markup=False, highlight=False)
    if not gaps:
        console.print("all targets met", style="green")


def _print_stats(stats: dict, targets: DataParams) -> None:
    def cell(counts: dict) -> str:
        return f"{counts['+']}/{counts['-']}" + (f" {counts['?']}?" if counts["?"] else "")

    none = stats["no_behaviour"]
    registers = Table(
        title=f"{stats['rows']} labelled rows: rows carrying each behaviour, + / - (? no polarity)",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    registers.add_column("behaviour", no_wrap=True)
    for register in REGISTERS:
        registers.add_column(SHORT_REGISTERS[register], justify="right", no_wrap=True)
    for behaviour_id, b in stats["behaviours"].items():
        registers.add_row(behaviour_id, *(cell(b["by_register"][r]) for r in REGISTERS))
    registers.add_row("no behaviour", *(str(none["by_register"][r]) for r in REGISTERS))
    console.print(registers)
    console.print()
    floor = targets.critical_share - targets.critical_share_tolerance
    against = Table(title="Against the targets, in the five user registers (params.yaml, data:)")
    against.add_column("behaviour", no_wrap=True)
    against.add_column(f"rows (≥ {targets.min_per_behaviour})", justify="right")
    against.add_column(f"- share ({targets.critical_share:.0%}, ≥ {floor:.0%})", justify="right")
    against.add_column(f"registers (≥ {targets.min_registers_per_behaviour})", justify="right")
    against.add_column("all registers", justify="right")
    for behaviour_id, b in stats["behaviours"].items():
        share = "–" if b["critical_share"] is None else f"{b['critical_share']:.0%}"
        against.add_row(behaviour_id, str(b["user_rows"]), share, str(b["user_registers"]), str(b["rows"]))
    against.add_row(f"no behaviour (≥ {targets.min_no_behaviour})", str(none["user_rows"]), "", "", str(none["rows"]))
    console.print(against)
    console.print(
        f"{stats['multi_label_share']:.0%} of the {stats['user_behaviour_rows']} behaviour rows in the user registers "
        f"carry two or more behaviours (≥ {targets.min_multi_label_share:.0%})",
        highlight=False,
    )


@labelled_app.command("add")
def labelled_add(
    new_file: Annotated[
        Path,
        typer.Argument(help="A labelled CSV, or `behaviours score` output with corrected behaviours.", metavar="NEW"),
    ],
    to: Annotated[
        Optional[Path], typer.Option("--to", help="Labelled CSV to append to (default: added.csv in labelled/).")
    ] = None,
    prefer: Annotated[
        Optional[Prefer],
        typer.Option("--prefer", help="Whose labels win when a text is already labelled otherwise (default: refuse)."),
    ] = None,
    source: Annotated[
        Optional[str], typer.Option("--source", help="Source of rows from score output (default: added:<file stem>).")
    ] = None,
    register: Annotated[
        Optional[str], typer.Option("--register", help="Register of rows from score output (required for it).")
    ] = None,
    text_column: Annotated[
        Optional[str], typer.Option("--text-column", "-c", help="The text column of score output.")
    ] = None,
    labelled: LabelledOption = DEFAULT_LABELLED,
) -> None:
    """Add newly labelled rows: skip duplicates, settle or refuse conflicts, append with provenance, check first."""
    taxonomy = load_taxonomy()
    files = [path.resolve() for path in labelled_files(labelled)]
    target = (to or labelled / ADDED_FILE).resolve()
    if target.suffix.lower() != ".csv" or target.parent != Path(labelled).resolve():
        raise InputError(f"{to}: --to must name a .csv file in {labelled}")
    existing = load_labelled(files, taxonomy)
    used_ids = {r.id for r in existing}
    new_rows, problems, empty = read_new_rows(new_file, taxonomy, used_ids, text_column, register, source)
    if problems:
        _print_problems(problems)
        raise InputError(f"{new_file}: {len(problems)} problem(s) in the new rows; nothing written")
    plan = plan_addition(existing, new_rows)
    if plan.clashes:
        _print_matches(plan.clashes, "labelled differently in the same file as")
        raise InputError(f"{new_file}: {len(plan.clashes)} text(s) repeated with different labels; nothing written")
    if plan.conflicts and prefer is None:
        _print_matches(plan.conflicts, "labelled differently from")
        raise InputError(
            f"{len(plan.conflicts)} text(s) already labelled differently; nothing written "
            "(say which labels win with --prefer new or --prefer existing)"
        )
    changed = relabelled(plan.conflicts, prefer) if prefer else []
    by_name = {display_path(path): path for path in files}
    contents = {
        by_name[name]: with_labels_replaced(current_text(by_name[name]), [r for r in changed if r.file == name])
        for name in dict.fromkeys(r.file for r in changed)
    }
    if plan.added:
        contents[target] = with_rows_appended(contents.get(target, current_text(target)), plan.added)
    after = {display_path(p): contents[p] if p in contents else current_text(p) for p in sorted({*files, *contents})}
    problems = corpus_problems(after, taxonomy)
    if problems:
        _print_problems(problems)
        raise InputError(f"the labelled data would have {len(problems)} problem(s) after adding; nothing written")
    write_files(contents)
    _print_addition(plan, prefer, changed, empty, display_path(target), read_test_ids(labelled / TEST_IDS))


def _print_matches(matches: list[Match], how: str) -> None:
    for m in matches:
        console.print(
            f"{m.new.file}:{m.new.line}: {m.new.id} ({';'.join(m.new.labels) or 'no behaviour'}) {how} "
            f"{m.existing.id} ({';'.join(m.existing.labels) or 'no behaviour'}, {m.existing.file}:{m.existing.line})",
            markup=False, highlight=False, soft_wrap=True,
        )


def _print_addition(
    plan: Plan, prefer: Prefer | None, changed: list[LabelledRow], empty: int, target: str, test_ids: set[str]
) -> None:
    _print_matches(plan.duplicates, "skipped: same text and labels as")
    if plan.conflicts:
        _print_matches(plan.conflicts, f"{prefer.value} labels kept:")
    console.print(f"added {len(plan.added)}" + (f" → {target}" if plan.added else ""), highlight=False)
    console.print(f"skipped duplicates {len(plan.duplicates)}", highlight=False)
    relabelled_files = ", ".join(dict.fromkeys(r.file for r in changed))
    resolved = f"conflicts resolved {len(plan.conflicts)}" + (f" → {relabelled_files}" if changed else "")
    console.print(resolved, highlight=False)
    if empty:
        console.print(f"skipped empty answers {empty}", highlight=False)
    in_test = sum(r.id in test_ids for r in changed)
    if in_test:
        console.print(f"note: {in_test} relabelled row(s) are in the fixed test split: earlier figures are not comparable")
    if plan.added:
        console.print("new rows go to training (the test split is fixed); check near duplicates with `labelled validate`")


@labelled_app.command("export")
def labelled_export(
    to: Annotated[Path, typer.Option("--to", help="Folder for dataset/ (save_to_disk), <split>.parquet, README.md.")],
    labelled: LabelledOption = DEFAULT_LABELLED,
    force: Annotated[bool, typer.Option("--force", help="Replace a folder that is not empty.")] = False,
) -> None:
    """The labelled data as a Hugging Face DatasetDict (train / test by the fixed split), Parquet and a dataset card."""
    from pipeline.dataset import dataset_card, save_dataset, to_dataset_dict  # datasets is a slow import

    taxonomy = load_taxonomy()
    rows = load_labelled(labelled_files(labelled), taxonomy)
    dataset = to_dataset_dict(rows, read_test_ids(labelled / TEST_IDS), taxonomy)
    save_dataset(dataset, dataset_card(dataset, taxonomy), to, force)
    console.print(f"train {len(dataset['train'])} rows, test {len(dataset['test'])} rows → {to}", highlight=False)


@labelled_app.command("check")
def labelled_check(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    confidence: Annotated[float, typer.Option(help="How sure the model must be to count a disagreement (0-1).")] = 0.9,
    top: Annotated[int, typer.Option(help="How many rows to list.")] = 30,
    cache: CacheOption = EMBEDDING_CACHE,
) -> None:
    """List likely label errors: rows whose cross-validated predictions confidently disagree with their labels."""
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    rows = load_labelled(labelled_files(labelled), taxonomy)
    encoder = CachedEncoder(load_encoder(params.encoder), cache)
    embedded = embed_texts([r.text for r in rows], SentenceSplitter(params.text), encoder)
    Y = label_matrix(rows, taxonomy)
    found = suspects(rows, Y, out_of_fold_probabilities(embedded, Y, params), taxonomy.ids, confidence)
    table = Table(title=f"{len(found)} rows where the model disagrees with {confidence:.0%} confidence (top {top})")
    for column in ("suspicion", "row", "labels", "model says not", "model says also", "text"):
        table.add_column(column, overflow="fold")
    for suspect in found[:top]:
        row = suspect.row
        table.add_row(
            f"{suspect.suspicion:.2f}", f"{row.id}\n{row.file}:{row.line}", ";".join(row.labels) or "(none)",
            ";".join(suspect.missing), ";".join(suspect.extra), row.text[:160],
        )
    console.print(table)


@app.command()
def split(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing split.")] = False,
    cache: CacheOption = EMBEDDING_CACHE,
) -> None:
    """Choose the fixed test split (labelled/test_ids.txt) that training never sees; near duplicates stay together."""
    params = load_params(params_file)
    target = labelled / TEST_IDS
    if target.exists() and not force:
        raise InputError(f"{target} exists: the test split is fixed (use --force to choose a new one)")
    rows = load_labelled(labelled_files(labelled), load_taxonomy())
    vectors = _text_vectors([r.text for r in rows], params, cache)
    test_ids = make_test_split(rows, params.split, vectors)
    write_test_ids(test_ids, target)
    console.print(f"{len(test_ids)} of {len(rows)} rows held out for testing → {target}")


# ---------------------------------------------------------------- training and evaluation


def _print_report(report: dict, taxonomy: Taxonomy, title: str) -> None:
    table = Table(title=title)
    for column in ("behaviour", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "behaviour" else "right")
    for behaviour_id, m in report["per_behaviour"].items():
        table.add_row(
            taxonomy[behaviour_id].name, f"{m['precision']:.2f}", f"{m['recall']:.2f}", f"{m['f1']:.2f}", str(m["support"])
        )
    console.print(table)
    console.print(_headline(report))
    if "per_register" in report:
        registers = Table(title="By register")
        for column in ("register", "texts", "macro F1", "micro F1", "no-behaviour left untagged"):
            registers.add_column(column, justify="left" if column == "register" else "right")
        for register, m in report["per_register"].items():
            untagged = "–" if m["none_untagged"] is None else f"{m['none_untagged']:.2f} of {m['none_texts']}"
            registers.add_row(register, str(m["texts"]), f"{m['macro_f1']:.3f}", f"{m['micro_f1']:.3f}", untagged)
        console.print(registers)
    if "polarity" in report:
        _print_polarity(report["polarity"])


def _print_polarity(polarity: dict) -> None:
    def fmt(value):
        return "–" if value is None else f"{value:.3f}"

    table = Table(title="Strength or gap, on the labelled behaviours the tagger found")
    for column in ("register", "found of labelled", "accuracy", "macro F1 (+/-)"):
        table.add_column(column, justify="left" if column == "register" else "right")
    for name, m in [*polarity["per_register"].items(), ("all", polarity)]:
        table.add_row(name, f"{m['found']} of {m['pairs']}", fmt(m["accuracy"]), fmt(m["macro_f1"]))
    console.print(table)


def _headline(report: dict) -> str:
    def fmt(value):
        return "–" if value is None else f"{value:.3f}"

    return (
        f"texts {report['texts']}  macro-F1 {fmt(report['macro_f1'])}  micro-F1 {fmt(report['micro_f1'])}  "
        f"exact match {fmt(report['exact_match'])}\n"
        f"no-behaviour texts: {report['none_texts']}, left untagged {fmt(report['none_untagged'])}; "
        f"texts left untagged that truly show none {fmt(report['none_precision'])}"
    )


@app.command()
def embed(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    cache: CacheOption = EMBEDDING_CACHE,
) -> None:
    """Encode every labelled text's sentences into the embedding cache (only those not there yet)."""
    params = load_params(params_file)
    rows = load_labelled(labelled_files(labelled), load_taxonomy())
    encoder = CachedEncoder(load_encoder(params.encoder), cache)
    embedded = embed_texts([r.text for r in rows], SentenceSplitter(params.text), encoder)
    console.print(
        f"{len(rows)} labelled texts, {len(embedded.vectors)} sentence pieces; {encoder.encoded} newly encoded → {cache}",
        highlight=False,
    )


@app.command()
def train(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    model_dir: Annotated[Path, typer.Option("--model-dir", help="Where to write the model folder.")] = DEFAULT_MODEL,
    cache: CacheOption = EMBEDDING_CACHE,
    track: TrackOption = True,
) -> None:
    """Train on labelled/ (minus the test split), tune thresholds, evaluate on the test split, save the model."""
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    rows = load_labelled(labelled_files(labelled), taxonomy)
    train_rows, test_rows = partition(rows, read_test_ids(labelled / TEST_IDS))
    console.print(f"training on {len(train_rows)} rows; {len(test_rows)} held out for testing")
    encoder = CachedEncoder(load_encoder(params.encoder), cache)
    splitter = SentenceSplitter(params.text)
    model, training_figures = fit_model(train_rows, params, taxonomy, encoder, splitter)
    console.print(f"{model.card['evaluation']['training']['method']}: " + _headline(training_figures))
    report = None
    if test_rows:
        tagger = Tagger(model, encoder=encoder, splitter=splitter)
        report = tagger_report(tagger, test_rows, taxonomy, params.score.chunk_size)
        model.card["evaluation"]["test"] = summarise(report)
        _print_report(report, taxonomy, "Held-out test split")
    save_model(model, model_dir)
    console.print(f"model saved to {model_dir} ({encoder.encoded} pieces encoded, the rest from the embedding cache)")
    if track:
        run_id, version = log_training(model_dir, params, model.card, report)
        console.print(f"MLflow run {run_id}; registered as {REGISTERED_MODEL} version {version} (alias: challenger)")


@app.command("export-onnx")
def export_onnx_command(
    model_dir: ModelOption = DEFAULT_MODEL,
    int8: Annotated[bool, typer.Option("--int8/--fp32", help="Also write the int8-quantised graph.")] = True,
) -> None:
    """Export the model's adapted encoder to ONNX (<model>/onnx/) for `--backend onnx` / `onnx-int8`."""
    model = load_model(model_dir, load_taxonomy().ids)
    for path in export_onnx(model, model_dir, int8):
        console.print(f"{path} ({path.stat().st_size / 2**20:.1f} MiB)", highlight=False)


@app.command("train-static")
def train_static(
    source_dir: Annotated[Path, typer.Option("--from", help="Model whose adapted encoder is distilled.")] = DEFAULT_MODEL,
    model_dir: Annotated[Optional[Path], typer.Option("--model-dir", help="Where to write it (default: backend.static_model).")] = None,
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Distil static word-piece vectors from a model's encoder and train a head on them (`--backend static`)."""
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    rows = load_labelled(labelled_files(labelled), taxonomy)
    train_rows, test_rows = partition(rows, read_test_ids(labelled / TEST_IDS))
    source = model_encoder(load_model(source_dir, taxonomy.ids))
    splitter = SentenceSplitter(params.text)
    vectors, model, figures = fit_static_model(source, train_rows, params, taxonomy, splitter)
    console.print(f"{model.card['evaluation']['training']['method']}: " + _headline(figures))
    if test_rows:
        tagger = Tagger(model, encoder=StaticEncoder(vectors), splitter=splitter)
        report = tagger_report(tagger, test_rows, taxonomy, params.score.chunk_size)
        model.card["evaluation"]["test"] = summarise(report)
        _print_report(report, taxonomy, "Held-out test split (static encoder)")
    model_dir = model_dir or PROJECT_ROOT / params.backend.static_model
    save_static_model(vectors, model, model_dir)
    console.print(f"static model saved to {model_dir} (score with --backend static)", highlight=False)


@app.command()
def evaluate(
    files: Annotated[
        Optional[list[Path]], typer.Argument(help="Labelled CSV files to evaluate on (default: the test split).")
    ] = None,
    model_dir: BackendModelOption = None,
    backend: BackendOption = None,
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    leave_register_out: Annotated[
        bool,
        typer.Option(
            "--leave-register-out",
            help="Instead: train one model per user register without it, evaluate each on the register it never saw.",
        ),
    ] = False,
    against_brainstorm_only: Annotated[
        bool,
        typer.Option(
            "--against-brainstorm-only",
            help="Also train a model on the brainstorm and framework rows alone and compare on the test split.",
        ),
    ] = False,
    long_notes: Annotated[
        bool,
        typer.Option(
            "--long-notes",
            help="Instead: notes of 5, 20 and 60 test answers (2 showing behaviours), tagged with each aggregation.",
        ),
    ] = False,
    cache: CacheOption = EMBEDDING_CACHE,
    track: TrackOption = True,
    metrics: Annotated[Optional[Path], typer.Option(help="Also write the figures to this JSON file.")] = None,
    plots: Annotated[Optional[Path], typer.Option(help="Also write plot data (CSV) into this folder.")] = None,
) -> None:
    """Per-behaviour precision/recall/F1, micro and macro F1, exact match and no-behaviour figures."""
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    model_dir = backend_model_dir(model_dir, backend or params.backend.name, params.backend)
    if leave_register_out or against_brainstorm_only:
        _compare(labelled, model_dir, params, taxonomy, cache, leave_register_out, as_json)
        return
    if long_notes:
        _long_notes(labelled, model_dir, params, taxonomy, as_json)
        return
    if files:
        rows = load_labelled(files, taxonomy)
    else:
        _, rows = partition(load_labelled(labelled_files(labelled), taxonomy), read_test_ids(labelled / TEST_IDS))
        if not rows:
            raise InputError(f"no test split in {labelled / TEST_IDS} (run `behaviours split`)")
    tagger = _load_tagger(model_dir, params, taxonomy, backend)
    results = tag_in_chunks(tagger, [r.text for r in rows], params.score.chunk_size)
    predicted, scores = result_matrices(results, taxonomy.ids)
    truth = label_matrix(rows, taxonomy)
    report = evaluation_report(truth, predicted, [r.register for r in rows], taxonomy)
    report["polarity"] = polarity_report(rows, results)
    if metrics is not None:
        metrics.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(metrics, json.dumps(report, indent=2) + "\n")
    if plots is not None:
        for name, table in plot_tables(truth, scores, predicted, taxonomy).items():
            (plots / name).parent.mkdir(parents=True, exist_ok=True)
            write_table(pd.DataFrame(table), plots / f"{name}.csv")
    source = ", ".join(map(str, files)) if files else "the test split"
    if track:
        log_evaluation(report, model_dir, source)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report, taxonomy, f"Evaluation on {source}")


def _long_notes(labelled: Path, model_dir: Path, params: Params, taxonomy: Taxonomy, as_json: bool) -> None:
    _, test_rows = partition(load_labelled(labelled_files(labelled), taxonomy), read_test_ids(labelled / TEST_IDS))
    figures = comparisons.long_notes(_load_tagger(model_dir, params, taxonomy), test_rows, taxonomy)
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    table = Table(title="Long notes (test answers joined as paragraphs): macro-F1 / micro-F1 / tags per note")
    table.add_column("answers per note")
    table.add_column("words", justify="right")
    table.add_column("true behaviours", justify="right")
    for aggregation in AGGREGATIONS:
        table.add_column(aggregation, justify="right")
    for answers, m in figures.items():
        cells = [f"{m[a]['macro_f1']:.3f} / {m[a]['micro_f1']:.3f} / {m[a]['tags_per_note']:.1f}" for a in AGGREGATIONS]
        table.add_row(str(answers), str(m["words"]), f"{m['labels_per_note']:.1f}", *cells)
    console.print(table)


def _compare(
    labelled: Path, model_dir: Path, params: Params, taxonomy: Taxonomy, cache: Path, loro: bool, as_json: bool
) -> None:
    """Leave-one-register-out, or the shipped model against a brainstorm-only one, in one run."""
    rows = load_labelled(labelled_files(labelled), taxonomy)
    train_rows, test_rows = partition(rows, read_test_ids(labelled / TEST_IDS))
    splitter = SentenceSplitter(params.text)

    def new_encoder():
        return CachedEncoder(load_encoder(params.encoder), cache)

    if loro:
        reports = comparisons.leave_register_out(train_rows, rows, params, taxonomy, new_encoder, splitter)
        figures = {register: summarise(report) for register, report in reports.items()}
        title = "Leave one register out: trained without the register, evaluated on all of its rows"
    else:
        shipped = _load_tagger(model_dir, params, taxonomy)
        figures = {
            "model": summarise(tagger_report(shipped, test_rows, taxonomy, params.score.chunk_size)),
            "brainstorm_only": summarise(
                comparisons.brainstorm_only(train_rows, test_rows, params, taxonomy, new_encoder, splitter)
            ),
        }
        title = f"{model_dir} against a model trained on brainstorm + framework rows only (test split)"
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    table = Table(title=title)
    for column in ("", "texts", "macro F1", "micro F1", "no-behaviour left untagged"):
        table.add_column(column, justify="left" if not column else "right")
    for name, m in figures.items():
        untagged = "–" if m["none_untagged"] is None else f"{m['none_untagged']:.3f}"
        table.add_row(name, str(m["texts"]), f"{m['macro_f1']:.3f}", f"{m['micro_f1']:.3f}", untagged)
    console.print(table)
    if not loro:
        gain = figures["model"]["macro_f1"] - figures["brainstorm_only"]["macro_f1"]
        console.print(f"macro-F1 gain over brainstorm only: {gain:+.3f}", highlight=False)


@app.command()
def experiment(
    names: Annotated[list[str], typer.Argument(help="Experiment names: configs/experiments/<name>.yaml.")],
    leave_register_out: Annotated[
        bool, typer.Option("--leave-register-out", help="Also train without each user register and test on it.")
    ] = False,
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    cache: CacheOption = EMBEDDING_CACHE,
    track: TrackOption = True,
) -> None:
    """Run named experiments on the same data and split; results to experiments/results/ and docs/experiments.md."""
    base = load_params(params_file)
    taxonomy = load_taxonomy()
    rows = load_labelled(labelled_files(labelled), taxonomy)
    train_rows, test_rows = partition(rows, read_test_ids(labelled / TEST_IDS))
    planned = [(name, *experiment_params(base, EXPERIMENTS_DIR / f"{name}.yaml")) for name in names]
    for name, about, params in planned:
        splitter = SentenceSplitter(params.text)

        def new_encoder(params=params):
            return CachedEncoder(load_encoder(params.encoder), cache)

        start = time.perf_counter()
        report = comparisons.train_and_evaluate(train_rows, test_rows, params, taxonomy, new_encoder, splitter)
        result = {"name": name, "about": about, "train_seconds": round(time.perf_counter() - start, 1)}
        result["test"] = summarise(report)
        if leave_register_out:
            reports = comparisons.leave_register_out(train_rows, rows, params, taxonomy, new_encoder, splitter)
            result["leave_register_out"] = {register: summarise(r) for register, r in reports.items()}
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        atomic_write_text(RESULTS_DIR / f"{name}.json", json.dumps(result, indent=2) + "\n")
        if track:
            log_experiment(name, params, result)
        console.print(f"{name}: test {_headline(report)}", highlight=False)
    results = [json.loads(path.read_text()) for path in sorted(RESULTS_DIR.glob("*.json"))]
    atomic_write_text(EXPERIMENTS_TABLE, EXPERIMENTS_PREAMBLE + results_table(results))
    console.print(f"table of {len(results)} experiments → {EXPERIMENTS_TABLE}")


@app.command()
def promote(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    force: Annotated[bool, typer.Option("--force", help="Promote even if the gate refuses (needs --reason).")] = False,
    reason: Annotated[Optional[str], typer.Option(help="Why the gate is overridden (logged).")] = None,
) -> None:
    """Make the MLflow `challenger` the `champion` if it is no worse on the test split (rules in params.yaml)."""
    if force and not reason:
        raise InputError("--force needs --reason: say why the promotion gate is overridden")
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    _, test_rows = partition(load_labelled(labelled_files(labelled), taxonomy), read_test_ids(labelled / TEST_IDS))
    challenger = registered_tagger("challenger")
    if challenger is None:
        raise InputError(f"no model version of {REGISTERED_MODEL} has the alias challenger (run `behaviours train`)")
    champion = registered_tagger("champion")
    reports = {"challenger": tagger_report(challenger[1], test_rows, taxonomy, params.score.chunk_size)}
    if champion is not None:
        reports["champion"] = tagger_report(champion[1], test_rows, taxonomy, params.score.chunk_size)
    version = challenger[0]
    reasons = refusals(reports["champion"], reports["challenger"], params.promote) if champion else []
    _print_comparison(reports, taxonomy, champion[0] if champion else None, version)
    comparison = {name: summarise(report) for name, report in reports.items()} | {"refusals": reasons}
    if reasons and not force:
        for line in reasons:
            console.print(f"refused: {line}", highlight=False)
        console.print(f"version {version} not promoted; the champion stays version {champion[0]}", highlight=False)
        raise typer.Exit(1)
    record_promotion(version, comparison, reason if reasons else None)
    note = f" (forced: {reason})" if reasons else ""
    console.print(f"version {version} is now the champion{note}", highlight=False)


def _print_comparison(reports: dict, taxonomy: Taxonomy, champion: str | None, challenger: str) -> None:
    table = Table(title=f"champion (version {champion or '–'}) vs challenger (version {challenger}) on the test split")
    for column in ("", "champion", "challenger", "change"):
        table.add_column(column, justify="left" if not column else "right")
    rows = [("macro-F1", lambda r: r["macro_f1"]), ("no-behaviour left untagged", lambda r: r["none_untagged"] or 0.0)]
    rows += [(f"F1 {b.name}", lambda r, b=b: r["per_behaviour"][b.id]["f1"]) for b in taxonomy.behaviours]
    for label, value in rows:
        new = value(reports["challenger"])
        if "champion" in reports:
            old = value(reports["champion"])
            table.add_row(label, f"{old:.3f}", f"{new:.3f}", f"{new - old:+.3f}")
        else:
            table.add_row(label, "–", f"{new:.3f}", "")
    console.print(table)


# ---------------------------------------------------------------- tagging and scoring


@app.command()
def tag(
    text: Annotated[Optional[str], typer.Argument(help="The text to tag (or use --file).")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", "-f", help="A UTF-8 text file to tag.")] = None,
    model_dir: BackendModelOption = None,
    backend: BackendOption = None,
    params_file: ParamsOption = DEFAULT_PARAMS,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Tag one text: each behaviour found, its score and the sentences that are the evidence."""
    if (text is None) == (file is None):
        raise InputError("give either a text or --file, not both or neither")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{file}: file not found") from None
        except UnicodeDecodeError:
            raise InputError(f"{file}: not UTF-8 text") from None
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    result = _load_tagger(model_dir, params, taxonomy, backend).tag([text])[0]
    if as_json:
        print(json.dumps(result.__dict__, indent=2, ensure_ascii=False))
    else:
        _print_tag_result(result, taxonomy)


def _print_tag_result(result: TagResult, taxonomy: Taxonomy) -> None:
    if result.status == "empty":
        console.print("The text is empty: nothing to tag.")
        return
    if not result.behaviours:
        best = max(result.scores, key=result.scores.get)
        console.print(
            "No behaviour from the framework found in this text "
            f"(closest: {taxonomy[best].name}, score {result.scores[best]:.2f}; tags need 0.50)."
        )
        return
    for behaviour_id in result.behaviours:
        behaviour = taxonomy[behaviour_id]
        strength = result.polarity[behaviour_id]
        shown = f"▲ strength ({strength:.2f})" if strength >= 0.5 else f"▼ gap ({1 - strength:.2f})"
        console.print(
            f"[bold]{behaviour.name}[/bold] ({behaviour.theme.name})  score {result.scores[behaviour_id]:.2f}  {shown}",
            highlight=False,
        )
        for item in result.evidence:
            if item["behaviour"] == behaviour_id:
                sign = "▲" if item["polarity"] == "+" else "▼"
                console.print(f"    {sign} “{item['sentence']}”  ({item['score']:.2f})", markup=False, highlight=False)


EXCEL_MAX_ROWS = 1_048_575  # rows of one sheet below its header


@app.command()
def score(
    input_file: Annotated[Path, typer.Argument(help="CSV, Excel (.xlsx), JSON Lines or Parquet file.", metavar="INPUT")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file; its extension sets the format.")],
    text_column: Annotated[
        list[str], typer.Option("--text-column", "-c", help="A column holding free text; repeat it for several questions.")
    ],
    model_dir: BackendModelOption = None,
    backend: BackendOption = None,
    params_file: ParamsOption = DEFAULT_PARAMS,
    encoding: Annotated[
        Optional[str],
        typer.Option("--encoding", help="Text encoding of a CSV or JSON Lines input (default: detected; e.g. cp1252)."),
    ] = None,
    sheet: Annotated[Optional[str], typer.Option("--sheet", help="The sheet of an Excel workbook (default: the first).")] = None,
    combined: Annotated[
        bool, typer.Option("--combined", help="With several --text-column: also one result per respondent over them all.")
    ] = False,
    id_column: Annotated[
        Optional[str], typer.Option("--id-column", help="The respondent id column: must exist; repeated ids are reported.")
    ] = None,
    group_by: Annotated[
        Optional[list[str]], typer.Option("--group-by", help="A grouping column (directorate, staff group…) that must exist.")
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run of the same input, options and model.")
    ] = False,
    redact_output: Annotated[
        bool,
        typer.Option("--redact", help="Replace names, e-mails, phone/NHS/staff numbers, postcodes in the text columns "
                     "and evidence of the output with [NAME], [EMAIL], ... (tags come from the original text)."),
    ] = False,
    report: Annotated[
        Optional[Path],
        typer.Option("--report", help="Then write the board report of the output (as `behaviours report`)."),
    ] = None,
    report_xlsx: Annotated[
        Optional[Path], typer.Option("--report-xlsx", help="With --report: also the report's tables as .xlsx.")
    ] = None,
    date_column: Annotated[
        Optional[str],
        typer.Option("--date-column", help="With --report: a date column for the trend by month or quarter."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no notes on reading the file.")] = False,
) -> None:
    """Score every row of a file: keeps all input columns, adds behaviours, score_<id>, evidence and status.

    With several --text-column each question's columns are prefixed `<column>__`. Rows
    are written as they are scored to a partial folder next to the output, so an
    interrupted run can be continued with --resume; the output file appears only
    when every row is scored. --report then writes the board report of the output,
    grouped by the --group-by columns (the combined result with several questions).
    """
    table_format(output)  # fail before any work if the output type is unknown
    if not output.parent.is_dir():
        raise InputError(f"{output}: folder {output.parent} does not exist")
    if report is None and (report_xlsx is not None or date_column is not None):
        raise InputError(f"{'--report-xlsx' if report_xlsx is not None else '--date-column'} needs --report")
    if report is not None:
        _check_report_files(report, report_xlsx)
        if len(text_column) > 1 and not combined:
            raise InputError("--report with several --text-column needs --combined (the report covers one result "
                             "per respondent), or run `behaviours report --prefix` on the output")
    params = load_params(params_file)
    taxonomy = load_taxonomy()
    export = open_export(input_file, encoding=encoding, sheet=sheet)
    options = ScoreOptions(
        text_columns=tuple(text_column), combined=combined, id_column=id_column, group_by=tuple(group_by or ()),
        encoding=encoding, sheet=sheet, chunk_size=params.score.chunk_size,
        max_evidence=params.score.max_evidence_per_behaviour, backend=backend or params.backend.name,
        redact=params.redact if redact_output else None,
    )
    validate(export, options, taxonomy.ids)
    if date_column is not None:
        export.require([date_column], "--date-column")
    if output.suffix.lower() == ".xlsx" and (export.rows or 0) > EXCEL_MAX_ROWS:
        raise InputError(f"{input_file}: {export.rows:,} rows do not fit in one Excel sheet; write .csv or .parquet")
    model_dir = backend_model_dir(model_dir, options.backend, params.backend)
    if report is not None:
        min_group_size = _min_group_size(None, params)
        model_figures(read_card(model_dir))  # the report needs the model's test figures: refuse before scoring
    tagger = _load_tagger(model_dir, params, taxonomy, options.backend)
    redactor = Redactor(params.redact) if redact_output or report is not None else None
    run = PartialRun(output)
    done = run.open(run_fingerprint(input_file, options, model_dir), resume)
    if not quiet:
        for note in export.notes:
            err_console.print(f"note: {input_file}: {note}", markup=False, highlight=False, soft_wrap=True)
        if done:
            err_console.print(f"resuming: {len(done)} chunk(s) already scored in {run.folder}", highlight=False)
    try:
        with _score_progress(export.rows, quiet, params.score) as on_rows:
            result = score_export(
                export, tagger, options, output, run, done, params.score, on_rows,
                redactor if redact_output else None,
            )
    except KeyboardInterrupt:
        err_console.print(f"interrupted: scored chunks kept in {run.folder}; rerun with --resume to continue")
        raise typer.Exit(130) from None
    if result.duplicate_ids:
        err_console.print(
            f"warning: {result.duplicate_ids} id(s) in --id-column {id_column!r} appear on more than one row",
            markup=False, highlight=False,
        )
    _print_summary(result.summary, taxonomy, output)
    console.print(f"distinct answers tagged in this run: {result.distinct_tagged} (each identical answer once)", highlight=False)
    if result.redacted is not None:  # counts only: never the text that was replaced
        console.print(
            "identifiers replaced in the text columns (and in their evidence): "
            + ", ".join(f"[{kind}] {result.redacted[kind]}" for kind in IDENTIFIER_KINDS),
            markup=False, highlight=False, soft_wrap=True,
        )
    if report is not None:
        try:
            _board_report(
                output, report, report_xlsx, model_dir, redactor, group_by=list(group_by or ()),
                date_column=date_column, min_group_size=min_group_size, prefix=None,
            )
        except InputError as exc:
            raise InputError(f"{output} is written, but not the report: {exc}") from None


@contextmanager
def _score_progress(total: int | None, quiet: bool, batch: ScoreParams) -> Iterator[Callable[[int], None]]:
    """A rich bar (rows, rows/s, time left) on a terminal, plain lines every ~10 s otherwise, nothing if quiet."""
    if quiet:
        yield lambda rows: None
    elif err_console.is_terminal:
        columns = (
            TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TextColumn("rows {task.fields[rate]}"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err_console, transient=True) as progress:
            task = progress.add_task("score", total=total, rate="")
            start = time.monotonic()

            def advance(rows: int) -> None:
                progress.advance(task, rows)
                done = progress.tasks[0].completed
                progress.update(task, rate=f"{done / max(time.monotonic() - start, 1e-9):,.1f}/s")

            yield advance
    else:
        lines = ProgressLines(total, lambda line: err_console.print(line, highlight=False), batch.progress_interval)
        yield lines.add
        lines.finish()


def _print_summary(summary: Summary, taxonomy: Taxonomy, output: Path) -> None:
    names = [name for name, _ in summary.results]
    table = Table(title=f"{summary.rows} rows scored → {output}")
    table.add_column("theme")
    table.add_column("behaviour")
    if len(names) == 1:
        table.add_column("rows", justify="right")
        table.add_column("share of answered", justify="right")
    else:
        for name in names:
            table.add_column(f"{name}\nrows (share of answered)", justify="right")
    for behaviour in taxonomy.behaviours:
        cells = []
        for name in names:
            count, answered = summary.tagged.get(name, Counter())[behaviour.id], summary.answered[name]
            share = f"{count / answered if answered else 0.0:.0%}"
            cells += [str(count), share] if len(names) == 1 else [f"{count} ({share})"]
        table.add_row(behaviour.theme.name, behaviour.name, *cells)
    console.print(table)
    for name in names:
        label = "" if len(names) == 1 else f"{name}: "
        console.print(
            f"{label}answered: {summary.answered[name]}; with no behaviour: {summary.untagged[name]}; "
            f"empty: {summary.empty[name]}",
            highlight=False,
        )


# ---------------------------------------------------------------- redaction


@app.command()
def redact(
    input_file: Annotated[Path, typer.Argument(help="CSV, Excel (.xlsx), JSON Lines or Parquet file.", metavar="INPUT")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output file; its extension sets the format.")],
    text_columns: Annotated[
        list[str], typer.Option("--text-column", "-c", help="A free-text column to redact (repeat for several).")
    ],
    encoding: Annotated[
        Optional[str],
        typer.Option("--encoding", help="Text encoding of a CSV or JSON Lines input (default: detected; e.g. cp1252)."),
    ] = None,
    sheet: Annotated[Optional[str], typer.Option("--sheet", help="The sheet of an Excel workbook (default: the first).")] = None,
    params_file: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """Replace names, e-mails, phone, NHS and staff numbers and postcodes in text columns with [NAME], [EMAIL], ...

    The input is read as `behaviours score` reads it (encoding and delimiter detected,
    Excel title rows and merged headers handled; every cell as text) and redacted
    chunk by chunk (score.chunk_size rows); the output appears only when complete.
    """
    table_format(output)  # fail before any work if the output type is unknown
    if not output.parent.is_dir():
        raise InputError(f"{output}: folder {output.parent} does not exist")
    params = load_params(params_file)
    export = open_export(input_file, encoding=encoding, sheet=sheet)
    columns = list(dict.fromkeys(text_columns))
    export.require(columns, "--text-column")
    if output.suffix.lower() == ".xlsx" and (export.rows or 0) > EXCEL_MAX_ROWS:
        raise InputError(f"{input_file}: {export.rows:,} rows do not fit in one Excel sheet; write .csv or .parquet")
    redactor = Redactor(params.redact)
    schema = pa.schema([(name, pa.string()) for name in export.columns])
    counts: Counter = Counter()
    rows = 0

    def redacted_tables() -> Iterator[pa.Table]:
        nonlocal rows
        for frame in export.chunks(params.score.chunk_size):
            for column in columns:
                values = frame[column].tolist()
                filled = [i for i, value in enumerate(values) if isinstance(value, str) and value.strip()]
                for i, found in zip(filled, redactor.find([values[i] for i in filled])):
                    values[i] = replace(values[i], found)
                    counts.update(f.kind for f in found)
                frame[column] = pd.Series(values, index=frame.index, dtype=object)
            rows += len(frame)
            yield pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        if rows == 0:  # no rows: the output still has its header
            yield schema.empty_table()

    for note in export.notes:
        err_console.print(f"note: {input_file}: {note}", markup=False, highlight=False, soft_wrap=True)
    write_chunks(redacted_tables(), schema, output)
    console.print(f"{rows} rows, {len(columns)} column(s) redacted → {output}", highlight=False)
    for kind in IDENTIFIER_KINDS:  # counts only: never the text that was replaced
        console.print(f"[{kind}] {counts[kind]}", markup=False, highlight=False)


# ---------------------------------------------------------------- the board report


@app.command("report")
def report_command(
    scored: Annotated[
        Path, typer.Argument(help="Output of `behaviours score` (CSV, Excel, JSON Lines or Parquet).", metavar="SCORED")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML report to write (one file, opens offline).")],
    xlsx: Annotated[Optional[Path], typer.Option("--xlsx", help="Also write the summary tables to this .xlsx.")] = None,
    group_by: Annotated[
        Optional[list[str]], typer.Option("--group-by", help="A column to compare groups by (repeat for more).")
    ] = None,
    date_column: Annotated[
        Optional[str], typer.Option("--date-column", help="A date column: trend by month or quarter.")
    ] = None,
    min_group_size: Annotated[
        Optional[int],
        typer.Option("--min-group-size", help="Groups with fewer answered responses are merged or left out "
                     "(default: report.min_group_size in params, 10)."),
    ] = None,
    prefix: Annotated[
        Optional[str], typer.Option("--prefix", help="Which scored question, when several were (or `combined`).")
    ] = None,
    model_dir: ModelOption = DEFAULT_MODEL,
    params_file: ParamsOption = DEFAULT_PARAMS,
) -> None:
    """A board-ready HTML report of scored responses (and an Excel summary): shares, strengths and gaps, groups, trend."""
    _check_report_files(output, xlsx)
    params = load_params(params_file)
    _board_report(
        scored, output, xlsx, model_dir, Redactor(params.redact), group_by=group_by or [], date_column=date_column,
        min_group_size=_min_group_size(min_group_size, params), prefix=prefix,
    )


def _check_report_files(output: Path, xlsx: Path | None) -> None:
    if output.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"{output}: the report is HTML; give a .html file")
    if xlsx is not None and xlsx.suffix.lower() != ".xlsx":
        raise InputError(f"{xlsx}: --xlsx needs a .xlsx file")


def _min_group_size(option: int | None, params: Params) -> int:
    """--min-group-size if given, else report.min_group_size from params; at least 2 either way."""
    size = option if option is not None else params.report.min_group_size
    if size < 2:
        where = "--min-group-size" if option is not None else "report.min_group_size (params)"
        raise InputError(f"{where} must be at least 2 (got {size})")
    return size


def _board_report(
    scored: Path,
    output: Path,
    xlsx: Path | None,
    model_dir: Path,
    redactor: Redactor,
    *,
    group_by: list[str],
    date_column: str | None,
    min_group_size: int,
    prefix: str | None,
) -> None:
    """The board report of a scored file (`behaviours report`, and `behaviours score --report` after scoring)."""
    _check_report_files(output, xlsx)
    taxonomy = load_taxonomy()
    card = read_card(model_dir)
    summary = summarise_report(  # example quotes go through `redactor`: never on the page unredacted
        read_table(scored), taxonomy, card, redactor.redact, group_by=group_by, date_column=date_column,
        min_group_size=min_group_size, prefix=prefix, source=scored.name,
    )
    atomic_write_text(output, render_html(summary, taxonomy))
    if xlsx is not None:
        write_workbook(summary, taxonomy, xlsx)
    console.print(
        f"report → {output}" + (f", summary tables → {xlsx}" if xlsx else "")
        + f" ({summary.headline.answered} answered of {summary.headline.responses} responses)",
        highlight=False, soft_wrap=True,
    )


# ---------------------------------------------------------------- web page and API


@app.command()
def serve(
    model_dir: BackendModelOption = None,
    backend: BackendOption = None,
    params_file: ParamsOption = DEFAULT_PARAMS,
    host: Annotated[Optional[str], typer.Option(help="Address to listen on (default: serve.host, this machine).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default: serve.port).")] = None,
) -> None:
    """A web page and JSON API for tagging notes on this machine: open http://127.0.0.1:8000/ (API docs at /docs)."""
    import uvicorn  # only this command needs the web server

    from pipeline.serve import create_app

    params = load_params(params_file)
    taxonomy = load_taxonomy()
    web = create_app(_load_tagger(model_dir, params, taxonomy, backend), taxonomy, params.serve)
    host, port = host or params.serve.host, port or params.serve.port
    console.print(f"Tagging page on http://{host}:{port}/ (API docs: /docs). Ctrl-C stops it.", highlight=False)
    uvicorn.run(web, host=host, port=port, log_level="warning")


def main() -> None:
    """Console-script entry point: one line and exit 2 for expected errors."""
    try:
        app()
    except InputError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()

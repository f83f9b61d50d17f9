"""`behaviours evaluate`, `experiment` and `promote`: models measured on the fixed test split and compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from pipeline.cli.app import (
    DEFAULT_LABELLED,
    EMBEDDING_CACHE,
    BackendModelOption,
    BackendOption,
    CacheOption,
    LabelledOption,
    ParamsOption,
    TrackOption,
    app,
    console,
    headline,
    interval_text,
    print_figures,
)
from pipeline.config import DEFAULT_PARAMS, Params, load_params
from pipeline.data.pairs import pair_part, read_pairs
from pipeline.data.rows import load_labelled
from pipeline.data.split import TEST_IDS, load_split
from pipeline.errors import InputError
from pipeline.model.backend import backend_model_dir
from pipeline.tagger import load_tagger
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.tracking.promote import challenge
from pipeline.tracking.runs import log_evaluation, log_experiment, record_promotion
from pipeline.training import comparisons
from pipeline.training.evaluate import evaluate_tagger, pair_figures, write_evaluation
from pipeline.training.experiments import ExperimentPaths, run_experiments

EXPERIMENT_PATHS = ExperimentPaths()


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
            help="Instead: notes of 5, 20 and 60 answers (2 showing behaviours) from the test split or FILES, "
            "tagged with each aggregation.",
        ),
    ] = False,
    pairs: Annotated[
        bool,
        typer.Option("--pairs", help="Instead: the test half of the contrast pairs (labelled/pairs/), ranked the right way round?"),
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
        _long_notes(files, labelled, model_dir, params, taxonomy, as_json)
        return
    if pairs:
        _pairs(labelled, model_dir, params, taxonomy, backend, as_json)
        return
    if files:
        rows = load_labelled(files, taxonomy)
    else:
        rows = load_split(labelled, taxonomy).test
        if not rows:
            raise InputError(f"no test split in {labelled / TEST_IDS} (run `behaviours split`)")
    tagger = load_tagger(model_dir, params, taxonomy.ids, backend)
    evaluation = evaluate_tagger(tagger, rows, taxonomy, params.score.chunk_size)
    write_evaluation(evaluation, taxonomy, metrics, plots)
    source = ", ".join(map(str, files)) if files else "the test split"
    if track:
        log_evaluation(evaluation.figures, model_dir, source)
    if as_json:
        print(json.dumps(evaluation.figures, indent=2))
    else:
        print_figures(evaluation.figures, taxonomy, f"Evaluation on {source}")


def _long_notes(
    files: list[Path] | None, labelled: Path, model_dir: Path, params: Params, taxonomy: Taxonomy, as_json: bool
) -> None:
    rows = load_labelled(files, taxonomy) if files else load_split(labelled, taxonomy).test
    tagger = load_tagger(model_dir, params, taxonomy.ids)
    figures = comparisons.long_notes(tagger, rows, taxonomy)
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    source = ", ".join(map(str, files)) if files else "test answers"
    table = Table(
        title=f"Long notes ({source} joined as paragraphs): macro-F1 / tags per note ÷ true behaviours per note, "
        "each with its 90% interval over notes"
    )
    table.add_column("answers per note")
    table.add_column("words", justify="right")
    table.add_column("true behaviours", justify="right")
    aggregations = [key for key, value in next(iter(figures.values())).items() if isinstance(value, dict)]
    for aggregation in aggregations:
        table.add_column(aggregation, justify="right")
    for answers, m in figures.items():
        cells = [
            f"{m[a]['macro_f1']:.3f} ({interval_text(m[a]['macro_f1_interval_90'])}) / "
            f"{m[a]['tags_to_true']:.2f} ({interval_text(m[a]['tags_to_true_interval_90'], 2)})"
            for a in aggregations
        ]
        table.add_row(str(answers), str(m["words"]), f"{m['labels_per_note']:.1f}", *cells)
    console.print(table)
    own = comparisons.own_reading(tagger)
    for answers, m in figures.items():
        console.print(
            f"{answers} answers ({own}, the model's): {m[own]['false_tags_per_note']:.2f} false tags per note, "
            f"{m[own]['false_tags_an_answer_carries_alone']:.2f} of them carried by one of its answers read alone",
            highlight=False,
        )


def _pairs(labelled: Path, model_dir: Path, params: Params, taxonomy: Taxonomy, backend: str | None, as_json: bool) -> None:
    pairs, problems = read_pairs(labelled / "pairs", taxonomy)
    if problems:
        raise InputError(f"{len(problems)} problem(s) in the contrast pairs, first: {problems[0]}")
    test_pairs = [pair for pair in pairs if pair_part(pair.pair_id) == "test"]
    if not test_pairs:
        raise InputError(f"no contrast pairs in {labelled / 'pairs'}")
    figures = pair_figures(load_tagger(model_dir, params, taxonomy.ids, backend), test_pairs, params.score.chunk_size)
    if as_json:
        print(json.dumps(figures, indent=2))
        return
    table = Table(title=f"Contrast pairs (test half, {figures['pairs']}): ranked the right way round")
    for column in ("kind", "pairs", "right", "share", "90% interval"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, f in [*figures["per_kind"].items(), ("all", figures)]:
        low, high = f["interval_90"]
        table.add_row(kind, str(f["pairs"]), str(f["right"]), f"{f['share']:.3f}", f"{low:.3f}–{high:.3f}")
    console.print(table)
    found = figures["per_kind"]["polarity"]["found_in_both"]
    console.print(f"polarity pairs with the behaviour tagged in both texts: {found}", highlight=False)


def _compare(
    labelled: Path, model_dir: Path, params: Params, taxonomy: Taxonomy, cache: Path, loro: bool, as_json: bool
) -> None:
    """Leave-one-register-out, or the shipped model against a brainstorm-only one, in one run."""
    split = load_split(labelled, taxonomy)
    if loro:
        figures = comparisons.leave_register_out_figures(split, params, taxonomy, cache)
        title = "Leave one register out: trained without the register, evaluated on all of its rows"
    else:
        shipped = load_tagger(model_dir, params, taxonomy.ids)
        figures = comparisons.against_brainstorm_only(shipped, split, params, taxonomy, cache)
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
    register: Annotated[
        list[str] | None,
        typer.Option(
            "--register",
            help="With --leave-register-out: leave out only this register (repeatable), keeping the rest of the "
            "experiment's last result; separate processes can take different registers.",
        ),
    ] = None,
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    cache: CacheOption = EMBEDDING_CACHE,
    track: TrackOption = True,
) -> None:
    """Run named experiments on the same data and sets; results to experiments/results/ and docs/experiments.md."""
    base = load_params(params_file)
    taxonomy = load_taxonomy()

    def done(name: str, params: Params, result: dict, figures: dict) -> None:
        if track:
            log_experiment(name, params, result)
        chosen_on = "development part" if "development" in result else "test split"
        console.print(f"{name}: {chosen_on} {headline(figures)}", highlight=False)

    results = run_experiments(
        names, base, labelled, taxonomy, cache, leave_register_out, EXPERIMENT_PATHS, done, tuple(register or ())
    )
    console.print(f"table of {len(results)} experiments → {EXPERIMENT_PATHS.table}")


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
    checked = challenge(load_split(labelled, taxonomy).test, params, taxonomy)
    _print_comparison(checked.figures, taxonomy, checked.champion, checked.version)
    if checked.refusals and not force:
        for line in checked.refusals:
            console.print(f"refused: {line}", highlight=False)
        console.print(f"version {checked.version} not promoted; the champion stays version {checked.champion}", highlight=False)
        raise typer.Exit(1)
    record_promotion(checked.version, checked.comparison(), reason if checked.refusals else None)
    note = f" (forced: {reason})" if checked.refusals else ""
    console.print(f"version {checked.version} is now the champion{note}", highlight=False)


def _print_comparison(figures: dict, taxonomy: Taxonomy, champion: str | None, challenger: str) -> None:
    table = Table(title=f"champion (version {champion or '–'}) vs challenger (version {challenger}) on the test split")
    for column in ("", "champion", "challenger", "change"):
        table.add_column(column, justify="left" if not column else "right")
    rows = [("macro-F1", lambda r: r["macro_f1"]), ("no-behaviour left untagged", lambda r: r["none_untagged"] or 0.0)]
    rows += [(f"F1 {b.name}", lambda r, b=b: r["per_behaviour"][b.id]["f1"]) for b in taxonomy.behaviours]
    for label, value in rows:
        new = value(figures["challenger"])
        if "champion" in figures:
            old = value(figures["champion"])
            table.add_row(label, f"{old:.3f}", f"{new:.3f}", f"{new - old:+.3f}")
        else:
            table.add_row(label, "–", f"{new:.3f}", "")
    console.print(table)

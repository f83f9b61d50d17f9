"""`behaviours embed`, `train`, `export-onnx`, `train-static`, `experiment` and `promote`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from pipeline.cli.app import (
    DEFAULT_LABELLED,
    DEFAULT_MODEL,
    EMBEDDING_CACHE,
    CacheOption,
    LabelledOption,
    ModelOption,
    ParamsOption,
    TrackOption,
    app,
    console,
    headline,
    print_figures,
)
from pipeline.config import DEFAULT_PARAMS, PROJECT_ROOT, Params, load_params
from pipeline.data.split import load_split
from pipeline.errors import InputError
from pipeline.model.folder import load_model
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.tracking.promote import challenge
from pipeline.tracking.runs import REGISTERED_MODEL, log_experiment, log_training, record_promotion
from pipeline.training.experiments import ExperimentPaths, run_experiments
from pipeline.training.onnx_export import export_onnx
from pipeline.training.train import Trained, embed_labelled, train_and_save, train_static_and_save

EXPERIMENT_PATHS = ExperimentPaths()


@app.command()
def embed(
    labelled: LabelledOption = DEFAULT_LABELLED,
    params_file: ParamsOption = DEFAULT_PARAMS,
    cache: CacheOption = EMBEDDING_CACHE,
) -> None:
    """Encode every labelled text's sentences into the embedding cache (only those not there yet)."""
    params = load_params(params_file)
    rows = load_split(labelled, load_taxonomy()).rows
    embedded, encoder = embed_labelled([r.text for r in rows], params, cache)
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
    split = load_split(labelled, taxonomy)
    console.print(f"training on {len(split.train)} rows; {len(split.test)} held out for testing")
    trained = train_and_save(split, params, taxonomy, model_dir, cache)
    _print_trained(trained, taxonomy, "Held-out test split")
    console.print(f"model saved to {model_dir} ({trained.encoded} pieces encoded, the rest from the embedding cache)")
    if track:
        run_id, version = log_training(model_dir, params, trained.model.card, trained.test_figures)
        console.print(f"MLflow run {run_id}; registered as {REGISTERED_MODEL} version {version} (alias: challenger)")


def _print_trained(trained: Trained, taxonomy: Taxonomy, test_title: str) -> None:
    console.print(f"{trained.model.card['evaluation']['training']['method']}: " + headline(trained.training_figures))
    if trained.test_figures is not None:
        print_figures(trained.test_figures, taxonomy, test_title)


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
    model_dir = model_dir or PROJECT_ROOT / params.backend.static_model
    trained = train_static_and_save(source_dir, load_split(labelled, taxonomy), params, taxonomy, model_dir)
    _print_trained(trained, taxonomy, "Held-out test split (static encoder)")
    console.print(f"static model saved to {model_dir} (score with --backend static)", highlight=False)


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

    def done(name: str, params: Params, result: dict, figures: dict) -> None:
        if track:
            log_experiment(name, params, result)
        console.print(f"{name}: test {headline(figures)}", highlight=False)

    split = load_split(labelled, taxonomy)
    results = run_experiments(names, base, split, taxonomy, cache, leave_register_out, EXPERIMENT_PATHS, done)
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

"""`behaviours embed`, `train`, `export-onnx` and `train-static`: making models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

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
from pipeline.config import DEFAULT_PARAMS, PROJECT_ROOT, load_params
from pipeline.data.split import load_split
from pipeline.model.folder import load_model
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.tracking.runs import REGISTERED_MODEL, log_training
from pipeline.training.experiments import ExperimentPaths, experiment_params
from pipeline.training.onnx_export import export_onnx
from pipeline.training.train import Trained, embed_labelled, extra_training_rows, train_and_save, train_static_and_save


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
    experiment: Annotated[
        Optional[str],
        typer.Option(help="Train the recipe of configs/experiments/NAME.yaml: its settings over those of --params."),
    ] = None,
) -> None:
    """Train on labelled/ (minus the test split), tune thresholds, evaluate on the test split, save the model."""
    params = load_params(params_file)
    if experiment is not None:
        _, params = experiment_params(params, ExperimentPaths().configs / f"{experiment}.yaml")
    taxonomy = load_taxonomy()
    split = load_split(labelled, taxonomy)
    extra = extra_training_rows(labelled, params, taxonomy)
    more = "".join(f" + {len(rows)} {name.replace('_', ' ')} texts" for name, rows in extra.items())
    console.print(f"training on {len(split.train)} rows{more}; {len(split.test)} held out for testing")
    trained = train_and_save(split, params, taxonomy, model_dir, cache, extra)
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

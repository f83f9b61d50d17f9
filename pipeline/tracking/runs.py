"""MLflow: one run per `train` and `evaluate`, the model as a pyfunc, the registry and its aliases.

The tracking store is `MLFLOW_TRACKING_URI` when set, otherwise a SQLite file under
`experiments/` (artifacts beside it). What is logged: parameters (numbers and
names only), the labelled data's hash and row counts, figures overall, per
behaviour and per register, the evaluation figures as JSON, the git commit and the
hash of `dvc.lock`. Never a labelled or scored text.

A trained model is logged as the pyfunc of `pipeline/tracking/pyfunc.py` (a DataFrame with a
`text` column in, the columns of `behaviours score` out); it is registered as
`leadership-behaviours` and gets the alias `challenger`. `behaviours promote` moves
`champion` (pipeline/tracking/promote.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

from pipeline import __version__
from pipeline.config import PROJECT_ROOT, Params

REGISTERED_MODEL = "leadership-behaviours"
EXPERIMENT = "leadership-behaviours"
STORE = PROJECT_ROOT / "experiments"
VERDICT_LEVELS = {"ok": 0, "review": 1, "relabel": 2}  # a drift verdict as a metric, to chart over batches


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{STORE / 'mlflow.db'}"


def _mlflow():
    """mlflow, pointed at the store (imported here: it takes seconds and most commands never need it)."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        mlflow.create_experiment(EXPERIMENT, artifact_location=_artifact_location(tracking_uri()))
    mlflow.set_experiment(EXPERIMENT)
    return mlflow


def _artifact_location(uri: str) -> str | None:
    """Artifacts beside a SQLite store (MLflow's default is ./mlruns wherever the command runs); a store given
    relative to the working folder (`sqlite:///experiments/mlflow.db`, the default) is resolved against it."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlruns").as_uri()
    return None  # a tracking server decides


def flat_params(params: Params) -> dict[str, Any]:
    """`section.key: value` for every parameter."""
    return {
        f"{section}.{key}": value
        for section, values in dataclasses.asdict(params).items()
        for key, value in values.items()
    }


def figure_metrics(figures: dict, prefix: str) -> dict[str, float]:
    """Evaluation figures as flat MLflow metric names."""
    metrics = {
        f"{prefix}.{key}": float(figures[key])
        for key in ("macro_f1", "micro_f1", "exact_match", "none_untagged", "none_precision")
        if figures.get(key) is not None
    }
    for behaviour, m in figures.get("per_behaviour", {}).items():
        metrics[f"{prefix}.f1.{behaviour}"] = float(m["f1"])
    for register, m in figures.get("per_register", {}).items():
        metrics[f"{prefix}.register.{register}.macro_f1"] = float(m["macro_f1"])
        if m.get("none_untagged") is not None:
            metrics[f"{prefix}.register.{register}.none_untagged"] = float(m["none_untagged"])
    polarity = figures.get("polarity", {})
    for key in ("accuracy", "macro_f1", "coverage"):
        if polarity.get(key) is not None:
            metrics[f"{prefix}.polarity.{key}"] = float(polarity[key])
    return metrics


def provenance_tags() -> dict[str, str]:
    """The git commit and the dvc.lock hash the run came from (empty when unknown)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    lock = PROJECT_ROOT / "dvc.lock"
    lock_hash = hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else ""
    return {"git_commit": commit, "dvc_lock_sha256": lock_hash}


def log_training(model_dir: Path, params: Params, card: dict, test_figures: dict | None) -> tuple[str, str]:
    """Log a training run and register its model as the challenger; returns (run id, model version)."""
    mlflow = _mlflow()
    from mlflow import MlflowClient

    with mlflow.start_run(run_name="train") as run:
        mlflow.log_params(flat_params(params))
        data = card["training_data"]
        mlflow.set_tags({"stage": "train", "data_sha256": data["sha256"], **provenance_tags()})
        mlflow.log_metrics({"training_rows": data["rows"], "training_no_behaviour_rows": data["texts_with_no_behaviour"]})
        training = card["evaluation"]["training"]
        mlflow.log_metrics({f"training.{k}": float(v) for k, v in training.items() if isinstance(v, float)})
        if test_figures is not None:
            mlflow.log_metrics(figure_metrics(test_figures, "test"))
            mlflow.log_dict(test_figures, "evaluation/test.json")
        mlflow.log_dict(card, "model_card.json")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(Path(__file__).with_name("pyfunc.py")),
            artifacts={"model": str(model_dir)},
            pip_requirements=[f"leadership-behaviours=={__version__}"],
            registered_model_name=REGISTERED_MODEL,
        )
    version = str(info.registered_model_version)
    MlflowClient().set_registered_model_alias(REGISTERED_MODEL, "challenger", version)
    return run.info.run_id, version


def log_evaluation(figures: dict, model_dir: Path, source: str) -> str:
    """Log an evaluation run (the figures, no texts); returns the run id."""
    mlflow = _mlflow()
    with mlflow.start_run(run_name="evaluate") as run:
        mlflow.set_tags({"stage": "evaluate", "model_dir": str(model_dir), "evaluated_on": source, **provenance_tags()})
        mlflow.log_metrics(figure_metrics(figures, "eval"))
        mlflow.log_dict(figures, "evaluation/report.json")  # the artifact's name, kept for runs logged before
    return run.info.run_id


def registered_tagger(alias: str):
    """(version, the Tagger inside the registered pyfunc) for an alias; None when no version has it."""
    mlflow = _mlflow()
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        version = MlflowClient().get_model_version_by_alias(REGISTERED_MODEL, alias).version
    except MlflowException:
        return None
    model = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODEL}/{version}")
    return str(version), model.unwrap_python_model().tagger


def record_promotion(version: str, comparison: dict, forced_reason: str | None) -> None:
    """Move the `champion` alias, and log the comparison (and any override's reason) as a run and on the version."""
    mlflow = _mlflow()
    from mlflow import MlflowClient

    client = MlflowClient()
    with mlflow.start_run(run_name="promote"):
        mlflow.set_tags({"stage": "promote", "model_version": version, "forced": str(forced_reason is not None)})
        if forced_reason is not None:
            mlflow.set_tag("force_reason", forced_reason)
        mlflow.log_dict(comparison, "promotion/comparison.json")
    if forced_reason is not None:
        client.set_model_version_tag(REGISTERED_MODEL, version, "force_reason", forced_reason)
    client.set_registered_model_alias(REGISTERED_MODEL, "champion", version)


def log_experiment(name: str, params: Params, result: dict) -> str:
    """Log one experiment's parameters and figures (development part, test split, leave-one-register-out); returns the run id."""
    mlflow = _mlflow()
    with mlflow.start_run(run_name=f"experiment: {name}") as run:
        mlflow.set_tags({"stage": "experiment", "experiment": name, **provenance_tags()})
        mlflow.log_params(flat_params(params))
        for set_name in ("development", "test"):
            figures = result.get(set_name, {})
            mlflow.log_metrics({f"{set_name}.{k}": float(v) for k, v in figures.items() if isinstance(v, float)})
        mlflow.log_metrics(
            {f"loro.{register}.macro_f1": float(r["macro_f1"]) for register, r in result.get("leave_register_out", {}).items()}
        )
        mlflow.log_metric("train_seconds", result["train_seconds"])
        mlflow.log_dict(result, f"experiments/{name}.json")
    return run.info.run_id


def log_drift(figures: dict, model_dir: Path) -> str:
    """Log a drift check: its figures and verdict only (never a text or a phrase: they may be personal); the run id."""
    mlflow = _mlflow()
    with mlflow.start_run(run_name="drift") as run:
        mlflow.set_tags({
            "stage": "drift", "model_dir": str(model_dir), "against": figures["against"], "verdict": figures["verdict"],
            "reason": figures["reason"], **provenance_tags(),
        })
        novelty, distance = figures["novelty"], figures["distance"]
        mlflow.log_metrics({
            "drift.answered": figures["texts"]["answered"], "drift.measured": figures["texts"]["measured"],
            "drift.novelty_share": novelty["share"], "drift.novelty_low": novelty["interval_90"][0],
            "drift.novelty_high": novelty["interval_90"][1], "drift.novelty_expected": novelty["expected_share"],
            "drift.novelty_threshold_cosine": novelty["threshold_cosine"], "drift.domain_auc": distance["domain_auc"],
            "drift.reference_auc": distance["reference_auc"], "drift.verdict_level": VERDICT_LEVELS[figures["verdict"]],
            **{f"drift.tag_rate_change.{c['behaviour']}": c["change"] for c in figures["tag_rates"]},
        })
    return run.info.run_id

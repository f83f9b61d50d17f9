"""The real `dvc repro` on a tiny copy of the project (stand-in encoder: seconds, not minutes).

Runs the committed dvc.yaml, then checks that an unchanged project reruns nothing,
that a change to the `score` parameters reruns only the evaluations, and that rows added
with `behaviours labelled add` rerun validation, embedding, training and every evaluation,
and that MLflow holds both training runs.
"""

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
import yaml
from helpers import tiny_rows, write_labelled_csv

from pipeline.config import PROJECT_ROOT
from pipeline.tracking.runs import EXPERIMENT, tracking_uri

BIN = Path(sys.executable).parent
FAST_PARAMS = {  # overrides of the project's params.yaml that make the pipeline take seconds
    "encoder": {"backend": "hashing", "model": "", "dim": 512},
    "text": {"sentences": "sentencizer"},
    "data": {"near_duplicate_cosine": 0.99},
    "train": {"C": 10.0, "class_weight": "balanced", "cv_folds": 3},
    "finetune": {"epochs": 0},
    "score": {"chunk_size": 512},
}


@pytest.fixture()
def project(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(PROJECT_ROOT / "dvc.yaml", root)
    shutil.copytree(PROJECT_ROOT / "pipeline", root / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "configs").mkdir()
    shutil.copy(PROJECT_ROOT / "configs" / "behaviours.yaml", root / "configs")
    params = yaml.safe_load((PROJECT_ROOT / "configs" / "params.yaml").read_text())
    for section, overrides in FAST_PARAMS.items():
        params[section].update(overrides)
    (root / "configs" / "params.yaml").write_text(yaml.safe_dump(params))
    (root / "labelled").mkdir()
    write_labelled_csv(root / "labelled" / "tiny.csv", tiny_rows())
    (root / "labelled" / "test_ids.txt").write_text("".join(f"{r.id}\n" for r in tiny_rows()[1::4]))
    (root / "labelled" / "newwriters").mkdir()
    development = [dataclasses.replace(r, id=f"d-{i}") for i, r in enumerate(tiny_rows()[2::4])]
    write_labelled_csv(root / "labelled" / "newwriters" / "dev.csv", development)
    (root / "labelled" / "hedged").mkdir()
    hedged = [dataclasses.replace(r, id=f"h-{i}") for i, r in enumerate(tiny_rows()[3::4])]
    write_labelled_csv(root / "labelled" / "hedged" / "hedged.csv", hedged)
    subprocess.run([str(BIN / "dvc"), "init", "--no-scm", "-q"], cwd=root, check=True)
    return root


def _run(root: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    result = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def _ran(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


def test_repro_reruns_only_what_changed(project):
    first = _run(project, str(BIN / "dvc"), "repro")
    assert _ran(first) == {"validate", "embed", "train", "evaluate", "evaluate_development", "evaluate_hedged"}
    assert (project / "models" / "default" / "config.json").is_file()
    assert (project / "metrics" / "test.json").is_file() and (project / "plots" / "confusion.csv").is_file()
    assert (project / "metrics" / "development.json").is_file()
    assert (project / "dvc.lock").is_file()

    assert _ran(_run(project, str(BIN / "dvc"), "repro")) == set()

    params = yaml.safe_load((project / "configs" / "params.yaml").read_text())
    params["score"]["chunk_size"] = 64
    (project / "configs" / "params.yaml").write_text(yaml.safe_dump(params))
    assert _ran(_run(project, str(BIN / "dvc"), "repro")) == {"evaluate", "evaluate_development", "evaluate_hedged"}

    new = project / "new.csv"
    new.write_text(
        "id,text,labels,polarity,register,source\n"
        "n-1,She asked the night staff what they thought before changing the handover.,collaboration_cocreation,+,exit_survey,new\n"
        "n-2,Nobody told us why the unit was moving to another site.,trust,-,exit_survey,new\n"
    )
    _run(project, str(BIN / "behaviours"), "labelled", "add", str(new), "--labelled", "labelled")
    assert _ran(_run(project, str(BIN / "dvc"), "repro")) == {
        "validate", "embed", "train", "evaluate", "evaluate_development", "evaluate_hedged"
    }

    mlflow.set_tracking_uri(tracking_uri())
    runs = mlflow.search_runs(experiment_names=[EXPERIMENT], filter_string="tags.stage = 'train'")
    assert len(runs) >= 2
    assert runs["params.encoder.backend"].eq("hashing").all()

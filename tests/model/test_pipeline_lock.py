"""The committed model and metrics are what `dvc repro` makes from the committed data, code and params."""

import json
import subprocess
import sys
from pathlib import Path

from pipeline.config import PROJECT_ROOT

DVC = Path(sys.executable).with_name("dvc")


def test_committed_model_and_metrics_are_not_stale():
    """Fails when labelled/, the training code or its params changed without `dvc repro` (or `make repro`)."""
    result = subprocess.run(
        [str(DVC), "status", "train", "evaluate", "evaluate_development", "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout or "{}") == {}, f"stale pipeline outputs, run `make repro`: {result.stdout}"


def test_committed_metrics_match_the_model_card():
    card = json.loads((PROJECT_ROOT / "models" / "default" / "card.json").read_text())
    metrics = json.loads((PROJECT_ROOT / "metrics" / "test.json").read_text())
    assert round(metrics["macro_f1"], 4) == card["evaluation"]["test"]["macro_f1"]

"""Shared fixtures: the tiny labelled set (tests/helpers.py), a stand-in encoder and a model trained on them.

The stand-in is the real `HashingEncoder` backend (hashed words, no model files)
with spaCy's rule-based sentencizer, so unit tests are fast and deterministic
yet run the same code as the product. Tests marked `integration` use the real
MiniLM encoder and spaCy model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import tiny_params, tiny_rows, write_labelled_csv

from pipeline.config import PROJECT_ROOT, Params, load_params
from pipeline.encoders.hashing import HashingEncoder
from pipeline.encoders.transformer import SentenceTransformerEncoder
from pipeline.model.folder import load_model, save_model
from pipeline.tagger import Tagger
from pipeline.taxonomy import load_taxonomy
from pipeline.text import SentenceSplitter
from pipeline.training.fit import fit_model


@pytest.fixture(autouse=True)
def _tracking_store_in_tmp(tmp_path_factory, monkeypatch):
    """No test writes to the project's MLflow store."""
    store = tmp_path_factory.getbasetemp() / "mlflow"
    store.mkdir(exist_ok=True)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store / 'mlflow.db'}")


@pytest.fixture(scope="session")
def taxonomy():
    return load_taxonomy()


@pytest.fixture(scope="session")
def params() -> Params:
    return tiny_params()


@pytest.fixture(scope="session")
def encoder(params):
    return HashingEncoder(params.encoder)


@pytest.fixture(scope="session")
def splitter(params):
    return SentenceSplitter(params.text)


@pytest.fixture(scope="session")
def trained(params, taxonomy, encoder, splitter):
    """(model, cross-validated figures) trained on the tiny set with the stand-in encoder."""
    return fit_model(tiny_rows(), params, taxonomy, encoder, splitter)


@pytest.fixture(scope="session")
def model_dir(trained, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "tiny"
    save_model(trained[0], folder)
    return folder


@pytest.fixture()
def run_cli(monkeypatch, capsys):
    """Run the `behaviours` entry point in-process; returns (exit code, stdout, stderr)."""
    from pipeline import cli
    from pipeline.cli.app import console

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["behaviours", *map(str, args)])
        monkeypatch.setattr(console, "width", 200)
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run


# ---------------------------------------------------------------- the real encoder (tests/model)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/model" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def real_params():
    return load_params()


@pytest.fixture(scope="session")
def real_encoder(real_params):
    return SentenceTransformerEncoder(real_params.encoder)


@pytest.fixture(scope="session")
def real_splitter(real_params):
    return SentenceSplitter(real_params.text)


@pytest.fixture(scope="session")
def shipped_model_dir():
    return PROJECT_ROOT / "models" / "default"


@pytest.fixture(scope="session")
def shipped(taxonomy, real_splitter, shipped_model_dir):
    return Tagger(load_model(shipped_model_dir, taxonomy.ids), splitter=real_splitter)  # its own encoder: any adapter merged


@pytest.fixture()
def labelled(tmp_path):
    """A labelled folder of the tiny rows, with a test split of two of them."""
    folder = tmp_path / "labelled"
    folder.mkdir()
    write_labelled_csv(folder / "tiny.csv", tiny_rows())
    (folder / "test_ids.txt").write_text("t-001\nt-053\n")
    return folder

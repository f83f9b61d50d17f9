"""Shared fixtures: a tiny labelled set, a stand-in encoder and a model trained on them.

The stand-in is the real `HashingEncoder` backend (hashed words, no model files)
with spaCy's rule-based sentencizer, so unit tests are fast and deterministic
yet run the same code as the product. Tests marked `integration` use the real
MiniLM encoder and spaCy model.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT, EncoderParams, Params, SplitParams, TextParams, TrainParams, load_params
from pipeline.data import COLUMNS, LabelledRow
from pipeline.encode import HashingEncoder, SentenceTransformerEncoder
from pipeline.model import load_model, save_model
from pipeline.tagger import Tagger
from pipeline.taxonomy import load_taxonomy
from pipeline.text import SentenceSplitter
from pipeline.train import fit_model

# Four distinctive phrasings per behaviour: enough for a bag-of-words stand-in to learn.
TINY_EXAMPLES = {
    "authenticity": [
        "She admits her own mistakes openly in the huddle.",
        "He is honest and genuine and lives his values.",
        "Always candid with us about what she stands for.",
        "Owned up honestly when she got the budget wrong.",
    ],
    "mindset": [
        "He asks for feedback and is curious about other views.",
        "Curious and open minded, never defensive when challenged.",
        "She reflects on feedback and stays curious.",
        "Open to hearing views that differ from his own.",
    ],
    "resilience_courage": [
        "She spoke up to the board about unsafe staffing despite the risk.",
        "Brave enough to challenge the consultant about safety.",
        "Stayed calm and steady during the major incident.",
        "Took a calculated risk and spoke up when others stayed silent.",
    ],
    "relationships_advocacy": [
        "Knows every porter and cleaner by name and builds relationships.",
        "Built strong relationships with the GP practices and council.",
        "He advocates for patients and champions his staff.",
        "Networks with partners and builds relationships at every level.",
    ],
    "collaboration_cocreation": [
        "Designed the new pathway together with patients and carers.",
        "Co-produced the service redesign with the community groups.",
        "Worked jointly across agencies to agree shared aims together.",
        "Brought social care and nursing together to design it jointly.",
    ],
    "trust": [
        "He explains the reasons behind every rota decision.",
        "Nobody ever explained why the ward was closing.",
        "She explains why decisions are made, even unpopular ones.",
        "Never explained the reasons for the changes to us.",
    ],
    "community_holistic": [
        "Thinks about the whole population and the neighbourhood first.",
        "Considers the wider community and the local population.",
        "Focuses on the population health of the whole borough.",
        "Puts the local community and population at the centre.",
    ],
    "vision_shared_direction": [
        "Gave us a clear picture of where the service is heading.",
        "Nobody knows where the service is heading or what the goals are.",
        "Sets common goals and a clear direction for the team.",
        "Shared a clear direction and common goals for next year.",
    ],
    "system_influence": [
        "Brokered an agreement between the hospital, council and ICS.",
        "Represents the service at the ICS system board.",
        "Unblocked the discharge pathway between organisations across the ICS.",
        "Shaped regional policy through the ICS system board.",
    ],
    "lead_enable_others": [
        "She delegates real decisions and coaches her staff to develop.",
        "Supported me to apply for training and develop my skills.",
        "He micromanages and never lets staff develop or decide.",
        "Coaches the team and lets them develop and make decisions.",
    ],
    "ownership_accountability": [
        "Takes responsibility when things go wrong and follows up.",
        "Passes the buck and blames others when things go wrong.",
        "Holds everyone to account for the agreed actions and follows up.",
        "Takes personal responsibility and follows up every action.",
    ],
    "delivery": [
        "Turned the plan into action with clear steps and deadlines.",
        "Endless meetings and the plan never turns into action.",
        "Prioritises well and gets things done with clear steps.",
        "Delivered the project on time with clear steps and deadlines.",
    ],
    "doing_things_differently": [
        "Piloted a new way of running the clinic and tried new ideas.",
        "Shuts down new ideas and says we always do it this way.",
        "Encourages the team to try creative new ideas and pilots.",
        "Tried a new creative approach and piloted new ideas.",
    ],
}
NEGATIVE_POLARITY = {
    "Nobody ever explained why the ward was closing.",
    "Never explained the reasons for the changes to us.",
    "Nobody knows where the service is heading or what the goals are.",
    "He micromanages and never lets staff develop or decide.",
    "Passes the buck and blames others when things go wrong.",
    "Endless meetings and the plan never turns into action.",
    "Shuts down new ideas and says we always do it this way.",
}
TINY_NONE = [
    "The car parking is terrible.",
    "Pay is too low for band 5.",
    "n/a",
    "The Trust moved my ward to another site.",
    "IT system keeps crashing on nights.",
    "Leaving to relocate closer to family.",
    "no comment",
    "The canteen closes too early.",
    "Retiring after thirty years.",
    "Rota was published late again.",
    "The pension scheme changed.",
    "Lockers are broken.",
]


def tiny_rows() -> list[LabelledRow]:
    rows, n = [], 0
    for behaviour, texts in TINY_EXAMPLES.items():
        for text in texts:
            n += 1
            polarity = "-" if text in NEGATIVE_POLARITY else "+"
            rows.append(LabelledRow(f"t-{n:03d}", text, (behaviour,), (polarity,), "appraisal_note", "authored:tiny", "tiny.csv", n + 1))
    for text in TINY_NONE:
        n += 1
        rows.append(LabelledRow(f"t-{n:03d}", text, (), (), "exit_survey", "authored:tiny", "tiny.csv", n + 1))
    return rows


def write_labelled_csv(path: Path, rows: list[LabelledRow]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r.id, r.text, ";".join(r.labels), ";".join(r.polarity), r.register, r.source])
    return path


def tiny_params() -> Params:
    return Params(
        encoder=EncoderParams(backend="hashing", model="", dim=512),
        text=TextParams(sentences="sentencizer"),
        split=SplitParams(test_fraction=0.25, seed=1),
        train=TrainParams(C=10.0, class_weight="balanced", cv_folds=3, seed=1),
    )


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

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["behaviours", *map(str, args)])
        monkeypatch.setattr(cli.console, "width", 200)
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

"""The tools' own SDKs accept what `labelled to-tool` writes and read the committed exports (optional).

Neither SDK is a dependency of the product; these tests run only where one is
installed (e.g. `python3 -m venv /tmp/sdk && /tmp/sdk/bin/pip install argilla
label-studio-sdk pytest`, then `/tmp/sdk/bin/python -m pytest --noconftest
tests/code/test_labelling_tools_sdk.py`). They need nothing from `pipeline`: the
fixtures they read are checked against `to-tool`'s output by test_labelling_tools.py
(the settings and the config are the same text; the predictions are the same).
"""

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures" / "labelling_tools"


@pytest.fixture()
def argilla(monkeypatch):
    rg = pytest.importorskip("argilla")
    from argilla._api._client import APIClient

    # The SDK checks the server when a client is made; these tests read and build objects only, offline.
    monkeypatch.setattr(APIClient, "_validate_connection", lambda self: None)
    rg.Argilla(api_url="http://127.0.0.1:9", api_key="offline")
    return rg


def test_argilla_reads_the_settings_and_the_exported_records(argilla):
    from argilla._models import DatasetModel

    folder = FIXTURES / "argilla_export"
    settings = argilla.Settings.from_json(folder / ".argilla" / "settings.json")
    assert len(settings.questions) == 14 and settings.questions["behaviours"].required
    model = DatasetModel(**json.loads((folder / ".argilla" / "dataset.json").read_text()))
    dataset = argilla.Dataset(name=model.name, settings=settings)
    records = json.loads((folder / "records.json").read_text(encoding="utf-8"))
    for item in records:
        record = argilla.Record.from_dict(item, dataset=dataset)
        record.api_model()
        for suggestion in record.suggestions:
            values = suggestion.value if isinstance(suggestion.value, list) else [suggestion.value]
            assert set(values) <= set(settings.questions[suggestion.question_name].labels)
    assert [r["status"] for r in records] == ["completed", "completed", "pending", "completed", "pending"]


def test_label_studio_parses_the_config_and_validates_predictions_and_annotations():
    pytest.importorskip("label_studio_sdk")
    from label_studio_sdk.label_interface import LabelInterface

    interface = LabelInterface((FIXTURES / "label_studio_config.xml").read_text(encoding="utf-8"))
    interface.validate()
    assert len(interface.controls) == 14
    tasks = json.loads((FIXTURES / "label_studio_export.json").read_text(encoding="utf-8"))
    for task in tasks:
        for item in task["predictions"] + task["annotations"]:
            assert interface.validate_prediction(item, return_errors=True) == []
    region = {"from_name": "trust_polarity", "to_name": "text", "type": "choices", "value": {"choices": ["+"]}}
    broken = {"result": [region]}
    assert interface.validate_prediction(broken, return_errors=True)  # the check is real: '+' is not a choice shown

"""An MLflow model logged before the package was split into layers still loads and predicts.

The logged pyfunc (`pipeline/pyfunc.py` then, stored with the model) imports
`pipeline.model.load_model`, `pipeline.tagger.Tagger, result_columns` and
`pipeline.taxonomy.load_taxonomy`: those paths are part of the contract with every
model already in a registry.
"""

import shutil
from pathlib import Path

import mlflow
import pandas as pd

from pipeline.taxonomy import load_taxonomy

FIXTURE = Path(__file__).parents[1] / "fixtures" / "mlflow_model_pre_move"


def test_a_model_logged_before_the_move_loads_and_predicts(tmp_path):
    folder = shutil.copytree(FIXTURE, tmp_path / "model")
    model = mlflow.pyfunc.load_model(str(folder))
    texts = ["He explains the reasons behind every rota decision.", "", "The canteen closes too early."]
    predicted = model.predict(pd.DataFrame({"text": texts}))
    ids = load_taxonomy().ids
    assert list(predicted.columns) == ["behaviours", "strengths", "gaps", *(f"score_{b}" for b in ids), "evidence", "status"]
    assert predicted["status"].tolist() == ["ok", "empty", "ok"]
    assert "trust" in predicted["behaviours"][0].split(";")

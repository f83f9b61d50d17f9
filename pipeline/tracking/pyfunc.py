"""The MLflow model: a DataFrame with a `text` column in, the columns of `behaviours score` out.

Logged as a "model from code" (this file is stored with the model and run when
MLflow loads it), so the logged model holds no pickle; its `model` artifact is the
ordinary model folder. Only MLflow imports this module.
"""

from __future__ import annotations

from pathlib import Path

import mlflow.pyfunc
import pandas as pd
from mlflow.models import set_model

from pipeline.model.folder import load_model
from pipeline.tagger import Tagger, result_columns
from pipeline.taxonomy import load_taxonomy


class BehavioursModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        self.taxonomy = load_taxonomy()
        self.tagger = Tagger(load_model(Path(context.artifacts["model"]), self.taxonomy.ids))

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        if "text" not in model_input.columns:
            raise ValueError(f"expected a 'text' column, got {list(model_input.columns)}")
        results = self.tagger.tag(model_input["text"].tolist())
        return pd.DataFrame(result_columns(results, self.taxonomy.ids), index=model_input.index)


set_model(BehavioursModel())

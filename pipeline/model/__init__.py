"""A trained model: its heads, polarity classifier, saved folder, and which encoder it scores with.

Compatibility shim, for MLflow only: a model logged to MLflow stores `pipeline/tracking/pyfunc.py`
(before issue 11: `pipeline/pyfunc.py`), which imports `pipeline.model.load_model`; models already in
a registry keep loading because that name stays here (tests/code/test_mlflow_compatibility.py).
"""

from pipeline.model.folder import load_model

__all__ = ["load_model"]

"""MLflow: runs, the logged pyfunc model, the registry and the promotion gate."""

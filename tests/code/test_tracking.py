"""MLflow for real, in a temporary SQLite store: runs, the pyfunc model, the registry, the promotion gate."""

import json

import mlflow
import pandas as pd
import pytest
import yaml
from helpers import tiny_rows, write_labelled_csv
from mlflow import MlflowClient

from pipeline.config import PromoteParams, ScoreParams
from pipeline.tracking.promote import refusals
from pipeline.tracking.runs import REGISTERED_MODEL, tracking_uri


@pytest.fixture()
def project(tmp_path):
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    write_labelled_csv(labelled / "tiny.csv", tiny_rows())
    (labelled / "test_ids.txt").write_text("".join(f"{r.id}\n" for r in tiny_rows()[1::4]))
    params = {
        "encoder": {"backend": "hashing", "model": "", "dim": 512},
        "text": {"sentences": "sentencizer"},
        "train": {"C": 10.0, "class_weight": "balanced", "cv_folds": 3},
    }
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(params))
    worse = tmp_path / "worse.yaml"  # a much weaker head: far stronger regularisation
    worse.write_text(yaml.safe_dump({**params, "train": {**params["train"], "C": 0.001}}))
    return labelled, good, worse


def _train(run_cli, labelled, params, model_dir, cache):
    return run_cli("train", "--labelled", labelled, "--params", params, "--model-dir", model_dir, "--embedding-cache", cache)


def test_train_logs_a_run_and_registers_a_pyfunc_that_scores_like_the_cli(run_cli, project, tmp_path):
    labelled, good, _ = project
    code, out, err = _train(run_cli, labelled, good, tmp_path / "m", tmp_path / "c.sqlite3")
    assert code == 0, err
    assert "registered as leadership-behaviours version" in out
    mlflow.set_tracking_uri(tracking_uri())
    version = MlflowClient().get_model_version_by_alias(REGISTERED_MODEL, "challenger")
    run = mlflow.get_run(version.run_id)
    assert run.data.params["train.C"] == "10.0"
    assert "test.macro_f1" in run.data.metrics and "test.f1.trust" in run.data.metrics
    assert run.data.tags["data_sha256"] and "git_commit" in run.data.tags
    logged = json.dumps(run.data.params) + json.dumps(run.data.tags)
    configured = set(ScoreParams.empty_values)  # "n/a", "no comment": configured filler, not anybody's text
    assert not [r.text for r in tiny_rows() if r.text in logged and r.text not in configured]  # no labelled text

    model = mlflow.pyfunc.load_model(f"models:/{REGISTERED_MODEL}@challenger")
    texts = ["He explains the reasons behind every rota decision.", "", "The canteen closes too early."]
    predicted = model.predict(pd.DataFrame({"text": texts}))
    survey = tmp_path / "s.csv"
    pd.DataFrame({"text": texts}).to_csv(survey, index=False)
    assert run_cli("score", survey, "-o", tmp_path / "o.csv", "-c", "text", "--model", tmp_path / "m")[0] == 0
    scored = pd.read_csv(tmp_path / "o.csv", keep_default_na=False)
    assert list(predicted.columns) == list(scored.columns[1:])
    assert predicted["behaviours"].tolist() == scored["behaviours"].tolist()
    assert predicted["status"].tolist() == ["ok", "empty", "ok"]


def test_promotion_gate(run_cli, project, tmp_path):
    labelled, good, worse = project
    assert _train(run_cli, labelled, good, tmp_path / "a", tmp_path / "c.sqlite3")[0] == 0
    code, out, err = run_cli("promote", "--labelled", labelled)
    assert code == 0 and "is now the champion" in out, err  # the first model: nothing to compare with
    assert _train(run_cli, labelled, worse, tmp_path / "b", tmp_path / "c.sqlite3")[0] == 0
    code, out, _ = run_cli("promote", "--labelled", labelled)
    assert code == 1 and "refused: macro-F1 falls" in out and "not promoted" in out
    client = MlflowClient(tracking_uri())
    champion = client.get_model_version_by_alias(REGISTERED_MODEL, "champion").version
    challenger = client.get_model_version_by_alias(REGISTERED_MODEL, "challenger").version
    assert champion != challenger
    code, _, err = run_cli("promote", "--labelled", labelled, "--force")
    assert code == 2 and "--force needs --reason" in err
    code, out, _ = run_cli("promote", "--labelled", labelled, "--force", "--reason", "new register labelled")
    assert code == 0 and "forced: new register labelled" in out
    promoted = client.get_model_version_by_alias(REGISTERED_MODEL, "champion")
    assert promoted.version == challenger and promoted.tags["force_reason"] == "new register labelled"


def test_refusals_rules():
    champion = {"macro_f1": 0.60, "per_behaviour": {"trust": {"f1": 0.7}, "delivery": {"f1": 0.5}}}
    better = {"macro_f1": 0.62, "per_behaviour": {"trust": {"f1": 0.66}, "delivery": {"f1": 0.58}}}
    assert refusals(champion, better, PromoteParams()) == []
    slips = {"macro_f1": 0.61, "per_behaviour": {"trust": {"f1": 0.6}, "delivery": {"f1": 0.62}}}
    assert [r.split()[0] for r in refusals(champion, slips, PromoteParams())] == ["trust"]
    worse = {"macro_f1": 0.59, "per_behaviour": {"trust": {"f1": 0.7}, "delivery": {"f1": 0.5}}}
    assert refusals(champion, worse, PromoteParams())[0].startswith("macro-F1 falls")


def test_mlflow_models_serve_answers_with_tags(run_cli, project, tmp_path):
    """The registered model behind `mlflow models serve`, on a loopback port, for a bounded time."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    labelled, good, _ = project
    assert _train(run_cli, labelled, good, tmp_path / "m", tmp_path / "c.sqlite3")[0] == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    server = subprocess.Popen(
        [str(mlflow_cli), "models", "serve", "-m", f"models:/{REGISTERED_MODEL}@challenger",
         "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
        # the server runs `uvicorn` by name: the environment's bin folder must be on PATH
        env={**os.environ, "MLFLOW_TRACKING_URI": tracking_uri(), "PATH": f"{mlflow_cli.parent}:{os.environ['PATH']}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and server.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                time.sleep(1)
        body = json.dumps({"dataframe_records": [{"text": "He explains the reasons behind every rota decision."}]})
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", data=body.encode(), headers={"Content-Type": "application/json"}
        )
        answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
    finally:
        server.terminate()
        server.wait(timeout=30)
    [prediction] = answer["predictions"]
    assert prediction["status"] == "ok" and "trust" in prediction["behaviours"].split(";")
    assert json.loads(prediction["evidence"])[0]["behaviour"] in prediction["behaviours"].split(";")


def test_a_store_relative_to_the_working_folder_gets_its_experiment(tmp_path, monkeypatch):
    """A fresh clone's default store (`sqlite:///experiments/mlflow.db`, relative) is created on first use."""
    from pipeline.tracking.runs import EXPERIMENT, _mlflow

    monkeypatch.chdir(tmp_path)
    (tmp_path / "experiments").mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///experiments/mlflow.db")
    experiment = _mlflow().get_experiment_by_name(EXPERIMENT)
    assert experiment.artifact_location == (tmp_path / "experiments" / "mlruns").resolve().as_uri()
    assert (tmp_path / "experiments" / "mlflow.db").is_file()

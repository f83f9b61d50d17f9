import dataclasses
import json

import pytest
import yaml
from helpers import tiny_rows, write_labelled_csv

from pipeline.cli import evaluate as evaluate_commands
from pipeline.config import params_from_dict
from pipeline.errors import InputError
from pipeline.training.experiments import ExperimentPaths, experiment_params, results_table


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "lr.yaml").write_text("about: logistic\ntrain: {head: logistic}\n")
    (experiments / "proto.yaml").write_text("about: prototypes\ntrain: {head: prototype}\n")
    (experiments / "typo.yaml").write_text("trian: {head: knn}\n")
    paths = ExperimentPaths(configs=experiments, results=tmp_path / "results", table=tmp_path / "experiments.md")
    monkeypatch.setattr(evaluate_commands, "EXPERIMENT_PATHS", paths)
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    write_labelled_csv(labelled / "tiny.csv", tiny_rows())
    (labelled / "test_ids.txt").write_text("".join(f"{r.id}\n" for r in tiny_rows()[1::4]))
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({
        "encoder": {"backend": "hashing", "model": "", "dim": 512},
        "text": {"sentences": "sentencizer"},
        "train": {"C": 10.0, "class_weight": "balanced", "cv_folds": 3},
    }))
    return tmp_path, labelled, params


def test_experiments_run_side_by_side(run_cli, setup):
    tmp_path, labelled, params = setup
    options = ("--labelled", labelled, "--params", params, "--embedding-cache", tmp_path / "c.sqlite3", "--no-track")
    code, out, err = run_cli("experiment", "lr", "proto", *options)
    assert code == 0, err
    results = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "results").glob("*.json")}
    assert set(results) == {"lr", "proto"}
    assert results["lr"]["test"]["texts"] == len(tiny_rows()[1::4]) and results["lr"]["about"] == "logistic"
    assert "development" not in results["lr"]  # no new-writers set in this labelled folder
    table = (tmp_path / "experiments.md").read_text()
    assert "| lr | – |" in table and "| proto | – |" in table
    code, _, err = run_cli("experiment", "missing", *options)
    assert code == 2 and "no such experiment" in err
    code, _, err = run_cli("experiment", "typo", *options)
    assert code == 2 and "unknown section(s) trian" in err


def test_experiments_are_chosen_on_the_development_part(run_cli, setup):
    tmp_path, labelled, params = setup
    (labelled / "newwriters").mkdir()
    development = [dataclasses.replace(r, id=f"d-{i}") for i, r in enumerate(tiny_rows()[::3])]
    write_labelled_csv(labelled / "newwriters" / "dev.csv", development)
    options = ("--labelled", labelled, "--params", params, "--embedding-cache", tmp_path / "c.sqlite3", "--no-track")
    code, out, err = run_cli("experiment", "lr", *options)
    assert code == 0, err
    assert "lr: development part" in out
    result = json.loads((tmp_path / "results" / "lr.json").read_text())
    assert result["development"]["texts"] == len(development) and result["test"]["texts"] == len(tiny_rows()[1::4])
    low, high = result["development"]["macro_f1_interval_90"]
    assert low <= result["development"]["macro_f1"] <= high
    assert f"| lr | {result['development']['macro_f1']:.3f} ({low:.3f}–{high:.3f}) |" in (tmp_path / "experiments.md").read_text()


def test_overrides_keep_everything_else():
    base = params_from_dict({"train": {"C": 3.0}})

    class FakePath:
        def read_text(self, encoding=None):
            return "about: x\ntrain: {head: knn, k: 7}\n"

    about, params = experiment_params(base, FakePath())
    assert about == "x" and params.train.head == "knn" and params.train.k == 7 and params.train.C == 3.0
    with pytest.raises(InputError):
        class Bad(FakePath):
            def read_text(self, encoding=None):
                return "train: {kay: 7}\n"
        experiment_params(base, Bad())


def test_results_table_orders_by_development_then_test_macro_f1():
    def result(name, macro, development=None):
        test = {"macro_f1": macro, "none_untagged": 0.9, "micro_f1": macro}
        chosen_on = {} if development is None else {"development": {"macro_f1": development}}
        return {"name": name, "about": name, "train_seconds": 1.0, "test": test, **chosen_on}

    table = results_table([result("a", 0.4), result("b", 0.6), result("c", 0.3, 0.5), result("d", 0.2, 0.7)])
    assert table.index("| d |") < table.index("| c |") < table.index("| b |") < table.index("| a |")


def test_long_notes_are_summarised_for_the_experiments_own_aggregation():
    from pipeline.training.experiments import long_note_summary

    def aggregation(tags: float) -> dict:
        return {"macro_f1": 0.7, "macro_f1_interval_90": [0.6, 0.8], "tags_per_note": tags, "tags_to_true": tags / 2.5,
                "tags_to_true_interval_90": [tags / 2.5 - 0.1, tags / 2.5 + 0.1]}

    figures = {
        answers: {"labels_per_note": 2.5, "max": aggregation(tags * 2), "learned": aggregation(tags)}
        for answers, tags in ((5, 2.0), (20, 2.5), (60, 3.5))
    }
    summary = long_note_summary(figures, "learned")
    assert summary["20"] == {
        "macro_f1": 0.7, "macro_f1_interval_90": [0.6, 0.8], "tags_per_note": 2.5, "true_per_note": 2.5,
        "tags_to_true": 1.0, "tags_to_true_interval_90": [0.9, 1.1],
    }
    result = {"name": "x", "about": "x", "train_seconds": 1.0, "test": {"macro_f1": 0.5, "none_untagged": 0.9, "micro_f1": 0.5},
              "long_notes": {"development": summary}}
    assert "| 0.80 / 1.00 / 1.40 |" in results_table([result])


def test_committed_experiment_configs_are_valid():
    from pipeline.config import DEFAULT_PARAMS, load_params

    for path in sorted(ExperimentPaths().configs.glob("*.yaml")):
        about, _ = experiment_params(load_params(DEFAULT_PARAMS), path)
        assert about, path

"""`behaviours drift` (issue 16): the figures, the verdict, the phrase filter, bad input, nothing personal logged.

The stand-in encoder and the tiny labelled set; tests/model/test_drift_shipped.py runs the shipped
model on the off-domain batch, a held-out slice of the test split and the bundled example export.
"""

import json
import shutil
import sqlite3

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import TINY_NONE, tiny_rows, write_labelled_csv

from pipeline.config import DriftParams
from pipeline.tracking.runs import tracking_uri
from pipeline.errors import InputError
from pipeline.training.drift import (
    Reference,
    Texts,
    check_drift_params,
    difference_interval,
    drift_figures,
    verdict,
    wilson_interval,
)
from pipeline.training.phrases import over_represented

IDS = ("trust", "delivery")


# --- intervals ------------------------------------------------------------------------------


def test_wilson_interval_covers_the_true_share_nine_times_in_ten():
    rng = np.random.default_rng(1)
    for share, total in ((0.05, 60), (0.3, 200)):
        counts = rng.binomial(total, share, size=4000)
        covered = np.mean([low <= share <= high for low, high in (wilson_interval(int(k), total) for k in counts)])
        assert 0.87 <= covered <= 0.95, (share, total, covered)


def test_difference_interval_covers_the_true_change_nine_times_in_ten():
    rng = np.random.default_rng(2)
    hits = []
    for _ in range(3000):
        a, b = rng.binomial(150, 0.2), rng.binomial(300, 0.1)
        low, high = difference_interval(int(a), 150, int(b), 300)
        hits.append(low <= 0.1 <= high)
    assert 0.87 <= np.mean(hits) <= 0.95


def test_intervals_at_the_edges():
    assert wilson_interval(0, 50)[0] == 0.0 and wilson_interval(50, 50)[1] == 1.0
    low, high = difference_interval(0, 40, 0, 40)
    assert low < 0 < high


# --- the verdict ----------------------------------------------------------------------------


def _figures(far_low, auc=0.6, against="training data", change_interval=(-0.02, 0.02)):
    return {
        "against": against,
        "novelty": {"share": far_low + 0.03, "interval_90": [far_low, far_low + 0.06], "expected_share": 0.05},
        "distance": {"domain_auc": auc, "reference_auc": 0.6, "against": "training texts"},
        "tag_rates": [{"behaviour": "trust", "change": sum(change_interval) / 2, "interval_90": list(change_interval)}],
    }


@pytest.mark.parametrize(
    "figures, expected",
    [
        (_figures(0.01), "ok"),
        (_figures(0.12), "review"),
        (_figures(0.40), "relabel"),
        (_figures(0.01, auc=0.995), "ok"),  # the domain AUC is shown, it does not decide (docs/drift.md)
        (_figures(0.01, against="previous batch", change_interval=(0.12, 0.30)), "review"),
        (_figures(0.01, against="previous batch", change_interval=(-0.30, -0.12)), "review"),
        (_figures(0.01, against="previous batch", change_interval=(0.05, 0.30)), "ok"),  # might be under 10 points
        (_figures(0.01, change_interval=(0.12, 0.30)), "ok"),  # against training rates are the labelled mix's
    ],
)
def test_verdict_rules(figures, expected):
    found, reason = verdict(figures, DriftParams())
    assert found == expected
    assert "\n" not in reason and reason


def test_the_verdict_thresholds_are_nested():
    params = DriftParams()
    assert params.novelty_quantile < params.review_novelty < params.relabel_novelty < 1
    check_drift_params(params)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"min_documents": 1}, "drift.min_documents must be at least 2"),
        ({"novelty_quantile": 0}, "drift.novelty_quantile must be between 0 and 1"),
        ({"review_novelty": 0.3, "relabel_novelty": 0.2}, "review_novelty the smaller"),
        ({"min_texts": 2}, "drift.min_texts must be at least 5"),
        ({"sample_size": 10}, "sample_size must be at least min_texts"),
    ],
)
def test_settings_that_cannot_work_are_refused(change, message):
    with pytest.raises(InputError, match=message):
        check_drift_params(DriftParams(**change))


# --- phrases ---------------------------------------------------------------------------------


def _no_redaction(texts):
    return texts


def test_a_phrase_fewer_texts_use_is_never_shown():
    reference = ["The rota was late again.", "Pay is low.", "The canteen closes early."] * 20
    batch = [f"The new rostering system lost my shifts {i}." for i in range(5)]
    batch += ["Zebediah Quarrington bullied me on the ward."] * 4  # four texts: under min_documents
    batch += ["Nothing else to say."] * 20
    phrases = [p["phrase"] for p in over_represented(batch, reference, _no_redaction, min_documents=5, limit=50)]
    assert "rostering" in phrases and "rostering system" in phrases
    assert not [p for p in phrases if "zebediah" in p or "quarrington" in p or "bullied" in p]


def test_phrases_are_counted_after_redaction_and_never_hold_a_placeholder():
    reference = ["The rota was late again.", "Pay is low."] * 30
    batch = [f"Ask Jo Bloggs about the rostering system {i}." for i in range(8)]

    def redact(texts):
        return [t.replace("Jo Bloggs", "[NAME]") for t in texts]

    phrases = [p["phrase"] for p in over_represented(batch, reference, redact, min_documents=5, limit=50)]
    assert "rostering" in phrases
    assert not [p for p in phrases if "jo" in p.split() or "bloggs" in p or "name" in p or "zz" in p]


def test_no_phrase_when_the_batch_uses_the_reference_words():
    reference = ["The rota was late again and pay is low."] * 50
    batch = ["The rota was late again and pay is low."] * 10
    assert over_represented(batch, reference, _no_redaction, min_documents=5, limit=10) == []


# --- figures on vectors ----------------------------------------------------------------------


def _unit(rows):
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(3)
    centre = np.zeros(32)
    centre[0] = 4.0
    training = _unit(centre + rng.normal(size=(400, 32)))
    calibration, held_out = _unit(centre + rng.normal(size=(100, 32))), _unit(centre + rng.normal(size=(100, 32)))
    nearest = (calibration @ training.T).max(axis=1)
    test = Texts(["a text"] * 100, [{"trust"}] * 20 + [set()] * 80, 100, True)
    return Reference(["pay is low"] * 400, training, nearest, held_out, test)


def _batch(vectors, tags):
    return Texts([f"text {i}" for i in range(len(vectors))], tags, len(vectors), False)


def test_a_batch_like_the_training_data_is_ok_and_one_far_from_it_is_relabel(reference):
    rng = np.random.default_rng(4)
    centre = np.zeros(32)
    centre[0] = 4.0
    like = _unit(centre + rng.normal(size=(120, 32)))
    far_centre = np.zeros(32)
    far_centre[1] = 4.0
    unlike = _unit(far_centre + rng.normal(size=(120, 32)))
    tags = [{"trust"}] * 24 + [set()] * 96
    same = drift_figures(_batch(like, tags), like, reference, DriftParams(), IDS, _no_redaction)
    assert same["verdict"] == "ok", same["reason"]
    assert same["novelty"]["interval_90"][0] <= 0.05 <= same["novelty"]["interval_90"][1] + 0.05
    assert same["distance"]["domain_auc"] < 0.75
    other = drift_figures(_batch(unlike, tags), unlike, reference, DriftParams(), IDS, _no_redaction)
    assert other["verdict"] == "relabel"
    assert other["novelty"]["share"] > 0.9 and other["distance"]["domain_auc"] > 0.95
    trust = next(c for c in same["tag_rates"] if c["behaviour"] == "trust")
    assert trust["batch"] == 0.2 and trust["reference"] == 0.2 and trust["change"] == 0.0


def test_against_a_previous_batch_rates_and_distance_come_from_it(reference):
    rng = np.random.default_rng(5)
    centre = np.zeros(32)
    centre[0] = 4.0
    now, before = _unit(centre + rng.normal(size=(200, 32))), _unit(centre + rng.normal(size=(200, 32)))
    figures = drift_figures(
        _batch(now, [{"trust"}] * 120 + [set()] * 80), now, reference, DriftParams(), IDS, _no_redaction,
        previous=(_batch(before, [{"trust"}] * 20 + [set()] * 180), before),
    )
    assert figures["against"] == "previous batch"
    trust = next(c for c in figures["tag_rates"] if c["behaviour"] == "trust")
    assert trust["batch"] == 0.6 and trust["reference"] == 0.1
    assert figures["verdict"] == "review" and "trust" in figures["reason"]


# --- the command -----------------------------------------------------------------------------

BATCH_TEXTS = [
    f"Rostering portal {word} lost my night shifts again this week." for word in
    ("Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet", "Kilo", "Lima")
] + TINY_NONE[:6]


@pytest.fixture()
def project(tmp_path, model_dir):
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    write_labelled_csv(labelled / "tiny.csv", tiny_rows())
    (labelled / "test_ids.txt").write_text("".join(f"{r.id}\n" for r in tiny_rows()[::3]))
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({
        "encoder": {"backend": "hashing", "model": "", "dim": 512},
        "text": {"sentences": "sentencizer"},
        "train": {"C": 10.0, "class_weight": "balanced", "cv_folds": 3},
        "redact": {"kinds": ["EMAIL", "PHONE"]},
        "drift": {"min_texts": 10, "min_documents": 5},
    }))
    batch = tmp_path / "batch.csv"
    pd.DataFrame({"id": range(len(BATCH_TEXTS)), "answer": BATCH_TEXTS}).to_csv(batch, index=False)
    cache = tmp_path / "c.sqlite3"
    options = ["--labelled", labelled, "--params", params, "--model", model_dir, "--embedding-cache", cache]
    return batch, options


def test_drift_prints_figures_and_json(run_cli, project):
    batch, options = project
    code, out, err = run_cli("drift", batch, "-c", "answer", *options, "--no-track", "--json")
    assert code == 0, err
    figures = json.loads(out)
    assert figures["verdict"] in ("ok", "review", "relabel") and figures["reason"]
    answered = len(BATCH_TEXTS) - 1  # "n/a" is filler (score.empty_values), not an answer
    assert figures["texts"] == {"answered": answered, "measured": answered, "scored": False}
    assert len(figures["tag_rates"]) == 13
    assert "rostering portal" in [p["phrase"] for p in figures["phrases"]]
    assert not [p for p in figures["phrases"] if p["phrase"] in ("alpha", "bravo", "juliet")]  # one text each
    code, out, err = run_cli("drift", batch, "-c", "answer", *options, "--no-track")
    assert code == 0 and out.startswith("verdict: ")


def test_a_scored_file_is_read_as_scored_and_can_be_the_previous_batch(run_cli, project, tmp_path):
    batch, options = project
    scored = tmp_path / "scored.csv"
    model = options[options.index("--model") + 1]
    params = options[options.index("--params") + 1]
    assert run_cli("score", batch, "-o", scored, "-c", "answer", "--model", model, "--params", params)[0] == 0
    code, out, err = run_cli("drift", scored, "-c", "answer", "--against", batch, *options, "--no-track", "--json")
    assert code == 0, err
    figures = json.loads(out)
    assert figures["texts"]["scored"] and figures["against"] == "previous batch"
    assert all(c["change"] == 0 for c in figures["tag_rates"])  # the same texts, tagged by the same model


def test_a_file_with_behaviours_but_no_status_is_tagged_now(run_cli, project, tmp_path):
    batch, options = project
    frame = pd.read_csv(batch)
    frame["behaviours"] = "trust"  # a column of that name, but not `behaviours score` output
    frame.to_csv(tmp_path / "half.csv", index=False)
    code, out, err = run_cli("drift", tmp_path / "half.csv", "-c", "answer", *options, "--no-track", "--json")
    assert code == 0, err
    assert json.loads(out)["texts"]["scored"] is False


def test_relabel_prints_the_next_step(run_cli, project, tmp_path):
    batch, options = project
    far = tmp_path / "far.csv"
    pd.DataFrame({"answer": [f"Quantum {i} zygote xylophone {i} nebula" for i in range(20)]}).to_csv(far, index=False)
    code, out, err = run_cli("drift", far, "-c", "answer", *options, "--no-track")
    assert code == 0, err
    assert out.startswith("verdict: relabel")
    step = f"behaviours labelled suggest {far} --text-column answer -n 200 -o to_label.csv --register REGISTER"
    assert f"next step: {step}" in out
    # the step runs as printed, once REGISTER is named (the project's labelled folder, params and model given)
    args = [a for a in step.split()[1:] if a != "REGISTER"] + ["exit_survey", *options[:6]]
    args[args.index("to_label.csv")] = tmp_path / "to_label.csv"
    code, out, err = run_cli(*args)
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "to_label.csv")) == 20


def test_the_batch_is_logged_without_a_word_of_its_text_and_never_cached(run_cli, project, tmp_path, caplog):
    batch, options = project
    cache = tmp_path / "c.sqlite3"
    caplog.set_level("DEBUG")
    assert run_cli("--verbose", "drift", batch, "-c", "answer", *options)[0] == 0
    with sqlite3.connect(cache) as db:
        cached = db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
    other = tmp_path / "other.csv"
    _write(other, [f"Completely different answer number {i} about parking." for i in range(15)])
    code, out, err = run_cli("--verbose", "drift", other, "-c", "answer", *options)
    assert code == 0, err
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == cached  # the batches' vectors: not on disk
    mlflow.set_tracking_uri(tracking_uri())
    runs = mlflow.search_runs(
        experiment_names=["leadership-behaviours"], filter_string="tags.stage = 'drift'", output_format="list"
    )
    assert len(runs) == 2
    logged = " ".join(json.dumps([r.data.params, r.data.tags, r.data.metrics]) for r in runs).lower()
    words = {t.lower() for t in BATCH_TEXTS} | {"rostering", "portal", "shifts", "parking", "completely", "juliet"}
    assert not [w for w in words if w in logged], logged
    assert runs[0].data.tags["verdict"] in ("ok", "review", "relabel") and "drift.novelty_share" in runs[0].data.metrics
    assert not [w for w in ("rostering", "parking") if w in caplog.text.lower()]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda b: b.with_name("missing.csv"), "missing.csv: file not found"),
        (lambda b: b, "no column 'nope'"),
        (lambda b: _write(b, ["One answer."] * 3), "3 answered text(s) in answer; drift needs at least 10"),
        (lambda b: _write(b, ["n/a", "", "none"] * 10), "0 answered text(s)"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, project, change, message):
    batch, options = project
    column = "nope" if "nope" in message else "answer"
    code, out, err = run_cli("drift", change(batch), "-c", column, *options, "--no-track")
    assert code == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err + out


def test_a_missing_previous_batch_is_one_line_and_exit_2(run_cli, project, tmp_path):
    batch, options = project
    previous = tmp_path / "lastyear.csv"
    code, out, err = run_cli("drift", batch, "-c", "answer", "--against", previous, *options, "--no-track")
    assert code == 2 and "lastyear.csv: file not found" in err and err.count("\n") == 1


def test_without_a_test_split_drift_says_so(run_cli, project):
    batch, options = project
    labelled = options[options.index("--labelled") + 1]
    (labelled / "test_ids.txt").unlink()
    code, out, err = run_cli("drift", batch, "-c", "answer", *options, "--no-track")
    assert code == 2 and "no test split" in err and err.count("\n") == 1


def test_a_static_model_is_refused_in_one_line(run_cli, project, tmp_path):
    batch, options = project
    static = tmp_path / "static"
    shutil.copytree(options[options.index("--model") + 1], static)
    config = json.loads((static / "config.json").read_text())
    config["encoder"]["backend"] = "static"
    (static / "config.json").write_text(json.dumps(config))
    options[options.index("--model") + 1] = static
    code, out, err = run_cli("drift", batch, "-c", "answer", *options, "--no-track")
    assert code == 2 and "is a static model" in err and err.count("\n") == 1


def _write(path, texts):
    pd.DataFrame({"answer": texts}).to_csv(path, index=False)
    return path

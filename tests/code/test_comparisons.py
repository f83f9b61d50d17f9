import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers import tiny_rows

from pipeline.data.rows import USER_REGISTERS
from pipeline.errors import InputError
from pipeline.training.comparisons import brainstorm_only, leave_register_out
from pipeline.training.experiments import ExperimentPaths, merge_leave_register_out, run_experiments


def _with_registers(rows, registers):
    return [dataclasses.replace(r, register=registers[i % len(registers)]) for i, r in enumerate(rows)]


def test_leave_register_out_never_trains_on_the_register_it_evaluates(params, taxonomy, encoder, splitter, monkeypatch):
    rows = _with_registers(tiny_rows(), USER_REGISTERS)
    from pipeline.training import comparisons

    seen = []
    real_fit = comparisons.fit_model

    def spy(train_rows, *args):
        seen.append({r.register for r in train_rows})
        return real_fit(train_rows, *args)

    monkeypatch.setattr(comparisons, "fit_model", spy)
    reports = leave_register_out(rows, rows, params, taxonomy, lambda: encoder, splitter)
    assert list(reports) == list(USER_REGISTERS)
    for register, trained_on in zip(USER_REGISTERS, seen):
        assert register not in trained_on
        assert reports[register]["texts"] == sum(r.register == register for r in rows)
        assert set(reports[register]["per_register"]) == {register}


def test_brainstorm_only_trains_on_brainstorm_and_framework_rows(params, taxonomy, encoder, splitter):
    rows = _with_registers(tiny_rows(), ["brainstorm", "brainstorm", "brainstorm", "exit_survey"])
    train = [r for r in rows if r.register == "brainstorm"]
    test = [r for r in rows if r.register == "exit_survey"]
    report = brainstorm_only(rows, test, params, taxonomy, lambda: encoder, splitter)
    assert report["texts"] == len(test) and 0.0 <= report["macro_f1"] <= 1.0
    assert len(train) >= 3 * 13


def test_long_notes_join_answers_and_label_them_with_the_union(trained, taxonomy, encoder, splitter):
    from helpers import TINY_NONE

    from pipeline.data.rows import LabelledRow
    from pipeline.tagger import Tagger
    from pipeline.training.comparisons import long_notes

    none = [LabelledRow(f"n{i}", t, (), (), "exit_survey", "t", "f", i) for i, t in enumerate(TINY_NONE)]
    rows = _with_registers(tiny_rows(), USER_REGISTERS) + none
    tagger = Tagger(trained[0], encoder=encoder, splitter=splitter)
    figures = long_notes(tagger, rows, taxonomy, lengths=(2, 8), with_behaviour=2, notes=8)
    assert list(figures) == [2, 8]
    assert figures[8]["words"] > 2 * figures[2]["words"]
    # tiny rows carry one behaviour each and the filler none: one or two labels per note at any length
    assert all(1.0 <= figures[n]["labels_per_note"] <= 2.0 for n in (2, 8))
    for n in (2, 8):  # the tiny model was trained with max: no learned aggregator to compare
        assert all(0.0 <= figures[n][a]["macro_f1"] <= 1.0 for a in ("text", "max", "noisy_or"))
        assert "learned" not in figures[n]
        for a in ("text", "max", "noisy_or"):
            m = figures[n][a]
            assert m["tags_to_true"] == pytest.approx(m["tags_per_note"] / figures[n]["labels_per_note"], abs=1e-3)
            assert m["tags_to_true_interval_90"][0] <= m["tags_to_true"] <= m["tags_to_true_interval_90"][1]
            assert m["macro_f1_interval_90"][0] <= m["macro_f1"] <= m["macro_f1_interval_90"][1]
            assert 0 <= m["false_tags_an_answer_carries_alone"] <= m["false_tags_per_note"] <= m["tags_per_note"]
    # an answer that shows trust but is (wrongly) labelled as showing none: tagged alone, it brings its false tag
    # into most notes it is joined into (not all: in a note only its sentences speak for it, not its own vector)
    mislabelled = dataclasses.replace(next(r for r in rows if "trust" in r.labels), labels=(), polarity=())
    carried = long_notes(tagger, [r for r in rows if "trust" not in r.labels] + [mislabelled], taxonomy,
                         lengths=(len(none) + 3,), with_behaviour=2, notes=8)  # every note holds it
    m = next(iter(carried.values()))["max"]
    assert m["false_tags_per_note"] >= m["false_tags_an_answer_carries_alone"] >= 0.5
    with pytest.raises(InputError, match="too few answers"):
        long_notes(tagger, rows, taxonomy, lengths=(40,), notes=1)
    from pipeline.training.comparisons import note_lengths

    filler = [r for r in rows if not r.labels]
    assert 20 < len(filler) + 2 < 60
    assert note_lengths(rows, taxonomy) == (5, 20, len(filler) + 2)  # 60 cut to the longest it can fill
    assert note_lengths([r for r in rows if r.labels] + filler[:2], taxonomy) == ()  # not even notes of 5


def _result_file(tmp_path, loro):
    from pipeline.io.files import atomic_write_text

    path = tmp_path / "shipped.json"
    atomic_write_text(path, json.dumps({"name": "shipped", "test": {"macro_f1": 0.7}, "leave_register_out": loro}))
    return path


def test_registers_run_apart_are_merged_into_the_last_result_keeping_its_other_figures(tmp_path):
    path = _result_file(tmp_path, {"exit_survey": {"macro_f1": 0.5}, "staff_survey": {"macro_f1": 0.4}})
    merge_leave_register_out(path, {"staff_survey": {"macro_f1": 0.61}, "coaching_note": {"macro_f1": 0.62}})
    result = json.loads(path.read_text())
    assert result["test"] == {"macro_f1": 0.7}
    assert result["leave_register_out"] == {
        "exit_survey": {"macro_f1": 0.5}, "staff_survey": {"macro_f1": 0.61}, "coaching_note": {"macro_f1": 0.62}
    }


def test_processes_finishing_together_all_land(tmp_path):
    path = _result_file(tmp_path, {})
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: merge_leave_register_out(path, {f"register_{i}": {"macro_f1": i / 100}}), range(40)))
    assert len(json.loads(path.read_text())["leave_register_out"]) == 40


def test_registers_alone_are_refused_without_a_result_to_add_to_or_without_leave_register_out(tmp_path, params, taxonomy):
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "shipped.yaml").write_text("about: the shipped model\n")
    paths = ExperimentPaths(configs=configs, results=tmp_path / "results", table=tmp_path / "experiments.md")

    def run(leave_register_out, registers):
        run_experiments(["shipped"], params, tmp_path, taxonomy, tmp_path / "cache", leave_register_out, paths,
                        lambda *_: None, registers)

    with pytest.raises(InputError, match="no result to add registers to"):
        run(True, ("exit_survey",))
    with pytest.raises(InputError, match="needs --leave-register-out"):
        run(False, ("exit_survey",))
    with pytest.raises(InputError, match="'exit' is not one of"):
        run(True, ("exit",))
    assert not paths.results.exists() and not paths.table.exists()


def test_a_rerun_keeps_leave_register_out_figures_only_of_the_same_model(tmp_path, params, taxonomy):
    from helpers import write_labelled_csv

    labelled = tmp_path / "labelled"
    labelled.mkdir()
    # behaviours in appraisal notes, no behaviour in exit and staff surveys: leaving exit surveys out still trains
    rows = [r if r.labels else dataclasses.replace(r, register=("exit_survey", "staff_survey")[i % 2])
            for i, r in enumerate(tiny_rows())]
    write_labelled_csv(labelled / "tiny.csv", rows)
    (labelled / "test_ids.txt").write_text("".join(f"{r.id}\n" for r in rows[1::4]))
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "shipped.yaml").write_text("about: the shipped model\n")
    paths = ExperimentPaths(configs=configs, results=tmp_path / "results", table=tmp_path / "experiments.md")

    def run(registers=(), leave_register_out=False):
        run_experiments(["shipped"], params, labelled, taxonomy, tmp_path / "cache", leave_register_out or bool(registers),
                        paths, lambda *_: None, registers)
        return json.loads((paths.results / "shipped.json").read_text())

    first = run()
    assert "leave_register_out" not in first and len(first["fingerprint"]) == 64
    with_register = run(("exit_survey",))
    assert list(with_register["leave_register_out"]) == ["exit_survey"]
    rerun = run()  # the same parameters and rows: hours of leave-one-out runs are not thrown away
    assert rerun["fingerprint"] == first["fingerprint"] and rerun["leave_register_out"] == with_register["leave_register_out"]
    (configs / "shipped.yaml").write_text("about: the shipped model\nsuggest: {seed: 7}\n")
    assert run()["leave_register_out"] == with_register["leave_register_out"]  # not a setting the model depends on
    (configs / "shipped.yaml").write_text("about: the shipped model\ntrain: {C: 1.0}\n")
    changed = run()  # another model: the old figures would describe something else
    assert changed["fingerprint"] != first["fingerprint"] and "leave_register_out" not in changed
    (configs / "shipped.yaml").write_text("about: the shipped model\n")
    with pytest.raises(InputError, match="made with other parameters or rows; run it again without --register"):
        run(("exit_survey",))
    assert "leave_register_out" not in json.loads((paths.results / "shipped.json").read_text())

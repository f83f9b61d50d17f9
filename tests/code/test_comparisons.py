import dataclasses

import pytest
from helpers import tiny_rows

from pipeline.data.rows import USER_REGISTERS
from pipeline.errors import InputError
from pipeline.training.comparisons import brainstorm_only, leave_register_out


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
    with pytest.raises(InputError, match="too few test answers"):
        long_notes(tagger, rows, taxonomy, lengths=(40,), notes=1)

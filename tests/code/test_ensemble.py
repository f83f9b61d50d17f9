"""An ensemble of saved models (`models/ensemble/`): the averaging rule, its folder, and the commands that read it."""

import json

import pytest

from pipeline.config import load_params
from pipeline.errors import InputError
from pipeline.model.folder import load_ensemble_members, load_model
from pipeline.tagger import EnsembleTagger, TagResult, Tagger, load_tagger

IDS = ("trust", "delivery", "mindset")


class FixedTagger:
    """A member that says the same of every text."""

    behaviours = IDS

    def __init__(self, scores: dict, polarity: dict, evidence: dict) -> None:
        self.result = TagResult(
            status="ok",
            behaviours=[b for b in IDS if scores[b] >= 0.5],
            scores=scores,
            probabilities={b: s / 2 for b, s in scores.items()},
            polarity=polarity,
            evidence=[{"behaviour": b, "sentence": s, "score": scores[b]} for b, s in evidence.items()],
        )

    def tag(self, texts):
        return [self.result if text else TagResult(status="empty") for text in texts]


def test_a_behaviour_is_tagged_where_the_mean_score_reaches_one_half():
    sure = FixedTagger({"trust": 0.9, "delivery": 0.6, "mindset": 0.1}, {"trust": 0.8, "delivery": 0.3}, {"trust": "A.", "delivery": "B."})
    doubtful = FixedTagger({"trust": 0.3, "delivery": 0.45, "mindset": 0.7}, {"mindset": 0.9}, {"mindset": "C."})
    [result, empty] = EnsembleTagger([sure, doubtful], card={}).tag(["a note", ""])
    assert result.scores == {"trust": 0.6, "delivery": 0.525, "mindset": 0.4}
    assert result.behaviours == ["trust", "delivery"]  # highest mean first; mindset's 0.4 is not enough
    assert result.polarity == {"trust": 0.8, "delivery": 0.3}  # from the member that tags it
    assert (result.strengths, result.gaps) == (["trust"], ["delivery"])
    assert [e["sentence"] for e in result.evidence] == ["A.", "B."]  # the surest member's sentences
    assert result.probabilities == {"trust": 0.3, "delivery": 0.2625, "mindset": 0.2}
    assert empty.status == "empty"


def test_polarity_is_the_mean_of_the_members_that_tag_it():
    one = FixedTagger({"trust": 0.7, "delivery": 0.0, "mindset": 0.0}, {"trust": 0.9}, {"trust": "A."})
    two = FixedTagger({"trust": 0.8, "delivery": 0.0, "mindset": 0.0}, {"trust": 0.3}, {"trust": "B."})
    [result] = EnsembleTagger([one, two], card={}).tag(["a note"])
    assert result.polarity == {"trust": 0.6} and [e["sentence"] for e in result.evidence] == ["B."]


def _ensemble(folder, members):
    folder.mkdir()
    (folder / "ensemble.json").write_text(json.dumps({"members": members}))
    (folder / "card.json").write_text(json.dumps({"name": "test ensemble"}))
    return folder


def test_an_ensemble_of_one_model_twice_tags_as_the_model(model_dir, params_file, tmp_path, taxonomy):
    folder = _ensemble(tmp_path / "ensemble", [str(model_dir), str(model_dir)])
    tagger = load_tagger(folder, load_params(params_file), taxonomy.ids)
    assert isinstance(tagger, EnsembleTagger) and tagger.card["name"] == "test ensemble"
    alone = Tagger(load_model(model_dir, taxonomy.ids), encoder=tagger.members[0].encoder, splitter=tagger.members[0].splitter)
    texts = ["He explains the reasons behind every rota decision.", "Pay is too low.", "n/a"]
    for together, single in zip(tagger.tag(texts), alone.tag(texts)):
        assert (together.status, together.behaviours, together.scores) == (single.status, single.behaviours, single.scores)


def test_members_are_found_from_the_ensemble_folder(model_dir, tmp_path):
    relative = f"../{model_dir.parent.name}/{model_dir.name}"
    folder = _ensemble(model_dir.parent.parent / f"ensemble_{tmp_path.name}", [relative, relative])
    members, _ = load_ensemble_members(folder)
    assert members == [model_dir.resolve(), model_dir.resolve()]


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"members": ["../default"]}', "two or more model folders"),
        ('{"models": ["a", "b"]}', r"unreadable \(KeyError"),
        ("not json", r"unreadable \(JSONDecodeError"),
    ],
)
def test_a_bad_ensemble_file_is_a_clear_error(tmp_path, content, message):
    folder = _ensemble(tmp_path / "ensemble", [])
    (folder / "ensemble.json").write_text(content)
    with pytest.raises(InputError, match=message):
        load_ensemble_members(folder)


def test_commands_that_need_one_model_say_so(run_cli, model_dir, params_file, tmp_path):
    folder = _ensemble(tmp_path / "ensemble", [str(model_dir), str(model_dir)])
    with pytest.raises(InputError, match="is an ensemble of models"):
        load_model(folder, IDS)
    code, _, err = run_cli("export-onnx", "--model", folder)
    assert code == 2 and "is an ensemble of models" in err and err.count("\n") == 1
    export = tmp_path / "export.csv"
    export.write_text("answer\nHe explains the reasons behind every rota decision.\n")
    code, _, err = run_cli("labelled", "suggest", export, "-c", "answer", "-n", "1", "-o", tmp_path / "to_label.csv",
                           "--register", "exit_survey", "--model", folder, "--params", params_file)
    assert code == 2 and "is an ensemble: suggest reads one model" in err and not (tmp_path / "to_label.csv").exists()


def test_score_and_long_notes_read_an_ensemble(run_cli, model_dir, params_file, tmp_path):
    import dataclasses

    from helpers import TINY_NONE, tiny_rows, write_labelled_csv

    folder = _ensemble(tmp_path / "ensemble", [str(model_dir), str(model_dir)])
    export = tmp_path / "export.csv"
    export.write_text("answer\nHe explains the reasons behind every rota decision.\nn/a\n")
    code, _, err = run_cli("score", export, "-o", tmp_path / "scored.csv", "-c", "answer", "--model", folder,
                           "--params", params_file)
    assert code == 0, err
    assert "trust" in (tmp_path / "scored.csv").read_text()
    rows = [dataclasses.replace(r, register="exit_survey") for r in tiny_rows() if r.labels]
    rows += [dataclasses.replace(tiny_rows()[0], id=f"n{i}", text=f"{TINY_NONE[i % len(TINY_NONE)]} ({i})", labels=(),
                                 polarity=()) for i in range(60)]
    answers = write_labelled_csv(tmp_path / "answers.csv", rows)
    code, out, err = run_cli("evaluate", "--long-notes", answers, "--model", folder, "--params", params_file, "--json")
    assert code == 0, err
    figures = json.loads(out)
    assert set(figures["5"]) == {"words", "labels_per_note", "ensemble"}


@pytest.fixture()
def params_file(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("encoder: {backend: hashing, model: '', dim: 512}\ntext: {sentences: sentencizer}\n")
    return path

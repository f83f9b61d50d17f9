"""The real MiniLM encoder through training, saving, loading and scoring a file."""

import dataclasses
import json

import numpy as np
import pandas as pd

from pipeline.config import PROJECT_ROOT, ScoreParams
from pipeline.data.rows import labelled_files, load_labelled
from pipeline.model.folder import load_model, save_model
from pipeline.tagger import Tagger
from pipeline.text import EmptyAnswers
from pipeline.training.fit import fit_model


def test_long_sentence_is_cut_within_the_token_limit(real_encoder):
    words = [f"ward{i}" if i % 7 else "handover" for i in range(700)]
    pieces = real_encoder.within_limit(" ".join(words))
    assert len(pieces) > 1
    assert " ".join(pieces).split() == words  # nothing lost, order kept
    tokenizer = real_encoder.tokenizer
    assert all(len(tokenizer(p, add_special_tokens=False)["input_ids"]) <= real_encoder.max_tokens for p in pieces)


def test_train_save_load_round_trip_on_a_small_slice(taxonomy, real_params, real_encoder, real_splitter, tmp_path):
    rows = load_labelled(labelled_files(PROJECT_ROOT / "labelled"), taxonomy)
    per_behaviour = {b: [r for r in rows if r.labels[:1] == (b,)][:6] for b in taxonomy.ids}
    slice_rows = [r for chosen in per_behaviour.values() for r in chosen] + [r for r in rows if not r.labels][:20]
    params = dataclasses.replace(real_params, train=dataclasses.replace(real_params.train, cv_folds=3))
    model, cv = fit_model(slice_rows, params, taxonomy, real_encoder, real_splitter)
    assert cv["texts"] == len(slice_rows)
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m", taxonomy.ids)
    texts = ["She explains why decisions are made. Parking is awful.", "n/a"]
    before = Tagger(model, encoder=real_encoder, splitter=real_splitter).tag(texts)
    after = Tagger(loaded, encoder=real_encoder, splitter=real_splitter).tag(texts)
    for a, b in zip(before, after):
        assert a.behaviours == b.behaviours
        np.testing.assert_allclose(list(a.scores.values()), list(b.scores.values()), atol=1e-3)


def test_score_the_bundled_example_survey(run_cli, tmp_path, shipped_model_dir):
    output = tmp_path / "scored.xlsx"
    example = PROJECT_ROOT / "examples" / "exit_survey.csv"
    code, out, err = run_cli("score", example, "-o", output, "-c", "what_could_have_been_better", "--model", shipped_model_dir)
    assert code == 0, err
    source = pd.read_csv(example, dtype=str, keep_default_na=False)
    scored = pd.read_excel(output, keep_default_na=False)
    assert len(scored) == len(source) >= 40
    assert list(scored.columns[: len(source.columns)]) == list(source.columns)
    blank = source["what_could_have_been_better"].map(EmptyAnswers(ScoreParams.empty_values))  # blank or filler
    assert (scored.loc[blank.values, "status"] == "empty").all()
    assert (scored.loc[~blank.values, "status"] == "ok").all()
    tagged = scored[scored["behaviours"] != ""]
    assert len(tagged) > 5
    for _, row in tagged.iterrows():
        evidence = json.loads(row["evidence"])
        assert {e["behaviour"] for e in evidence} == set(row["behaviours"].split(";"))
        assert all(e["sentence"] in " ".join(row["what_could_have_been_better"].split()) for e in evidence)
    assert f"{len(source)} rows scored" in out

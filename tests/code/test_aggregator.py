"""Learned aggregation: the note features, the aggregator, and a model trained, saved and loaded with it."""

import dataclasses
import json

import numpy as np
from helpers import tiny_params, tiny_rows

from pipeline.model.aggregator import FEATURES, NoteAggregator, note_features
from pipeline.model.folder import load_model, save_model
from pipeline.tagger import (
    HeadScores,
    Tagger,
    aggregate,
    best_line_probabilities,
    embed_texts,
    model_scores,
    text_inputs,
)
from pipeline.training.fit import fit_model


def logit(p: float) -> float:
    return float(np.log(p / (1 - p)))


def one_line_features(pieces: np.ndarray, texts: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """`note_features` of texts of one line each, lines not read."""
    return note_features(pieces, texts, offsets, texts, np.ones(len(texts), dtype=int), None)


def test_note_features_read_each_texts_own_sentences():
    # text 0: one sentence; text 1: three sentences
    pieces = np.array([[0.9], [0.2], [0.7], [0.4]])
    texts = np.array([[0.5], [0.3]])
    offsets = np.array([0, 1, 4])
    X = one_line_features(pieces, texts, offsets)
    assert X.shape == (2, 1, len(FEATURES))
    text, best, second, mean, log_n, best_log_n = X[1, 0]
    assert np.isclose(text, logit(0.3), atol=1e-5)
    assert np.isclose(best, logit(0.7), atol=1e-5) and np.isclose(second, logit(0.4), atol=1e-5)
    assert np.isclose(mean, logit((0.2 + 0.7 + 0.4) / 3), atol=1e-5)
    assert np.isclose(log_n, np.log(3)) and np.isclose(best_log_n, logit(0.7) * np.log(3), atol=1e-5)
    assert np.isclose(X[0, 0, 1], X[0, 0, 2])  # one sentence: its second best is its best
    assert X[0, 0, 4] == 0.0


def test_a_texts_score_is_its_best_line_discounted_when_that_is_better():
    pieces = np.array([[0.9], [0.2], [0.7], [0.4]])
    texts = np.array([[0.5], [0.3]])
    offsets = np.array([0, 1, 4])
    best_lines, lines = np.array([[0.5], [0.8]]), np.array([1, 4])
    X = note_features(pieces, texts, offsets, best_lines, lines, 0.5)
    assert np.isclose(X[1, 0, 0], logit(0.8) - 0.5 * np.log(4), atol=1e-5)  # the best of four lines, discounted
    assert np.isclose(X[0, 0, 0], logit(0.5), atol=1e-5)  # one line: the text itself
    weak = note_features(pieces, texts, offsets, np.array([[0.5], [0.31]]), lines, 0.5)
    assert np.isclose(weak[1, 0, 0], logit(0.3), atol=1e-5)  # the whole text is better than its discounted line
    no_lines = note_features(pieces, texts, offsets, best_lines, lines, None)
    np.testing.assert_array_equal(no_lines, one_line_features(pieces, texts, offsets))  # lines not read


def test_each_line_is_read_alone_by_the_text_head(taxonomy, encoder, splitter):
    params = dataclasses.replace(tiny_params(), train=dataclasses.replace(tiny_params().train, aggregation="learned"))
    model, _ = fit_model(tiny_rows(), params, taxonomy, encoder, splitter)
    lines = [r.text for r in tiny_rows()[:3]]
    embedded = embed_texts([lines[0], "\n\n".join(lines)], splitter, encoder)
    assert embedded.lines[1] == lines and sum(embedded.line_sizes[1]) == len(embedded.pieces[1])
    text_probs = model.head.predict_proba(text_inputs(embedded, model.words))
    best = best_line_probabilities(model.head, embedded, model.words, text_probs)
    alone = model.head.predict_proba(text_inputs(embed_texts(lines, splitter, encoder), model.words))
    np.testing.assert_array_equal(best[0], text_probs[0])  # one line: nothing more to read
    np.testing.assert_allclose(best[1], alone.max(axis=0), rtol=1e-5)
    assert not np.allclose(best[1], text_probs[1])  # the whole note is not any of its lines


def test_the_line_discount_is_saved_and_older_models_read_no_lines(taxonomy, encoder, splitter, tmp_path):
    train = dataclasses.replace(tiny_params().train, aggregation="learned", line_discount=0.25)
    model, _ = fit_model(tiny_rows(), dataclasses.replace(tiny_params(), train=train), taxonomy, encoder, splitter)
    save_model(model, tmp_path / "m")
    assert load_model(tmp_path / "m", taxonomy.ids).aggregator.line_discount == 0.25
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    del config["aggregator"]["params"]["line_discount"]  # as saved before lines were read
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    assert load_model(tmp_path / "m", taxonomy.ids).aggregator.line_discount is None


def test_lines_are_read_only_for_a_model_whose_aggregation_reads_them(taxonomy, encoder, splitter):
    learned = dataclasses.replace(tiny_params().train, aggregation="learned", line_discount=0.25)
    model, _ = fit_model(tiny_rows(), dataclasses.replace(tiny_params(), train=learned), taxonomy, encoder, splitter)
    embedded = embed_texts(["\n\n".join(r.text for r in tiny_rows()[:3])], splitter, encoder)
    reading = model_scores(model, embedded)
    assert not np.allclose(reading.best_lines, reading.texts)  # the best of its three lines, read alone
    not_reading = (dataclasses.replace(model, aggregation="max"), dataclasses.replace(model, aggregator=NoteAggregator()))
    for other in not_reading:
        unread = model_scores(other, embedded)
        np.testing.assert_array_equal(unread.best_lines, unread.texts)  # nothing reads lines: none are scored
        np.testing.assert_array_equal(unread.texts, reading.texts)


def test_the_aggregator_learns_that_one_sentence_counts_less_in_a_long_note():
    # Made-up scores: in short texts the best sentence decides; in long ones a single
    # middling sentence is usually noise. The aggregator should learn that from the rows.
    rng = np.random.default_rng(0)
    rows, labels, offsets = [], [], [0]
    for _ in range(600):
        n = int(rng.choice([1, 2, 12, 30]))
        truth = rng.random() < 0.3
        best = rng.uniform(0.6, 0.95) if truth or n > 10 else rng.uniform(0.05, 0.4)
        scores = np.concatenate([[best], rng.uniform(0.02, 0.3, n - 1)])
        rows.append(scores[:, None])
        labels.append([truth])
        offsets.append(offsets[-1] + n)
    pieces = np.vstack(rows)
    texts = np.array([[r.max() * 0.8] for r in rows])
    aggregator = NoteAggregator(C=1.0).fit(one_line_features(pieces, texts, np.array(offsets)), np.array(labels))

    def probability(n: int) -> float:
        note = np.concatenate([[0.8], np.full(n - 1, 0.1)])[:, None]
        return float(aggregator.predict_proba(one_line_features(note, np.array([[0.64]]), np.array([0, n])))[0, 0])

    assert probability(1) > 0.5 > probability(30)


def test_a_learned_model_saves_loads_and_tags_the_same(taxonomy, encoder, splitter, tmp_path):
    params = tiny_params()
    params = dataclasses.replace(params, train=dataclasses.replace(params.train, aggregation="learned"))
    model, figures = fit_model(tiny_rows(), params, taxonomy, encoder, splitter)
    assert model.aggregator is not None and model.aggregator.coef_.shape == (13, len(FEATURES))
    assert figures["macro_f1"] > 0.3  # cross-validated through both stages, on a few dozen rows
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m", taxonomy.ids)
    np.testing.assert_array_equal(loaded.aggregator.coef_, model.aggregator.coef_)
    texts = [r.text for r in tiny_rows()[:20]] + [" ".join(r.text for r in tiny_rows()[:15])]
    before = Tagger(model, encoder=encoder, splitter=splitter).tag(texts)
    after = Tagger(loaded, encoder=encoder, splitter=splitter).tag(texts)
    assert [r.scores for r in before] == [r.scores for r in after]
    assert any(r.behaviours for r in after)


def test_learned_aggregation_keeps_the_gate_as_max():
    pieces = np.array([[0.2, 0.9], [0.3, 0.4]])
    texts = np.array([[0.1, 0.5]])
    aggregator = NoteAggregator().fit(
        one_line_features(np.tile(pieces, (4, 1)), np.tile(texts, (4, 1)), np.arange(0, 9, 2)), np.array([[0], [1], [0], [1]])
    )
    probs = aggregate(HeadScores(pieces, texts, texts, np.array([1]), np.array([0, 2])), "learned", aggregator)
    assert probs.shape == (1, 2) and probs[0, 1] == 0.9  # the gate: best of text and pieces


def test_composed_notes_are_drawn_from_one_fold_with_a_few_texts_showing_behaviours():
    from pipeline.training.composed import draw_notes

    held = np.arange(10, 110)
    showing = np.zeros(200, dtype=bool)
    showing[::4] = True
    notes = draw_notes(held, showing, 300, np.random.default_rng(0), longest=40, most_showing=3)
    assert len(notes) > 250  # only notes of fewer than 2 texts are dropped
    for note in notes:
        assert 2 <= len(note) <= 40 and set(note) <= set(held) and len(set(note)) == len(note)
        assert showing[note].sum() <= 3
    lengths = np.array([len(n) for n in notes])
    assert (lengths <= 5).sum() > 50 and (lengths >= 20).sum() > 50  # short and long notes both common
    assert {int(showing[n].sum()) for n in notes} == {0, 1, 2, 3}


def test_a_joined_note_is_its_parts_in_order(encoder, splitter):
    from pipeline.tagger import embed_texts

    embedded = embed_texts(["One here. Two here.", "Three.", "Four here. Five. Six."], splitter, encoder)
    note = embedded.joined([np.array([2, 0])])
    assert note.texts == [embedded.texts[2] + "\n\n" + embedded.texts[0]]
    assert note.pieces == [embedded.pieces[2] + embedded.pieces[0]]
    np.testing.assert_array_equal(note.vectors, embedded.vectors[embedded.piece_rows(np.array([2, 0]))])
    np.testing.assert_array_equal(note.offsets, [0, 5])


def test_the_aggregator_learns_from_composed_notes_held_out_with_their_fold(taxonomy, encoder, splitter):
    from pipeline.data.rows import label_matrix
    from pipeline.tagger import embed_texts
    from pipeline.training.fit import out_of_fold_probabilities, out_of_fold_scores, with_any_column

    rows = tiny_rows()
    params = tiny_params()
    params = dataclasses.replace(params, train=dataclasses.replace(params.train, aggregation="learned", composed_notes=60))
    embedded = embed_texts([r.text for r in rows], splitter, encoder)
    Y = with_any_column(label_matrix(rows, taxonomy))
    scores = out_of_fold_scores(embedded, Y, params, composed_notes=60)
    assert len(scores.notes) == 60 and scores.note_texts.shape == (60, Y.shape[1])
    for note, fold in zip(scores.notes, scores.note_fold):
        assert set(note) <= set(scores.folds[fold][1])  # every part held out of the head that scored the note
    oof, aggregator = out_of_fold_probabilities(embedded, Y, params)
    plain = dataclasses.replace(params, train=dataclasses.replace(params.train, composed_notes=0))
    oof_plain, aggregator_plain = out_of_fold_probabilities(embedded, Y, plain)
    assert oof.shape == oof_plain.shape == Y.shape
    assert not np.allclose(aggregator.coef_, aggregator_plain.coef_)  # the notes were learned from
    np.testing.assert_array_equal(oof[:, -1], oof_plain[:, -1])  # the gate stays max over the texts

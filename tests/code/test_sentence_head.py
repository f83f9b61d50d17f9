"""The sentence head and sentence-level polarity: learned from readers' sentence votes, saved, and used to score pieces."""

import dataclasses

import numpy as np
from helpers import TINY_NONE, tiny_params, tiny_rows

from pipeline.data.pool import PoolText, Vote
from pipeline.model.folder import load_model, save_model
from pipeline.tagger import Tagger, embed_texts
from pipeline.training.fit import fit_model, sentence_examples, sentence_polarity_examples, with_any_column


def _notes(rows):
    """Two-sentence notes made of a behaviour sentence and a no-behaviour one, with readers' sentence labels."""
    shown = [r for r in rows if r.labels]
    notes = []
    for k, row in enumerate(shown):
        filler = TINY_NONE[k % len(TINY_NONE)]
        notes.append(dataclasses.replace(
            row, id=f"note-{k}", text=f"{row.text} {filler}",
            sentences=((row.text, tuple((b, s) for b, s in zip(row.labels, row.polarity))), (filler, ())),
        ))
    return notes


def test_readers_sentence_votes_become_sentence_signs():
    text = PoolText(
        id="p-1", text="A. B.", register="coaching_note", source="authored:p", voice="", batch="p",
        sentences=("A.", "B."),
        votes=(
            Vote("writer", {"trust": "-"}),
            Vote("r1", {"trust": "-", "delivery": "+"}, ({"trust": "-"}, {"delivery": "+"})),
            Vote("r2", {"trust": "-"}, ({"trust": "+"}, {})),
        ),
    )
    # sentence A: both readers marked trust, with opposite signs (a tie: no sign); B: one of two readers, delivery +
    assert text.sentence_signs() == (("A.", (("trust", None),)), ("B.", (("delivery", "+"),)))


def test_sentence_examples_label_each_sentence_by_its_own_votes(taxonomy, encoder, splitter):
    rows = tiny_rows()[:8] + _notes(tiny_rows()[:4])
    embedded = embed_texts([r.text for r in rows], splitter, encoder)
    examples = sentence_examples(rows, embedded, with_any_column(np.zeros((len(rows), 13), dtype=int)), taxonomy.ids)
    note = rows[8]
    first, second = note.sentences[0][0], note.sentences[1][0]
    i, j = examples.texts.index(first, 8), examples.texts.index(second)
    column = taxonomy.ids.index(note.labels[0])
    assert examples.Y[i, column] == 1 and examples.Y[i, -1] == 1
    assert examples.Y[j].sum() == 0  # the filler sentence shows nothing
    assert examples.owner[i] == examples.owner[j] == 8
    signs = sentence_polarity_examples(rows, embedded)
    assert [(owner, sentence) for owner, sentence, _, _ in signs] == [(8 + k, r.sentences[0][0]) for k, r in enumerate(rows[8:])]


def test_a_model_with_a_sentence_head_scores_sentences_with_it(taxonomy, encoder, splitter, tmp_path):
    params = tiny_params()
    params = dataclasses.replace(
        params,
        train=dataclasses.replace(params.train, sentence_head=True, aggregation="learned"),
        polarity=dataclasses.replace(params.polarity, sentences=True),
    )
    rows = tiny_rows() + _notes(tiny_rows())
    model, figures = fit_model(rows, params, taxonomy, encoder, splitter)
    assert model.sentence_head is not None and model.card["evaluation"]["training_polarity"]["sentence_pairs"] > 0
    save_model(model, tmp_path / "m")
    loaded = load_model(tmp_path / "m", taxonomy.ids)
    np.testing.assert_array_equal(loaded.sentence_head.coef_, model.sentence_head.coef_)
    note = rows[-1].text
    [result] = Tagger(loaded, encoder=encoder, splitter=splitter).tag([note])
    assert result.scores == Tagger(model, encoder=encoder, splitter=splitter).tag([note])[0].scores
    without = dataclasses.replace(loaded, sentence_head=None, sentence_words=None)
    [plain] = Tagger(without, encoder=encoder, splitter=splitter).tag([note])
    assert plain.scores != result.scores  # the pieces were scored by another head

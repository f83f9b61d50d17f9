"""Models trained on purpose-made subsets, to ask how the product generalises.

- Leave one register out: for each register users score, train on every training
  row of the other registers and evaluate on every row of the left-out one (none of
  them seen), the closest this data gets to text written in a way nobody labelled.
- Brainstorm only: train on the brainstorm comments and the framework's
  descriptions alone (the labelled data that existed before this project) and
  evaluate on the test split, to show what the authored data adds.
- Long notes: no labelled text is pages long, so notes are made by joining test
  answers as paragraphs, a few that show behaviours among many that show none,
  and the shipped model is evaluated on them with each way of turning sentence
  scores into a text score (`train.aggregation`).

Both train with the same parameters as the product model, each on a fresh
encoder (fine-tuning merges its adapter into the encoder it is given).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline.config import Params
from pipeline.data.rows import USER_REGISTERS, LabelledRow, label_matrix
from pipeline.data.split import LabelledSplit
from pipeline.encoders.base import Encoder
from pipeline.encoders.cached import cached_encoder
from pipeline.errors import InputError
from pipeline.model.folder import SavedModel
from pipeline.tagger import AGGREGATIONS, EnsembleTagger, Tagger, result_matrices
from pipeline.taxonomy import Taxonomy
from pipeline.text import SentenceSplitter
from pipeline.training.evaluate import tagger_figures
from pipeline.training.fit import fit_model
from pipeline.training.metrics import bootstrap_interval, headline_figures, multilabel_metrics, ratio_interval

BASELINE_REGISTERS = ("brainstorm", "framework")
LONG_NOTE_ANSWERS = (5, 20, 60)  # answers per joined note (`long_notes`)


def train_and_evaluate(
    train_rows: list[LabelledRow],
    eval_rows: list[LabelledRow],
    params: Params,
    taxonomy: Taxonomy,
    new_encoder: Callable[[], Encoder],
    splitter: SentenceSplitter,
) -> dict:
    """Train on one set of rows and report on another, through the tagger users score with."""
    return train_and_evaluate_on(train_rows, {"eval": eval_rows}, params, taxonomy, new_encoder, splitter)["eval"]


def train_and_evaluate_on(
    train_rows: list[LabelledRow],
    eval_sets: dict[str, list[LabelledRow]],
    params: Params,
    taxonomy: Taxonomy,
    new_encoder: Callable[[], Encoder],
    splitter: SentenceSplitter,
    with_long_notes: bool = False,
) -> dict[str, dict]:
    """Train once and report on each named set of rows, through the tagger users score with (and, asked,
    on long notes joined from each set's answers, when it has enough: `long_notes`, under "long_notes")."""
    encoder = new_encoder()
    model, _ = fit_model(train_rows, params, taxonomy, encoder, splitter)
    tagger = Tagger(model, encoder=encoder, splitter=splitter)
    figures = {name: tagger_figures(tagger, rows, taxonomy, params.score.chunk_size) for name, rows in eval_sets.items()}
    if with_long_notes:
        for name, rows in eval_sets.items():
            if note_lengths(rows, taxonomy):
                figures[name]["long_notes"] = long_notes(tagger, rows, taxonomy)
    return figures


def leave_register_out(
    train_rows: list[LabelledRow],
    all_rows: list[LabelledRow],
    params: Params,
    taxonomy: Taxonomy,
    new_encoder: Callable[[], Encoder],
    splitter: SentenceSplitter,
    registers: tuple[str, ...] = USER_REGISTERS,
) -> dict[str, dict]:
    """For each of `registers`: trained on `train_rows` without it, evaluated on all of its rows in `all_rows`."""
    by_register = {}
    for register in registers:
        kept = [r for r in train_rows if r.register != register]
        left_out = [r for r in all_rows if r.register == register]
        by_register[register] = train_and_evaluate(kept, left_out, params, taxonomy, new_encoder, splitter)
    return by_register


def brainstorm_only(
    train_rows: list[LabelledRow],
    test_rows: list[LabelledRow],
    params: Params,
    taxonomy: Taxonomy,
    new_encoder: Callable[[], Encoder],
    splitter: SentenceSplitter,
) -> dict:
    """Trained on the brainstorm and framework training rows alone, evaluated on the test split.

    Some behaviours have only a handful of brainstorm rows, so cross-validation uses
    3 folds here.
    """
    baseline_rows = [r for r in train_rows if r.register in BASELINE_REGISTERS]
    baseline_params = dataclasses.replace(params, train=dataclasses.replace(params.train, cv_folds=3))
    return train_and_evaluate(baseline_rows, test_rows, baseline_params, taxonomy, new_encoder, splitter)


ENSEMBLE = "ensemble"  # long notes read by an ensemble: its own averaged tags, no aggregation of its own


def note_aggregations(model: SavedModel) -> tuple[str, ...]:
    """The aggregations a model can tag with: `learned` only when it has a fitted aggregator."""
    return tuple(a for a in AGGREGATIONS if a != "learned" or model.aggregator is not None)


def own_reading(tagger: Tagger | EnsembleTagger) -> str:
    """How the tagger reads a note as shipped: its model's aggregation, or `ensemble`."""
    return ENSEMBLE if isinstance(tagger, EnsembleTagger) else tagger.model.aggregation


def _note_readers(tagger: Tagger | EnsembleTagger) -> dict[str, Tagger | EnsembleTagger]:
    """The taggers long notes are read with: the model under each aggregation it can tag with, or an ensemble as is."""
    if isinstance(tagger, EnsembleTagger):
        return {ENSEMBLE: tagger}
    return {
        aggregation: Tagger(
            dataclasses.replace(tagger.model, aggregation=aggregation), encoder=tagger.encoder, splitter=tagger.splitter
        )
        for aggregation in note_aggregations(tagger.model)
    }


def _note_parts(rows: list[LabelledRow], taxonomy: Taxonomy) -> tuple[list[LabelledRow], np.ndarray, list[int], list[int]]:
    """The answers long notes are joined from, their labels, and which of them show some behaviour and which none."""
    pool = [r for r in rows if r.register in USER_REGISTERS]
    Y = label_matrix(pool, taxonomy)
    return pool, Y, [i for i in range(len(pool)) if Y[i].any()], [i for i in range(len(pool)) if not Y[i].any()]


def _lengths_for(showing: int, filler: int, with_behaviour: int) -> tuple[int, ...]:
    longest = filler + with_behaviour if showing >= with_behaviour else 0
    if longest < LONG_NOTE_ANSWERS[0]:
        return ()
    return tuple(dict.fromkeys(min(n, longest) for n in LONG_NOTE_ANSWERS))


def note_lengths(rows: list[LabelledRow], taxonomy: Taxonomy, with_behaviour: int = 2) -> tuple[int, ...]:
    """LONG_NOTE_ANSWERS, each cut to the longest note `rows` can fill with different answers (the development
    part has 51 behaviour-free answers: its longest notes have 53); empty when not even the shortest fits."""
    _, _, showing, filler = _note_parts(rows, taxonomy)
    return _lengths_for(len(showing), len(filler), with_behaviour)


def long_notes(
    tagger: Tagger | EnsembleTagger,
    rows: list[LabelledRow],
    taxonomy: Taxonomy,
    lengths: tuple[int, ...] | None = None,
    with_behaviour: int = 2,
    notes: int = 60,
    seed: int = 13,
) -> dict[int, dict]:
    """For notes of each length (`note_lengths` when not given), the figures of every aggregation.

    A note joins `with_behaviour` answers of `rows` (the test split, or the development
    part where aggregations are chosen) that show some behaviour and fills
    the rest of its length with answers that show none (workload, pay, rota, vague
    praise), as a long note says a few things among much else; its labels are the
    union of its answers'. So the longer the note, the more sentences could raise a
    false tag and the more a text-wide average dilutes the evidence. All notes are
    tagged in one call per aggregation: each distinct sentence is encoded once. Each
    answer is also tagged alone, so that a note's false tags can be told apart: those
    one of its answers carries even when read alone (a mistake on a short answer that a
    long note repeats) and those the note's length and mix make.
    """
    pool, Y, showing, filler = _note_parts(rows, taxonomy)
    lengths = lengths or _lengths_for(len(showing), len(filler), with_behaviour)
    if not lengths or max(lengths) - with_behaviour > len(filler) or with_behaviour > len(showing):
        raise InputError(
            f"too few answers for notes of {max(lengths or LONG_NOTE_ANSWERS[:1])} answers "
            f"({len(showing)} showing a behaviour, {len(filler)} showing none)"
        )
    rng = random.Random(seed)
    drawn = {}
    for n in lengths:
        drawn[n] = []
        for _ in range(notes):
            picks = rng.sample(showing, with_behaviour) + rng.sample(filler, n - with_behaviour)
            rng.shuffle(picks)
            drawn[n].append(picks)
    texts = ["\n\n".join(pool[i].text for i in picks) for n in lengths for picks in drawn[n]]
    truth = np.vstack([Y[picks].any(axis=0) for n in lengths for picks in drawn[n]])
    figures: dict[int, dict] = {}
    for k, n in enumerate(lengths):
        rows = slice(k * notes, (k + 1) * notes)
        figures[n] = {
            "words": int(np.mean([len(t.split()) for t in texts[rows]])),
            "labels_per_note": float(truth[rows].sum(axis=1).mean()),
        }
    for aggregation, aggregated in _note_readers(tagger).items():
        predicted, _ = result_matrices(aggregated.tag(texts), taxonomy.ids)
        alone, _ = result_matrices(aggregated.tag([row.text for row in pool]), taxonomy.ids)
        carried_alone = np.vstack([alone[picks].any(axis=0) for n in lengths for picks in drawn[n]])
        false = predicted.astype(bool) & ~truth
        for k, n in enumerate(lengths):
            rows = slice(k * notes, (k + 1) * notes)
            metrics = multilabel_metrics(truth[rows], predicted[rows], taxonomy.ids)
            tags, true = predicted[rows].sum(axis=1), truth[rows].sum(axis=1)
            figures[n][aggregation] = {
                "macro_f1": metrics["macro_f1"],
                "macro_f1_interval_90": [round(b, 4) for b in bootstrap_interval(truth[rows], predicted[rows])],
                "micro_f1": metrics["micro_f1"],
                "tags_per_note": float(tags.mean()),
                "tags_to_true": round(float(tags.sum() / true.sum()), 4),
                "tags_to_true_interval_90": [round(b, 4) for b in ratio_interval(tags, true)],
                "false_tags_per_note": round(float(false[rows].sum(axis=1).mean()), 4),
                "false_tags_an_answer_carries_alone": round(float((false[rows] & carried_alone[rows]).sum(axis=1).mean()), 4),
            }
    return figures


def leave_register_out_figures(split: LabelledSplit, params: Params, taxonomy: Taxonomy, cache: Path) -> dict[str, dict]:
    """Headline figures of `leave_register_out`, per register (vectors through the embedding cache)."""
    figures = leave_register_out(
        split.train, split.rows, params, taxonomy, lambda: cached_encoder(params.encoder, cache), SentenceSplitter(params.text)
    )
    return {register: headline_figures(f) for register, f in figures.items()}


def against_brainstorm_only(
    tagger: Tagger, split: LabelledSplit, params: Params, taxonomy: Taxonomy, cache: Path
) -> dict[str, dict]:
    """Headline test figures of `tagger` (`model`) and of a model trained on brainstorm + framework rows only."""
    def new_encoder() -> Encoder:
        return cached_encoder(params.encoder, cache)

    shipped = tagger_figures(tagger, split.test, taxonomy, params.score.chunk_size)
    baseline = brainstorm_only(split.train, split.test, params, taxonomy, new_encoder, SentenceSplitter(params.text))
    return {"model": headline_figures(shipped), "brainstorm_only": headline_figures(baseline)}

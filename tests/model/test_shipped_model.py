"""Behavioural tests of the model the product ships with (real encoder).

Minimum functionality, invariance and "says when none applies": a few clear cases
each, not a second test set. The figures are in `behaviours evaluate`.
"""

import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.data import labelled_files, load_labelled
from pipeline.model import load_model
from pipeline.split import partition, read_test_ids
from pipeline.train import data_fingerprint


@pytest.mark.parametrize(
    "text, behaviour",
    [
        ("She always explains the reasons behind rota changes, even the unpopular ones.", "trust"),
        ("He sat down with the council and the GP practices and got them to agree one discharge pathway.", "system_influence"),
        ("My manager pushed me to apply for the band 6 post and found me a mentor.", "lead_enable_others"),
        ("When the audit went badly she blamed the admin team instead of owning it.", "ownership_accountability"),
        ("She piloted a nurse-led clinic that nobody had tried here before.", "doing_things_differently"),
    ],
)
def test_clear_examples_are_tagged(shipped, text, behaviour):
    [result] = shipped.tag([text])
    assert behaviour in result.behaviours, result.scores


@pytest.mark.parametrize(
    "text",
    [
        "The Trust moved my ward to another site.",
        "n/a",
        "Car parking costs too much and there are never any spaces.",
        "Pay is too low for band 5.",
        "Leaving to relocate closer to family.",
    ],
)
def test_no_behaviour_is_left_untagged(shipped, text):
    [result] = shipped.tag([text])
    assert result.status == "ok" and result.behaviours == [], result.scores


def test_names_do_not_change_confident_tags(shipped, taxonomy):
    """Names move scores a little (an embedding property); they must not flip a confident decision.

    Tags within 0.15 of the 0.5 line can flip with a name: a known limit (docs/decisions.md).
    """
    template = "{} explained why the ward was closing and answered every question honestly."
    results = shipped.tag([template.format(name) for name in ("Sarah", "Mohammed", "Wei", "Siobhan")])
    assert len({r.behaviours[0] for r in results}) == 1
    for behaviour in taxonomy.ids:
        scores = [r.scores[behaviour] for r in results]
        if max(scores) >= 0.65:
            assert min(scores) >= 0.5, (behaviour, scores)  # confidently tagged for one name: tagged for all
        if min(scores) <= 0.35:
            assert max(scores) < 0.5, (behaviour, scores)  # confidently untagged for one: untagged for all


def test_evidence_points_at_the_right_sentence(shipped):
    note = (
        "Car parking is a nightmare on this site. "
        "My manager always explains the reasons behind decisions, even unpopular ones. "
        "I am leaving to move closer to family."
    )
    [result] = shipped.tag([note])
    trust = [e for e in result.evidence if e["behaviour"] == "trust"]
    assert trust and trust[0]["sentence"].startswith("My manager always explains")


def test_shipped_model_matches_the_committed_data(taxonomy, shipped_model_dir):
    """Retrain (`behaviours train`) after changing labelled/ or the split: the card must match."""
    model = load_model(shipped_model_dir, taxonomy.ids)
    rows = load_labelled(labelled_files(PROJECT_ROOT / "labelled"), taxonomy)
    train_rows, _ = partition(rows, read_test_ids(PROJECT_ROOT / "labelled" / "test_ids.txt"))
    assert model.card["training_data"]["sha256"] == data_fingerprint(train_rows)
    assert model.card["evaluation"]["test"]["macro_f1"] > 0.4

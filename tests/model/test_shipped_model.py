"""Behavioural tests of the models the product ships with (real encoders).

Minimum functionality, invariance and "says when none applies": a few clear cases
each, not a second test set, for the default model and for the slower one on the larger
encoder (models/mpnet; `make mpnet` fetches its encoder). The figures are in `behaviours evaluate`.
"""

import pytest

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.data.rows import labelled_files, load_labelled
from pipeline.data.split import partition, read_test_ids
from pipeline.model.folder import load_model
from pipeline.tagger import Tagger
from pipeline.training.fit import data_fingerprint
from pipeline.training.train import extra_training_rows

SHIPPED = ("default", "mpnet")


@pytest.fixture(scope="module", params=SHIPPED)
def each_shipped(request, taxonomy, real_splitter):
    """Each shipped model in turn, with its own encoder."""
    return Tagger(load_model(PROJECT_ROOT / "models" / request.param, taxonomy.ids), splitter=real_splitter)


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
def test_clear_examples_are_tagged(each_shipped, text, behaviour):
    [result] = each_shipped.tag([text])
    assert behaviour in result.behaviours, result.scores


@pytest.mark.parametrize(
    "text",
    [
        "The Trust moved my ward to another site.",
        "Car parking costs too much and there are never any spaces.",
        "Pay is too low for band 5.",
        "Leaving to relocate closer to family.",
    ],
)
def test_no_behaviour_is_left_untagged(each_shipped, text):
    [result] = each_shipped.tag([text])
    assert result.status == "ok" and result.behaviours == [], result.scores


def test_filler_is_empty_not_an_answer(each_shipped):
    assert [r.status for r in each_shipped.tag(["n/a", "No comment.", "-"])] == ["empty", "empty", "empty"]


NAMES = ("Sarah", "Mohammed", "Wei", "Siobhan", "Olu", "Priya", "Tomasz", "Gareth")
TEMPLATES = (
    "{} explained why the ward was closing and answered every question honestly.",
    "{} pushed me to apply for the band 6 post and found me a mentor.",
    "{} never follows up on anything agreed at the team meeting.",
    "{} got the council and the GP practices to agree one discharge pathway.",
    "{} shut down every new idea we brought to the huddle.",
    "Pay is too low and {} says the rota is out of her hands.",
)


def test_names_rarely_change_the_tags(each_shipped):
    """CheckList-style invariance: swapping the person's name should not change the tags.

    Names do move scores a little (an embedding property; docs/decisions.md), so a
    tag near its threshold can flip. Measured as a failure rate over templates × names
    against each template's most common tag set, and held under 10%.
    """
    flips = 0
    for template in TEMPLATES:
        results = each_shipped.tag([template.format(name) for name in NAMES])
        tag_sets = [frozenset(r.behaviours) for r in results]
        majority = max(set(tag_sets), key=tag_sets.count)
        flips += sum(tags != majority for tags in tag_sets)
    assert flips / (len(TEMPLATES) * len(NAMES)) <= 0.10, flips


def test_evidence_points_at_the_right_sentence(each_shipped):
    note = (
        "Car parking is a nightmare on this site. "
        "My manager always explains the reasons behind decisions, even unpopular ones. "
        "I am leaving to move closer to family."
    )
    [result] = each_shipped.tag([note])
    trust = [e for e in result.evidence if e["behaviour"] == "trust"]
    assert trust and trust[0]["sentence"].startswith("My manager always explains")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_matches_the_committed_data(taxonomy, name):
    """Retrain (`behaviours train`) after changing labelled/, the pool, the pairs or the split: the card must match."""
    model = load_model(PROJECT_ROOT / "models" / name, taxonomy.ids)
    labelled = PROJECT_ROOT / "labelled"
    rows = load_labelled(labelled_files(labelled), taxonomy)
    train_rows, _ = partition(rows, read_test_ids(labelled / "test_ids.txt"))
    extra = extra_training_rows(labelled, load_params(), taxonomy)
    assert model.card["training_data"]["extra_rows"] == {name: len(rows) for name, rows in extra.items()}
    all_rows = train_rows + [row for rows in extra.values() for row in rows]
    assert model.card["training_data"]["sha256"] == data_fingerprint(all_rows)
    assert model.card["evaluation"]["test"]["macro_f1"] > 0.4

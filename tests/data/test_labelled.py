"""Checks on the committed labelled data itself."""

from collections import Counter

import pytest

from pipeline.config import DEFAULT_PARAMS, PROJECT_ROOT, load_params
from pipeline.data.rows import USER_REGISTERS, labelled_files, validate_files
from pipeline.data.split import partition, read_test_ids
from pipeline.data.stats import corpus_stats, coverage_gaps

LABELLED = PROJECT_ROOT / "labelled"


@pytest.fixture(scope="module")
def rows(taxonomy):
    rows, problems = validate_files(labelled_files(LABELLED), taxonomy)
    assert problems == [], "\n".join(map(str, problems[:20]))
    return rows


def test_every_row_keeps_provenance(rows):
    prefixes = Counter(r.source.split(":")[0] for r in rows)
    assert {"framework", "brainstorm", "authored"} <= set(prefixes) <= {"framework", "brainstorm", "authored", "added"}
    # authored rows name the brief they were written to: their register's, or the polarity hard cases'
    assert all(r.source in (f"authored:{r.register}", "authored:polarity") for r in rows if r.source.startswith("authored"))


def test_framework_descriptions_define_each_behaviour_once(rows, taxonomy):
    framework = [r for r in rows if r.register == "framework"]
    assert sorted(r.labels for r in framework) == sorted((b,) for b in taxonomy.ids)


def test_brainstorm_comments_are_all_present(rows):
    brainstorm = [r for r in rows if r.register == "brainstorm"]
    assert len(brainstorm) >= 150
    assert "[NAME]" in " ".join(r.text for r in brainstorm)  # commenters' names were replaced
    assert sum(not r.labels for r in brainstorm) >= 10  # content-free comments are kept, unlabelled


def test_at_least_15_authored_examples_per_behaviour_in_the_registers_users_score(rows, taxonomy):
    scored_registers = ("exit_survey", "appraisal_note", "coaching_note")
    counts = Counter(label for r in rows if r.register in scored_registers for label in r.labels)
    assert {b: counts[b] for b in taxonomy.ids if counts[b] < 15} == {}


def test_both_polarities_for_every_behaviour(rows, taxonomy):
    pairs = Counter((label, p) for r in rows if r.register in USER_REGISTERS for label, p in zip(r.labels, r.polarity))
    for behaviour in taxonomy.ids:
        assert pairs[(behaviour, "+")] >= 10 and pairs[(behaviour, "-")] >= 5, behaviour


def test_enough_texts_that_show_no_behaviour(rows):
    none = [r for r in rows if not r.labels and r.register in USER_REGISTERS]
    assert len(none) >= 60
    texts = " ".join(r.text.lower() for r in none)
    for topic in ("parking", "pay", "rota", "n/a", "the trust"):
        assert topic in texts, topic


@pytest.mark.parametrize("target", ["min_per_behaviour", "min_no_behaviour", "min_multi_label_share"])
def test_the_data_meets_its_targets(rows, taxonomy, target):
    """>= 60 rows per behaviour and >= 400 with none in the user registers; >= 25% of behaviour rows multi-label."""
    targets = load_params(DEFAULT_PARAMS).data
    assert (targets.min_per_behaviour, targets.min_no_behaviour, targets.min_multi_label_share) == (60, 400, 0.25)
    gaps = [str(g) for g in coverage_gaps(corpus_stats(rows, taxonomy), targets) if g.target == target]
    assert gaps == []


def test_test_split_is_fixed_disjoint_and_covers_every_behaviour_and_register(rows, taxonomy):
    test_ids = read_test_ids(LABELLED / "test_ids.txt")
    known = {r.id for r in rows}
    assert test_ids and test_ids <= known
    train, test = partition(rows, test_ids)
    assert {r.text.casefold() for r in train}.isdisjoint({r.text.casefold() for r in test})
    assert {label for r in test for label in r.labels} == set(taxonomy.ids)
    assert set(USER_REGISTERS) <= {r.register for r in test}
    assert not any(r.register == "framework" for r in test)

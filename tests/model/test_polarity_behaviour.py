"""Strength or gap, on the shipped model: negation, contrast, hedging, and notes that hold both.

Each case names a behaviour the text is plainly about and the polarity a reader
would give it; the test needs the behaviour found (that is the tagger's job) and
its polarity right.
"""

from __future__ import annotations

import pytest

CASES = [
    # negation flips the same statement
    ("She always explains the reasons behind decisions, even the unpopular ones.", "trust", "+"),
    ("She never explains the reasons behind decisions, not even the unpopular ones.", "trust", "-"),
    ("He gives the team room to make their own decisions and coaches them through it.", "lead_enable_others", "+"),
    ("He doesn't let anyone make a decision without him and nobody on the team gets developed.",
     "lead_enable_others", "-"),
    ("Not once in two years did my manager ask what I thought about the changes.", "collaboration_cocreation", "-"),
    # contrast: what follows "but" carries the judgement
    ("He listens politely in meetings, but nothing we raise is ever acted on.", "ownership_accountability", "-"),
    ("She was defensive about feedback at first, but now she asks for it and acts on what she hears.",
     "mindset", "+"),
    ("The strategy looks good on paper, but nobody on the ward knows where we are heading.",
     "vision_shared_direction", "-"),
    # hedging: a development area said politely is still a gap
    ("I'm not sure he always takes responsibility when things go wrong on his unit.",
     "ownership_accountability", "-"),
    ("It might help if she involved the team a little more before deciding how the clinic should run.",
     "collaboration_cocreation", "-"),
]


@pytest.mark.parametrize(("text", "behaviour", "expected"), CASES, ids=[f"{b}{e}-{i}" for i, (_, b, e) in enumerate(CASES)])
def test_polarity_of_a_behaviour_found(shipped, text, behaviour, expected):
    [result] = shipped.tag([text])
    assert behaviour in result.behaviours, f"{behaviour} not found; found {result.behaviours}"
    polarity = "+" if result.polarity[behaviour] >= 0.5 else "-"
    assert polarity == expected, f"P(strength) {result.polarity[behaviour]:.2f}"
    assert (behaviour in result.strengths) == (expected == "+")


def test_a_note_with_a_strength_and_a_gap_shows_both(shipped):
    note = (
        "Priya coaches the newer nurses every week and gave two of them the chance to lead the audit.\n"
        "Nobody on the ward was ever told why the day unit was closing; we found out from the rota."
    )
    [result] = shipped.tag([note])
    assert result.strengths and result.gaps, result.polarity
    signs = {item["sentence"][:20]: item["polarity"] for item in result.evidence}
    assert signs.get("Priya coaches the ne") == "+" and signs.get("Nobody on the ward w") == "-"


def test_evidence_polarity_is_per_sentence(shipped):
    [result] = shipped.tag(["She explains every decision to us. He never explains anything to anyone."])
    by_sentence = {item["sentence"]: item["polarity"] for item in result.evidence}
    assert by_sentence.get("She explains every decision to us.") == "+"
    assert by_sentence.get("He never explains anything to anyone.") == "-"

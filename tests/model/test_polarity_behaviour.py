"""Strength or gap, on the shipped model: negation, contrast, hedging, and notes that hold both.

Each case names a behaviour the text is plainly about and the polarity a reader
would give it. `test_polarity_of_a_behaviour_found` needs the behaviour found (the
tagger's job) and its polarity right; `test_polarity_reading_of_the_text` checks the
polarity classifier's reading of the whole text alone, so a detection miss does not
hide what polarity does. Cases the model gets wrong stay here as strict expected
failures with the reason, so a fix shows up as an unexpected pass.
"""

from __future__ import annotations

import pytest

from pipeline.tagger import embed_texts
from pipeline.text import normalise

def case(text, behaviour, expected, *, found_fails=None, reading_fails=None):
    return text, behaviour, expected, found_fails, reading_fails


CASES = [
    # negation flips the same statement
    case("She always explains the reasons behind decisions, even the unpopular ones.", "trust", "+"),
    case("She never explains the reasons behind decisions, not even the unpopular ones.", "trust", "-"),
    case("He gives the team room to make their own decisions and coaches them through it.", "lead_enable_others", "+"),
    case("He doesn't let anyone make a decision without him and nobody on the team gets developed.",
         "lead_enable_others", "-"),
    case("Not once in two years did my manager ask what I thought about the changes.", "collaboration_cocreation", "-",
         found_fails="detection: collaboration is not found in a negated question (its polarity reads as a gap)"),
    case("There was no point raising concerns because nothing ever changed.", "trust", "-"),
    # a negated negative is praise
    case("I can't fault the way she supports new starters and helps them grow into the role.",
         "lead_enable_others", "+",
         found_fails="detection: general support with no concrete act is left untagged; "
                     "the pool teaches that vague praise is no behaviour"),
    case("She never fails to thank the team after a difficult shift and tells us exactly what went well.",
         "relationships_advocacy", "+",
         found_fails="detection: no behaviour is found in thanks and praise for the team"),
    # contrast: what follows "but" / "although" carries the judgement
    case("He listens politely in meetings, but nothing we raise is ever acted on.", "ownership_accountability", "-",
         found_fails="detection: ownership is not found; the text reads as (untagged) delivery"),
    case("She was defensive about feedback at first, but now she asks for it and acts on what she hears.",
         "mindset", "+"),
    case("The strategy looks good on paper, but nobody on the ward knows where we are heading.",
         "vision_shared_direction", "-"),
    case("The rota was chaotic for months, but he took responsibility for it and fixed it himself.",
         "ownership_accountability", "+"),
    case("He is approachable, although decisions still seem to be made without asking any of us.",
         "collaboration_cocreation", "-"),
    # hedging: a development area said politely is still a gap
    case("I'm not sure he always takes responsibility when things go wrong on his unit.",
         "ownership_accountability", "-"),
    case("One area to develop: delegating more rather than doing everything herself.", "lead_enable_others", "-"),
    case("It might help if she involved the team a little more before deciding how the clinic should run.",
         "collaboration_cocreation", "-"),
    case("Going forward, I would like to see him share the plan for the service with the whole team.",
         "vision_shared_direction", "-", found_fails="detection: not found in a hedged wish"),
]


def _params(which: int):
    ids = [f"{behaviour}{expected}-{i}" for i, (_, behaviour, expected, *_) in enumerate(CASES)]
    return [
        pytest.param(text, behaviour, expected, id=id_,
                     marks=[pytest.mark.xfail(strict=True, reason=fails[which])] if fails[which] else [])
        for id_, (text, behaviour, expected, *fails) in zip(ids, CASES)
    ]


@pytest.mark.parametrize(("text", "behaviour", "expected"), _params(0))
def test_polarity_of_a_behaviour_found(shipped, text, behaviour, expected):
    [result] = shipped.tag([text])
    assert behaviour in result.behaviours, f"{behaviour} not found; found {result.behaviours}"
    polarity = "+" if result.polarity[behaviour] >= 0.5 else "-"
    assert polarity == expected, f"P(strength) {result.polarity[behaviour]:.2f}"
    assert (behaviour in result.strengths) == (expected == "+")


@pytest.mark.parametrize(("text", "behaviour", "expected"), _params(1))
def test_polarity_reading_of_the_text(shipped, text, behaviour, expected):
    embedded = embed_texts([text], shipped.splitter, shipped.encoder)
    [strength] = shipped.model.polarity.predict_proba([normalise(text)], embedded.text_vectors())
    assert ("+" if strength >= 0.5 else "-") == expected, f"P(strength) {strength:.2f}"


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

import math

import numpy as np
import pytest

from pipeline.tagger import HeadScores, Tagger, aggregate, display_scores, embed_texts


@pytest.fixture(scope="module")
def tagger(trained, encoder, splitter):
    return Tagger(trained[0], encoder=encoder, splitter=splitter)


def test_display_scores_put_thresholds_at_one_half():
    thresholds = np.array([0.2, 0.8])
    probs = np.array([[0.2, 0.8], [0.0, 0.0], [1.0, 1.0], [0.1, 0.9]])
    scores = display_scores(probs, thresholds)
    np.testing.assert_allclose(scores[0], [0.5, 0.5])
    np.testing.assert_allclose(scores[1], [0.0, 0.0])
    np.testing.assert_allclose(scores[2], [1.0, 1.0])
    np.testing.assert_allclose(scores[3], [0.25, 0.75])


def test_aggregation():
    pieces = np.array([[0.1], [0.9], [0.3]])
    texts = np.array([[0.5], [0.2]])
    scores = HeadScores(pieces, texts, texts, np.array([1, 1]), np.array([0, 2, 3]))
    np.testing.assert_allclose(aggregate(scores, "text"), texts)
    np.testing.assert_allclose(aggregate(scores, "max"), [[0.9], [0.3]])
    with pytest.raises(ValueError):
        aggregate(scores, "mean")


def test_each_distinct_piece_is_encoded_once(splitter, encoder):
    calls = []

    class Counting:
        max_tokens, dim = encoder.max_tokens, encoder.dim
        within_limit = staticmethod(encoder.within_limit)

        def encode(self, texts):
            calls.append(list(texts))
            return encoder.encode(texts)

    embedded = embed_texts(["n/a", "n/a", "Good. n/a"], splitter, Counting())
    assert len(calls) == 1 and sorted(calls[0]) == ["Good.", "n/a"]
    assert list(embedded.offsets) == [0, 1, 2, 4]
    np.testing.assert_allclose(np.linalg.norm(embedded.text_vectors(), axis=1), 1.0, rtol=1e-5)


def test_tags_come_with_their_evidence_sentence(tagger):
    [result] = tagger.tag(["The car parking is terrible. He explains the reasons behind every rota decision."])
    assert result.status == "ok"
    assert "trust" in result.behaviours
    trust_evidence = [e for e in result.evidence if e["behaviour"] == "trust"]
    assert trust_evidence[0]["sentence"] == "He explains the reasons behind every rota decision."
    assert result.scores["trust"] >= 0.5
    assert all(set(e) == {"behaviour", "sentence", "score", "polarity", "polarity_score"} for e in result.evidence)
    assert all(e["polarity"] == ("+" if e["polarity_score"] >= 0.5 else "-") for e in result.evidence)


def test_every_behaviour_found_is_a_strength_or_a_gap(tagger):
    [result] = tagger.tag(["He explains the reasons behind every rota decision. She never listens to anyone."])
    assert sorted(result.strengths + result.gaps) == sorted(result.behaviours)
    assert set(result.polarity) == set(result.behaviours)
    assert all((b in result.strengths) == (p >= 0.5) for b, p in result.polarity.items())


def test_says_when_none_applies(tagger):
    [result] = tagger.tag(["The canteen closes too early and lockers are broken."])
    assert result.behaviours == [] and result.evidence == []
    assert all(score < 0.5 for score in result.scores.values())


def test_empty_and_missing_values_are_empty_not_errors(tagger):
    results = tagger.tag(["", "   \n", None, math.nan, "He explains the reasons behind every decision."])
    assert [r.status for r in results] == ["empty", "empty", "empty", "empty", "ok"]
    assert results[0].behaviours == [] and results[0].scores == {}


def test_batch_results_do_not_depend_on_neighbours(tagger):
    text = "She delegates real decisions and coaches her staff to develop."
    alone = tagger.tag([text])[0]
    batched = tagger.tag(["n/a", text, "Pay is too low."])[1]
    assert alone.scores == batched.scores


def test_long_text_is_scored_whole(tagger):
    filler = " ".join(["The rota was published late again."] * 60)
    long_text = filler + " He explains the reasons behind every rota decision."
    [result] = tagger.tag([long_text])
    assert "trust" in result.behaviours  # the last sentence was not cut off


def test_a_score_of_one_half_or_more_means_tagged_even_through_the_gate(tagger):
    texts = [
        "He explains the reasons behind every rota decision.",
        "The canteen closes too early.",
        "Supported me to apply for training. Pay is too low.",
        "n/a",
    ]
    for result in tagger.tag(texts):
        assert {b for b, s in result.scores.items() if s >= 0.5} == set(result.behaviours)

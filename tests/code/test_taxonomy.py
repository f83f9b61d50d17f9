import pytest

from pipeline.taxonomy import parse_taxonomy

IDS = (
    "authenticity mindset resilience_courage relationships_advocacy collaboration_cocreation trust "
    "community_holistic vision_shared_direction system_influence lead_enable_others "
    "ownership_accountability delivery doing_things_differently"
).split()


def test_thirteen_behaviours_in_framework_order(taxonomy):
    assert list(taxonomy.ids) == IDS
    assert len(taxonomy) == 13


def test_four_themes_each_with_behaviours(taxonomy):
    themes = {b.theme.name for b in taxonomy.behaviours}
    assert themes == {"Being", "Relating & Communicating", "Leading & Visioning", "Delivering"}
    assert taxonomy["trust"].theme.name == "Relating & Communicating"
    assert taxonomy["delivery"].theme.id == "delivering"


def test_every_behaviour_has_description_and_both_indicators(taxonomy):
    for b in taxonomy.behaviours:
        assert len(b.description) > 40
        assert set(b.indicators) == {"+", "-"}


def test_unknown_theme_is_rejected():
    raw = {"themes": [{"id": "a", "name": "A", "colour": "#000"}],
           "behaviours": [{"id": "x", "name": "X", "theme": "b", "description": "d"}]}
    with pytest.raises(ValueError, match="unknown theme"):
        parse_taxonomy(raw)


def test_unknown_id_lookup_raises(taxonomy):
    with pytest.raises(KeyError):
        taxonomy["leadership"]

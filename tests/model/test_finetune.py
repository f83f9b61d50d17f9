"""Fine-tuning the real encoder with low-rank adapters, on a small slice (one short epoch)."""

import dataclasses

import numpy as np
import pytest

from pipeline.config import PROJECT_ROOT, FinetuneParams
from pipeline.data.rows import labelled_files, load_labelled
from pipeline.encoders.cached import CachedEncoder
from pipeline.encoders.transformer import SentenceTransformerEncoder
from pipeline.model.folder import load_model, save_model
from pipeline.tagger import Tagger
from pipeline.training.fit import fit_model


@pytest.fixture(scope="module")
def finetuned(taxonomy, real_params, real_splitter, tmp_path_factory):
    rows = load_labelled(labelled_files(PROJECT_ROOT / "labelled"), taxonomy)
    per_behaviour = {b: [r for r in rows if r.labels[:1] == (b,)][:8] for b in taxonomy.ids}
    slice_rows = [r for chosen in per_behaviour.values() for r in chosen] + [r for r in rows if not r.labels][:30]
    params = dataclasses.replace(
        real_params,
        # the classification objective trains its own head on vectors, text by text and sentence max
        train=dataclasses.replace(real_params.train, cv_folds=3, features="vectors", aggregation="max", sentence_head=False),
        finetune=FinetuneParams(epochs=1, rank=2, validation_fraction=0.3),
    )
    encoder = SentenceTransformerEncoder(params.encoder)  # its own: fine-tuning merges into it
    cache = CachedEncoder(encoder, tmp_path_factory.mktemp("cache") / "e.sqlite3")
    frozen_fingerprint = encoder.fingerprint
    model, figures = fit_model(slice_rows, params, taxonomy, cache, real_splitter)
    return model, figures, encoder, frozen_fingerprint


def test_adapter_is_small_arrays_and_changes_the_encoder(finetuned):
    model, figures, encoder, frozen_fingerprint = finetuned
    assert model.adapter is not None and len(model.adapter) == 6 * 6 * 2  # 6 layers × 6 linears × (A, B)
    assert sum(a.nbytes for a in model.adapter.values()) < 2_000_000
    assert encoder.fingerprint != frozen_fingerprint  # cached vectors of the frozen encoder are not reused
    assert "held out of fine-tuning" in model.card["evaluation"]["training"]["method"]
    assert model.card["encoder"]["fine_tuned"] is True
    assert 0.0 <= figures["macro_f1"] <= 1.0


def test_saved_fine_tuned_model_scores_the_same_after_loading(finetuned, taxonomy, real_splitter, tmp_path):
    model, _, encoder, _ = finetuned
    save_model(model, tmp_path / "m")
    assert (tmp_path / "m" / "adapter.npz").is_file()
    loaded = load_model(tmp_path / "m", taxonomy.ids)
    texts = ["She explains why decisions are made. Parking is awful.", "He never follows anything up."]
    before = Tagger(model, encoder=encoder, splitter=real_splitter).tag(texts)
    after = Tagger(loaded, splitter=real_splitter).tag(texts)  # a fresh encoder with the adapter merged
    for a, b in zip(before, after):
        assert a.behaviours == b.behaviours
        np.testing.assert_allclose(list(a.scores.values()), list(b.scores.values()), atol=1e-3)


def test_contrastive_fine_tuning_then_the_head(taxonomy, real_params, real_splitter, tmp_path):
    """SetFit-style: adapters from pairs, then the logistic head on the adapted vectors."""
    rows = load_labelled(labelled_files(PROJECT_ROOT / "labelled"), taxonomy)
    slice_rows = [r for b in taxonomy.ids for r in [x for x in rows if x.labels[:1] == (b,)][:5]]
    slice_rows += [r for r in rows if not r.labels][:15]
    params = dataclasses.replace(
        real_params,
        train=dataclasses.replace(real_params.train, cv_folds=3, features="vectors"),
        finetune=FinetuneParams(epochs=1, objective="contrastive", pairs_per_text=1, rank=2),
    )
    encoder = SentenceTransformerEncoder(params.encoder)
    model, _ = fit_model(slice_rows, params, taxonomy, encoder, real_splitter)
    assert model.adapter is not None and model.head_type == "logistic"
    assert "contrastive" in model.card["evaluation"]["training"]["method"]
    save_model(model, tmp_path / "m")
    [result] = Tagger(load_model(tmp_path / "m", taxonomy.ids), splitter=real_splitter).tag(["Parking is awful."])
    assert result.status == "ok"

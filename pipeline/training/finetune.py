"""Adapting the encoder to the behaviours with low-rank adapters (LoRA).

The frozen MiniLM puts texts about different behaviours close together; training
the encoder on the labelled texts pulls them apart. Full fine-tuning would mean
shipping 90 MB of weights with every model; LoRA learns, for every linear layer of
the transformer, a low-rank update `scale · B @ A` (rank 8: about 1.3 MB in all),
trained together with a multi-label linear head. The updates are merged into the
encoder's weights when a model is loaded, so scoring costs exactly what it costs
with the frozen encoder, and the model folder stays small arrays + JSON.

Training sees each text the way the tagger does: the mean of its sentence pieces'
vectors, so the head learns on the representation it will be used with.
"""

from __future__ import annotations

import logging
import math
import random
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from pipeline.config import FinetuneParams
from pipeline.encoders.adapter import adapted_layers

log = logging.getLogger(__name__)

LOGIT_SCALE = 10.0  # unit-length vectors need a temperature for a linear head to be confident


class LoraLinear(torch.nn.Module):
    """A frozen linear layer plus a trainable low-rank update."""

    def __init__(self, base: torch.nn.Linear, rank: int, scale: float) -> None:
        super().__init__()
        self.base, self.scale = base, scale
        self.A = torch.nn.Parameter(torch.randn(rank, base.in_features) / math.sqrt(base.in_features))
        self.B = torch.nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.A.T @ self.B.T) * self.scale


@dataclass
class FinetuneResult:
    adapter: dict[str, np.ndarray]  # "<layer path>.A" / ".B" → arrays
    coef: np.ndarray  # head weights for unit-length vectors, (behaviours × dim)
    intercept: np.ndarray
    best_epoch: int
    history: list[float]  # validation macro-F1 after each epoch


@contextmanager
def _adapters(st_model, params: FinetuneParams):
    """Fresh trainable adapters on every target layer, the rest frozen; the model is restored afterwards."""
    transformer = st_model[0].auto_model
    for parameter in st_model.parameters():
        parameter.requires_grad = False
    originals = {key: getattr(parent, name) for key, parent, name in adapted_layers(transformer)}
    adapters = {key: LoraLinear(originals[key], params.rank, params.scale) for key in originals}
    for key, parent, name in adapted_layers(transformer):
        setattr(parent, name, adapters[key])
    try:
        yield adapters
    finally:
        for key, parent, name in adapted_layers(transformer):
            setattr(parent, name, originals[key])
        st_model.eval()


def _snapshot(adapters: dict[str, LoraLinear]) -> dict[str, np.ndarray]:
    return {f"{key}.{m}": getattr(a, m).detach().numpy().copy() for key, a in adapters.items() for m in "AB"}


def _text_vectors(st_model, pieces: list[list[str]], indices: list[int]) -> torch.Tensor:
    """Unit text vectors as the tagger makes them: the normalised mean of each text's piece vectors."""
    flat = [piece for i in indices for piece in pieces[i]]
    vectors = torch.nn.functional.normalize(st_model(st_model.preprocess(flat))["sentence_embedding"], dim=-1)
    owners = torch.tensor([k for k, i in enumerate(indices) for _ in pieces[i]])
    sums = torch.zeros(len(indices), vectors.shape[1]).index_add_(0, owners, vectors)
    return torch.nn.functional.normalize(sums, dim=-1)


def finetune(
    st_model,
    pieces: list[list[str]],
    Y: np.ndarray,
    fit_idx: np.ndarray,
    val_idx: np.ndarray,
    params: FinetuneParams,
    score_validation,
) -> FinetuneResult:
    """Train adapters and a linear head on `fit_idx` towards `Y` (0/1 labels or vote shares, rows × outputs); keep
    the epoch that scores best on `val_idx`.

    `st_model` is a SentenceTransformer, left unchanged. `score_validation(probs)`
    returns the macro-F1 of validation probabilities (thresholds tuned on them).
    """
    torch.manual_seed(params.seed)
    rng = random.Random(params.seed)
    head = torch.nn.Linear(st_model.get_embedding_dimension(), Y.shape[1])
    loss_fn = torch.nn.BCEWithLogitsLoss()
    targets = torch.tensor(Y, dtype=torch.float32)

    def probabilities(indices: np.ndarray) -> np.ndarray:
        st_model.eval()
        order = sorted(indices.tolist(), key=lambda i: sum(len(p) for p in pieces[i]))
        probs = {}
        with torch.no_grad():
            for start in range(0, len(order), 64):
                batch = order[start : start + 64]
                probs.update(zip(batch, torch.sigmoid(head(_text_vectors(st_model, pieces, batch) * LOGIT_SCALE)).numpy()))
        return np.stack([probs[i] for i in indices.tolist()])

    best = (-1.0, 0, None)
    history = []
    with _adapters(st_model, params) as adapters:
        optimiser = torch.optim.AdamW(
            [
                {"params": [p for a in adapters.values() for p in (a.A, a.B)], "lr": params.learning_rate},
                {"params": head.parameters(), "lr": params.head_learning_rate},
            ],
            weight_decay=0.01,
        )
        for epoch in range(1, params.epochs + 1):
            st_model.train()
            order = fit_idx.tolist()
            rng.shuffle(order)
            for start in range(0, len(order), params.batch_size):
                batch = order[start : start + params.batch_size]
                loss = loss_fn(head(_text_vectors(st_model, pieces, batch) * LOGIT_SCALE), targets[batch])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            score = score_validation(probabilities(val_idx))
            history.append(round(score, 4))
            log.info("fine-tuning epoch %d: validation macro-F1 %.3f", epoch, score)
            if score > best[0]:
                head_state = (head.weight.detach().numpy() * LOGIT_SCALE, head.bias.detach().numpy().copy())
                best = (score, epoch, (_snapshot(adapters), head_state))
    _, best_epoch, (adapter, (coef, intercept)) = best
    return FinetuneResult(adapter, coef.astype(np.float32), intercept.astype(np.float32), best_epoch, history)


def contrastive_pairs(Y: np.ndarray, per_text: int, seed: int) -> list[tuple[int, int, float]]:
    """SetFit-style pairs: for each text, `per_text` partners sharing a behaviour (or both none)
    and as many sharing none; the target similarity is the Jaccard overlap of their label sets
    ("no behaviour" counted as a label of its own)."""
    rng = random.Random(seed)
    sets = [frozenset(np.flatnonzero(row)) or frozenset({-1}) for row in Y]
    pairs = []
    for i, labels in enumerate(sets):
        alike = [j for j in range(len(sets)) if j != i and sets[j] & labels]
        unlike = [j for j in range(len(sets)) if not sets[j] & labels]
        for pool in (alike, unlike):
            for j in rng.sample(pool, min(per_text, len(pool))):
                pairs.append((i, j, len(labels & sets[j]) / len(labels | sets[j])))
    rng.shuffle(pairs)
    return pairs


def contrastive_adapter(st_model, pieces: list[list[str]], Y: np.ndarray, params: FinetuneParams) -> dict[str, np.ndarray]:
    """Adapters trained SetFit-style (cosine of a pair's text vectors regressed on their label overlap)."""
    torch.manual_seed(params.seed)
    pairs = contrastive_pairs(Y, params.pairs_per_text, params.seed)
    with _adapters(st_model, params) as adapters:
        optimiser = torch.optim.AdamW([p for a in adapters.values() for p in (a.A, a.B)], lr=params.learning_rate)
        st_model.train()
        for epoch in range(1, params.epochs + 1):
            for start in range(0, len(pairs), params.batch_size):
                batch = pairs[start : start + params.batch_size]
                left = _text_vectors(st_model, pieces, [i for i, _, _ in batch])
                right = _text_vectors(st_model, pieces, [j for _, j, _ in batch])
                target = torch.tensor([t for _, _, t in batch], dtype=torch.float32)
                loss = torch.nn.functional.mse_loss((left * right).sum(dim=1), target)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            log.info("contrastive epoch %d done (%d pairs)", epoch, len(pairs))
        return _snapshot(adapters)

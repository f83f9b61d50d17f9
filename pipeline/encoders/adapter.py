"""Merging a saved model's fine-tuned low-rank updates (LoRA) into the encoder's weights.

`pipeline/training/finetune.py` learns, for every linear layer of the transformer listed
in `TARGETS`, an update `scale · B @ A`; a model folder keeps the arrays (`adapter.npz`)
and loading a model adds them to the weights, so scoring costs what it costs with the
frozen encoder.
"""

from __future__ import annotations

import numpy as np

# The linear layers of each BERT layer that get an adapter (attribute paths).
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


def adapted_layers(transformer):
    """(key, parent module, attribute name) of every linear layer that gets an adapter."""
    for i, layer in enumerate(transformer.encoder.layer):
        for path in TARGETS:
            *parents, name = path.split(".")
            parent = layer
            for part in parents:
                parent = getattr(parent, part)
            yield f"layer.{i}.{path}", parent, name


def merge_adapter(transformer, arrays: dict[str, np.ndarray], scale: float) -> None:
    """Add each layer's `scale · B @ A` to its weight, in place."""
    import torch  # only when a model has an adapter

    with torch.no_grad():
        for key, parent, name in adapted_layers(transformer):
            linear = getattr(parent, name)
            update = torch.from_numpy(arrays[f"{key}.B"]) @ torch.from_numpy(arrays[f"{key}.A"])
            linear.weight += scale * update.to(linear.weight.dtype)

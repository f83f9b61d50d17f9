"""Long notes composed from training texts, for the learned aggregation to learn from beside the texts themselves.

The aggregator (`pipeline/model/aggregator.py`) learns from the labelled texts how much a
note's best sentence, its mean and its length should count, and few labelled texts run
past 30 sentences: on notes of 20 test answers it tagged 2.0 behaviours where 2.6 were
true (docs/decisions.md, "Long notes"). So it also learns from notes joined from
training texts of one cross-validation fold, scored by the heads that never saw that
fold (as the texts themselves are): up to `most_showing` texts that show some behaviour
and the rest texts that show none, `longest` texts at most, labelled with the union of
their parts' labels (joined by `EmbeddedTexts.joined`). Lengths are drawn log-uniformly,
so short notes are as common as long ones per doubling of length.

Measured with 5,000 notes (`behaviours experiment words_sentences_composed`), it did not
bring long notes' tag counts closer to the truth, so `train.composed_notes` is 0 in the
shipped configuration (docs/decisions.md, "Composed notes for the aggregator").
"""

from __future__ import annotations

import numpy as np


def draw_notes(
    held: np.ndarray, showing: np.ndarray, count: int, rng: np.random.Generator, longest: int = 60, most_showing: int = 3
) -> list[np.ndarray]:
    """`count` notes, each the indices of its texts (all from `held`), in the order they are joined.

    `showing` says, for every text, whether it shows any behaviour. A note has 2 to `longest`
    texts, of which 0 to `most_showing` show some behaviour (fewer when the fold has fewer).
    """
    with_behaviour = held[showing[held]]
    without = held[~showing[held]]
    notes = []
    for _ in range(count):
        length = int(np.exp(rng.uniform(np.log(2), np.log(longest + 1))))
        shown = min(int(rng.integers(0, most_showing + 1)), length, len(with_behaviour))
        rest = min(length - shown, len(without))
        parts = np.concatenate(
            [rng.choice(with_behaviour, shown, replace=False), rng.choice(without, rest, replace=False)]
        )
        if len(parts) >= 2:
            notes.append(rng.permutation(parts))
    return notes

"""Likely label errors: rows whose cross-validated predictions disagree confidently with their labels.

Each row is predicted by a head that never saw it (out-of-fold, as when thresholds
are tuned). A label the model gives a very low probability, or a behaviour it is
sure of that the row lacks, is a disagreement; rows are ranked by their most
confident disagreement. A list for people to review, not corrections: the model
is wrong more often than the labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.data.rows import LabelledRow


@dataclass(frozen=True)
class Suspect:
    row: LabelledRow
    suspicion: float  # 0-1: how confidently the model disagrees
    missing: tuple[str, ...]  # labelled, but the model says no
    extra: tuple[str, ...]  # not labelled, but the model says yes


def suspects(
    rows: list[LabelledRow], Y: np.ndarray, oof: np.ndarray, ids: tuple[str, ...], confidence: float
) -> list[Suspect]:
    """Rows with a disagreement of at least `confidence`, most suspicious first.

    `oof` holds out-of-fold probabilities; a labelled behaviour disagrees by `1 - p`,
    an unlabelled one by `p`.
    """
    disagreement = np.where(Y == 1, 1.0 - oof, oof)
    found = []
    for i in np.argsort(-disagreement.max(axis=1), kind="stable"):
        if disagreement[i].max() < confidence:
            break
        sure = disagreement[i] >= confidence
        found.append(
            Suspect(
                row=rows[i],
                suspicion=round(float(disagreement[i].max()), 3),
                missing=tuple(ids[j] for j in np.flatnonzero(sure & (Y[i] == 1))),
                extra=tuple(ids[j] for j in np.flatnonzero(sure & (Y[i] == 0))),
            )
        )
    return found

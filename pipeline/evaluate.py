"""Metrics for multi-label tagging, overall and per register.

Besides per-behaviour precision, recall and F1 (macro over the behaviours present
in the data, and micro), two figures answer "does it say when none applies?":
- `none_untagged`: of the texts labelled with no behaviour, the share left untagged;
- `none_precision`: of the texts left untagged, the share that truly show none.
"""

from __future__ import annotations

import numpy as np

from pipeline.taxonomy import Taxonomy


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def multilabel_metrics(Y_true: np.ndarray, Y_pred: np.ndarray, ids: tuple[str, ...]) -> dict:
    """Per-behaviour, macro, micro, exact-match and no-behaviour figures for one set of texts."""
    Y_true, Y_pred = np.asarray(Y_true, dtype=bool), np.asarray(Y_pred, dtype=bool)
    per_behaviour = {}
    for j, behaviour in enumerate(ids):
        tp = float(np.sum(Y_true[:, j] & Y_pred[:, j]))
        fp = float(np.sum(~Y_true[:, j] & Y_pred[:, j]))
        fn = float(np.sum(Y_true[:, j] & ~Y_pred[:, j]))
        precision, recall, f1 = _prf(tp, fp, fn)
        per_behaviour[behaviour] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "support": int(Y_true[:, j].sum()),
        }
    present = [m["f1"] for m in per_behaviour.values() if m["support"] > 0]
    tp, fp, fn = (float(np.sum(a & b)) for a, b in ((Y_true, Y_pred), (~Y_true, Y_pred), (Y_true, ~Y_pred)))
    truly_none, predicted_none = ~Y_true.any(axis=1), ~Y_pred.any(axis=1)
    return {
        "texts": int(len(Y_true)),
        "macro_f1": float(np.mean(present)) if present else 0.0,
        "micro_f1": _prf(tp, fp, fn)[2],
        "exact_match": float(np.mean((Y_true == Y_pred).all(axis=1))) if len(Y_true) else 0.0,
        "none_texts": int(truly_none.sum()),
        "none_untagged": float(predicted_none[truly_none].mean()) if truly_none.any() else None,
        "none_precision": float(truly_none[predicted_none].mean()) if predicted_none.any() else None,
        "per_behaviour": per_behaviour,
    }


def evaluation_report(Y_true: np.ndarray, Y_pred: np.ndarray, registers: list[str], taxonomy: Taxonomy) -> dict:
    """Figures overall and for each register present."""
    report = multilabel_metrics(Y_true, Y_pred, taxonomy.ids)
    registers_arr = np.asarray(registers)
    report["per_register"] = {}
    for register in sorted(set(registers)):
        mask = registers_arr == register
        figures = multilabel_metrics(Y_true[mask], Y_pred[mask], taxonomy.ids)
        figures.pop("per_behaviour")
        report["per_register"][register] = figures
    return report

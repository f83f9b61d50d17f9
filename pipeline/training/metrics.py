"""Metrics for multi-label tagging, overall and per register.

Besides per-behaviour precision, recall and F1 (macro over the behaviours present
in the data, and micro), two figures answer "does it say when none applies?":
- `none_untagged`: of the texts labelled with no behaviour, the share left untagged;
- `none_precision`: of the texts left untagged, the share that truly show none.

Polarity (strength `+` or gap `-`) is judged on the labelled (text, behaviour)
pairs whose behaviour the tagger found: accuracy and macro-F1 over the two signs,
with `coverage` the share of labelled pairs found at all.
"""

from __future__ import annotations

import numpy as np

from pipeline.data.rows import LabelledRow
from pipeline.tagger import TagResult
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


def behaviour_f1(Y_true: np.ndarray, Y_pred: np.ndarray) -> np.ndarray:
    """Each behaviour's (column's) F1, vectorised; 0 where it is neither true nor predicted."""
    Y_true, Y_pred = np.asarray(Y_true, dtype=bool), np.asarray(Y_pred, dtype=bool)
    tp = (Y_true & Y_pred).sum(axis=0)
    denominator = Y_true.sum(axis=0) + Y_pred.sum(axis=0)
    return np.divide(2 * tp, denominator, out=np.zeros(len(tp), dtype=float), where=denominator > 0)


def macro_f1(Y_true: np.ndarray, Y_pred: np.ndarray) -> float:
    """Mean F1 over the behaviours present in `Y_true` (as `multilabel_metrics` counts it), vectorised."""
    present = np.asarray(Y_true, dtype=bool).sum(axis=0) > 0
    return float(behaviour_f1(Y_true, Y_pred)[present].mean()) if present.any() else 0.0


def _percentiles(draws: list[float] | np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(np.asarray(draws, dtype=float), [tail, 100 - tail], axis=0)
    return low, high


def bootstrap_interval(
    Y_true: np.ndarray, Y_pred: np.ndarray, level: float = 0.9, resamples: int = 1000, seed: int = 13
) -> tuple[float, float]:
    """The `level` percentile interval of macro-F1 over texts drawn with replacement."""
    rng = np.random.default_rng(seed)
    n = len(Y_true)
    draws = [macro_f1(Y_true[idx], Y_pred[idx]) for idx in rng.integers(0, n, size=(resamples, n))]
    low, high = _percentiles(draws, level)
    return float(low), float(high)


def behaviour_f1_intervals(
    Y_true: np.ndarray, Y_pred: np.ndarray, level: float = 0.9, resamples: int = 1000, seed: int = 13
) -> np.ndarray:
    """Per behaviour, the `level` percentile interval of its F1 over texts drawn with replacement: behaviours × 2."""
    Y_true, Y_pred = np.asarray(Y_true, dtype=bool), np.asarray(Y_pred, dtype=bool)
    rng = np.random.default_rng(seed)
    draws = np.empty((resamples, Y_true.shape[1]))
    for k, idx in enumerate(rng.integers(0, len(Y_true), size=(resamples, len(Y_true)))):
        truth, predicted = Y_true[idx], Y_pred[idx]
        denominator = truth.sum(axis=0) + predicted.sum(axis=0)
        tp = (truth & predicted).sum(axis=0)
        draws[k] = np.divide(2 * tp, denominator, out=np.full(len(tp), np.nan), where=denominator > 0)
    low, high = _percentiles(draws, level)
    return np.column_stack([low, high])


def share_interval(flags: np.ndarray, level: float = 0.9, resamples: int = 1000, seed: int = 13) -> tuple[float, float]:
    """The `level` percentile bootstrap interval of the share of true `flags`."""
    flags = np.asarray(flags, dtype=float)
    rng = np.random.default_rng(seed)
    draws = flags[rng.integers(0, len(flags), size=(resamples, len(flags)))].mean(axis=1)
    low, high = _percentiles(draws, level)
    return float(low), float(high)


def ratio_interval(
    numerators: np.ndarray, denominators: np.ndarray, level: float = 0.9, resamples: int = 1000, seed: int = 13
) -> tuple[float, float]:
    """The `level` percentile bootstrap interval of sum(numerators) / sum(denominators), items drawn with replacement
    (tags per note over true behaviours per note)."""
    numerators, denominators = np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(numerators), size=(resamples, len(numerators)))
    low, high = _percentiles(numerators[idx].sum(axis=1) / np.maximum(denominators[idx].sum(axis=1), 1e-12), level)
    return float(low), float(high)


def expected_calibration_error(Y_true: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> float:
    """Pooled over every (text, behaviour): the mean gap between probability and outcome in equal-width bins,
    weighted by how many pairs each bin holds."""
    truth, p = np.asarray(Y_true, dtype=float).ravel(), np.asarray(probabilities, dtype=float).ravel()
    band = np.minimum((p * bins).astype(int), bins - 1)
    counts = np.bincount(band, minlength=bins)
    gaps = np.abs(np.bincount(band, weights=p, minlength=bins) - np.bincount(band, weights=truth, minlength=bins))
    return float(gaps.sum() / max(counts.sum(), 1))


def calibration_figures(Y_true: np.ndarray, probabilities: np.ndarray, level: float = 0.9, seed: int = 13) -> dict:
    """The pooled expected calibration error of the probabilities, with its bootstrap interval over texts."""
    Y_true, probabilities = np.asarray(Y_true), np.asarray(probabilities)
    rng = np.random.default_rng(seed)
    n = len(Y_true)
    draws = [expected_calibration_error(Y_true[idx], probabilities[idx]) for idx in rng.integers(0, n, size=(1000, n))]
    low, high = _percentiles(draws, level) if n > 1 else (None, None)
    return {
        "pairs": int(Y_true.size),
        "bins": 10,
        "expected_calibration_error": expected_calibration_error(Y_true, probabilities),
        "interval_90": None if low is None else [round(float(low), 4), round(float(high), 4)],
    }


def evaluation_figures(Y_true: np.ndarray, Y_pred: np.ndarray, registers: list[str], taxonomy: Taxonomy) -> dict:
    """Figures overall and for each register present, macro-F1 with its 90% bootstrap interval."""
    figures = multilabel_metrics(Y_true, Y_pred, taxonomy.ids) | interval_figures(Y_true, Y_pred)
    if len(Y_true) > 1:
        for (low, high), m in zip(behaviour_f1_intervals(Y_true, Y_pred), figures["per_behaviour"].values()):
            m["f1_interval_90"] = None if np.isnan(low) else [round(float(low), 4), round(float(high), 4)]
    registers_arr = np.asarray(registers)
    figures["per_register"] = {}
    for register in sorted(set(registers)):
        mask = registers_arr == register
        in_register = multilabel_metrics(Y_true[mask], Y_pred[mask], taxonomy.ids) | interval_figures(Y_true[mask], Y_pred[mask])
        in_register.pop("per_behaviour")
        figures["per_register"][register] = in_register
    return figures


def interval_figures(Y_true: np.ndarray, Y_pred: np.ndarray) -> dict:
    """`macro_f1_interval_90` and `none_untagged_interval_90`: [low, high], rounded (none for fewer than two texts)."""
    if len(Y_true) < 2:
        return {"macro_f1_interval_90": None, "none_untagged_interval_90": None}
    truly_none = ~np.asarray(Y_true, dtype=bool).any(axis=1)
    untagged = ~np.asarray(Y_pred, dtype=bool).any(axis=1)
    none_interval = share_interval(untagged[truly_none]) if truly_none.sum() > 1 else None
    return {
        "macro_f1_interval_90": [round(bound, 4) for bound in bootstrap_interval(Y_true, Y_pred)],
        "none_untagged_interval_90": None if none_interval is None else [round(bound, 4) for bound in none_interval],
    }


def plot_tables(
    Y_true: np.ndarray, scores: np.ndarray, probabilities: np.ndarray, Y_pred: np.ndarray, taxonomy: Taxonomy
) -> dict[str, list[dict]]:
    """Rows for the evaluation plots (scores are the tagger's 0-1 scores, tagged at 0.5; probabilities its
    P(a reader would mark the behaviour)).

    - `f1_per_behaviour`: one bar per behaviour;
    - `confusion`: one row per (behaviour a text truly shows, behaviour it was tagged
      with instead), "none" when it got no tag at all;
    - `precision_recall/<id>`: per behaviour, precision and recall as the score cut-off moves;
    - `calibration`: the reliability diagram: per probability band (tenths), the mean probability and the
      share of (text, behaviour) pairs where the text truly shows the behaviour.
    """
    Y_true, Y_pred = np.asarray(Y_true, dtype=bool), np.asarray(Y_pred, dtype=bool)
    ids, names = taxonomy.ids, {b.id: b.name for b in taxonomy.behaviours}
    overall = multilabel_metrics(Y_true, Y_pred, ids)
    f1 = [{"behaviour": names[b], "f1": round(m["f1"], 4)} for b, m in overall["per_behaviour"].items()]
    confusion = []
    for i, actual in enumerate(ids):
        rows = Y_true[:, i]
        wrong = Y_pred[rows] & ~Y_true[rows]
        for j, predicted in enumerate(ids):
            confusion += [{"actual": actual, "predicted": predicted}] * int(wrong[:, j].sum())
        confusion += [{"actual": actual, "predicted": "none"}] * int((~Y_pred[rows].any(axis=1)).sum())
    curves: dict[str, list[dict]] = {}
    for j, behaviour in enumerate(ids):
        curves[f"precision_recall/{behaviour}"] = [
            {"cut": float(cut), "precision": round(tp / chosen, 4), "recall": round(tp / Y_true[:, j].sum(), 4)}
            for cut in np.round(np.arange(0.05, 1.0, 0.05), 2)
            for chosen, tp in [((scores[:, j] >= cut).sum(), float(((scores[:, j] >= cut) & Y_true[:, j]).sum()))]
            if chosen and Y_true[:, j].any()
        ]
    calibration = []
    bands = np.clip((probabilities * 10).astype(int), 0, 9)
    for band in range(10):
        inside = bands == band
        if inside.any():
            calibration.append({
                "probability": round(float(probabilities[inside].mean()), 4),
                "observed": round(float(Y_true[inside].mean()), 4),
                "pairs": int(inside.sum()),
            })
    return {"f1_per_behaviour": f1, "confusion": confusion, "calibration": calibration, **curves}


def _sign_figures(pairs: list[tuple[str, str | None]]) -> dict:
    """Accuracy and macro-F1 over `+`/`-` from (labelled sign, predicted sign or None if not found) pairs."""
    found = [(t, p) for t, p in pairs if p is not None]
    figures: dict = {"pairs": len(pairs), "found": len(found), "coverage": len(found) / len(pairs) if pairs else None}
    if not found:
        return figures | {"accuracy": None, "macro_f1": None}
    truth, predicted = (np.array(values) for values in zip(*found))
    f1 = {sign: _prf(*_counts(truth == sign, predicted == sign))[2] for sign in ("+", "-")}
    present = [f1[sign] for sign in f1 if (truth == sign).any()]
    accuracy_interval = share_interval(truth == predicted) if len(found) > 1 else None
    return figures | {
        "accuracy": float(np.mean(truth == predicted)),
        "accuracy_interval_90": None if accuracy_interval is None else [round(b, 4) for b in accuracy_interval],
        "macro_f1": float(np.mean(present)),
        "f1_strength": f1["+"],
        "f1_gap": f1["-"],
    }


def _counts(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    return float(np.sum(truth & predicted)), float(np.sum(~truth & predicted)), float(np.sum(truth & ~predicted))


def polarity_figures(rows: list[LabelledRow], results: list[TagResult]) -> dict:
    """Strength-or-gap figures on the labelled pairs whose behaviour was found, overall and per register."""
    pairs = {}
    for row, result in zip(rows, results):
        for behaviour, sign in zip(row.labels, row.polarity):
            strength = result.polarity.get(behaviour)
            predicted = None if strength is None else ("+" if strength >= 0.5 else "-")
            pairs.setdefault(row.register, []).append((sign, predicted))
    figures = _sign_figures([pair for register_pairs in pairs.values() for pair in register_pairs])
    figures["per_register"] = {register: _sign_figures(pairs[register]) for register in sorted(pairs)}
    return figures


def headline_figures(figures: dict) -> dict:
    """The headline figures of a metrics dict, rounded, for the model card and MLflow."""
    keep = ("texts", "macro_f1", "micro_f1", "exact_match", "none_texts", "none_untagged", "none_precision")
    summary = {k: (round(figures[k], 4) if isinstance(figures[k], float) else figures[k]) for k in keep}
    if "macro_f1_interval_90" in figures:
        summary["macro_f1_interval_90"] = figures["macro_f1_interval_90"]
    summary["f1_per_behaviour"] = {b: round(m["f1"], 4) for b, m in figures["per_behaviour"].items()}
    if "per_register" in figures:
        summary["per_register"] = {
            register: {"texts": m["texts"], "macro_f1": round(m["macro_f1"], 4)}
            for register, m in figures["per_register"].items()
        }
    if "polarity" in figures:
        summary["polarity"] = {
            k: round(figures["polarity"][k], 4) if isinstance(figures["polarity"][k], float) else figures["polarity"][k]
            for k in ("pairs", "found", "coverage", "accuracy", "macro_f1")
        }
    return summary

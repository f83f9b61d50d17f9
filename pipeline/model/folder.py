"""The saved model: a self-describing folder of JSON and arrays, never pickle.

    models/default/
      config.json   behaviours, encoder, sentence splitting, head, aggregation, thresholds, gate
      head.npz      the head's arrays (loaded with allow_pickle=False)
      polarity.npz  strength-or-gap classifier: vocabulary, idf and weights
      words.npz     the head's word features (vocabulary, idf), when it reads words beside vectors
      aggregator.npz  how sentence scores make a note's (aggregation: learned)
      sentence_head.npz, sentence_words.npz  the head that scores sentences, and its words (train.sentence_head)
      adapter.npz   the encoder's fine-tuned low-rank updates, when it was fine-tuned
      card.json     model card: data, evaluation figures, intended use, limits

An ensemble is a folder of its own (`models/ensemble/`): `ensemble.json` names its member
model folders (relative to it) and `card.json` describes it; `load_ensemble_members` reads it.

Loading cannot run code. Saving writes a sibling folder and swaps it in, so a
crash never leaves half a model behind. Arrays are saved compressed: a vocabulary of
~100,000 word n-grams is 12 MB as fixed-width strings and 0.7 MB compressed, and
every retrain is a commit.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import EncoderParams, TextParams
from pipeline.errors import InputError
from pipeline.io.files import atomic_folder
from pipeline.model.aggregator import NoteAggregator
from pipeline.model.heads import HEADS, LogisticHead, saved_params
from pipeline.model.polarity import PolarityClassifier
from pipeline.model.words import WordFeatures

FORMAT_VERSION = 2  # 2: polarity
ENSEMBLE_FILE = "ensemble.json"


@dataclass
class SavedModel:
    behaviours: tuple[str, ...]
    encoder: EncoderParams
    text: TextParams
    head_type: str
    head_params: dict[str, Any]
    head: Any
    aggregation: str
    thresholds: np.ndarray
    gate_threshold: float  # the head's last output, "any behaviour", must reach it for any tag
    card: dict[str, Any]
    polarity: PolarityClassifier
    polarity_aggregation: str  # text | sentence | mean: how a behaviour's polarity in a text is read
    adapter: dict[str, np.ndarray] | None = None  # merged into the encoder at load time
    adapter_scale: float = 1.0
    words: WordFeatures | None = None  # the head reads these beside each vector (pipeline/model/words.py)
    aggregator: NoteAggregator | None = None  # aggregation: learned (pipeline/model/aggregator.py)
    sentence_head: LogisticHead | None = None  # scores sentences (train.sentence_head); else the head does
    sentence_words: WordFeatures | None = None  # the sentence head's word features

    def config(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "behaviours": list(self.behaviours),
            "encoder": dataclasses.asdict(self.encoder),
            "text": dataclasses.asdict(self.text),
            "head": {"type": self.head_type, "params": self.head_params},
            "aggregation": self.aggregation,
            "aggregator": None if self.aggregator is None else {"file": "aggregator.npz", "params": self.aggregator.saved_params()},
            "sentence_head": None if self.sentence_head is None else {
                "file": "sentence_head.npz",
                "params": saved_params(self.sentence_head),
                "words": None if self.sentence_words is None else {
                    "file": "sentence_words.npz", "params": self.sentence_words.saved_params()
                },
            },
            "adapter": None if self.adapter is None else {"file": "adapter.npz", "scale": self.adapter_scale},
            "words": None if self.words is None else {"file": "words.npz", "params": self.words.saved_params()},
            "thresholds": {b: round(float(t), 4) for b, t in zip(self.behaviours, self.thresholds)},
            "gate_threshold": self.gate_threshold,
            "polarity": {"params": self.polarity.saved_params(), "aggregation": self.polarity_aggregation},
        }


def save_model(model: SavedModel, folder: Path) -> None:
    """Write the model folder atomically (a sibling temp folder renamed into place)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with atomic_folder(folder) as staging:
        (staging / "config.json").write_text(json.dumps(model.config(), indent=2) + "\n", encoding="utf-8")
        np.savez_compressed(staging / "head.npz", **model.head.to_arrays())
        np.savez_compressed(staging / "polarity.npz", **model.polarity.to_arrays())
        if model.adapter is not None:
            np.savez_compressed(staging / "adapter.npz", **model.adapter)
        if model.words is not None:
            np.savez_compressed(staging / "words.npz", **model.words.to_arrays())
        if model.aggregator is not None:
            np.savez_compressed(staging / "aggregator.npz", **model.aggregator.to_arrays())
        if model.sentence_head is not None:
            np.savez_compressed(staging / "sentence_head.npz", **model.sentence_head.to_arrays())
        if model.sentence_words is not None:
            np.savez_compressed(staging / "sentence_words.npz", **model.sentence_words.to_arrays())
        (staging / "card.json").write_text(json.dumps(model.card, indent=2) + "\n", encoding="utf-8")


def load_model(folder: Path, expected_behaviours: tuple[str, ...]) -> SavedModel:
    """Read a model folder; a missing, corrupt or stale model is an `InputError`."""
    folder = Path(folder)
    config_file = folder / "config.json"
    if is_ensemble(folder):
        raise InputError(
            f"{folder} is an ensemble of models: tag, score, serve and evaluate read it; here give one of its members"
        )
    if not config_file.is_file():
        raise InputError(f"no model at {folder} (train one with `behaviours train`)")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
        card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
        head_arrays = _load_arrays(folder / "head.npz")
        polarity_arrays = _load_arrays(folder / "polarity.npz")
        adapter = _load_arrays(folder / "adapter.npz") if config.get("adapter") else None
        words = config.get("words")  # absent in models saved before word features
        words_arrays = _load_arrays(folder / "words.npz") if words else None
        aggregator = config.get("aggregator")  # absent in models saved before learned aggregation
        aggregator_arrays = _load_arrays(folder / "aggregator.npz") if aggregator else None
        sentence = config.get("sentence_head")  # absent in models saved before sentence heads
        sentence_arrays = _load_arrays(folder / "sentence_head.npz") if sentence else None
        sentence_words = sentence["words"] if sentence else None
        sentence_words_arrays = _load_arrays(folder / "sentence_words.npz") if sentence_words else None
    except (OSError, ValueError) as exc:
        raise InputError(f"model at {folder} is unreadable ({exc.__class__.__name__}: {exc})") from None
    if config.get("format_version") != FORMAT_VERSION:
        raise InputError(f"model at {folder} has format {config.get('format_version')}, expected {FORMAT_VERSION}")
    behaviours = tuple(config["behaviours"])
    if behaviours != tuple(expected_behaviours):
        raise InputError(f"model at {folder} was trained on other behaviours than configs/behaviours.yaml; retrain it")
    head_type = config["head"]["type"]
    if head_type not in HEADS:
        raise InputError(f"model at {folder} uses unknown head {head_type!r}")
    head = HEADS[head_type].from_arrays(head_arrays, **config["head"]["params"])
    return SavedModel(
        behaviours=behaviours,
        encoder=EncoderParams(**config["encoder"]),
        text=TextParams(**config["text"]),
        head_type=head_type,
        head_params=config["head"]["params"],
        head=head,
        aggregation=config["aggregation"],
        thresholds=np.array([config["thresholds"][b] for b in behaviours], dtype=np.float32),
        gate_threshold=float(config["gate_threshold"]),
        card=card,
        polarity=PolarityClassifier.from_arrays(polarity_arrays, **config["polarity"]["params"]),
        polarity_aggregation=config["polarity"]["aggregation"],
        adapter=adapter,
        adapter_scale=config["adapter"]["scale"] if adapter is not None else 1.0,
        words=WordFeatures.from_arrays(words_arrays, **words["params"]) if words else None,
        aggregator=NoteAggregator.from_arrays(aggregator_arrays, **aggregator["params"]) if aggregator else None,
        sentence_head=LogisticHead.from_arrays(sentence_arrays, **sentence["params"]) if sentence else None,
        sentence_words=WordFeatures.from_arrays(sentence_words_arrays, **sentence_words["params"]) if sentence_words else None,
    )


def is_ensemble(folder: Path) -> bool:
    return (Path(folder) / ENSEMBLE_FILE).is_file()


def load_ensemble_members(folder: Path) -> tuple[list[Path], dict]:
    """(member model folders, card) of the ensemble in `folder`; unreadable or too few members is an `InputError`."""
    folder = Path(folder)
    try:
        members = json.loads((folder / ENSEMBLE_FILE).read_text(encoding="utf-8"))["members"]
        card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"ensemble at {folder} is unreadable ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(members, list) or len(members) < 2 or not all(isinstance(m, str) for m in members):
        raise InputError(f"ensemble at {folder}: `members` must list two or more model folders")
    return [(folder / member).resolve() for member in members], card


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as arrays:
        return {name: arrays[name] for name in arrays.files}

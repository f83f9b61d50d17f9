"""The thirteen behaviours, read once from `configs/behaviours.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pipeline.config import CONFIG_DIR
from pipeline.errors import InputError

TAXONOMY_FILE = CONFIG_DIR / "behaviours.yaml"


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    colour: str


@dataclass(frozen=True)
class Behaviour:
    id: str
    name: str
    theme: Theme
    description: str
    indicators: dict[str, str]


@dataclass(frozen=True)
class Taxonomy:
    themes: tuple[Theme, ...]
    behaviours: tuple[Behaviour, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """Behaviour ids in framework order: the order of every score column and array row."""
        return tuple(b.id for b in self.behaviours)

    def __getitem__(self, behaviour_id: str) -> Behaviour:
        for behaviour in self.behaviours:
            if behaviour.id == behaviour_id:
                return behaviour
        raise KeyError(behaviour_id)

    def __len__(self) -> int:
        return len(self.behaviours)


def parse_taxonomy(raw: dict) -> Taxonomy:
    """Build a `Taxonomy` from the YAML mapping, checking that every reference resolves."""
    themes = {t["id"]: Theme(id=t["id"], name=t["name"], colour=t["colour"]) for t in raw["themes"]}
    behaviours = []
    for b in raw["behaviours"]:
        if b["theme"] not in themes:
            raise ValueError(f"behaviour {b['id']!r} names unknown theme {b['theme']!r}")
        behaviours.append(
            Behaviour(
                id=b["id"],
                name=b["name"],
                theme=themes[b["theme"]],
                description=" ".join(b["description"].split()),
                indicators=dict(b.get("indicators", {})),
            )
        )
    ids = [b.id for b in behaviours]
    if len(set(ids)) != len(ids):
        raise ValueError("behaviour ids are not unique")
    return Taxonomy(themes=tuple(themes.values()), behaviours=tuple(behaviours))


@lru_cache(maxsize=None)
def load_taxonomy(path: Path = TAXONOMY_FILE) -> Taxonomy:
    """The taxonomy from `configs/behaviours.yaml` (read once per process)."""
    try:
        return parse_taxonomy(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: not a valid taxonomy ({exc.__class__.__name__}: {exc})") from None

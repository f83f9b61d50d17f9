"""Argilla (v2 SDK): suggestions as a dataset folder in `Dataset.to_disk`'s layout, and its records back.

The folder holds `.argilla/settings.json` (a `text` field; `behaviours`, a required
multi-label question over the thirteen behaviours and `none`; `<behaviour>_polarity`,
strength or gap, per behaviour; `register`, `source` and `reason` as terms metadata),
`.argilla/dataset.json` and `records.json` (the model's labels as suggestions, no
responses). `rg.Dataset.from_disk(folder)` loads it into a server.

An export (`dataset.to_disk(...)` after labelling, or its `records.json` alone) holds
each record's `responses` per question as `[{"value", "user_id"}]` and the record's
`status`: only `completed` records (enough submitted responses) are read; the others
are counted as not yet labelled. `to_disk` does not keep each response's own status,
so a completed record's responses are read as they are.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from pipeline.data.rows import Problem
from pipeline.data.tools.annotations import NO_BEHAVIOUR, SIGN_NAMES, Annotation, ToolRows, annotated_row
from pipeline.data.tools.suggestions import Suggestion
from pipeline.taxonomy import Taxonomy

BEHAVIOURS_QUESTION = "behaviours"
RECORDS_FILE = "records.json"
SETTINGS_FILE = ".argilla/settings.json"
DATASET_FILE = ".argilla/dataset.json"
METADATA = ("register", "source", "reason")
AGENT = "behaviours labelled suggest"
DISTRIBUTION = {"strategy": "overlap", "min_submitted": 1}  # a record is completed when one annotator submits
GUIDELINES = (
    "Choose every leadership behaviour the text shows (labelled/GUIDELINES.md), or `none`. For each one chosen, "
    "say whether the text shows it as a strength or a gap. The pre-filled answers are the model's guesses."
)


def polarity_question(behaviour_id: str) -> str:
    return f"{behaviour_id}_polarity"


def _resource(name: str, title: str, settings: dict, **extra) -> dict:
    return {"id": None, "inserted_at": None, "updated_at": None, "name": name, "settings": settings, "title": title,
            "dataset_id": None, **extra}


def settings(taxonomy: Taxonomy) -> dict:
    """The dataset's settings as `Settings.to_json` writes them."""
    options = [{"text": b.name, "value": b.id} for b in taxonomy.behaviours]
    options.append({"text": "No behaviour", "value": NO_BEHAVIOUR})
    behaviours = _resource(
        BEHAVIOURS_QUESTION, "Behaviours in this text",
        {"type": "multi_label_selection", "options": options, "visible_options": None, "options_order": "natural"},
        description="Every behaviour the text shows, or 'No behaviour'.", required=True, type="multi_label_selection",
    )
    signs = [{"text": name, "value": sign} for sign, name in SIGN_NAMES.items()]
    polarity = [
        _resource(
            polarity_question(b.id), f"{b.name}: strength or gap?",
            {"type": "label_selection", "options": signs, "visible_options": None},
            description=f"Only if {b.name} is chosen above.", required=False, type="label_selection",
        )
        for b in taxonomy.behaviours
    ]
    text = {"type": "text", "use_markdown": False}
    field = _resource("text", "Text", text, required=True, description=None, type="text")
    terms = {"visible_for_annotators": True, "type": "terms", "values": None}
    metadata = [
        _resource(name, name, terms, visible_for_annotators=True)
        for name in METADATA
    ]
    return {
        "guidelines": GUIDELINES, "questions": [behaviours, *polarity], "fields": [field], "vectors": [],
        "metadata": metadata, "allow_extra_metadata": False, "distribution": DISTRIBUTION, "mapping": None,
    }


def dataset_model(name: str) -> dict:
    """`.argilla/dataset.json`: the dataset's name (letters, digits, - and _) and its guidelines."""
    clean = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_") or "behaviours"
    return {"id": None, "inserted_at": None, "updated_at": None, "name": clean, "status": "draft",
            "guidelines": GUIDELINES, "allow_extra_metadata": False,
            "distribution": DISTRIBUTION, "workspace_id": None, "last_activity_at": None}


def record(suggestion: Suggestion) -> dict:
    """A record as `Record.to_dict` writes it: the text, metadata, and the model's labels as suggestions."""
    row = suggestion.row
    suggestions = {BEHAVIOURS_QUESTION: {"value": list(row.labels) or [NO_BEHAVIOUR], "score": None, "agent": AGENT}}
    for behaviour, sign in zip(row.labels, row.polarity):
        suggestions[polarity_question(behaviour)] = {"value": sign, "score": None, "agent": AGENT}
    metadata = {"register": row.register, "source": row.source, "reason": suggestion.reason}
    return {"id": row.id, "fields": {"text": row.text}, "metadata": metadata, "suggestions": suggestions,
            "responses": {}, "vectors": {}, "status": "pending", "_server_id": None}


def write_dataset(suggestions: list[Suggestion], folder: Path, taxonomy: Taxonomy, name: str) -> None:
    """Fill an empty folder with the dataset (the caller makes it appear atomically)."""
    (folder / ".argilla").mkdir()
    (folder / SETTINGS_FILE).write_text(json.dumps(settings(taxonomy), indent=1), encoding="utf-8")
    (folder / DATASET_FILE).write_text(json.dumps(dataset_model(name), indent=1), encoding="utf-8")
    records = [record(s) for s in suggestions]
    (folder / RECORDS_FILE).write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")


def records_file(path: Path) -> Path:
    """The records of an export: `records.json` in a `to_disk` folder, or the JSON file given."""
    return Path(path) / RECORDS_FILE if Path(path).is_dir() else Path(path)


def _annotations(responses: dict) -> list[Annotation]:
    """One annotation per user who answered, from `{question: [{"value", "user_id"}]}`."""
    behaviours: dict[str, tuple[str, ...]] = {}
    signs: dict[str, dict[str, str]] = defaultdict(dict)
    for question, answers in responses.items():
        for answer in answers:
            user, value = str(answer["user_id"]), answer["value"]
            if question == BEHAVIOURS_QUESTION:
                behaviours[user] = tuple(value) if isinstance(value, list) else (str(value),)
            elif question.endswith("_polarity"):
                signs[user][question.removesuffix("_polarity")] = str(value)
    users = dict.fromkeys([*behaviours, *signs])
    return [Annotation(behaviours.get(user, ()), signs[user]) for user in users]


def read_records(records: list, name: str, taxonomy: Taxonomy) -> ToolRows:
    """Labelled rows from exported records (a record's place is its position, from 1)."""
    rows, problems, unlabelled = [], [], 0
    for number, item in enumerate(records, start=1):
        try:
            if item.get("status") != "completed":
                unlabelled += 1
                continue
            metadata, responses = item.get("metadata") or {}, item.get("responses") or {}
            row_id, text = str(item.get("id") or ""), str(item["fields"]["text"])
            annotations = _annotations(responses)
        except (AttributeError, KeyError, TypeError):
            message = f"record {number}: not an Argilla record (id, fields.text, responses)"
            problems.append(Problem(name, number, message))
            continue
        if not annotations:
            problems.append(Problem(name, number, f"record {number}: {row_id or '?'}: completed but no responses"))
            continue
        register, source = str(metadata.get("register", "")), str(metadata.get("source", ""))
        row, row_problems = annotated_row(
            row_id, text, register, source, annotations, name, number, taxonomy, f"record {number}: "
        )
        problems += row_problems
        if row is not None:
            rows.append(row)
    return ToolRows(rows, problems, unlabelled)

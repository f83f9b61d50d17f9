"""The labelled corpus as a Hugging Face `datasets.DatasetDict` (train / test), and back to rows.

Columns: `id`, `text`, `labels` (multi-hot int8, one place per behaviour in the
order of `configs/behaviours.yaml`), `label_ids` (the same behaviours as ids, most
prominent first), `polarity` (one `+`/`-` per label id, or empty), `register`,
`source`. The label order is written into every split's description and into the
dataset card. `rows_from_split` turns a split back into `LabelledRow`s, so that
training can read the exported dataset through the same rows as `labelled/`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.data.pool import PoolText
from pipeline.data.rows import LabelledRow, label_matrix
from pipeline.data.split import partition
from pipeline.errors import InputError
from pipeline.io.files import atomic_folder
from pipeline.taxonomy import Taxonomy

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict, Features

SOURCES = {  # the part of `source` before the colon → what those rows are
    "framework": "the framework's own description of each behaviour, verbatim (NHS North West Leadership Academy)",
    "brainstorm": "real public text: every comment of the 2017 NHS NWLA online brainstorm, commenters' names "
    "replaced by [NAME], cut at about 100 characters by that export",
    "authored": "invented for this project, one writer per register, following labelled/GUIDELINES.md; "
    "every name is invented",
    "added": "rows added later with `behaviours labelled add` (the rest of `source` names the batch)",
}
POOL_COLUMNS = [  # the soft-labelled pool, exported apart from the gold rows
    ["`id`, `text`, `register`, `source`, `batch`", "string", "as in the gold rows; `source` of a real passage is its page address"],
    ["`votes`", "list of {voter, labels}", "every vote: `writer` or a reader's id, and its tags (`trust-`, `delivery+`)"],
    ["`soft_labels`", "float32 × 13", "per behaviour, in the label order, the share of votes that carry it"],
    ["`polarity`", "string × 13", "per behaviour, the majority sign of the votes carrying it; empty when none does"],
    ["`sentences`", "list of string", "the sentences the readers labelled (empty when the batch has no reader input)"],
    ["`sentence_soft_labels`", "list of float32 × 13", "per sentence, the share of readers' votes tagging each behaviour there"],
]


def dataset_features(taxonomy: Taxonomy) -> Features:
    """The columns of every split."""
    from datasets import Features, List, Value  # datasets is a slow import: only when exporting

    return Features(
        {
            "id": Value("string"),
            "text": Value("string"),
            "labels": List(Value("int8"), length=len(taxonomy)),
            "label_ids": List(Value("string")),
            "polarity": List(Value("string")),
            "register": Value("string"),
            "source": Value("string"),
        }
    )


def label_order_note(taxonomy: Taxonomy) -> str:
    return f"`labels` is multi-hot over the behaviours in this order: {', '.join(taxonomy.ids)}."


def to_dataset_dict(rows: list[LabelledRow], test_ids: set[str], taxonomy: Taxonomy) -> DatasetDict:
    """`train` and `test` splits of the rows, `test` being the rows whose ids are in `test_ids`."""
    from datasets import Dataset, DatasetDict, DatasetInfo  # datasets is a slow import: only when exporting

    features = dataset_features(taxonomy)
    description = (
        "Texts about leadership labelled with the thirteen behaviours of the System Leadership Behaviours "
        f"Framework. {label_order_note(taxonomy)}"
    )
    splits = {}
    for name, part in zip(("train", "test"), partition(rows, test_ids)):
        columns = {
            "id": [r.id for r in part],
            "text": [r.text for r in part],
            "labels": label_matrix(part, taxonomy).tolist(),
            "label_ids": [list(r.labels) for r in part],
            "polarity": [list(r.polarity) for r in part],
            "register": [r.register for r in part],
            "source": [r.source for r in part],
        }
        info = DatasetInfo(description=description, features=features)
        splits[name] = Dataset.from_dict(columns, features=features, info=info, split=name)
    return DatasetDict(splits)


def pool_dataset(texts: list[PoolText], taxonomy: Taxonomy) -> Dataset:
    """The pool with its votes and soft labels, text and sentence level (`labelled/README.md`)."""
    from datasets import Dataset, Features, List, Value  # datasets is a slow import: only when exporting

    features = Features(
        {
            "id": Value("string"),
            "text": Value("string"),
            "register": Value("string"),
            "source": Value("string"),
            "batch": Value("string"),
            "votes": List({"voter": Value("string"), "labels": List(Value("string"))}),
            "soft_labels": List(Value("float32"), length=len(taxonomy)),
            "polarity": List(Value("string"), length=len(taxonomy)),
            "sentences": List(Value("string")),
            "sentence_soft_labels": List(List(Value("float32"), length=len(taxonomy))),
        }
    )

    def sentence_labels(text: PoolText) -> list[list[float]]:
        shares = [text.sentence_shares(b) for b in taxonomy.ids]
        if text.sentences is None or shares[0] is None:
            return []
        return [[share[i] for share in shares] for i in range(len(text.sentences))]

    columns = {
        "id": [t.id for t in texts],
        "text": [t.text for t in texts],
        "register": [t.register for t in texts],
        "source": [t.source for t in texts],
        "batch": [t.batch for t in texts],
        "votes": [[{"voter": v.voter, "labels": [f"{b}{sign}" for b, sign in v.labels.items()]} for v in t.votes] for t in texts],
        "soft_labels": [[t.share(b) for b in taxonomy.ids] for t in texts],
        "polarity": [[t.polarity(b) or "" for b in taxonomy.ids] for t in texts],
        "sentences": [list(t.sentences or ()) for t in texts],
        "sentence_soft_labels": [sentence_labels(t) for t in texts],
    }
    return Dataset.from_dict(columns, features=features, split="pool")


def rows_from_split(split: Dataset) -> list[LabelledRow]:
    """The rows of one split; `file` is the split's name and `line` the row's place in it (from 1)."""
    name = str(split.split or "dataset")
    return [
        LabelledRow(
            r["id"], r["text"], tuple(r["label_ids"]), tuple(r["polarity"]), r["register"], r["source"], name, i + 1
        )
        for i, r in enumerate(split)
    ]


def _table(header: list[str], lines: list[list[object]]) -> list[str]:
    """A Markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return out + ["| " + " | ".join(map(str, line)) + " |" for line in lines]


def dataset_card(dataset: DatasetDict, taxonomy: Taxonomy, pool: Dataset | None = None) -> str:
    """README.md for the exported folder: counts, columns, label order, provenance and licence."""
    names = list(dataset)
    rows = {name: rows_from_split(dataset[name]) for name in names}
    registers = sorted({r.register for split_rows in rows.values() for r in split_rows})
    by_register = {name: Counter(r.register for r in rows[name]) for name in names}
    by_behaviour = {name: Counter(label for r in rows[name] for label in r.labels) for name in names}
    by_source = {name: Counter(r.source.split(":")[0] for r in rows[name]) for name in names}
    sources = sorted({s for counts in by_source.values() for s in counts})
    real = (
        "Only the brainstorm comments and the framework descriptions are real text; every other row was authored."
        if set(sources) <= {"framework", "brainstorm", "authored"}
        else "The brainstorm comments and the framework descriptions are real text, the authored rows invented; "
        "for rows added later, see their `source`."
    )
    lines = [
        "---",
        "language:",
        "- en",
        "license: other",
        "task_categories:",
        "- text-classification",
        "task_ids:",
        "- multi-label-classification",
        "pretty_name: System Leadership Behaviours, labelled texts",
        "---",
        "",
        "# System Leadership Behaviours: labelled texts",
        "",
        "Free text about how people lead in the NHS and the wider public sector (exit-survey answers, appraisal "
        "and coaching notes, 360 feedback, staff-survey comments), each labelled with the behaviours of the "
        "System Leadership Behaviours Framework (NHS North West Leadership Academy) that it gives evidence of, "
        "or with none. Exported by `behaviours labelled export` from `labelled/`; what a label means is in "
        "`labelled/GUIDELINES.md`, the known gaps and biases in `labelled/README.md`.",
        "",
        "Load it with `datasets.load_from_disk(\"<folder>/dataset\")`, or read `train.parquet` and "
        "`test.parquet`; `pipeline.data.dataset.rows_from_split` turns a split back into the project's labelled rows.",
        "",
        "## Splits",
        "",
        "`test` is the project's fixed held-out split (`labelled/test_ids.txt`), which training never sees; "
        "rows added later go to `train`.",
        "",
        *_table(
            ["split", "rows", "no behaviour", "two or more behaviours"],
            [
                [name, len(part), sum(not r.labels for r in part), sum(len(r.labels) > 1 for r in part)]
                for name, part in rows.items()
            ],
        ),
        "",
        "Rows per register:",
        "",
        *_table(["register", *names], [[reg, *(by_register[name][reg] for name in names)] for reg in registers]),
        "",
        "## Label order",
        "",
        label_order_note(taxonomy) + " Rows carrying each behaviour:",
        "",
        *_table(
            ["place", "id", "behaviour", "theme", *names],
            [
                [k, f"`{b.id}`", b.name, b.theme.name, *(by_behaviour[name][b.id] for name in names)]
                for k, b in enumerate(taxonomy.behaviours)
            ],
        ),
        "",
        "## Columns",
        "",
        *_table(
            ["column", "type", "meaning"],
            [
                ["`id`", "string", "unique row id; its prefix names the file it came from"],
                ["`text`", "string", "the text as written"],
                ["`labels`", f"int8 × {len(taxonomy)}", "multi-hot, in the label order above; all 0: no behaviour"],
                ["`label_ids`", "list of string", "the behaviour ids, most prominent first"],
                ["`polarity`", "list of string", "`+` shown or `-` lacking, one per label id; empty when not given"],
                ["`register`", "string", "the kind of text: " + ", ".join(registers)],
                ["`source`", "string", "where the row came from (below)"],
            ],
        ),
        "",
        "## Provenance",
        "",
        *_table(
            ["source", *names, "what it is"],
            [[f"`{s}`", *(by_source[name][s] for name in names), SOURCES.get(s, "see `source`")] for s in sources],
        ),
        "",
        *(_pool_section(pool) if pool is not None else []),
        "## Licence",
        "",
        "Mixed, hence `license: other`. The framework descriptions and the brainstorm comments are public text "
        "of the NHS North West Leadership Academy and the brainstorm's participants, included to study the "
        "framework; they are not relicensed here, so check their terms before redistributing them. The authored "
        "rows were written for this project and come under its licence (MIT). " + real,
        "",
    ]
    return "\n".join(lines)


def _pool_section(pool: Dataset) -> list[str]:
    votes = Counter(len(v) for v in pool["votes"])
    return [
        "## The soft-labelled pool",
        "",
        f"`pool/` (`datasets.load_from_disk`) and `pool.parquet`: {len(pool)} texts written in batches and voted on "
        "by independent readers, kept apart from the gold rows above "
        f"(votes per text: {', '.join(f'{n}: {c}' for n, c in sorted(votes.items()))}). How they were made, the soft "
        "labels and the agreement between votes: `labelled/README.md`.",
        "",
        *_table(["column", "type", "meaning"], POOL_COLUMNS),
        "",
    ]


def save_dataset(dataset: DatasetDict, card: str, folder: Path, force: bool = False, pool: Dataset | None = None) -> None:
    """Write `dataset/` (save_to_disk), `<split>.parquet`, `pool/` and `pool.parquet` (when given) and `README.md`
    into a sibling folder, then swap it in.

    An existing folder that is not empty is refused unless `force`; a failure leaves no half-written folder.
    """
    from datasets import disable_progress_bars  # datasets is a slow import: only when exporting

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise InputError(f"{folder}: not empty (use --force to replace it)")
    if not folder.parent.is_dir():
        raise InputError(f"{folder}: folder {folder.parent} does not exist")
    disable_progress_bars()
    with atomic_folder(folder) as staging:
        dataset.save_to_disk(str(staging / "dataset"))
        for name, split in dataset.items():
            split.to_parquet(str(staging / f"{name}.parquet"))
        if pool is not None:
            pool.save_to_disk(str(staging / "pool"))
            pool.to_parquet(str(staging / "pool.parquet"))
        (staging / "README.md").write_text(card, encoding="utf-8")

"""The soft-labelled pool: texts written in batches and voted on by independent readers.

A batch is a folder (`labelled/pool/batches/<batch>/`, or `labelled/newwriters/…` for
the test sets) holding:

- `writer.csv` — `id,text,register,source,voice,labels,polarity`: the texts and the
  writer's own labels, which count as one vote (`labelled/pool/briefs/WRITING.md`);
- `reader_input.jsonl` — each text cut into the sentences the tagger scores, made by
  `prepare_batch` for the readers, who see neither the writer's labels nor each other's;
- `votes_<reader>.jsonl` — one reader's vote on every text: the text's behaviours with
  polarity and the behaviours each sentence carries (`labelled/pool/briefs/READING.md`).

A behaviour's soft label on a text is the share of votes that carry it; its polarity
is the majority sign of those votes. Sentence labels come from the readers' votes.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from pipeline.data.rows import POLARITIES, REGISTERS, LabelledRow, Problem, display_path, labelled_csv_text
from pipeline.errors import InputError
from pipeline.io.files import atomic_write_text
from pipeline.taxonomy import Taxonomy
from pipeline.text import SentenceSplitter

NEW_WRITERS = "newwriters"  # labelled/newwriters: the new-writers test set (dev.csv to choose models, final.csv sealed)
DEVELOPMENT_FILE = "dev.csv"
WRITER_FILE = "writer.csv"
READER_INPUT = "reader_input.jsonl"
WRITER_COLUMNS = ("id", "text", "register", "source", "voice", "labels", "polarity")
WRITER = "writer"
SEAL_FILE = "final.sha256"
EXCLUDED_FILE = "excluded.csv"


@dataclass(frozen=True)
class Vote:
    """One voter's reading of a text: behaviour → sign, and per sentence the same (readers only)."""

    voter: str
    labels: dict[str, str]
    sentences: tuple[dict[str, str], ...] | None = None


@dataclass(frozen=True)
class PoolText:
    id: str
    text: str
    register: str
    source: str
    voice: str
    batch: str
    sentences: tuple[str, ...] | None
    votes: tuple[Vote, ...]

    def share(self, behaviour: str) -> float:
        """The share of votes that carry `behaviour` (0 with no votes)."""
        if not self.votes:
            return 0.0
        return sum(behaviour in vote.labels for vote in self.votes) / len(self.votes)

    def polarity(self, behaviour: str) -> str | None:
        """The majority sign of the votes carrying `behaviour`; a tie goes to the writer's sign."""
        signs = [vote.labels[behaviour] for vote in self.votes if behaviour in vote.labels]
        if not signs:
            return None
        counts = Counter(signs)
        if counts["+"] != counts["-"]:
            return "+" if counts["+"] > counts["-"] else "-"
        writer = next((v for v in self.votes if v.voter == WRITER and behaviour in v.labels), None)
        return writer.labels[behaviour] if writer else "-"

    def majority_labels(self) -> dict[str, str]:
        """Behaviours carried by more than half the votes, with their polarity, most votes first."""
        behaviours = {b for vote in self.votes for b in vote.labels}
        chosen = [b for b in behaviours if self.share(b) > 0.5]
        chosen.sort(key=lambda b: (-self.share(b), b))
        return {b: self.polarity(b) for b in chosen}

    @property
    def sentence_voted(self) -> bool:
        """Two or more sentences, and readers' votes on each of them."""
        return bool(self.sentences) and len(self.sentences) > 1 and any(v.sentences is not None for v in self.votes)

    def sentence_signs(self) -> tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] | None:
        """Per sentence, the behaviours at least half the readers marked there, each with its majority sign
        (None when the readers' signs tie); None without sentence votes."""
        readers = [vote for vote in self.votes if vote.sentences is not None]
        if not readers or self.sentences is None:
            return None
        signed = []
        for i, sentence in enumerate(self.sentences):
            marks = Counter((b, sign) for vote in readers for b, sign in vote.sentences[i].items())
            behaviours = sorted({b for b, _ in marks})
            signs = tuple(
                (b, None if marks[(b, "+")] == marks[(b, "-")] else "+" if marks[(b, "+")] > marks[(b, "-")] else "-")
                for b in behaviours
                if marks[(b, "+")] + marks[(b, "-")] >= len(readers) / 2
            )
            signed.append((sentence, signs))
        return tuple(signed)

    def sentence_shares(self, behaviour: str) -> list[float] | None:
        """Per sentence, the share of reader votes tagging `behaviour` there (None without sentence votes)."""
        readers = [vote for vote in self.votes if vote.sentences is not None]
        if not readers or self.sentences is None:
            return None
        return [
            sum(behaviour in vote.sentences[i] for vote in readers) / len(readers) for i in range(len(self.sentences))
        ]


# --- reading --------------------------------------------------------------------------


def _split_field(value: str) -> list[str]:
    return [part.strip() for part in value.split(";")] if value.strip() else []


def _check_labels(labels: list[str], signs: list[str], taxonomy: Taxonomy) -> list[str]:
    problems = []
    unknown = [label for label in labels if label not in taxonomy.ids]
    if unknown:
        problems.append(f"unknown behaviour id(s) {', '.join(unknown)}")
    if len(set(labels)) != len(labels):
        problems.append("a behaviour is repeated")
    if len(signs) != len(labels) or any(sign not in POLARITIES for sign in signs):
        problems.append(f"need one '+' or '-' per label, found {';'.join(signs)!r} for {len(labels)} label(s)")
    return problems


def read_writer_file(path: Path, taxonomy: Taxonomy) -> tuple[list[dict], list[Problem]]:
    """The rows of a batch's `writer.csv` (dicts with the writer's vote as `labels`), and their problems."""
    name = display_path(path)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            records = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [Problem(name, 0, f"cannot read: {exc}")]
    if not records or tuple(h.strip().lstrip("\ufeff") for h in records[0]) != WRITER_COLUMNS:
        return [], [Problem(name, 1, f"header must be {','.join(WRITER_COLUMNS)}")]
    rows, problems, seen = [], [], set()
    for line, record in enumerate(records[1:], start=2):
        if not any(field.strip() for field in record):
            continue
        if len(record) != len(WRITER_COLUMNS):
            problems.append(Problem(name, line, f"expected {len(WRITER_COLUMNS)} fields, found {len(record)}"))
            continue
        row = dict(zip(WRITER_COLUMNS, (field.strip() for field in record)))
        labels, signs = _split_field(row["labels"]), _split_field(row["polarity"])
        row_problems = _check_labels(labels, signs, taxonomy)
        if not row["id"] or row["id"] in seen:
            row_problems.append("empty or repeated id")
        if not row["text"]:
            row_problems.append("empty text")
        if row["register"] not in REGISTERS:
            row_problems.append(f"unknown register {row['register']!r}")
        seen.add(row["id"])
        if row_problems:
            problems.extend(Problem(name, line, f"{row['id'] or '?'}: {p}") for p in row_problems)
            continue
        row["vote"] = Vote(WRITER, dict(zip(labels, signs)))
        rows.append(row)
    return rows, problems


def _parse_tags(tags: object, taxonomy: Taxonomy) -> dict[str, str]:
    if not isinstance(tags, list):
        raise ValueError("expected a list of tags")
    parsed = {}
    for tag in tags:
        if not isinstance(tag, str) or tag[-1:] not in POLARITIES or tag[:-1] not in taxonomy.ids:
            raise ValueError(f"bad tag {tag!r} (expected <behaviour id>+ or <behaviour id>-)")
        if tag[:-1] in parsed:
            raise ValueError(f"{tag[:-1]} tagged twice")
        parsed[tag[:-1]] = tag[-1]
    return parsed


def read_votes(path: Path, sentences: dict[str, tuple[str, ...]], taxonomy: Taxonomy) -> tuple[dict[str, Vote], list[Problem]]:
    """One reader's votes, checked against the batch's sentence split."""
    name = display_path(path)
    voter = path.stem.removeprefix("votes_")
    votes, problems = {}, []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(name, 0, f"cannot read: {exc}")]
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text_id = record["id"]
            if text_id not in sentences:
                raise ValueError(f"{text_id!r} is not in the batch")
            labels = _parse_tags(record["labels"], taxonomy)
            per_sentence = [_parse_tags(tags, taxonomy) for tags in record["sentences"]]
            if len(per_sentence) != len(sentences[text_id]):
                raise ValueError(f"{len(per_sentence)} sentence lists for {len(sentences[text_id])} sentences")
            tagged = {b for tags in per_sentence for b in tags}
            if tagged != set(labels):
                raise ValueError("the text's labels and its sentences' tags name different behaviours")
            if text_id in votes:
                raise ValueError(f"{text_id!r} voted on twice")
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(Problem(name, line_number, str(exc)))
            continue
        votes[text_id] = Vote(voter, labels, tuple(per_sentence))
    return votes, problems


def read_reader_input(path: Path) -> dict[str, tuple[str, ...]]:
    """Text id → its sentences, as the readers were shown them; a damaged file is one `InputError`."""
    try:
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return {record["id"]: tuple(record["sentences"]) for record in records}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{display_path(path)}: not a reader input ({exc.__class__.__name__}); remake it with `behaviours labelled prepare`") from None


def load_batch(folder: Path, taxonomy: Taxonomy) -> tuple[list[PoolText], list[Problem]]:
    """A batch's texts with every vote cast on them so far, and the problems found."""
    rows, problems = read_writer_file(folder / WRITER_FILE, taxonomy)
    reader_input = folder / READER_INPUT
    sentences = read_reader_input(reader_input) if reader_input.exists() else {}
    reader_votes = []
    for path in sorted(folder.glob("votes_*.jsonl")):
        votes, vote_problems = read_votes(path, sentences, taxonomy)
        problems.extend(vote_problems)
        missing = len(sentences) - len(votes) - len(vote_problems)
        if missing > 0:
            problems.append(Problem(display_path(path), 0, f"{missing} text(s) of the batch have no vote"))
        reader_votes.append(votes)
    texts = [
        PoolText(
            id=row["id"],
            text=row["text"],
            register=row["register"],
            source=row["source"],
            voice=row["voice"],
            batch=folder.name,
            sentences=sentences.get(row["id"]),
            votes=(row["vote"], *(votes[row["id"]] for votes in reader_votes if row["id"] in votes)),
        )
        for row in rows
    ]
    return texts, problems


def batch_folders(folder: Path) -> list[Path]:
    """The batch folders under `<folder>/batches`, in name order."""
    return sorted(path.parent for path in Path(folder).glob(f"batches/*/{WRITER_FILE}"))


def excluded_ids(folder: Path) -> set[str]:
    """The ids in `<folder>/excluded.csv` (`id,reason`): texts kept in their batch but left out of use.

    A text is excluded when it repeats, or nearly repeats, a text on the other side of a
    test/training line (`tests/data/test_test_sets.py` finds them).
    """
    path = Path(folder) / EXCLUDED_FILE
    if not path.exists():
        return set()
    with open(path, encoding="utf-8", newline="") as handle:
        return {record["id"] for record in csv.DictReader(handle)}


def load_pool(folder: Path, taxonomy: Taxonomy) -> tuple[list[PoolText], list[Problem]]:
    """Every batch under `folder` (e.g. `labelled/pool`) less its excluded texts; ids unique across batches."""
    texts, problems = [], []
    for batch in batch_folders(folder):
        batch_texts, batch_problems = load_batch(batch, taxonomy)
        texts.extend(batch_texts)
        problems.extend(batch_problems)
    repeated = [text_id for text_id, n in Counter(t.id for t in texts).items() if n > 1]
    problems.extend(Problem(display_path(folder), 0, f"{text_id}: id in more than one batch") for text_id in repeated)
    excluded = excluded_ids(folder)
    return [text for text in texts if text.id not in excluded], problems


# --- preparing a batch for its readers --------------------------------------------------


def prepare_batch(folder: Path, splitter: SentenceSplitter, taxonomy: Taxonomy) -> int:
    """Write the batch's `reader_input.jsonl` (texts cut into sentences, no labels); returns the count.

    Refuses to replace an input that readers may already have voted on.
    """
    target = folder / READER_INPUT
    if any(folder.glob("votes_*.jsonl")):
        raise InputError(f"{display_path(folder)}: votes exist already; the reader input must not change")
    rows, problems = read_writer_file(folder / WRITER_FILE, taxonomy)
    if problems:
        raise InputError(f"{problems[0]} (and {len(problems) - 1} more)" if len(problems) > 1 else str(problems[0]))
    split = splitter.split([row["text"] for row in rows])
    lines = [
        json.dumps({"id": row["id"], "register": row["register"], "sentences": sentences}, ensure_ascii=False)
        for row, sentences in zip(rows, split)
    ]
    atomic_write_text(target, "\n".join(lines) + "\n")
    return len(lines)


# --- agreement --------------------------------------------------------------------------


def pairwise_f1(texts: list[PoolText], behaviour: str) -> float | None:
    """F1 between every two votes on the same text, pooled over texts (symmetric in the two voters)."""
    both = either = 0
    for text in texts:
        for a, b in combinations(text.votes, 2):
            in_a, in_b = behaviour in a.labels, behaviour in b.labels
            both += in_a and in_b
            either += in_a + in_b
    return 2 * both / either if either else None


def krippendorff_alpha(units: list[list[int]]) -> float | None:
    """Krippendorff's alpha for nominal values; each unit is the list of values its coders gave.

    Units with fewer than two values carry no information and are skipped.
    """
    coincidences: Counter = Counter()
    for values in units:
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c in counts:
            for k in counts:
                pairs = counts[c] * (counts[k] - (c == k))
                coincidences[c, k] += pairs / (m - 1)
    n = sum(coincidences.values())
    if n <= 1:
        return None
    marginals: Counter = Counter()
    for (c, _), value in coincidences.items():
        marginals[c] += value
    observed = sum(value for (c, k), value in coincidences.items() if c != k) / n
    expected = sum(marginals[c] * marginals[k] for c in marginals for k in marginals if c != k) / (n * (n - 1))
    return 1.0 - observed / expected if expected else None


def agreement_figures(texts: list[PoolText], taxonomy: Taxonomy) -> dict:
    """Per behaviour: pairwise F1, Krippendorff's alpha (present/absent) and polarity agreement."""
    voted = [text for text in texts if len(text.votes) >= 2]
    per_behaviour = {}
    for behaviour in taxonomy.ids:
        same_sign = pairs_signed = 0
        for text in voted:
            signs = [vote.labels[behaviour] for vote in text.votes if behaviour in vote.labels]
            for a, b in combinations(signs, 2):
                pairs_signed += 1
                same_sign += a == b
        per_behaviour[behaviour] = {
            "pairwise_f1": pairwise_f1(voted, behaviour),
            "alpha": krippendorff_alpha([[int(behaviour in v.labels) for v in text.votes] for text in voted]),
            "polarity_agreement": same_sign / pairs_signed if pairs_signed else None,
        }
    f1s = [figures["pairwise_f1"] for figures in per_behaviour.values() if figures["pairwise_f1"] is not None]
    alphas = [figures["alpha"] for figures in per_behaviour.values() if figures["alpha"] is not None]
    none_units = [[int(not v.labels) for v in text.votes] for text in voted]
    return {
        "texts": len(voted),
        "pairwise_macro_f1": float(np.mean(f1s)) if f1s else None,
        "mean_alpha": float(np.mean(alphas)) if alphas else None,
        "no_behaviour_alpha": krippendorff_alpha(none_units),
        "per_behaviour": per_behaviour,
    }


# --- sealed test sets ---------------------------------------------------------------------


def assign_part(text_id: str) -> str:
    """`dev` or `final` for a new-writers text, fixed by its id alone (half each, in expectation)."""
    return "dev" if hashlib.sha256(text_id.encode()).digest()[0] % 2 == 0 else "final"


def sha256_text(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def gold_rows(texts: list[PoolText], file: str) -> list[LabelledRow]:
    """Texts as labelled rows whose labels are the behaviours more than half the votes carry."""
    rows = []
    for line, text in enumerate(texts, start=2):
        labels = text.majority_labels()
        rows.append(
            LabelledRow(
                text.id, text.text, tuple(labels), tuple(labels.values()), text.register, text.source, file, line,
                sentences=text.sentence_signs() if text.sentence_voted else None,
                shares=tuple((b, text.share(b)) for b in sorted({b for vote in text.votes for b in vote.labels})),
            )
        )
    return rows


def pool_training_rows(folder: Path, taxonomy: Taxonomy, min_votes: int) -> list[LabelledRow]:
    """The pool's texts with at least `min_votes` votes as training rows (majority labels), excluded texts left out.

    Refuses while any batch has problems: a half-written batch must not train a model.
    """
    texts, problems = load_pool(folder, taxonomy)
    if problems:
        raise InputError(f"{len(problems)} problem(s) in {display_path(folder)}, first: {problems[0]}")
    return gold_rows([text for text in texts if len(text.votes) >= min_votes], display_path(folder))


def _voted_texts(folder: Path, taxonomy: Taxonomy, min_votes: int) -> list[PoolText]:
    """The texts of a test folder's batches with at least `min_votes` votes; refuses while any batch has problems."""
    texts, problems = load_pool(folder, taxonomy)
    if problems:
        raise InputError(f"{len(problems)} problem(s) in {display_path(folder)}, first: {problems[0]}")
    return [text for text in texts if len(text.votes) >= min_votes]


def write_test_parts(folder: Path, taxonomy: Taxonomy, min_votes: int = 3) -> dict[str, tuple[Path, int]]:
    """Write `<folder>/dev.csv` and `<folder>/final.csv` from the fully voted texts of its batches.

    Each text goes to the part `assign_part` gives its id. Refuses while any batch has
    problems, and refuses to change a sealed final part (one whose hash is committed in
    `final.sha256`). Texts with fewer than `min_votes` votes are left out.
    """
    voted = _voted_texts(folder, taxonomy, min_votes)
    written = {}
    for part in ("dev", "final"):
        path = Path(folder) / f"{part}.csv"
        rows = gold_rows([text for text in voted if assign_part(text.id) == part], display_path(path))
        content = labelled_csv_text(rows, header=True)
        seal = Path(folder) / SEAL_FILE
        if part == "final" and seal.exists() and seal.read_text().split()[0] != sha256_text(content):
            raise InputError(f"{display_path(path)} is sealed ({SEAL_FILE}); its texts and labels must not change")
        atomic_write_text(path, content)
        written[part] = (path, len(rows))
    return written


def write_whole_test_set(folder: Path, taxonomy: Taxonomy, min_votes: int = 3) -> tuple[Path, int]:
    """Write every fully voted text of a one-part test folder (e.g. `labelled/hedged`) to `<folder>/<folder name>.csv`."""
    path = Path(folder) / f"{Path(folder).name}.csv"
    rows = gold_rows(_voted_texts(folder, taxonomy, min_votes), display_path(path))
    atomic_write_text(path, labelled_csv_text(rows, header=True))
    return path, len(rows)

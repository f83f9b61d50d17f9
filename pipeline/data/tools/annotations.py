"""What the annotators of one text said, combined into one labelled row, checked as every labelled row is.

Each annotator gives a set of behaviours and, for some of them, a sign (`+` strength,
`-` gap). A behaviour is kept when more than half the annotators chose it and refused
as a tie when exactly half did; its sign is the majority of the signs given for it
(a tie is refused; no sign at all leaves it blank). A JSON record's place is its
position in the file's list (the first record is 1), named "record N" in problems.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipeline.data.rows import LabelledRow, Problem, parse_record
from pipeline.taxonomy import Taxonomy

NO_BEHAVIOUR = "none"  # the choice that says "no behaviour here" in Argilla and Label Studio
SIGN_NAMES = {"+": "strength", "-": "gap"}  # how a sign is shown to annotators


@dataclass(frozen=True)
class Annotation:
    """One annotator's answer for one text."""

    behaviours: tuple[str, ...]
    signs: dict[str, str] = field(default_factory=dict)  # behaviour → '+' or '-', where the annotator gave one


@dataclass(frozen=True)
class ToolRows:
    """Rows read from a tool's export, the problems of the others, and the texts nobody has labelled yet."""

    rows: list[LabelledRow]
    problems: list[Problem]
    unlabelled: int = 0


def combined(annotations: list[Annotation], taxonomy: Taxonomy) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """The behaviours and signs the majority gave (in taxonomy order), or a reason to refuse the text."""
    for annotation in annotations:
        if not annotation.behaviours:
            return (), (), f"an annotator chose nothing (not even '{NO_BEHAVIOUR}')"
        if NO_BEHAVIOUR in annotation.behaviours and len(annotation.behaviours) > 1:
            return (), (), f"'{NO_BEHAVIOUR}' chosen together with behaviours by one annotator"
    votes = Counter(b for a in annotations for b in set(a.behaviours) if b != NO_BEHAVIOUR)
    half = len(annotations) / 2
    tied = [b for b, n in votes.items() if n == half]
    if tied:
        return (), (), f"annotators tie on {', '.join(sorted(tied))} ({int(half)} of {len(annotations)})"
    unknown = sorted(b for b, n in votes.items() if n > half and b not in taxonomy.ids)
    labels = tuple(b for b in taxonomy.ids if votes[b] > half)
    if unknown:
        return labels + tuple(unknown), (), None  # `parse_record` refuses them, by name
    signs = []
    for behaviour in labels:
        given = Counter(a.signs[behaviour] for a in annotations if behaviour in a.behaviours and behaviour in a.signs)
        ranked = given.most_common()
        if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
            return (), (), f"annotators tie on strength or gap for {behaviour}"
        signs.append(ranked[0][0] if ranked else "")
    unsigned = [b for b, sign in zip(labels, signs) if not sign]
    if unsigned and len(unsigned) < len(labels):
        return (), (), f"no strength or gap for {', '.join(unsigned)} (give one for every behaviour, or for none)"
    return labels, tuple(signs) if any(signs) else (), None


def annotated_row(
    row_id: str,
    text: str,
    register: str,
    source: str,
    annotations: list[Annotation],
    file: str,
    line: int,
    taxonomy: Taxonomy,
    place: str = "",
) -> tuple[LabelledRow | None, list[Problem]]:
    """The labelled row of a text from its annotations, or its problems (`place` starts each: "record 3: ")."""
    labels, signs, refused = combined(annotations, taxonomy)
    if refused:
        return None, [Problem(file, line, f"{place}{row_id or '?'}: {refused}")]
    fields = [row_id, text, ";".join(labels), ";".join(signs), register, source]
    row, problems = parse_record(fields, file, line, taxonomy)
    return row, [Problem(p.file, p.line, f"{place}{p.message}") for p in problems]

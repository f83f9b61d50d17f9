"""How much labelled data there is, and where it falls short of the targets in `configs/params.yaml`.

Counts are per behaviour × register × polarity. The targets (`data:` section) are
counted in the registers people score (`USER_REGISTERS`), since that is where the
model has to work; brainstorm and framework rows are counted but not targeted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pipeline.config import DataParams, PoolParams
from pipeline.data.pool import PoolText
from pipeline.data.rows import REGISTERS, USER_REGISTERS, LabelledRow
from pipeline.taxonomy import Taxonomy

UNKNOWN_POLARITY = "?"


@dataclass(frozen=True)
class Gap:
    """One target not met: the params key, what falls short (a behaviour id or `corpus`), and by how much."""

    target: str
    subject: str
    value: float
    required: float
    message: str

    def __str__(self) -> str:
        return f"gap: {self.message}"


def corpus_stats(rows: list[LabelledRow], taxonomy: Taxonomy) -> dict:
    """Counts of the labelled rows, JSON-ready.

    `behaviours[id]["by_register"][register]` counts the rows carrying the behaviour
    by polarity (`+`, `-`, `?` when none is given); `user_rows`, `critical_share`
    (share of `-` among the labels with a polarity) and `user_registers` are counted
    in the user registers only, as are `no_behaviour["user_rows"]` and
    `multi_label_share` (of the rows with a behaviour, the share with two or more).
    """
    pairs = Counter(
        (label, row.register, polarity)
        for row in rows
        for label, polarity in zip(row.labels, row.polarity or (UNKNOWN_POLARITY,) * len(row.labels))
    )
    behaviours = {}
    for behaviour_id in taxonomy.ids:
        by_register = {
            register: {p: pairs[(behaviour_id, register, p)] for p in ("+", "-", UNKNOWN_POLARITY)}
            for register in REGISTERS
        }
        user = [by_register[register] for register in USER_REGISTERS]
        plus, minus = sum(c["+"] for c in user), sum(c["-"] for c in user)
        behaviours[behaviour_id] = {
            "by_register": by_register,
            "rows": sum(sum(c.values()) for c in by_register.values()),
            "user_rows": sum(sum(c.values()) for c in user),
            "critical_share": round(minus / (plus + minus), 4) if plus + minus else None,
            "user_registers": sum(1 for c in user if sum(c.values())),
        }
    none_by_register = Counter(row.register for row in rows if not row.labels)
    user_labelled = [row for row in rows if row.register in USER_REGISTERS and row.labels]
    multi = sum(1 for row in user_labelled if len(row.labels) > 1)
    return {
        "rows": len(rows),
        "registers": {register: sum(1 for row in rows if row.register == register) for register in REGISTERS},
        "behaviours": behaviours,
        "no_behaviour": {
            "by_register": {register: none_by_register[register] for register in REGISTERS},
            "rows": sum(none_by_register.values()),
            "user_rows": sum(none_by_register[register] for register in USER_REGISTERS),
        },
        "user_behaviour_rows": len(user_labelled),
        "multi_label_share": round(multi / len(user_labelled), 4) if user_labelled else 0.0,
    }


def coverage_gaps(stats: dict, targets: DataParams) -> list[Gap]:
    """Every target in `targets` that `stats` (from `corpus_stats`) does not meet, behaviour by behaviour."""
    gaps = []
    floor = round(targets.critical_share - targets.critical_share_tolerance, 4)
    for behaviour_id, b in stats["behaviours"].items():
        rows, share, registers = b["user_rows"], b["critical_share"], b["user_registers"]
        if rows < targets.min_per_behaviour:
            message = f"{behaviour_id}: {rows} rows in the user registers (target {targets.min_per_behaviour})"
            gaps.append(Gap("min_per_behaviour", behaviour_id, rows, targets.min_per_behaviour, message))
        if (share or 0.0) < floor:  # no polarity given counts as none critical
            shown = "no polarity given" if share is None else f"{share:.0%} critical (-)"
            message = f"{behaviour_id}: {shown} (target {targets.critical_share:.0%}, a gap below {floor:.0%})"
            gaps.append(Gap("critical_share", behaviour_id, share or 0.0, targets.critical_share, message))
        if registers < targets.min_registers_per_behaviour:
            message = (
                f"{behaviour_id}: in {registers} of {len(USER_REGISTERS)} user registers "
                f"(target {targets.min_registers_per_behaviour})"
            )
            required = targets.min_registers_per_behaviour
            gaps.append(Gap("min_registers_per_behaviour", behaviour_id, registers, required, message))
    none = stats["no_behaviour"]["user_rows"]
    if none < targets.min_no_behaviour:
        message = f"{none} rows with no behaviour in the user registers (target {targets.min_no_behaviour})"
        gaps.append(Gap("min_no_behaviour", "corpus", none, targets.min_no_behaviour, message))
    multi = stats["multi_label_share"]
    if multi < targets.min_multi_label_share:
        message = (
            f"{multi:.0%} of the behaviour rows in the user registers carry two or more "
            f"(target {targets.min_multi_label_share:.0%})"
        )
        gaps.append(Gap("min_multi_label_share", "corpus", multi, targets.min_multi_label_share, message))
    return gaps


def pool_stats(texts: list[PoolText], pairs: int, taxonomy: Taxonomy, min_votes: int) -> dict:
    """Counts of the pool, JSON-ready: texts with `min_votes` votes, and what at least half their votes carry."""
    counted = [text for text in texts if len(text.votes) >= min_votes]
    carried = {b: [text.polarity(b) for text in counted if text.share(b) >= 0.5] for b in taxonomy.ids}
    sentence_labelled = sum(text.sentence_voted for text in counted)
    return {
        "texts": len(texts),
        "counted": len(counted),
        "registers": {register: sum(text.register == register for text in counted) for register in REGISTERS},
        "sentence_labelled": sentence_labelled,
        "pairs": pairs,
        "behaviours": {
            b: {
                "texts": len(signs),
                "gaps": signs.count("-"),
                "gap_share": round(signs.count("-") / len(signs), 4) if signs else None,
            }
            for b, signs in carried.items()
        },
        "no_behaviour": sum(1 for text in counted if not any(text.share(b) >= 0.5 for b in taxonomy.ids)),
    }


def pool_gaps(stats: dict, targets: PoolParams) -> list[Gap]:
    """Every pool target in `targets` that `stats` (from `pool_stats`) does not meet."""
    gaps = []
    for key, value, what in (
        ("min_texts", stats["counted"], f"texts with {targets.min_votes} votes"),
        ("min_organisational", stats["registers"]["organisational"], "organisational texts"),
        ("min_sentence_labelled", stats["sentence_labelled"], "sentence-labelled notes"),
        ("min_pairs", stats["pairs"], "contrast pairs"),
        ("min_no_behaviour", stats["no_behaviour"], "texts with no behaviour"),
    ):
        required = getattr(targets, key)
        if value < required:
            gaps.append(Gap(f"pool.{key}", "pool", value, required, f"pool: {value} {what} (target {required})"))
    for behaviour_id, b in stats["behaviours"].items():
        if b["texts"] < targets.min_per_behaviour:
            message = f"pool: {behaviour_id} carried by {b['texts']} texts (target {targets.min_per_behaviour})"
            gaps.append(Gap("pool.min_per_behaviour", behaviour_id, b["texts"], targets.min_per_behaviour, message))
        if (b["gap_share"] or 0.0) < targets.min_gap_share:
            share = b["gap_share"] or 0.0
            message = f"pool: {behaviour_id} {share:.0%} gaps (target {targets.min_gap_share:.0%})"
            gaps.append(Gap("pool.min_gap_share", behaviour_id, share, targets.min_gap_share, message))
    return gaps

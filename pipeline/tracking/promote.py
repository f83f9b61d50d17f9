"""The promotion gate: a challenger becomes champion only if it is no worse on the same test split.

"No worse" is two rules from `configs/params.yaml` (`promote:`): macro-F1 may not fall
by more than `max_macro_f1_drop`, and no behaviour's F1 may fall by more than
`max_behaviour_f1_drop`. Both models are evaluated afresh on today's test split,
never compared through figures logged at different times.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import Params, PromoteParams
from pipeline.data.rows import LabelledRow
from pipeline.errors import InputError
from pipeline.taxonomy import Taxonomy
from pipeline.tracking.runs import REGISTERED_MODEL, registered_tagger
from pipeline.training.evaluate import tagger_figures
from pipeline.training.metrics import headline_figures


def refusals(champion: dict, challenger: dict, rules: PromoteParams) -> list[str]:
    """Why the challenger may not replace the champion (empty: it may). Both are evaluation figures."""
    reasons = []
    drop = champion["macro_f1"] - challenger["macro_f1"]
    if drop > rules.max_macro_f1_drop + 1e-9:
        reasons.append(
            f"macro-F1 falls {champion['macro_f1']:.3f} → {challenger['macro_f1']:.3f} "
            f"(allowed fall {rules.max_macro_f1_drop:.2f})"
        )
    for behaviour, figures in champion["per_behaviour"].items():
        before, after = figures["f1"], challenger["per_behaviour"][behaviour]["f1"]
        if before - after > rules.max_behaviour_f1_drop + 1e-9:
            reasons.append(
                f"{behaviour} F1 falls {before:.3f} → {after:.3f} (allowed fall {rules.max_behaviour_f1_drop:.2f})"
            )
    return reasons


@dataclass
class Challenge:
    """The registered challenger against the champion, both evaluated afresh on the same test rows."""

    version: str  # the challenger's model version
    champion: str | None  # the champion's version; None when there is none yet
    figures: dict[str, dict]  # "challenger" (and "champion"): evaluation figures on the test rows
    refusals: list[str]  # why the gate refuses the challenger (empty: it may be promoted)

    def comparison(self) -> dict:
        """What is logged with a promotion: each model's headline figures and the refusals."""
        return {name: headline_figures(f) for name, f in self.figures.items()} | {"refusals": self.refusals}


def challenge(test_rows: list[LabelledRow], params: Params, taxonomy: Taxonomy) -> Challenge:
    """Evaluate the registered `challenger` (and `champion`, if any) on the test rows and apply the gate."""
    challenger = registered_tagger("challenger")
    if challenger is None:
        raise InputError(f"no model version of {REGISTERED_MODEL} has the alias challenger (run `behaviours train`)")
    champion = registered_tagger("champion")
    figures = {"challenger": tagger_figures(challenger[1], test_rows, taxonomy, params.score.chunk_size)}
    if champion is not None:
        figures["champion"] = tagger_figures(champion[1], test_rows, taxonomy, params.score.chunk_size)
    reasons = refusals(figures["champion"], figures["challenger"], params.promote) if champion else []
    return Challenge(challenger[0], champion[0] if champion else None, figures, reasons)

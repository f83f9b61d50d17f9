"""The promotion gate: a challenger becomes champion only if it is no worse on the same test split.

"No worse" is two rules from `configs/params.yaml` (`promote:`): macro-F1 may not fall
by more than `max_macro_f1_drop`, and no behaviour's F1 may fall by more than
`max_behaviour_f1_drop`. Both models are evaluated afresh on today's test split,
never compared through figures logged at different times.
"""

from __future__ import annotations

from pipeline.config import PromoteParams


def refusals(champion: dict, challenger: dict, rules: PromoteParams) -> list[str]:
    """Why the challenger may not replace the champion (empty: it may). Both are evaluation reports."""
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

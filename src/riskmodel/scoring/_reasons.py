"""Three reasons in words for each listed person, from the explanations stage.

A reason states the fact that raised the person's estimate, at most one per feature family
(counts of the same thing over nested windows are one family); see
:mod:`riskmodel.explain._reasons` for how presence and absence are worded and checked.

Only the listed people are explained: TreeSHAP for a whole cohort would cost far more than the
scoring itself, and nobody else's reasons are shown to anyone.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

REASON_COLUMNS = ("reason_1", "reason_2", "reason_3")
REASONS_SOURCE = (
    "riskmodel.explain.reason_codes (exact TreeSHAP, reoffending head; one reason per feature "
    "family; presence and absence stated as such, a presence checked to raise the score)"
)


def listed_reasons(bundle: Any, frame: pd.DataFrame, *, k: int = 3) -> tuple[pd.DataFrame, str]:
    """``(reasons, source)``: ``reason_1..k`` in words, indexed like ``frame``."""
    cols = [f"reason_{j + 1}" for j in range(k)]
    if len(frame) == 0:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in cols}), REASONS_SOURCE
    from riskmodel.explain import reason_codes

    reasons = reason_codes(bundle, frame, head="reoffend", k=k).loc[:, cols]
    return reasons.fillna(""), REASONS_SOURCE

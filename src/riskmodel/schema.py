"""The shared vocabulary: column roles of a feature table, audit attributes, age bands, rejects.

Layer 1 (see the README's layout): every stage that names a key, a label, an audit attribute or
an age band imports it from here, so the feature builder, the synthetic world's calibration
report, the fairness audit, explanations and scoring cannot drift apart.
"""

from __future__ import annotations

import numpy as np

from riskmodel.notice import PROTECTED_CHARACTERISTICS

#: the key of a feature-table row: one (person, index event)
KEYS: tuple[str, ...] = ("person_id", "index_event_id", "index_date")
#: what the model predicts (12 months after the index event)
LABELS: tuple[str, ...] = ("reoffend_12m", "severe_12m", "harm_days_12m")
#: protected characteristics and area, kept beside the features for the fairness audit only
AUDIT_ATTRIBUTES: tuple[str, ...] = ("sex", "ethnicity", "age_band", "area", "disability")
#: synthetic truth attached to a feature table for evaluation (never read by the model)
TRUTH: tuple[str, ...] = (
    "p_reoffend_true",
    "p_severe_true",
    "true_incidents_12m",
    "true_reoffend_12m",
    "recorded_incidents_12m",
    "equal_recording_incidents_12m",
    "equal_recording_reoffend_12m",
)

#: audit age bands in completed years; ``age_band`` labels anyone younger ``UNDER_16``
AGE_BANDS: tuple[str, ...] = ("16-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_BAND_EDGES: tuple[int, ...] = (16, 25, 35, 45, 55, 65)
#: in words, not ``<16``: the label is read by the ethics panel in the fairness report, and it is
#: the label feature tables (and so every fairness.json) have always carried
UNDER_16 = "under 16"

#: the first columns of every rejects file (docs/CONTRACTS.md): which file and row, which column
#: broke which rule, the value and why; the rejected row's own columns follow
REJECT_COLUMNS: tuple[str, ...] = ("file", "row", "column", "rule", "value", "reason")


def age_band(years: np.ndarray) -> np.ndarray:
    """Audit band (``16-24`` ... ``65+``, or ``under 16``) of ages in years (object array).

    A fractional age belongs to the band of its completed years (24.99 is ``16-24``).
    """
    idx = np.searchsorted(np.array(AGE_BAND_EDGES), np.asarray(years), side="right") - 1
    names = np.array([UNDER_16, *AGE_BANDS], dtype=object)
    return names[idx + 1]


def forbidden_reason(name: str) -> str | None:
    """Why ``name`` may never be a model input, or ``None`` if it may."""
    if name in PROTECTED_CHARACTERISTICS:
        return "a protected characteristic (Equality Act 2010), used only to audit fairness"
    for role, names in (
        ("an audit attribute", AUDIT_ATTRIBUTES),
        ("a label (what the model predicts)", LABELS),
        ("a synthetic truth column (for evaluation only)", TRUTH),
        ("a key column", KEYS),
    ):
        if name in names:
            return role
    return None


__all__ = [
    "AGE_BANDS",
    "AGE_BAND_EDGES",
    "AUDIT_ATTRIBUTES",
    "KEYS",
    "LABELS",
    "REJECT_COLUMNS",
    "TRUTH",
    "UNDER_16",
    "age_band",
    "forbidden_reason",
]

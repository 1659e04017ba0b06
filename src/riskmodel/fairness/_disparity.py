"""Disparities against a reference group: ratios with paired bootstrap intervals, and flags.

A disparity is *flagged* only when its whole interval lies outside the band (0.8-1.25 by
default): the data show the difference is real. When the point estimate is outside the band but
the interval reaches into it, the disparity is *inconclusive*: it may be chance. The rule is
applied to unrounded values. A metric whose own denominator is too small (in the group or in the
reference group) is *suppressed*, and a collapsed interval (every replicate equal) is
*degenerate*: neither ever makes a finding (``riskmodel.evaluation.cell_speaks``).
"""

from __future__ import annotations

import numpy as np

from riskmodel.evaluation import cell_speaks, interval_speaks, percentile_interval
from riskmodel.fairness._bootstrap import GroupBootstrap
from riskmodel.fairness._groups import MISSING_GROUP

FLAGGED = "flagged"
INCONCLUSIVE = "inconclusive"
WITHIN = "within_band"
REFERENCE = "reference"
SUPPRESSED = "suppressed"
UNDEFINED = "undefined"
DEGENERATE = "degenerate"

#: metrics compared between groups (base rate and mean score are context, not model disparities)
DISPARITY_METRICS = ("selection_rate", "fpr", "fnr", "tpr", "ppv", "npv", "auc")

ERR_REFERENCE = (
    "reference group {group!r} for {attribute!r} is not in the data; groups present: {groups}"
)


def classify(
    ratio: np.ndarray, lo: np.ndarray, hi: np.ndarray, band: tuple[float, float]
) -> np.ndarray:
    """Flag per ratio: flagged (interval wholly outside the band), inconclusive, within_band."""
    ratio, lo, hi = (np.asarray(a, dtype=float) for a in (ratio, lo, hi))
    b_lo, b_hi = band
    point_out = (ratio < b_lo) | (ratio > b_hi)
    ci_out = (hi < b_lo) | (lo > b_hi)  # NaN interval compares False: never flagged
    out = np.where(ci_out, FLAGGED, np.where(point_out, INCONCLUSIVE, WITHIN)).astype(object)
    # a collapsed interval says nothing about chance: no finding either way
    out[point_out & ~np.asarray(interval_speaks(lo, hi), dtype=bool)] = DEGENERATE
    out[np.isnan(ratio)] = UNDEFINED
    return out


#: the denominator of each metric, from confusion counts ``(..., 4)`` (TP, FP, FN, TN)
def metric_denominators(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Index events in each metric's own denominator (what must reach ``min_group_n``)."""
    c = np.asarray(counts, dtype=float)
    tp, fp, fn, tn = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    n = tp + fp + fn + tn
    return {
        "n": n,
        "base_rate": n,
        "mean_score": n,
        "selection_rate": n,
        "tpr": tp + fn,
        "fnr": tp + fn,
        "fpr": fp + tn,
        "ppv": tp + fp,
        "npv": tn + fn,
        "auc": np.minimum(tp + fn, fp + tn),
    }


def metric_speaks(counts: np.ndarray, min_n: int) -> dict[str, np.ndarray]:
    """Per metric and group: does the metric's own denominator reach ``min_n``?"""
    return {m: cell_speaks(d, min_n) for m, d in metric_denominators(counts).items()}


def choose_reference(
    labels: tuple[str, ...], sizes: np.ndarray, attribute: str, configured: dict[str, str]
) -> str:
    """The configured reference group, else the largest recorded group."""
    if attribute in configured:
        ref = configured[attribute]
        if ref not in labels:
            raise ValueError(
                ERR_REFERENCE.format(group=ref, attribute=attribute, groups=", ".join(labels))
            )
        return ref
    order = np.argsort(-np.asarray(sizes), kind="stable")
    for i in order:
        if labels[i] != MISSING_GROUP:
            return labels[i]
    return labels[int(order[0])]


def ratio_vs_reference(
    point: np.ndarray, reps: np.ndarray, r: int, ci_level: float
) -> tuple[np.ndarray, ...]:
    """Ratio and difference of each group to group ``r``, with paired percentile intervals.

    Returns ``ratio, ratio_lo, ratio_hi, difference, difference_lo, difference_hi`` (each ``(G,)``).
    """
    point = np.asarray(point, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(point[r] > 0, point / point[r], np.nan)
        ratio_reps = np.where(reps[:, [r]] > 0, reps / reps[:, [r]], np.nan)
    r_lo, r_hi = percentile_interval(ratio_reps, ci_level)
    d_lo, d_hi = percentile_interval(reps - reps[:, [r]], ci_level)
    return ratio, r_lo, r_hi, point - point[r], d_lo, d_hi


def _f(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def disparities(
    gb: GroupBootstrap,
    *,
    reference: str,
    speaks: dict[str, np.ndarray],
    band: tuple[float, float],
    metrics: tuple[str, ...] = DISPARITY_METRICS,
) -> dict[str, dict[str, dict]]:
    """``{group: {metric: {ratio, ci, difference, difference_ci, flag, reference}}}``.

    Ratios and differences use replicate ``b`` of the group and of the reference together, so
    their intervals come from the same bootstrap as the group intervals. ``speaks[metric]`` says
    per group whether the metric's denominator is large enough (:func:`metric_speaks`).
    """
    labels = gb.grouping.labels
    r = labels.index(reference)
    out: dict[str, dict[str, dict]] = {g: {} for g in labels}
    for m in metrics:
        if m not in gb.replicates:
            continue
        point = gb.point[m].to_numpy(dtype=float)
        ratio, r_lo, r_hi, diff, d_lo, d_hi = ratio_vs_reference(
            point, gb.replicates[m], r, gb.ci_level
        )
        flags = classify(ratio, r_lo, r_hi, band)
        ok = np.asarray(speaks[m], dtype=bool)
        for i, g in enumerate(labels):
            if not (ok[i] and ok[r]):
                entry = _suppressed_entry()
            elif i == r:
                defined = bool(np.isfinite(point[r]))
                entry = {
                    "ratio": 1.0 if defined else None,
                    "ci": [1.0, 1.0] if defined else [None, None],
                    "difference": 0.0 if defined else None,
                    "difference_ci": [0.0, 0.0] if defined else [None, None],
                    "flag": REFERENCE if defined else UNDEFINED,
                }
            else:
                entry = {
                    "ratio": _f(ratio[i]),
                    "ci": [_f(r_lo[i]), _f(r_hi[i])],
                    "difference": _f(diff[i]),
                    "difference_ci": [_f(d_lo[i]), _f(d_hi[i])],
                    "flag": flags[i],
                }
            entry["reference"] = reference
            out[g][m] = entry
    return out


def _suppressed_entry() -> dict:
    return {
        "ratio": None,
        "ci": [None, None],
        "difference": None,
        "difference_ci": [None, None],
        "flag": SUPPRESSED,
        "suppressed": True,
    }

"""Reliability curves per group: observed outcome rate against mean score, by score bin.

Bins are quantiles of each group's own scores, with at most ``n_bins`` bins and, where the data
allow, at least ``min_group_n`` people per bin, so no point of a curve rests on a small cell.
Bins that still fall below ``min_group_n`` (heavy ties) are suppressed.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from riskmodel.fairness._groups import Grouping


def wilson_interval(k: np.ndarray, n: np.ndarray, ci_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a proportion ``k / n``."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = norm.ppf(0.5 + ci_level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _bin_edges(scores: np.ndarray, n_bins: int) -> np.ndarray:
    edges = np.unique(np.quantile(scores, np.linspace(0, 1, n_bins + 1)))
    return edges


def reliability_curves(
    y_true: np.ndarray,
    y_score: np.ndarray,
    grouping: Grouping,
    *,
    n_bins: int,
    min_n: int,
    ci_level: float,
    probability: bool,
) -> dict[str, dict]:
    """``{group: {bins: [...], calibration_gap, ece}}`` for every group with ``n >= min_n``.

    ``calibration_gap`` (observed rate minus mean score) and ``ece`` (bin-weighted mean absolute
    gap) are given only when the score is a probability.
    """
    y = np.asarray(y_true, dtype=float)
    s = np.asarray(y_score, dtype=float)
    order = np.argsort(grouping.codes, kind="stable")
    bounds = np.searchsorted(grouping.codes[order], np.arange(grouping.n_groups + 1))
    out: dict[str, dict] = {}
    for gi, label in enumerate(grouping.labels):
        idx = order[bounds[gi] : bounds[gi + 1]]
        n_g = len(idx)
        if n_g < min_n:
            out[label] = {"suppressed": True, "bins": []}
            continue
        sg, yg = s[idx], y[idx]
        k_bins = max(1, min(n_bins, n_g // min_n))
        edges = _bin_edges(sg, k_bins)
        b = np.searchsorted(edges[1:-1], sg, side="right") if len(edges) > 2 else np.zeros(n_g, int)
        nb = max(len(edges) - 1, 1)
        cnt = np.bincount(b, minlength=nb)
        s_sum = np.bincount(b, weights=sg, minlength=nb)
        y_sum = np.bincount(b, weights=yg, minlength=nb)
        lo, hi = wilson_interval(y_sum, cnt, ci_level)
        bins = []
        for j in range(nb):
            if cnt[j] == 0:
                continue
            if cnt[j] < min_n:
                bins.append(
                    {
                        "suppressed": True,
                        "n": None,
                        "mean_score": None,
                        "observed_rate": None,
                        "observed_ci": [None, None],
                    }
                )
                continue
            bins.append(
                {
                    "n": int(cnt[j]),
                    "mean_score": float(s_sum[j] / cnt[j]),
                    "observed_rate": float(y_sum[j] / cnt[j]),
                    "observed_ci": [float(lo[j]), float(hi[j])],
                }
            )
        entry: dict = {"suppressed": False, "bins": bins}
        if probability:
            shown = [x for x in bins if not x.get("suppressed")]
            entry["calibration_gap"] = float(yg.mean() - sg.mean())
            w = np.array([x["n"] for x in shown], dtype=float)
            gaps = np.array([abs(x["observed_rate"] - x["mean_score"]) for x in shown])
            entry["ece"] = float((w * gaps).sum() / w.sum()) if len(w) else None
        out[label] = entry
    return out


#: words for the verdict on (observed - predicted), from ``riskmodel.evaluation.verdict``
CALIBRATION_WORDS = {
    "better": "more reoffended than predicted (the score under-predicts)",
    "worse": "fewer reoffended than predicted (the score over-predicts)",
    "no clear difference": "no clear difference between predicted and observed",
}


def calibration_by_group(
    y_true: np.ndarray,
    y_score: np.ndarray,
    selected: np.ndarray,
    grouping: Grouping,
    *,
    min_n: int,
    ci_level: float,
    clusters: np.ndarray | None = None,
) -> dict[str, dict]:
    """Predicted against observed reoffending per group, for everyone and among the listed.

    For each group (and the listed within it): mean predicted probability, observed rate, their
    difference (observed minus predicted) with an interval from the person-clustered standard
    error of the mean of ``y - p`` (people as the unit; normal approximation), and the one verdict
    rule of ``riskmodel.evaluation.verdict`` on that interval. Cells whose own count is below
    ``min_n`` are suppressed.
    """
    from riskmodel.evaluation import cell_speaks, verdict
    from riskmodel.fairness._bootstrap import clustered_mean_se

    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_score, dtype=float)
    s = np.asarray(selected, dtype=bool)
    cl = np.arange(len(y)) if clusters is None else np.asarray(clusters)
    z = norm.ppf(0.5 + ci_level / 2)
    out: dict[str, dict] = {label: {} for label in grouping.labels}
    for part, rows in (("everyone", np.ones(len(y), bool)), ("listed", s)):
        codes = grouping.codes[rows]
        g = grouping.n_groups
        n = np.bincount(codes, minlength=g).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            obs = np.bincount(codes, weights=y[rows], minlength=g) / n
            pred = np.bincount(codes, weights=p[rows], minlength=g) / n
        diff = obs - pred
        se = clustered_mean_se(y[rows] - p[rows], codes, g, cl[rows], diff)
        for i, label in enumerate(grouping.labels):
            if not cell_speaks(n[i], min_n):
                out[label][part] = {"suppressed": True, "n": None}
                continue
            lo, hi = float(diff[i] - z * se[i]), float(diff[i] + z * se[i])
            word = verdict(lo, hi, higher_is_better=True) if hi > lo else "no clear difference"
            out[label][part] = {
                "suppressed": False,
                "n": int(n[i]),
                "predicted": float(pred[i]),
                "observed": float(obs[i]),
                "difference": float(diff[i]),
                "difference_ci": [lo, hi],
                "verdict": word,
                "verdict_text": CALIBRATION_WORDS[word],
            }
    return out

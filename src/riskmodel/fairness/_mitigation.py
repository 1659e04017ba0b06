"""Mitigation trade-offs at the same number of programme places.

Every option lists the same number of people as the audited decision (the places it fills), keeps
its exclusion of people likely to be dangerously violent, and is scored on the same people and
labels, so the panel compares like with like:

- ``unconstrained``: the deployed rule as it is.
- ``equal_opportunity_same_places``: one threshold per group, set so every group's true positive
  rate (share of its reoffenders offered a place) is as equal as the places allow, with the same
  total number of places.
- ``equal_selection_same_places``: each group offered places in proportion to its size (equal
  selection rates), the highest scores within each group first.
- ``equalized_odds_same_places``: fairlearn's ``ThresholdOptimizer`` (equalised odds, Hardt et
  al. 2016) on the existing score; when it selects more people than there are places, its
  selections are thinned at random by the same fraction in every group (which keeps its error-rate
  ratios between groups in expectation); when it selects fewer, it is shown as it is and says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from riskmodel.fairness._groups import MISSING_GROUP, Grouping
from riskmodel.fairness._metrics import confusion_counts, metrics_from_counts
from riskmodel.provenance import rng

SMALL_GROUPS = "(small groups, merged)"
SCORE_DECIMALS = 3

OPTION_TEXT = {
    "unconstrained": "The deployed rule as it is.",
    "equal_opportunity_same_places": (
        "One threshold per group so that each group's share of reoffenders offered a place is as "
        "equal as possible, with the same number of places."
    ),
    "equal_selection_same_places": (
        "Places shared in proportion to group size (equal selection rates), highest scores first "
        "within each group; same number of places."
    ),
    "equalized_odds_same_places": (
        "fairlearn ThresholdOptimizer, equalised odds (group-specific, partly randomised "
        "thresholds), thinned at random to the same number of places when it selects more."
    ),
}


class _ScoreAsProbability(ClassifierMixin, BaseEstimator):
    """A 'prefit' estimator whose probability is the existing score (column 0 of X)."""

    def fit(self, X, y=None):  # noqa: ARG002 - sklearn signature
        self.classes_ = np.array([0, 1])
        self.fitted_ = True
        return self

    def predict_proba(self, X):
        s = np.asarray(X, dtype=float)[:, 0]
        return np.column_stack([1 - s, s])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _summary(
    y: np.ndarray, pred: np.ndarray, codes: np.ndarray, labels: tuple[str, ...], report: np.ndarray
) -> dict:
    overall = metrics_from_counts(confusion_counts(y, pred, np.zeros(len(y), np.int64), 1))
    by = metrics_from_counts(confusion_counts(y, pred, codes, len(labels)))
    tpr, fpr, sel = by["tpr"][report], by["fpr"][report], by["selection_rate"][report]
    acc = float(np.mean(y == pred))
    tpr_o, fpr_o = float(overall["tpr"][0]), float(overall["fpr"][0])

    def gap(a: np.ndarray) -> float | None:
        a = a[np.isfinite(a)]
        return float(a.max() - a.min()) if len(a) >= 2 else None

    sel_f = sel[np.isfinite(sel)]
    return {
        "accuracy": acc,
        "balanced_accuracy": (tpr_o + 1 - fpr_o) / 2,
        "selection_rate": float(overall["selection_rate"][0]),
        "tpr": tpr_o,
        "fpr": fpr_o,
        "ppv": float(overall["ppv"][0]) if np.isfinite(overall["ppv"][0]) else None,
        "max_tpr_gap": gap(tpr),
        "max_fpr_gap": gap(fpr),
        "equalized_odds_difference": max(
            (x for x in (gap(tpr), gap(fpr)) if x is not None), default=None
        ),
        "min_selection_ratio": (
            float(sel_f.min() / sel_f.max()) if len(sel_f) >= 2 and sel_f.max() > 0 else None
        ),
        "by_group": {
            labels[i]: {
                "selection_rate": _f(by["selection_rate"][i]),
                "tpr": _f(by["tpr"][i]),
                "fpr": _f(by["fpr"][i]),
            }
            for i in np.flatnonzero(report)
        },
    }


def _f(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def _ranked_in_groups(
    s: np.ndarray, eligible: np.ndarray, codes: np.ndarray, n_groups: int
) -> list[np.ndarray]:
    """Per group, its eligible rows by descending score (stable)."""
    out = []
    for g in range(n_groups):  # one sort per group, not per person
        rows = np.flatnonzero((codes == g) & eligible)
        out.append(rows[np.argsort(-s[rows], kind="stable")])
    return out


def _take_tops(ranked: list[np.ndarray], n_take: np.ndarray, n: int) -> np.ndarray:
    pred = np.zeros(n, np.int64)
    for rows, k in zip(ranked, n_take, strict=True):
        pred[rows[: int(k)]] = 1
    return pred


def _equal_opportunity(
    s: np.ndarray, y: np.ndarray, ranked: list[np.ndarray], codes: np.ndarray, places: int
) -> np.ndarray:
    """Per-group tops with (nearly) equal TPR and at most ``places`` in total (bisection)."""
    n_pos = np.bincount(codes, weights=(y == 1).astype(float), minlength=len(ranked))
    cum_pos = [np.cumsum(y[rows] == 1) for rows in ranked]

    def takes(t: float) -> np.ndarray:
        out = np.zeros(len(ranked), np.int64)
        for g, cp in enumerate(cum_pos):
            if n_pos[g] == 0 or len(cp) == 0:
                continue
            need = t * n_pos[g]
            out[g] = min(int(np.searchsorted(cp, need - 1e-9)) + 1, len(cp)) if need > 0 else 0
        return out

    lo, hi = 0.0, 1.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if takes(mid).sum() <= places:
            lo = mid
        else:
            hi = mid
    return _take_tops(ranked, takes(lo), len(s))


def _equal_selection(
    ranked: list[np.ndarray], sizes: np.ndarray, places: int, n: int
) -> np.ndarray:
    share = places * sizes / max(sizes.sum(), 1)
    n_take = np.floor(share).astype(np.int64)
    # largest remainders get the places left, so the total is exactly ``places``
    left = places - int(n_take.sum())
    if left > 0:
        order = np.argsort(-(share - n_take), kind="stable")[:left]
        n_take[order] += 1
    n_take = np.minimum(n_take, [len(r) for r in ranked])
    return _take_tops(ranked, n_take, n)


def compare_mitigations(
    *,
    score: np.ndarray,
    y_true: np.ndarray,
    selected: np.ndarray,
    grouping: Grouping,
    eligible: np.ndarray | None,
    min_n: int,
    seed: int,
) -> dict:
    """Table of options at the audited decision's number of places, with overall performance,
    selection and the largest gaps between reportable groups."""
    from fairlearn.postprocessing import ThresholdOptimizer

    s = np.asarray(score, dtype=float)
    y = np.asarray(y_true, dtype=np.int64)
    sel = np.asarray(selected, dtype=np.int64)
    elig = np.ones(len(s), bool) if eligible is None else np.asarray(eligible, bool)
    places = int(sel.sum())
    sizes = grouping.sizes()
    report = sizes >= min_n
    labels = grouping.labels
    ranked = _ranked_in_groups(s, elig, grouping.codes, grouping.n_groups)
    gen = rng(seed, "fairness.mitigation")

    options: dict[str, np.ndarray] = {"unconstrained": sel}
    options["equal_opportunity_same_places"] = _equal_opportunity(
        s, y, ranked, grouping.codes, places
    )
    options["equal_selection_same_places"] = _equal_selection(ranked, sizes, places, len(s))

    # small groups are merged for fitting: a threshold learnt from a handful of people is noise
    fit_labels = np.array(
        [lab if report[i] else SMALL_GROUPS for i, lab in enumerate(labels)], dtype=object
    )
    sensitive = pd.Series(fit_labels[grouping.codes], name=grouping.name)
    lo, hi = float(np.min(s)), float(np.max(s))
    s01 = s if (lo >= 0.0 and hi <= 1.0) else (s - lo) / (hi - lo if hi > lo else 1.0)
    # fairlearn walks the sorted unique scores one by one in Python: a 0.001 grid keeps it fast
    X = pd.DataFrame({"score": np.round(s01, SCORE_DECIMALS)})
    to = ThresholdOptimizer(
        estimator=_ScoreAsProbability().fit(X),
        constraints="equalized_odds",
        objective="balanced_accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    )
    to.fit(X, y, sensitive_features=sensitive)
    pred = (
        np.asarray(
            to.predict(X, sensitive_features=sensitive, random_state=int(gen.integers(2**31 - 1)))
        ).astype(np.int64)
        * elig
    )
    fl_selected = int(pred.sum())
    if fl_selected > places:
        keep = gen.random(len(pred)) < places / fl_selected
        pred = pred * keep
    options["equalized_odds_same_places"] = pred

    table = []
    for name, p in options.items():
        row = {"option": name, "description": OPTION_TEXT[name], "places": int(p.sum())}
        row.update(_summary(y, p, grouping.codes, labels, report))
        table.append(row)
    from sklearn.metrics import roc_auc_score

    score_auc = float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else None
    return {
        "attribute": grouping.name,
        "score_auc": score_auc,
        "places": places,
        "fairlearn_selected_before_thinning": fl_selected,
        "groups_reported": [labels[i] for i in np.flatnonzero(report) if labels[i] != MISSING_GROUP]
        or [labels[i] for i in np.flatnonzero(report)],
        "options": table,
    }

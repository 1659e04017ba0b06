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
  al. 2016) on the existing score, at the same overall selection rate: the weight of an unneeded
  offer against a missed reoffender in its objective is set (by bisection) to the two corners of
  the groups' common ROC curve either side of the places, mixed at random to fill them in
  expectation; the few it selects beyond the places are dropped at random.
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
        "thresholds), its objective weighted so it fills the same number of places."
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


def _equalized_odds_fit(
    X: pd.DataFrame, y: np.ndarray, sensitive: pd.Series, rows: np.ndarray, weight: float, seed: int
) -> np.ndarray:
    """fairlearn's equalised-odds thresholds fitted on ``rows`` with negatives counted ``weight``
    times as much as positives, predicted for everyone.

    ThresholdOptimizer takes no sample weights, so a weight is given by repeating rows (the larger
    side whole times, the fraction as a fixed seeded subset); its accuracy objective then trades
    a missed reoffender against ``weight`` unneeded offers, which moves its operating point along
    the groups' common ROC curve, and so its overall selection rate, monotonically.
    """
    from fairlearn.postprocessing import ThresholdOptimizer

    side = (y[rows] == 0) if weight >= 1 else (y[rows] == 1)
    factor = weight if weight >= 1 else 1 / weight
    base, frac = int(np.floor(factor)), factor - np.floor(factor)
    heavy = rows[side]
    extra = [heavy] * (base - 1)
    if frac > 0:
        order = np.random.default_rng(seed).permutation(len(heavy))
        extra.append(heavy[np.sort(order[: int(round(frac * len(heavy)))])])
    idx = np.concatenate([rows, *extra]) if extra else rows
    to = ThresholdOptimizer(
        estimator=_ScoreAsProbability().fit(X),
        constraints="equalized_odds",
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    )
    to.fit(
        X.iloc[idx].reset_index(drop=True),
        y[idx],
        sensitive_features=sensitive.iloc[idx].reset_index(drop=True),
    )
    return np.asarray(to.predict(X, sensitive_features=sensitive, random_state=seed), np.int64)


def _equalized_odds_at_places(
    X: pd.DataFrame,
    y: np.ndarray,
    sensitive: pd.Series,
    eligible: np.ndarray,
    places: int,
    gen: np.random.Generator,
    *,
    fits: int = 12,
) -> tuple[np.ndarray, dict]:
    """fairlearn's equalised odds at ``places`` selections, fitted on the people the rule may
    list (the exclusion is kept).

    A linear objective's optimum is a corner of the groups' common ROC curve, so weighting alone
    jumps from corner to corner. The weight of an unneeded offer against a missed reoffender is
    found by bisection (on its logarithm) to the two neighbouring corners that select just more
    and just fewer than the places; each person then gets the first's decision with the
    probability that makes the expected count equal the places (a point on the edge between them,
    which keeps error rates equal between groups, as fairlearn's own randomisation does).
    """
    rows = np.flatnonzero(eligible)
    seed = int(gen.integers(2**31 - 1))

    def select(log_w: float) -> np.ndarray:
        return _equalized_odds_fit(X, y, sensitive, rows, float(np.exp(log_w)), seed) * eligible

    # weights 1/32 .. 64 (a weight is paid in repeated rows): from about half the people selected
    # down to the few with scores near the top
    lo, hi = np.log(1 / 32), np.log(64.0)
    above, below, w = select(lo), select(hi), lo
    if above.sum() > places > below.sum():
        for _ in range(fits):
            mid = (lo + hi) / 2
            pred = select(mid)
            if pred.sum() >= places:
                lo, above, w = mid, pred, mid  # still fills the places: weigh false offers more
            else:
                hi, below = mid, pred
        share = (places - below.sum()) / max(above.sum() - below.sum(), 1)
        mixed = np.where(gen.random(len(above)) < share, above, below)
    else:
        mixed = above if above.sum() <= places else below
        above = None
    return mixed, {"negative_weight": float(np.exp(w)), "fits": fits + 2, "above": above}


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
    pred, fl = _equalized_odds_at_places(X, y, sensitive, elig, places, gen)
    fl_selected = int(pred.sum())
    # the mix fills the places in expectation: drop the few over, or add the few missing from the
    # corner above, at random
    if fl_selected > places:
        keep = np.zeros(len(pred), bool)
        keep[gen.choice(np.flatnonzero(pred), size=places, replace=False)] = True
        pred = pred * keep
    elif fl_selected < places and fl["above"] is not None:
        spare = np.flatnonzero((fl["above"] == 1) & (pred == 0))
        add = gen.choice(spare, size=min(places - fl_selected, len(spare)), replace=False)
        pred = pred.copy()
        pred[add] = 1
    options["equalized_odds_same_places"] = pred
    fl_filled = int(pred.sum())

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
        "fairlearn_places_filled": fl_filled,
        "fairlearn_negative_weight": fl["negative_weight"],
        "fairlearn_fits": fl["fits"],
        "groups_reported": [labels[i] for i in np.flatnonzero(report) if labels[i] != MISSING_GROUP]
        or [labels[i] for i in np.flatnonzero(report)],
        "options": table,
    }

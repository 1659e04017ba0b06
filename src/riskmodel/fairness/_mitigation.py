"""Mitigation trade-offs: what equalising error rates across groups would cost and change.

Options compared, on the same people and labels:

- ``unconstrained``: the rule as it is (one threshold for everyone).
- ``equalized_odds`` and ``false_negative_rate_parity``: fairlearn's ``ThresholdOptimizer``
  (Hardt et al. 2016) on the existing score (``prefit=True``), with group-specific, partly
  randomised thresholds chosen to maximise balanced accuracy under the constraint. It picks its
  own operating point, so its selection rate can differ from the rule's.
- ``per_group_threshold``: one threshold per group, set so that each group's true positive rate
  (share of reoffenders offered a place) matches the unconstrained rule's overall rate.

Any exclusion the rule makes on other grounds (people likely to be dangerously violent, whom
the programme is not for) is kept in every option.
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
    "unconstrained": "The rule as it is: one threshold for everyone.",
    "equalized_odds": (
        "fairlearn ThresholdOptimizer, equalised odds: group-specific (partly randomised) "
        "thresholds so that true and false positive rates are equal across groups."
    ),
    "false_negative_rate_parity": (
        "fairlearn ThresholdOptimizer, false-negative-rate parity: group-specific thresholds so "
        "that the share of reoffenders missed is equal across groups."
    ),
    "per_group_threshold": (
        "One threshold per group, set so each group's share of reoffenders offered a place "
        "matches the overall rate of the unconstrained rule."
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


def _tpr_matching_thresholds(
    s: np.ndarray,
    y: np.ndarray,
    eligible: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    target_tpr: float,
) -> np.ndarray:
    """Per group, the threshold whose TPR (among all the group's reoffenders) is nearest the target."""
    thresholds = np.full(n_groups, np.inf)
    pos = y == 1
    for g in range(n_groups):  # one sort per group, not per person
        in_g = codes == g
        n_pos = int((pos & in_g).sum())
        cand = np.sort(s[pos & in_g & eligible])[::-1]
        if n_pos == 0 or len(cand) == 0:
            continue
        k = int(np.clip(round(target_tpr * n_pos), 1, len(cand)))
        thresholds[g] = cand[k - 1]
    return thresholds


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
    """Table of options with overall performance, selection and the largest gaps between groups."""
    from fairlearn.postprocessing import ThresholdOptimizer

    s = np.asarray(score, dtype=float)
    y = np.asarray(y_true, dtype=np.int64)
    sel = np.asarray(selected, dtype=np.int64)
    elig = np.ones(len(s), bool) if eligible is None else np.asarray(eligible, bool)
    sizes = grouping.sizes()
    report = sizes >= min_n
    labels = grouping.labels
    # small groups are merged for fitting: a threshold learnt from a handful of people is noise
    fit_labels = np.array(
        [lab if report[i] else SMALL_GROUPS for i, lab in enumerate(labels)], dtype=object
    )
    sensitive = pd.Series(fit_labels[grouping.codes], name=grouping.name)
    lo, hi = float(np.min(s)), float(np.max(s))
    probability = lo >= 0.0 and hi <= 1.0
    s01 = s if probability else (s - lo) / (hi - lo if hi > lo else 1.0)
    # fairlearn walks the sorted unique scores one by one in Python; on a 0.001 grid (at most
    # 1,001 candidate thresholds) a million people take seconds, not minutes, and no threshold
    # worth distinguishing is lost
    X = pd.DataFrame({"score": np.round(s01, SCORE_DECIMALS)})
    gen = rng(seed, "fairness.mitigation")

    options: dict[str, np.ndarray] = {"unconstrained": sel}
    for constraint in ("equalized_odds", "false_negative_rate_parity"):
        to = ThresholdOptimizer(
            estimator=_ScoreAsProbability().fit(X),
            constraints=constraint,
            objective="balanced_accuracy_score",
            prefit=True,
            predict_method="predict_proba",
        )
        to.fit(X, y, sensitive_features=sensitive)
        pred = np.asarray(
            to.predict(X, sensitive_features=sensitive, random_state=int(gen.integers(2**31 - 1)))
        ).astype(np.int64)
        options[constraint] = pred * elig
    overall_tpr = float(
        metrics_from_counts(confusion_counts(y, sel, np.zeros(len(y), np.int64), 1))["tpr"][0]
    )
    thr = _tpr_matching_thresholds(s, y, elig, grouping.codes, grouping.n_groups, overall_tpr)
    options["per_group_threshold"] = ((s >= thr[grouping.codes]) & elig).astype(np.int64)

    table = []
    for name, pred in options.items():
        row = {"option": name, "description": OPTION_TEXT[name]}
        row.update(_summary(y, pred, grouping.codes, labels, report))
        table.append(row)
    from sklearn.metrics import roc_auc_score

    score_auc = float(roc_auc_score(y, s)) if 0 < y.sum() < len(y) else None
    return {
        "attribute": grouping.name,
        "score_auc": score_auc,
        "groups_reported": [labels[i] for i in np.flatnonzero(report) if labels[i] != MISSING_GROUP]
        or [labels[i] for i in np.flatnonzero(report)],
        "per_group_thresholds": {
            labels[i]: (_f(thr[i]) if report[i] else None) for i in range(len(labels))
        },
        "target_tpr": overall_tpr,
        "options": table,
    }

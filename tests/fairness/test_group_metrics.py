"""Group metrics against fairlearn's MetricFrame and a hand-worked example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import precision_score, roc_auc_score

from riskmodel.fairness import MISSING_GROUP, encode_groups, group_metrics


def _auc(y_true, y_score):
    return roc_auc_score(y_true, y_score) if len(np.unique(y_true)) == 2 else np.nan


def _precision(y_true, y_pred):
    return precision_score(y_true, y_pred, zero_division=np.nan)


@st.composite
def scored_groups(draw):
    n = draw(st.integers(5, 120))
    seed = draw(st.integers(0, 2**31 - 1))
    n_groups = draw(st.integers(1, 4))
    gen = np.random.default_rng(seed)
    groups = gen.choice([f"g{i}" for i in range(n_groups)], size=n)
    y = gen.random(n) < draw(st.floats(0.05, 0.95))
    # ties on purpose (rounded scores): AUC must count them one half
    score = np.round(gen.random(n) + 0.4 * y, draw(st.integers(1, 3)))
    pred = score >= draw(st.floats(0.2, 1.2))
    return y.astype(int), pred.astype(int), score, groups


@given(scored_groups())
def test_group_metrics_equal_metricframe(case):
    y, pred, score, groups = case
    ours = group_metrics(y, pred, pd.Series(groups, name="group"), y_score=score)
    mf = MetricFrame(
        metrics={
            "selection_rate": selection_rate,
            "fpr": false_positive_rate,
            "fnr": false_negative_rate,
            "ppv": _precision,
            "tpr": true_positive_rate,
        },
        y_true=y,
        y_pred=pred,
        sensitive_features=pd.Series(groups, name="group"),
    ).by_group
    auc = MetricFrame(
        metrics=_auc, y_true=y, y_pred=score, sensitive_features=pd.Series(groups, name="group")
    ).by_group
    for g in mf.index:
        in_g = groups == g
        neg, pos, sel = (in_g & (y == 0)).sum(), (in_g & (y == 1)).sum(), (in_g & (pred == 1)).sum()
        assert ours.loc[g, "n"] == in_g.sum()
        assert ours.loc[g, "selection_rate"] == pytest.approx(mf.loc[g, "selection_rate"])
        # fairlearn reports 0 where a rate has no denominator; we report "undefined" (NaN)
        for m, den in (("fpr", neg), ("fnr", pos), ("tpr", pos), ("ppv", sel)):
            if den > 0:
                assert ours.loc[g, m] == pytest.approx(mf.loc[g, m]), m
            else:
                assert np.isnan(ours.loc[g, m]), m
        if pos > 0 and neg > 0:
            assert ours.loc[g, "auc"] == pytest.approx(auc.loc[g])
        else:
            assert np.isnan(ours.loc[g, "auc"])


def test_hand_worked_example():
    # group a: TP=2 FP=1 FN=1 TN=2 ; group b: TP=0 FP=0 FN=1 TN=1
    y = [1, 1, 0, 1, 0, 0, 1, 0]
    p = [1, 1, 1, 0, 0, 0, 0, 0]
    s = [0.9, 0.8, 0.7, 0.2, 0.1, 0.3, 0.4, 0.4]
    g = pd.Series(["a"] * 6 + ["b"] * 2, name="grp")
    out = group_metrics(y, p, g, y_score=s)
    a, b = out.loc["a"], out.loc["b"]
    assert a["n"] == 6 and a["base_rate"] == pytest.approx(3 / 6)
    assert a["selection_rate"] == pytest.approx(3 / 6)
    assert a["tpr"] == pytest.approx(2 / 3) and a["fnr"] == pytest.approx(1 / 3)
    assert a["fpr"] == pytest.approx(1 / 3) and a["ppv"] == pytest.approx(2 / 3)
    assert a["npv"] == pytest.approx(2 / 3)
    # positives .9 .8 .2 vs negatives .7 .1 .3: pairs won 3+3+1 = 7 of 9
    assert a["auc"] == pytest.approx(7 / 9)
    assert a["mean_score"] == pytest.approx(np.mean(s[:6]))
    # b: one positive and one negative with the same score: a tie counts one half
    assert b["auc"] == pytest.approx(0.5)
    assert np.isnan(b["ppv"])  # nobody selected: precision undefined, not 0


def test_intersections_and_missing_groups():
    df = pd.DataFrame({"sex": ["m", "f", "m", None], "eth": ["w", "w", "b", "b"]})
    grouping = encode_groups(df, name="sex:eth")
    labels = [grouping.labels[c] for c in grouping.codes]
    assert labels == ["m:w", "f:w", "m:b", f"{MISSING_GROUP}:b"]
    assert grouping.n_missing == 1
    single = encode_groups(df["sex"])
    assert [single.labels[c] for c in single.codes][-1] == MISSING_GROUP


def test_non_binary_outcome_is_refused():
    with pytest.raises(ValueError, match="0/1"):
        group_metrics([0, 2], [0, 1], pd.Series(["a", "a"]))

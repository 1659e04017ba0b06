"""Metrics against scikit-learn, hand-worked examples, and the weighted (bootstrap) path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

from riskmodel.evaluation import (
    average_precision,
    brier_score,
    capacity_curve,
    capacity_k,
    equal_mass_bins,
    expected_calibration_error,
    log_loss,
    negative_prediction_rate,
    probability_metrics,
    rank_metrics,
    reliability_table,
    roc_auc,
    top_k,
)


@st.composite
def labelled_scores(draw, *, tied: bool):
    n = draw(st.integers(2, 60))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    if len(set(y)) < 2:
        y[0], y[-1] = 0, 1
    if tied:  # few distinct values: many ties, as with the RFG score
        s = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    else:
        s = draw(st.lists(st.floats(0.001, 0.999), min_size=n, max_size=n))
    return np.array(y), np.array(s, dtype=float)


@given(labelled_scores(tied=True))
def test_auc_and_average_precision_match_sklearn_with_ties(data):
    y, s = data
    assert roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)


@given(labelled_scores(tied=False))
def test_probability_metrics_match_sklearn(data):
    y, p = data
    assert roc_auc(y, p) == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert average_precision(y, p) == pytest.approx(skm.average_precision_score(y, p), abs=1e-12)
    assert brier_score(y, p) == pytest.approx(skm.brier_score_loss(y, p), abs=1e-12)
    assert log_loss(y, p) == pytest.approx(skm.log_loss(y, p), abs=1e-9)


def test_ece_hand_worked():
    # 5 equal-size bins of 2 rows; gaps .1 .2 .4 .3 .1, each bin weighs 2/10
    p = np.array([0.1, 0.1, 0.3, 0.3, 0.6, 0.6, 0.8, 0.8, 0.9, 0.9])
    y = np.array([0, 0, 1, 0, 1, 1, 1, 0, 1, 1])
    assert expected_calibration_error(y, p, n_bins=5) == pytest.approx(0.22)


def test_ece_keeps_ties_in_one_bin():
    # four tied 0.2s stay in bin 0 (gap .05, weight 4/6); the two 0.7s go to bin 2 (gap .3)
    p = np.array([0.2, 0.2, 0.2, 0.2, 0.7, 0.7])
    y = np.array([1, 0, 0, 0, 1, 1])
    assert equal_mass_bins(p, 3).tolist() == [0, 0, 0, 0, 2, 2]
    assert expected_calibration_error(y, p, n_bins=3) == pytest.approx(4 / 6 * 0.05 + 2 / 6 * 0.3)
    table = reliability_table(y, p, n_bins=3)
    assert table["n"].tolist() == [4, 2]
    assert table["observed_rate"].tolist() == [0.25, 1.0]


def test_constant_prediction_has_one_bin_and_ece_is_the_rate_gap():
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0])
    p = np.full(8, 0.4)
    assert expected_calibration_error(y, p) == pytest.approx(0.4 - 0.25)


def test_top_k_counts_a_tied_group_at_the_cut_off_fractionally():
    score = np.array([5, 4, 4, 3, 1])
    y = np.array([1, 0, 1, 1, 0])
    harm = np.array([10.0, 0.0, 30.0, 60.0, 0.0])
    # k=2: row 0, then half of the tied pair {0, 1}: 1.5 outcomes, 10 + 15 harm
    got = top_k(y, score, k=2, harm=harm)
    assert got == pytest.approx(
        {"precision_top_k": 0.75, "recall_top_k": 0.5, "harm_share_top_k": 0.25}
    )
    got = top_k(y, score, k=3, harm=harm)
    assert got == pytest.approx(
        {"precision_top_k": 2 / 3, "recall_top_k": 2 / 3, "harm_share_top_k": 0.4}
    )


def test_top_k_tie_rule_equals_average_over_random_tie_breaks():
    r = np.random.default_rng(0)
    score = r.integers(0, 5, 40).astype(float)
    y = r.integers(0, 2, 40)
    k = 13
    brute = []
    for _ in range(4000):
        order = np.lexsort((r.random(40), -score))
        brute.append(y[order[:k]].mean())
    assert top_k(y, score, k=k)["precision_top_k"] == pytest.approx(np.mean(brute), abs=0.005)


def test_capacity_curve_agrees_with_top_k_at_each_k():
    r = np.random.default_rng(1)
    score = r.integers(0, 6, 80).astype(float)
    y = r.integers(0, 2, 80)
    harm = r.gamma(1.0, 10.0, 80)
    ks = np.array([1, 7, 20, 55])
    curve = capacity_curve(y, score, ks, harm=harm)
    for i, k in enumerate(ks):
        t = top_k(y, score, k=int(k), harm=harm)
        assert curve["precision"][i] == pytest.approx(t["precision_top_k"])
        assert curve["recall"][i] == pytest.approx(t["recall_top_k"])
        assert curve["harm_share"][i] == pytest.approx(t["harm_share_top_k"])


def test_negative_prediction_rate_hand_worked():
    p = np.array([0.1, 0.2, 0.5, 0.6])
    y = np.array([0, 1, 1, 0])
    assert negative_prediction_rate(y, p, threshold=0.35) == pytest.approx(0.5)
    # without a threshold, "low risk" is everyone outside the top k
    m = probability_metrics(y, p, threshold=None, k=1)
    assert m["npr"][0] == pytest.approx(2 / 3)


@given(labelled_scores(tied=True), st.integers(0, 2**32 - 1))
def test_integer_weights_equal_duplicated_rows(data, seed):
    y, s = data
    p = (s + 0.5) / 5.5
    w = np.random.default_rng(seed).integers(0, 4, len(y))
    if w.sum() == 0:
        w[0] = 1
    yy, ss, pp = np.repeat(y, w), np.repeat(s, w), np.repeat(p, w)
    k = max(1, int(w.sum()) // 3)
    weighted = rank_metrics(y, s, k=k, weights=w.astype(float), harm=s)
    explicit = rank_metrics(yy, ss, k=k, harm=ss)
    for key, value in explicit.items():
        np.testing.assert_allclose(weighted[key], value, equal_nan=True, atol=1e-12)
    pw = probability_metrics(y, p, threshold=0.4, weights=w.astype(float))
    pe = probability_metrics(yy, pp, threshold=0.4)
    for key in ("brier", "log_loss", "npr"):
        np.testing.assert_allclose(pw[key], pe[key], equal_nan=True, atol=1e-12)


def test_many_weight_rows_give_one_value_per_replicate():
    y = np.array([0, 1, 0, 1, 1])
    s = np.array([0.1, 0.9, 0.4, 0.3, 0.8])
    W = np.array([[1, 1, 1, 1, 1], [2, 0, 1, 1, 1], [0, 1, 1, 2, 1]], dtype=float)
    auc = rank_metrics(y, s, k=2, weights=W)["auc"]
    for i, w in enumerate(W):
        assert auc[i] == pytest.approx(skm.roc_auc_score(y, s, sample_weight=w))


def test_non_binary_outcome_is_refused():
    with pytest.raises(ValueError, match="y must be 0/1"):
        roc_auc(np.array([0, 2, 1]), np.array([0.1, 0.2, 0.3]))


@pytest.mark.parametrize(
    ("capacity", "n_rows", "cohort", "expected"),
    [(500, 20_000, 16_000, 625), (500, 2_000, 7_000, 143), (500, 10, 10, 10), (1, 100, 10**6, 1)],
)
def test_capacity_scaled_to_the_evaluated_rows(capacity, n_rows, cohort, expected):
    assert capacity_k(capacity, n_rows=n_rows, cohort_people=cohort) == expected

"""The ceiling of the records and the paired comparison it stands on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.evaluation import NO_CLEAR_DIFFERENCE, roc_auc
from riskmodel.models._ceiling import (
    ERR_NO_TRUTH,
    ceiling_gaps,
    fit_ceiling,
    gap_metrics,
)
from riskmodel.models._paired import paired_comparison
from riskmodel.provenance import rng
from tests.models.limits_fixtures import FEATURES, _sigmoid, make_table

LEVELS = {"x3": ["a", "b", "c"]}


@pytest.fixture(scope="module")
def worlds():
    big = make_table(8000, seed=1, prefix="B")  # the larger world (another seed)
    test = make_table(2000, seed=2, prefix="T")
    return big, test


@pytest.fixture(scope="module")
def ceilings(worlds):
    big, _ = worlds
    full = fit_ceiling(big, FEATURES, LEVELS, "p_reoffend_true", seed=3)
    withheld = fit_ceiling(big, ["x1", "x2", "x3"], LEVELS, "p_reoffend_true", seed=3)
    return full, withheld


def _weak_model(test):
    # a model that learned only x1 (the truth's own x1 term): the learning gap is open
    return _sigmoid(-0.5 + 0.8 * test["x1"].to_numpy())


def test_ceiling_meets_the_oracle_when_features_determine_p_true(worlds, ceilings):
    _, test = worlds
    full, _ = ceilings
    c = full.predict(test)
    # the fitted ceiling is E[p_true | x] = p_true itself here
    assert np.mean(np.abs(c - test["p_reoffend_true"])) < 0.03
    res = ceiling_gaps(
        test,
        head="reoffend",
        model=_weak_model(test),
        ceiling=c,
        n_boot=200,
        ci_level=0.95,
        seed=0,
    )
    lo, hi = res["diff_ci"]["information_gap"]["auc"]
    assert lo <= 0 <= hi
    assert abs(res["diff"]["information_gap"]["auc"]) < 0.01
    assert res["verdict"]["information_gap"]["auc"] == NO_CLEAR_DIFFERENCE
    # ... while the weak model's learning gap is open
    assert res["diff_ci"]["learning_gap"]["auc"][0] > 0


def test_information_gap_opens_when_a_key_feature_is_withheld(worlds, ceilings):
    _, test = worlds
    _, withheld = ceilings
    res = ceiling_gaps(
        test,
        head="reoffend",
        model=_weak_model(test),
        ceiling=withheld.predict(test),
        n_boot=200,
        ci_level=0.95,
        seed=0,
    )
    assert res["diff_ci"]["information_gap"]["auc"][0] > 0
    assert res["verdict"]["information_gap"]["auc"] == "better"  # the oracle beats the ceiling


def test_gaps_add_up_and_metrics_keys(worlds, ceilings):
    _, test = worlds
    full, withheld = ceilings
    res = ceiling_gaps(
        test,
        head="reoffend",
        model=_weak_model(test),
        ceiling=full.predict(test),
        ceiling_two=withheld.predict(test),
        n_boot=50,
        ci_level=0.9,
        seed=0,
    )
    d = res["diff"]
    assert d["information_gap"]["auc"] + d["learning_gap"]["auc"] == pytest.approx(
        d["oracle_gap"]["auc"], abs=1e-12
    )
    # the AUCs are the plain AUCs of each score
    y = test["reoffend_12m"].to_numpy().astype(int)
    assert res["value"]["auc"]["oracle"] == pytest.approx(roc_auc(y, test["p_reoffend_true"]))
    m = gap_metrics("reoffend", res)
    assert m["test.reoffend.auc.ceiling"] == res["value"]["auc"]["ceiling"]
    assert m["test.reoffend.information_gap"] == d["information_gap"]["auc"]
    lo, hi = m["test.reoffend.learning_gap_ci"]
    assert lo <= m["test.reoffend.learning_gap"] <= hi
    assert "test.reoffend.information_gap_brier_ci" in m
    assert "test.reoffend.auc_ci.ceiling_age_priors" in m


def test_ceiling_refuses_a_table_without_truth(worlds):
    big, _ = worlds
    with pytest.raises(KeyError) as err:
        fit_ceiling(big.drop(columns="p_severe_true"), FEATURES, LEVELS, "p_severe_true", seed=0)
    assert err.value.args[0] == ERR_NO_TRUTH.format(col="p_severe_true")


def test_same_seed_same_ceiling(worlds):
    big, test = worlds
    small = big.iloc[:1500]
    a = fit_ceiling(small, FEATURES, LEVELS, "p_reoffend_true", seed=5).predict(test)
    b = fit_ceiling(small, FEATURES, LEVELS, "p_reoffend_true", seed=5).predict(test)
    np.testing.assert_array_equal(a, b)


@settings(max_examples=15)
@given(
    n=st.integers(20, 120),
    seed=st.integers(0, 10_000),
)
def test_paired_differences_are_antisymmetric_and_zero_on_self(n, seed):
    r = np.random.default_rng(seed)
    y = (r.random(n) < 0.4).astype(int)
    y[:2] = [0, 1]
    a, b = r.random(n), r.random(n)
    groups = r.integers(0, max(2, n // 2), n).astype(str)
    res = paired_comparison(
        y,
        {"a": a, "b": b},
        groups=groups,
        pairs={"ab": ("a", "b"), "ba": ("b", "a"), "aa": ("a", "a")},
        n_boot=30,
        generator=rng(seed, "t"),
    )
    for m in ("auc", "brier"):
        assert res["diff"]["aa"][m] == 0
        assert res["diff_ci"]["aa"][m] == [0.0, 0.0]
        assert res["verdict"]["aa"][m] == NO_CLEAR_DIFFERENCE
        if res["diff"]["ab"][m] is not None:
            assert res["diff"]["ab"][m] == pytest.approx(-res["diff"]["ba"][m])
            lo, hi = res["diff_ci"]["ab"][m]
            assert res["diff_ci"]["ba"][m] == pytest.approx([-hi, -lo])


def test_person_bootstrap_keeps_a_persons_rows_together():
    # every person's two rows are identical: a person-level bootstrap of 2n rows gives the same
    # interval as the row-level one would on n people, never narrower than resampling rows
    r = np.random.default_rng(0)
    n = 300
    y1 = (r.random(n) < 0.5).astype(int)
    s1 = r.random(n) + 0.3 * y1
    y = np.repeat(y1, 2)
    s = np.repeat(s1, 2)
    people = np.repeat(np.arange(n), 2).astype(str)
    rows = np.arange(2 * n).astype(str)
    by_person = paired_comparison(
        y, {"s": s}, groups=people, n_boot=400, generator=rng(0, "p"), metrics=("auc",)
    )
    by_row = paired_comparison(
        y, {"s": s}, groups=rows, n_boot=400, generator=rng(0, "p"), metrics=("auc",)
    )
    w_person = np.diff(by_person["ci"]["auc"]["s"])[0]
    w_row = np.diff(by_row["ci"]["auc"]["s"])[0]
    assert w_person > 1.2 * w_row  # duplicated rows are not independent evidence
    assert by_person["n_people"] == n

"""The pure parts of refresh: population stability index, the person bootstrap, calibration
slope and intercept, the fairness and policy gates, the training-table contract."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskmodel.refresh import RefreshConfig, cohort_drift, psi
from riskmodel.refresh._gates import (
    fairness_gate,
    paired_auc_gain,
    person_weights,
    policy_gate,
)
from riskmodel.refresh._refresh import check_training_table, known_at


@given(st.lists(st.floats(-1e3, 1e3), min_size=20, max_size=200))
def test_psi_of_a_population_with_itself_is_zero(values):
    s = pd.Series(values)
    assert psi(s, s) == pytest.approx(0.0, abs=1e-12)


@given(st.floats(0.2, 3.0), st.integers(0, 10_000))
def test_psi_grows_with_the_shift_and_is_positive(shift, seed):
    r = np.random.default_rng(seed)
    ref = pd.Series(r.normal(0, 1, 4000))
    small = psi(ref, pd.Series(r.normal(shift / 4, 1, 4000)))
    large = psi(ref, pd.Series(r.normal(shift, 1, 4000)))
    assert small >= 0 and large > small


def test_psi_sees_a_count_that_was_always_zero_start_moving():
    ref = pd.Series(np.zeros(1000))
    cur = pd.Series(np.r_[np.zeros(500), np.ones(500)])
    assert psi(ref, cur) > 1.0


def test_psi_by_hand_for_categories():
    ref = pd.Series(["a"] * 50 + ["b"] * 50)
    cur = pd.Series(["a"] * 80 + ["b"] * 20)
    want = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    assert psi(ref, cur) == pytest.approx(want, rel=1e-6)


def test_cohort_drift_warns_in_plain_words_only_when_a_input_moved():
    r = np.random.default_rng(0)
    ref = pd.DataFrame({"age_at_index": r.normal(35, 8, 3000), "n_da_all": r.poisson(2, 3000)})
    same = pd.DataFrame({"age_at_index": r.normal(35, 8, 800), "n_da_all": r.poisson(2, 800)})
    older = same.assign(age_at_index=same["age_at_index"] + 15)
    assert cohort_drift(ref, same, features=list(ref))["warning"] is None
    out = cohort_drift(ref, older, features=list(ref))
    assert out["inputs"][0]["column"] == "age_at_index" and out["n_inputs_shifted"] == 1
    assert "may no longer fit" in out["warning"] and "age_at_index" in out["warning"]


def test_cohort_drift_names_inputs_in_the_feature_dictionarys_words():
    """The coordinator's table and warning read the inputs' descriptions, not column names (a
    closing parenthesis is left out, capitals such as 'DA' kept)."""
    from riskmodel.refresh import feature_words

    spec = {
        "dictionary": {
            "days_since_first_da": {
                "description": "days since the first recorded DA incident (0 if this is the first)"
            },
            "n_da_all": {"description": "number of recorded DA incidents"},
        }
    }
    words = feature_words(spec)
    assert words == {
        "days_since_first_da": "Days since the first recorded DA incident",
        "n_da_all": "Number of recorded DA incidents",
    }
    r = np.random.default_rng(1)
    ref = pd.DataFrame(
        {"days_since_first_da": r.gamma(2, 200, 3000), "n_da_all": r.poisson(2, 3000)}
    )
    cur = ref.sample(800, random_state=1).assign(days_since_first_da=lambda d: d.iloc[:, 0] * 4)
    out = cohort_drift(ref, cur, features=list(ref), labels=words)
    assert [r["label"] for r in out["inputs"]][:1] == ["Days since the first recorded DA incident"]
    assert "days since the first recorded DA incident" in out["warning"]
    assert "days_since_first_da" not in out["warning"]


def test_person_bootstrap_keeps_a_persons_rows_together():
    person = np.array(["a", "a", "a", "b", "c", "c"])
    w = person_weights(person, n_boot=200, seed=1, stream="test")
    assert w.shape == (200, 6)
    assert (w[:, 0] == w[:, 1]).all() and (w[:, 1] == w[:, 2]).all() and (w[:, 4] == w[:, 5]).all()
    # three people drawn each time
    assert np.allclose(w[:, [0, 3, 4]].sum(axis=1), 3)


def test_gain_interval_counts_people_not_rows():
    """Each person's row written three times is the same evidence: the person bootstrap gives
    about the same interval (a row bootstrap would shrink it by about sqrt(3))."""
    r = np.random.default_rng(5)
    n = 800
    y = r.random(n) < 0.3
    p_a = np.clip(0.3 + 0.2 * (y - 0.3) + r.normal(0, 0.2, n), 0.01, 0.99)
    p_b = np.clip(p_a + r.normal(0, 0.1, n), 0.01, 0.99)
    one = paired_auc_gain(y, p_a, p_b, np.arange(n), n_boot=400, ci_level=0.95, seed=0)
    rep = np.repeat(np.arange(n), 3)
    three = paired_auc_gain(y[rep], p_a[rep], p_b[rep], rep, n_boot=400, ci_level=0.95, seed=0)
    width = one["gain_ci"][1] - one["gain_ci"][0]
    width3 = three["gain_ci"][1] - three["gain_ci"][0]
    assert three["gain"] == pytest.approx(one["gain"], abs=1e-12)
    assert 0.8 < width3 / width < 1.25
    assert three["n_people"] == n and three["n_rows"] == 3 * n


def test_identical_models_gain_nothing():
    r = np.random.default_rng(2)
    y = r.random(600) < 0.3
    p = r.random(600)
    g = paired_auc_gain(y, p, p, np.arange(600) // 2, n_boot=50, ci_level=0.95, seed=0)
    assert g["gain"] == 0 and g["gain_ci"] == [0.0, 0.0]


def test_calibration_slope_and_intercept_recover_a_known_miscalibration():
    # the training report's fit, which the calibration gate uses
    from riskmodel.models import calibration_fit as calibration_slope_intercept

    r = np.random.default_rng(3)
    true_logit = r.normal(-1, 1.2, 200_000)
    y = r.random(len(true_logit)) < 1 / (1 + np.exp(-true_logit))
    stated = 1 / (1 + np.exp(-(true_logit / 0.5)))  # logits twice as extreme: slope 0.5
    slope, _ = calibration_slope_intercept(y, stated)
    assert slope == pytest.approx(0.5, abs=0.02)
    shifted = 1 / (1 + np.exp(-(true_logit + 0.4)))  # too high by 0.4 on the log-odds
    _, intercept = calibration_slope_intercept(y, shifted)
    assert intercept == pytest.approx(-0.4, abs=0.03)


def _payload(ratios: dict[tuple[str, str, str], tuple[float, str]]) -> dict:
    out: dict = {"disparities": {}}
    for (attr, group, metric), (ratio, flag) in ratios.items():
        out["disparities"].setdefault(attr, {}).setdefault(group, {})[metric] = {
            "ratio": ratio,
            "flag": flag,
        }
    return out


def test_fairness_gate_blocks_new_and_worse_disparities_only():
    cfg = RefreshConfig(fairness_margin=0.1)
    champ = _payload(
        {
            ("sex", "female", "fpr"): (1.1, "within_band"),
            ("ethnicity", "black", "fpr"): (1.4, "inconclusive"),
            ("age_band", "16-24", "tpr"): (1.1, "within_band"),
        }
    )
    same = _payload(
        {
            ("sex", "female", "fpr"): (1.12, "within_band"),
            ("ethnicity", "black", "fpr"): (1.45, "inconclusive"),
            ("age_band", "16-24", "tpr"): (2.0, "flagged"),
        }
    )  # age: by design
    assert fairness_gate(champ, same, cfg).passed
    new = _payload({("sex", "female", "fpr"): (1.6, "flagged")})
    g = fairness_gate(champ, new, cfg)
    assert not g.passed and "newly flagged: sex = female, fpr" in g.reason
    worse = _payload({("ethnicity", "black", "fpr"): (1.4 * 1.2, "flagged")})
    g = fairness_gate(champ, worse, cfg)
    assert not g.passed and "worse beyond the margin: ethnicity = black" in g.reason
    maybe_chance = _payload({("ethnicity", "black", "fpr"): (1.4 * 1.2, "inconclusive")})
    assert fairness_gate(champ, maybe_chance, cfg).passed
    strict = RefreshConfig(fairness_exempt=())
    assert not fairness_gate(champ, same, strict).passed


def test_fairness_gate_judges_worsening_from_the_interval_not_a_noisy_estimate():
    """A small cell's ratio moving from 0.43 to 0.22 with an interval reaching 0.5 is not clearly
    worse (this blocked a refresh whose challenger was all but the champion); the same move with a
    tight interval is."""
    cfg = RefreshConfig(fairness_margin=0.1)
    champ = _payload({("area", "Tonbridge", "fpr"): (0.43, "flagged")})
    noisy = _payload({("area", "Tonbridge", "fpr"): (0.22, "flagged")})
    noisy["disparities"]["area"]["Tonbridge"]["fpr"]["ci"] = [0.08, 0.5]
    assert fairness_gate(champ, noisy, cfg).passed
    tight = _payload({("area", "Tonbridge", "fpr"): (0.22, "flagged")})
    tight["disparities"]["area"]["Tonbridge"]["fpr"]["ci"] = [0.18, 0.27]
    g = fairness_gate(champ, tight, cfg)
    assert not g.passed and "interval 0.18-0.27" in g.reason


def test_policy_gate_on_names_proxies_and_sensitive_inputs():
    cfg = RefreshConfig()
    base = ["n_da_all", "age_at_index", "mental_health"]
    assert policy_gate(base, base, [], cfg).passed
    assert not policy_gate(base, [*base, "ethnicity"], [], cfg).passed
    proxy = [{"input": "postcode_code", "attribute": "ethnicity", "group": "black", "auc": 0.9}]
    g = policy_gate(base, [*base, "postcode_code"], proxy, cfg)
    assert not g.passed and "postcode_code picks out ethnicity = black" in g.reason
    dropped = ["n_da_all", "age_at_index"]
    assert not policy_gate(base, dropped, [], cfg).passed
    assert policy_gate(base, dropped, [], RefreshConfig(allow_sensitive_change=True)).passed


def test_known_at_keeps_only_complete_outcomes_and_the_contract_names_rows():
    frame = pd.DataFrame(
        {
            "person_id": ["a", "b", "c"],
            "index_event_id": ["e1", "e2", "e3"],
            "index_date": pd.to_datetime(["2019-06-01", "2020-01-01", "2020-01-02"]),
            "n_da_all": [1, -2, 0],
            "reoffend_12m": [True, False, True],
        }
    )
    kept = known_at(frame, dt.date(2021, 1, 1))  # 2020-01-02 + 365 days is after the date
    assert list(kept["person_id"]) == ["a", "b"]
    spec = {"features": ["n_da_all"], "labels": ["reoffend_12m"]}
    problems = check_training_table(kept, spec, dt.date(2021, 1, 1))
    assert problems == ["n_da_all: negative count in 1 row(s), first row 1"]
    assert "outcome not yet complete" in " ".join(
        check_training_table(frame, spec, dt.date(2021, 1, 1))
    )


def _period(n_people: int, q: np.ndarray, seed: int) -> pd.DataFrame:
    r = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "person_id": np.arange(n_people).astype(str),
            "reoffend_12m": r.random(n_people) < q,
            "sex": r.choice(["female", "male"], n_people),
            "ethnicity": r.choice(["a", "b"], n_people),
        }
    )


def test_backtest_reads_calibration_in_the_large_from_recorded_over_predicted():
    """A model whose probabilities are the truth divided by 1.25 (what improved recording does
    to a frozen model) reads about 1.25 with an interval above 1; the truth itself reads about 1
    with an interval holding 1. The intercept moves the same way."""
    from riskmodel.refresh._backtest import _o_e_words, period_metrics

    r = np.random.default_rng(3)
    q = r.uniform(0.05, 0.6, 6000)
    rows = _period(6000, q, seed=4)
    under = period_metrics(rows, q / 1.25, n_boot=100, ci_level=0.95, seed=1)
    right = period_metrics(rows, q, n_boot=100, ci_level=0.95, seed=1)
    assert under["observed_to_expected"] == pytest.approx(1.25, abs=0.06)
    assert under["observed_to_expected_ci"][0] > 1.1
    lo, hi = right["observed_to_expected_ci"]
    assert lo < 1 < hi
    assert under["calibration_intercept"] > right["calibration_intercept"] + 0.15
    assert "more reoffending recorded than predicted" in _o_e_words(under)
    assert "no clear difference" in _o_e_words(right)
    assert under["observed_rate"] == pytest.approx(rows["reoffend_12m"].mean())


def test_paired_calibration_gap_sees_which_model_is_further_from_what_was_recorded():
    """Frozen at truth/1.25 (recorded/predicted about 1.25), gated at the truth (about 1): the
    frozen model is about 0.25 further from 1, with an interval above zero; a model against
    itself is exactly 0. The sign does not depend on which way the frozen model is wrong."""
    from riskmodel.refresh._backtest import paired_o_e_gap

    r = np.random.default_rng(5)
    q = r.uniform(0.05, 0.6, 6000)
    rows = _period(6000, q, seed=6)
    y, person = rows["reoffend_12m"].to_numpy(), rows["person_id"].to_numpy()
    kw = dict(n_boot=150, ci_level=0.95, seed=2)
    under = paired_o_e_gap(y, q / 1.25, q, person, **kw)
    assert under["o_e_distance_gap"] == pytest.approx(0.25, abs=0.06)
    assert under["o_e_distance_gap_ci"][0] > 0.15
    over = paired_o_e_gap(y, q * 1.25, q, person, **kw)  # recorded/predicted about 0.8
    assert over["o_e_distance_gap_ci"][0] > 0.1
    same = paired_o_e_gap(y, q, q, person, **kw)
    assert same["o_e_distance_gap"] == 0 and same["o_e_distance_gap_ci"] == [0.0, 0.0]
    backwards = paired_o_e_gap(y, q, q / 1.25, person, **kw)
    assert backwards["o_e_distance_gap_ci"][1] < -0.15


def test_paired_slope_gap_sees_which_model_spreads_risk_further_from_right():
    """Frozen with its log-odds stretched 1.5 times (probabilities too extreme: slope about
    1/1.5) or shrunk to 0.6 (too timid: slope about 1/0.6), gated at the truth (slope about 1):
    the frozen model is further from 1 by about 0.33 or 0.67, intervals above zero, whichever
    way it is wrong; a model against itself is exactly 0; swapped, the sign turns."""
    from scipy.special import expit, logit

    from riskmodel.refresh._backtest import paired_slope_gap

    r = np.random.default_rng(8)
    q = r.uniform(0.02, 0.95, 10000)  # a wide spread of risk, so a slope is well measured
    rows = _period(10000, q, seed=9)
    y, person = rows["reoffend_12m"].to_numpy(), rows["person_id"].to_numpy()
    kw = dict(n_boot=150, ci_level=0.95, seed=3)
    extreme, timid = expit(1.5 * logit(q)), expit(0.6 * logit(q))
    too_extreme = paired_slope_gap(y, extreme, q, person, **kw)
    assert too_extreme["slope_distance_gap"] == pytest.approx(1 - 1 / 1.5, abs=0.1)
    assert too_extreme["slope_distance_gap_ci"][0] > 0.15
    too_timid = paired_slope_gap(y, timid, q, person, **kw)
    assert too_timid["slope_distance_gap"] == pytest.approx(1 / 0.6 - 1, abs=0.15)
    assert too_timid["slope_distance_gap_ci"][0] > 0.3
    same = paired_slope_gap(y, q, q, person, **kw)
    assert same["slope_distance_gap"] == 0 and same["slope_distance_gap_ci"] == [0.0, 0.0]
    backwards = paired_slope_gap(y, q, extreme, person, **kw)
    assert backwards["slope_distance_gap_ci"][1] < -0.15


@given(lo=st.floats(-0.05, 0.05), width=st.floats(0, 0.05), margin=st.sampled_from([0.01, 0.03]))
def test_equivalence_needs_the_whole_interval_inside_the_margin(lo, width, margin):
    from riskmodel.evaluation import verdict
    from riskmodel.refresh._backtest import equivalence

    hi = lo + width
    words = equivalence(lo, hi, margin)
    if -margin < lo and hi < margin:
        assert words.startswith("equivalent")
    else:
        assert words == verdict(lo, hi)  # the one rule, never "equivalent"
    assert equivalence(None, None, margin) == "undefined"


def test_backtest_figure_draws_a_point_outside_its_own_interval():
    """A percentile interval need not hold its point (a largest ratio is biased upwards in
    resamples); the figure must still be drawn, not fail the whole backtest report."""
    from riskmodel.refresh._backtest import _figure

    df = pd.DataFrame(
        {
            "as_of": ["2020-01-01", "2021-01-01"] * 3,
            "policy": ["frozen"] * 2 + ["gated"] * 2 + ["ungated"] * 2,
            "largest_disparity": [1.30, 1.10, 1.2, 1.2, 1.2, 1.2],
            "largest_disparity_ci": [[1.32, 1.5], [1.0, 1.2]] + [[1.1, 1.3]] * 4,
        }
    )
    uri = _figure(df, "largest_disparity", "largest ratio")
    assert uri.startswith("data:image/png;base64,")

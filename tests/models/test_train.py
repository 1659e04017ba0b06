"""Training on a feature table: deterministic, learns real signal, invents none, honours config."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.models import fit_and_evaluate
from riskmodel.models._fit import ERR_PROTECTED_FEATURE
from tests.models.models_fixtures import fixture_experiment, make_feature_table

HEADS = ("reoffend", "severe")
METRICS = (
    "auc",
    "average_precision",
    "precision_top_k",
    "recall_top_k",
    "brier",
    "log_loss",
    "ece",
    "npr",
)
MODELS = ("model", "base_rate", "rfg", "logistic_age_priors", "logistic", "oracle")


@pytest.fixture(scope="module")
def trained(feature_table):
    frame, spec = feature_table
    return fit_and_evaluate(frame, spec, fixture_experiment())


def test_same_experiment_twice_gives_identical_metrics_and_predictions(feature_table, trained):
    frame, spec = feature_table
    again = fit_and_evaluate(frame, spec, fixture_experiment())
    assert again.metrics == trained.metrics
    pd.testing.assert_frame_equal(again.predictions, trained.predictions)
    for head in HEADS:
        assert (
            again.bundle.boosters[head].model_to_string()
            == trained.bundle.boosters[head].model_to_string()
        )


def test_a_different_seed_changes_the_bootstrap_not_the_point_estimates_much(
    feature_table, trained
):
    frame, spec = feature_table
    other = fit_and_evaluate(frame, spec, fixture_experiment(seed=8))
    assert (
        other.metrics["test.reoffend.auc_ci.model"] != trained.metrics["test.reoffend.auc_ci.model"]
    )
    assert other.metrics["test.reoffend.auc.model"] == pytest.approx(
        trained.metrics["test.reoffend.auc.model"], abs=0.03
    )


def test_model_learns_the_signal_and_stays_below_the_oracle(trained):
    m = trained.metrics
    lo, _ = m["test.reoffend.auc_ci.model"]
    assert lo > 0.6
    assert m["test.reoffend.auc.base_rate"] == 0.5
    assert m["test.reoffend.brier.model"] < m["test.reoffend.brier.base_rate"]
    assert m["test.reoffend.auc.oracle"] > m["test.reoffend.auc.model"]
    assert m["test.reoffend.precision_top_k.model"] > m["base_rate.test.reoffend"]
    # the oracle's AUC is an independent computation from the true probabilities
    from sklearn.metrics import roc_auc_score

    p = trained.predictions
    assert m["test.reoffend.auc.oracle"] == pytest.approx(
        roc_auc_score(p["reoffend_12m"], p["p_reoffend_true"])
    )


def test_no_signal_gives_no_skill():
    """Outcomes independent of every feature: any skill would mean leakage."""
    frame, spec = make_feature_table(n_people=1500, seed=3, signal=0.0)
    m = fit_and_evaluate(frame, spec, fixture_experiment(evaluation={"n_boot": 100})).metrics
    lo, hi = m["test.reoffend.auc_ci.model"]
    assert lo < 0.5 < hi or abs(m["test.reoffend.auc.model"] - 0.5) < 0.05
    assert abs(m["test.reoffend.auc.logistic"] - 0.5) < 0.07


def test_every_metric_key_is_present_with_its_interval(trained):
    m = trained.metrics
    for head in HEADS:
        for metric in METRICS:
            for model in MODELS:
                assert f"test.{head}.{metric}.{model}" in m
                ci = m[f"test.{head}.{metric}_ci.{model}"]
                assert len(ci) == 2
                assert f"validation.{head}.{metric}.{model}" in m
                assert f"person_disjoint.{head}.{metric}.{model}" in m
    for model in MODELS:
        assert f"test.severe.harm_share_top_k.{model}" in m
    assert m["test.reoffend.auc_gain.rfg"] == pytest.approx(
        m["test.reoffend.auc.model"] - m["test.reoffend.auc.rfg"]
    )
    assert m["n.test"] == len(trained.predictions)


def test_predictions_hold_the_test_rows_and_the_bundle_reproduces_them(feature_table, trained):
    frame, _ = feature_table
    p = trained.predictions
    assert set(frame.columns) <= set(p.columns)
    for col in (
        "p_reoffend",
        "p_severe",
        "score_rfg",
        "score_logistic",
        "score_oracle",
        "score_logistic_age_priors",
        "score_rfg_severe",
    ):
        assert col in p.columns
    dates = pd.to_datetime(p["index_date"])
    assert dates.min().isoformat()[:10] == trained.metrics["split.test_first_index_date"]
    for head in HEADS:
        np.testing.assert_array_equal(trained.bundle.predict(p, head), p[f"p_{head}"].to_numpy())
        assert ((p[f"p_{head}"] >= 0) & (p[f"p_{head}"] <= 1)).all()


def test_top_k_is_capacity_scaled_to_the_test_period(trained):
    p = trained.predictions
    # capacity 60 places per cohort of (test-period people / 1 year), applied to the test rows
    expected = round(60 * len(p) / p["person_id"].nunique())
    assert trained.k == expected == trained.metrics["top_k.k"]


def test_person_disjoint_scores_only_unseen_people(trained, feature_table):
    m = trained.metrics
    unseen = ~trained.split.seen_in_fitting
    assert m["person_disjoint.n"] == unseen.sum()
    from sklearn.metrics import roc_auc_score

    p = trained.predictions[unseen]
    assert m["person_disjoint.reoffend.auc.oracle"] == pytest.approx(
        roc_auc_score(p["reoffend_12m"], p["p_reoffend_true"])
    )


def test_protected_characteristic_as_feature_is_refused(feature_table):
    frame, spec = feature_table
    bad = {**spec, "features": [*spec["features"], "ethnicity"]}
    with pytest.raises(ValueError, match="protected characteristic") as err:
        fit_and_evaluate(frame, bad, fixture_experiment())
    assert str(err.value) == ERR_PROTECTED_FEATURE.format(cols="ethnicity")


def test_monotone_constraint_and_feature_exclusion(feature_table):
    frame, spec = feature_table
    exp = fixture_experiment(
        train={
            "reoffend": {
                "num_boost_round": 200,
                "early_stopping_rounds": 30,
                "monotone": {"n_da_all": 1, "age_at_index": -1},
            },
            "exclude_features": ["harm_*"],
        },
        evaluation={"n_boot": 0},
    )
    t = fit_and_evaluate(frame, spec, exp)
    assert "harm_da_all" not in t.bundle.feature_names
    assert t.metrics["features.excluded"] == ["harm_da_all"]
    rows = frame.iloc[:200]
    grid = []
    for prior in range(0, 15):
        grid.append(t.bundle.predict(rows.assign(n_da_all=prior), "reoffend", calibrated=False))
    assert (np.diff(np.vstack(grid), axis=0) >= -1e-12).all()
    ages = [
        t.bundle.predict(rows.assign(age_at_index=a), "reoffend", calibrated=False)
        for a in range(18, 80, 3)
    ]
    assert (np.diff(np.vstack(ages), axis=0) <= 1e-12).all()


def test_unknown_monotone_feature_is_named(feature_table):
    frame, spec = feature_table
    exp = fixture_experiment(train={"severe": {"monotone": {"nonexistent": 1}}})
    with pytest.raises(ValueError, match="'nonexistent', which is not a model feature"):
        fit_and_evaluate(frame, spec, exp)


def test_scale_pos_weight_uses_the_training_class_ratio(feature_table):
    frame, spec = feature_table
    exp = fixture_experiment(
        train={"severe": {"imbalance": "scale_pos_weight", "num_boost_round": 50}},
        evaluation={"n_boot": 0},
    )
    t = fit_and_evaluate(frame, spec, exp)
    y = frame["severe_12m"].iloc[t.split.train].to_numpy()
    assert t.heads["severe"].params["scale_pos_weight"] == pytest.approx((~y).sum() / y.sum())
    assert "scale_pos_weight" not in t.heads["reoffend"].params


def test_reserved_lightgbm_parameters_are_refused():
    with pytest.raises(Exception, match="set by riskmodel"):
        fixture_experiment(train={"reoffend": {"params": {"seed": 3}}})


def test_calibration_that_would_invert_a_ranking_falls_back_to_the_base_rate():
    from riskmodel.models._heads import fit_calibrator

    r = np.random.default_rng(0)
    p = r.random(2000)
    y = (r.random(2000) < 1 - p).astype(int)  # the score ranks the outcome backwards
    cal = fit_calibrator("platt", p, y)
    np.testing.assert_allclose(cal.apply(np.array([0.1, 0.5, 0.9])), y.mean())
    good = fit_calibrator("platt", p, 1 - y)
    assert good.a > 0


def test_logistic_design_does_not_extrapolate_beyond_the_training_range():
    from riskmodel.models._baselines import _Design

    train = pd.DataFrame(
        {"count": [0.0, 1.0, 3.0, 7.0, 60.0], "signed": [-2.0, 0.0, 1.0, 2.0, 3.0]}
    )
    d = _Design(["count", "signed"], {}).fit(train)
    assert d.log_.tolist() == [True, False]  # log(1 + x) only where training is never negative
    later = pd.DataFrame({"count": [60.0, 500.0, np.nan], "signed": [3.0, 40.0, np.nan]})
    Z = d.transform(later)
    np.testing.assert_allclose(Z[1], Z[0])  # clipped to the training maximum
    logged = np.log1p(train["count"])
    z_median = (np.log1p(3.0) - logged.mean()) / logged.std(ddof=0)
    assert Z[2, 0] == pytest.approx(z_median)  # missing -> training median (of log1p values)

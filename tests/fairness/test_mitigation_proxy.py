"""Mitigation table at the same number of places (per-group thresholds, fairlearn's
ThresholdOptimizer) and the proxy check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from riskmodel.fairness import FairnessConfig, audit_frame


def _gaps(y, pred, groups):
    tpr = [pred[(groups == g) & (y == 1)].mean() for g in np.unique(groups)]
    fpr = [pred[(groups == g) & (y == 0)].mean() for g in np.unique(groups)]
    return max(tpr) - min(tpr), max(fpr) - min(fpr)


def test_equalised_odds_reduces_error_rate_gap(make_population):
    # group b's score is inflated by 0.15 for the same true risk: a biased score
    df = make_population(5000, seed=4, score_shift={"b": 0.15})
    cfg = FairnessConfig(attributes=("group",), intersections=(), n_boot=50)
    out = audit_frame(
        df,
        score_col="score",
        label_col="true_outcome",
        group_cols=["group"],
        threshold=0.5,
        config=cfg,
    )
    mit = out["mitigation"]
    assert mit["available"] and mit["attribute"] == "group"
    rows = {r["option"]: r for r in mit["options"]}
    assert set(rows) == {
        "unconstrained",
        "equal_opportunity_same_places",
        "equal_selection_same_places",
        "equalized_odds_same_places",
    }
    # the unconstrained row is the rule itself, checked against a direct computation
    y = df.true_outcome.to_numpy()
    pred = (df.score >= 0.5).to_numpy()
    tpr_gap, fpr_gap = _gaps(y, pred, df.group.to_numpy())
    u = rows["unconstrained"]
    assert u["max_tpr_gap"] == pytest.approx(tpr_gap)
    assert u["max_fpr_gap"] == pytest.approx(fpr_gap)
    assert u["selection_rate"] == pytest.approx(pred.mean())
    assert mit["score_auc"] == pytest.approx(roc_auc_score(y, df.score))
    # like with like: every option fills the same number of places (fairlearn's at most that)
    assert mit["places"] == u["places"] == int(pred.sum())
    assert rows["equal_opportunity_same_places"]["places"] <= mit["places"]
    assert rows["equal_opportunity_same_places"]["places"] >= mit["places"] - 2
    assert rows["equal_selection_same_places"]["places"] == mit["places"]
    assert rows["equalized_odds_same_places"]["places"] == mit["places"]
    # per-group thresholds at the same places close most of the TPR gap of the biased score
    assert rows["equal_opportunity_same_places"]["max_tpr_gap"] < 0.25 * tpr_gap
    sel = rows["equal_selection_same_places"]["by_group"]
    assert sel["a"]["selection_rate"] == pytest.approx(sel["b"]["selection_rate"], abs=2e-3)
    assert (
        rows["equalized_odds_same_places"]["equalized_odds_difference"]
        < u["equalized_odds_difference"]
    )


@pytest.mark.parametrize("threshold", [0.55, 0.7, 0.85])
def test_equalised_odds_is_fitted_at_the_places_not_thinned_from_far_above(
    make_population, threshold
):
    # a scarce decision: fairlearn's own optimum would select far more than the places, and
    # thinning that at random would make its row a lottery; weighting brings it to the places
    df = make_population(4000, seed=7, score_shift={"b": 0.1})
    cfg = FairnessConfig(attributes=("group",), intersections=(), n_boot=20)
    mit = audit_frame(
        df,
        score_col="score",
        label_col="true_outcome",
        group_cols=["group"],
        threshold=threshold,
        config=cfg,
    )["mitigation"]
    places = int((df.score >= threshold).sum())
    assert mit["places"] == places
    # fitted at the places (within 5% and a few people before the last random adjustment),
    # not thinned from its own optimum far above them
    assert abs(mit["fairlearn_selected_before_thinning"] - places) <= 0.05 * places + 5
    rows = {r["option"]: r for r in mit["options"]}
    eo, u = rows["equalized_odds_same_places"], rows["unconstrained"]
    assert eo["places"] == places == mit["fairlearn_places_filled"]
    # at the same places, not a random draw: it still finds reoffenders far above the base rate
    base = df.true_outcome.mean()
    assert eo["ppv"] > base + 0.5 * (u["ppv"] - base)


def test_proxy_check_finds_the_proxy_and_not_noise():
    gen = np.random.default_rng(0)
    n = 3000
    eth = gen.choice(["x", "y", "z"], size=n)
    sex = gen.choice(["f", "m"], size=n)
    df = pd.DataFrame(
        {
            "ethnicity": eth,
            "sex": sex,
            "neighbourhood": np.where(eth == "x", 0.0, np.where(eth == "y", 1.0, 2.0))
            + gen.normal(0, 0.4, n),
            "priors": gen.poisson(2, n),
            "flag": gen.random(n) < 0.3,
            "y": gen.random(n) < 0.4,
            "score": gen.random(n),
        }
    )
    cfg = FairnessConfig(
        attributes=("ethnicity", "sex"),
        intersections=(),
        n_boot=20,
        mitigation=False,
        proxy_sample_n=2000,
    )
    out = audit_frame(
        df,
        score_col="score",
        label_col="y",
        group_cols=["ethnicity", "sex"],
        threshold=0.5,
        features=["neighbourhood", "priors", "flag"],
        config=cfg,
    )
    px = out["proxy"]
    assert px["available"] and px["sample_n"] == 2000
    e, s = px["attributes"]["ethnicity"], px["attributes"]["sex"]
    assert e["flagged"] and e["auc"] > 0.85
    assert e["top_features"][0]["feature"] == "neighbourhood"
    assert not s["flagged"] and abs(s["auc"] - 0.5) < 0.06


def test_mitigation_attribute_is_where_error_rates_differ_most(make_population):
    df = make_population(3000, seed=8, score_shift={"b": 0.2})
    df["noise"] = np.random.default_rng(1).choice(["u", "v"], size=len(df))
    cfg = FairnessConfig(attributes=("noise", "group"), intersections=(), n_boot=20)
    args = {
        "score_col": "score",
        "label_col": "true_outcome",
        "group_cols": ["noise", "group"],
        "threshold": 0.5,
    }
    assert audit_frame(df, config=cfg, **args)["mitigation"]["attribute"] == "group"
    chosen = cfg.model_copy(update={"mitigation_attribute": "noise"})
    assert audit_frame(df, config=chosen, **args)["mitigation"]["attribute"] == "noise"
    wrong = cfg.model_copy(update={"mitigation_attribute": "religion"})
    with pytest.raises(ValueError, match="'religion' is not one of the audited attributes"):
        audit_frame(df, config=wrong, **args)


def test_proxy_check_does_not_depend_on_the_number_of_threads(monkeypatch):
    """The fits run on a thread per core; every random draw is made before them, so one thread
    and four give the same figures (a draw made inside a fit would make them differ)."""
    from riskmodel.fairness import _proxy

    gen = np.random.default_rng(1)
    n = 1500
    df = pd.DataFrame(
        {
            "ethnicity": gen.choice(["x", "y", "z", "w"], size=n),
            "sex": gen.choice(["f", "m"], size=n),
            "a": gen.normal(size=n),
            "b": gen.poisson(2, n),
        }
    )
    df["a"] += (df["ethnicity"] == "x") * 1.5
    kw = dict(
        attributes=["ethnicity", "sex"],
        features=["a", "b"],
        threshold=0.6,
        sample_n=1200,
        top_n=2,
        seed=7,
    )
    runs = []
    for cpus in (1, 4):
        monkeypatch.setattr(_proxy.os, "cpu_count", lambda c=cpus: c)
        runs.append(_proxy.proxy_check(df, **kw))
    assert runs[0] == runs[1]
    assert list(runs[0]["attributes"]) == ["ethnicity", "sex"]
    assert runs[0]["attributes"]["ethnicity"]["flagged"]

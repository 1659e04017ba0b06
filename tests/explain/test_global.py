"""Global SHAP summaries: importance, group means of |SHAP|, and the group-difference flags."""

from __future__ import annotations

import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import shap

from riskmodel.explain import ERR_SAMPLE, FLAG_RATIO, global_importance
from riskmodel.models import ModelBundle


def _tree_shap(bundle: ModelBundle, frame: pd.DataFrame, head: str = "reoffend") -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(
            shap.TreeExplainer(bundle.boosters[head]).shap_values(bundle.prepare(frame))
        )


def test_importance_and_group_means_match_an_independent_computation(bundle, test_frame):
    frame = test_frame.iloc[:500]
    g = global_importance(bundle, frame, sample=10_000, seed=3, min_group_n=30)
    assert g["n_sample"] == 500  # sample larger than the frame: every row
    values = _tree_shap(bundle, frame)
    mean_abs = pd.Series(np.abs(values).mean(axis=0), index=bundle.feature_names)
    ranked = [f["feature"] for f in g["features"]]
    assert ranked == list(mean_abs.sort_values(ascending=False, kind="stable").index)
    for f in g["features"]:
        assert f["mean_abs_shap"] == pytest.approx(mean_abs[f["feature"]], abs=1e-12)
    assert sum(f["share"] for f in g["features"]) == pytest.approx(1.0)
    assert g["additivity_max_abs_error"] < 1e-6
    # mean |SHAP| by sex, by pandas
    by_sex = pd.DataFrame(np.abs(values), columns=bundle.feature_names).groupby(
        frame["sex"].to_numpy()
    )
    expected = by_sex.mean()
    for group, cell in g["by_group"]["sex"]["groups"].items():
        assert cell["n"] == int(by_sex.size()[group])
        for f in bundle.feature_names:
            assert cell["mean_abs_shap"][f] == pytest.approx(expected.loc[group, f], abs=1e-12)
    assert set(g["by_group"]) == {"sex", "ethnicity", "age_band", "area", "disability"}


def test_sample_is_a_seeded_subset(bundle, test_frame):
    a = global_importance(bundle, test_frame, sample=200, seed=1)
    b = global_importance(bundle, test_frame, sample=200, seed=1)
    c = global_importance(bundle, test_frame, sample=200, seed=2)
    assert a == b
    assert a["n_sample"] == 200 and a["n_rows"] == len(test_frame)
    assert a["features"] != c["features"]
    with pytest.raises(ValueError, match=ERR_SAMPLE.format(sample=0)):
        global_importance(bundle, test_frame, sample=0)


def test_a_feature_that_acts_only_in_one_group_is_flagged_and_others_are_not():
    r = np.random.default_rng(11)
    n = 4000
    group = np.where(r.random(n) < 0.5, "a", "b")
    # `history` moves risk only where `order_type` (a proxy of the group) is 1; `recent` acts
    # alike in both groups
    history = r.normal(0, 1, n)
    order_type = (group == "b").astype(float)
    recent = r.poisson(1, n).astype(float)
    logit = -1 + 1.5 * history * order_type + 0.8 * recent
    y = (r.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    df = pd.DataFrame(
        {"history": history, "order_type": order_type, "recent": recent, "sex": group}
    )
    b = ModelBundle(
        boosters={},
        calibrators={},
        feature_names=["history", "order_type", "recent"],
        feature_spec={"audit": ["sex"]},
    )
    params = {"objective": "binary", "verbose": -1, "num_leaves": 7, "seed": 0, "num_threads": 1}
    b.boosters["reoffend"] = lgb.train(params, lgb.Dataset(df[b.feature_names], y), 30)
    g = global_importance(b, df, sample=2000, seed=0)
    flagged = {(f["attribute"], f["feature"]) for f in g["group_flags"]}
    assert ("sex", "history") in flagged
    assert ("sex", "recent") not in flagged
    flag = next(f for f in g["group_flags"] if f["feature"] == "history")
    assert flag["highest_group"] == "b"
    assert flag["ratio"] is None or flag["ratio"] >= FLAG_RATIO

"""Reason codes: exact TreeSHAP contributions, only risk-raising factors, readable sentences."""

from __future__ import annotations

import itertools
import math
import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import shap
from hypothesis import given
from hypothesis import strategies as st

from riskmodel.explain import ERR_HEAD, ERR_K, ERR_TEMPLATE, reason_codes
from riskmodel.models import ModelBundle
from tests.explain.explain_fixtures import CATEGORICAL, DICTIONARY, FEATURES

K = 3


def _shap(bundle: ModelBundle, frame: pd.DataFrame, head: str = "reoffend"):
    X = bundle.prepare(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.TreeExplainer(bundle.boosters[head])
        values = np.asarray(explainer.shap_values(X))
    return values, float(np.ravel(explainer.expected_value)[-1])


def _reason_arrays(rc: pd.DataFrame, k: int = K):
    feats = rc[[f"reason_feature_{i}" for i in range(1, k + 1)]].to_numpy()
    contrib = rc[[f"reason_contribution_{i}" for i in range(1, k + 1)]].to_numpy(dtype=float)
    return feats, contrib


def _family(feature: str) -> str:
    """The fixture's families, written out: the two DA incident counts are one."""
    return "da_incidents" if feature.startswith("da_incidents_") else feature


_ABSENT = {  # the fixture's presence features and the value that means "none"
    "da_incidents_90d": 0.0,
    "da_incidents_5y": 0.0,
    "harm_days_5y": 0.0,
    "prior_victims": 0.0,
    "breach_of_order": 0.0,
    "days_since_last_da": float("nan"),
}


def _is_absent(feature: str, value) -> bool:
    if feature not in _ABSENT:
        return False
    if feature == "days_since_last_da":
        return value is None or bool(np.isnan(value))
    return float(value) == 0


def _presence_raises(bundle, frame: pd.DataFrame, row: int, feature: str) -> bool:
    """Does the booster's score fall when the whole family is set to "none"?"""
    X = bundle.prepare(frame.iloc[[row]])
    raw = bundle.boosters["reoffend"].predict(X, raw_score=True)[0]
    for f in FEATURES:
        if _family(f) == _family(feature):
            X[f] = X[f].astype(float)
            X[f] = _ABSENT[f]
    return bundle.boosters["reoffend"].predict(X, raw_score=True)[0] < raw


def _expected_reasons(bundle, frame: pd.DataFrame, values: np.ndarray, r: int):
    """Families by summed SHAP, strongest member's name, presence checked: the top K."""
    sums: dict[str, float] = {}
    best: dict[str, tuple[float, str]] = {}
    for j, f in enumerate(FEATURES):
        fam = _family(f)
        sums[fam] = sums.get(fam, 0.0) + values[r, j]
        if fam not in best or values[r, j] > best[fam][0]:
            best[fam] = (values[r, j], f)
    out = []
    for fam in sorted(sums, key=lambda x: -sums[x]):
        phi, f = best[fam]
        if sums[fam] <= 0 or phi <= 0:
            continue
        value = frame[f].iloc[r]
        presence = f in _ABSENT and not _is_absent(f, value)
        if presence and not _presence_raises(bundle, frame, r, f):
            continue
        out.append((f, sums[fam]))
    return out[:K]


@pytest.mark.parametrize("duplicated", [False, True], ids=["distinct rows", "repeated rows"])
def test_reasons_are_families_ranked_by_summed_shap_with_presence_checked(
    bundle, test_frame, duplicated
):
    frame = test_frame.iloc[:150]
    if duplicated:  # repeated people exercise the compute-once-per-distinct-row path
        frame = pd.concat([frame.iloc[:30]] * 5).sample(frac=1.0, random_state=0)
    rc = reason_codes(bundle, frame, head="reoffend", k=K)
    values, _ = _shap(bundle, frame)
    feats, contrib = _reason_arrays(rc)
    for r in range(len(frame)):
        expected = _expected_reasons(bundle, frame, values, r)
        got = [(f, c) for f, c in zip(feats[r], contrib[r], strict=True) if f]
        assert len(got) == len(expected)
        np.testing.assert_allclose(
            [c for _f, c in got], [c for _f, c in expected], rtol=0, atol=1e-9
        )
        if len({round(c, 12) for _f, c in expected}) == len(expected):  # no ties
            assert [f for f, _c in got] == [f for f, _c in expected]


def test_shap_values_plus_expected_value_equal_raw_score(bundle, test_frame):
    for head in ("reoffend", "severe"):
        values, expected = _shap(bundle, test_frame, head)
        np.testing.assert_allclose(
            values.sum(axis=1) + expected, bundle.raw_score(test_frame, head), rtol=0, atol=1e-6
        )


def test_only_raising_factors_and_never_a_made_up_reason(bundle, test_frame):
    rc = reason_codes(bundle, test_frame, k=K)
    feats, contrib = _reason_arrays(rc)
    assert np.all(contrib[feats != ""] > 0)
    assert np.all(np.isnan(contrib[feats == ""]))
    sentences = rc[[f"reason_{i}" for i in range(1, K + 1)]].to_numpy()
    np.testing.assert_array_equal(sentences == "", feats == "")
    # empty slots come last; contributions fall; one reason per family
    for row, c in zip(feats, contrib, strict=True):
        filled = [f != "" for f in row]
        assert filled == sorted(filled, reverse=True)
        used = [x for x in c if not np.isnan(x)]
        assert used == sorted(used, reverse=True)
        fams = [_family(f) for f in row if f]
        assert len(fams) == len(set(fams))


def test_index_is_aligned_and_k_can_exceed_the_number_of_features(bundle, test_frame):
    frame = test_frame.iloc[:40].copy()
    frame.index = pd.Index(np.arange(1000, 1040)[::-1], name="row")
    rc = reason_codes(bundle, frame, k=len(FEATURES) + 2)
    assert rc.index.equals(frame.index)
    straight = reason_codes(bundle, frame.reset_index(drop=True), k=len(FEATURES) + 2)
    pd.testing.assert_frame_equal(rc.reset_index(drop=True), straight)
    assert (rc[f"reason_feature_{len(FEATURES) + 1}"] == "").all()


def test_errors_are_clear(bundle, test_frame):
    with pytest.raises(ValueError, match="unknown head 'violence'"):
        reason_codes(bundle, test_frame.iloc[:5], head="violence")
    assert ERR_HEAD.startswith("unknown head")
    with pytest.raises(ValueError, match=ERR_K.format(k=0)):
        reason_codes(bundle, test_frame.iloc[:5], k=0)


# --- an independent reference: exact path-dependent Shapley values by enumeration -------------
def _value(node: dict, x: np.ndarray, S: frozenset) -> float:
    """E[f(x) | x_S] for one tree, weighting unknown branches by training counts (TreeSHAP's
    tree-path-dependent value function)."""
    if "leaf_value" in node:
        return node["leaf_value"]
    f = node["split_feature"]
    left, right = node["left_child"], node["right_child"]
    if f in S:
        return _value(left if x[f] <= node["threshold"] else right, x, S)

    def count(n: dict) -> int:
        return n["leaf_count"] if "leaf_value" in n else n["internal_count"]

    total = count(left) + count(right)
    return (count(left) * _value(left, x, S) + count(right) * _value(right, x, S)) / total


def _brute_force_shapley(booster: lgb.Booster, X: np.ndarray) -> np.ndarray:
    trees = [t["tree_structure"] for t in booster.dump_model()["tree_info"]]
    p = X.shape[1]
    out = np.zeros((len(X), p))
    for r, x in enumerate(X):
        v = {
            S: sum(_value(t, x, S) for t in trees)
            for size in range(p + 1)
            for S in map(frozenset, itertools.combinations(range(p), size))
        }
        for i in range(p):
            for S, vs in v.items():
                if i in S:
                    continue
                w = math.factorial(len(S)) * math.factorial(p - len(S) - 1) / math.factorial(p)
                out[r, i] += w * (v[S | {i}] - vs)
    return out


def test_reasons_match_brute_force_shapley_values_on_a_tiny_model():
    r = np.random.default_rng(5)
    n = 800
    df = pd.DataFrame(
        {
            "priors": r.poisson(2, n).astype(float),
            "recent": r.poisson(0.5, n).astype(float),
            "age": r.uniform(16, 70, n).round(),
            "harm": r.gamma(2, 20, n).round(),
        }
    )
    y = (r.random(n) < 1 / (1 + np.exp(-(0.6 * df.priors + df.recent - 0.04 * df.age)))).astype(int)
    dictionary = {
        "priors": {
            "description": "prior offences",
            "reason": "{value:.0f} prior offences",
            "unit": "count",
        },
        "recent": {
            "description": "recent incidents",
            "reason": "{value:.0f} recent incidents",
            "unit": "count",
        },
        "age": {"description": "age", "reason": "aged {value:.0f}", "unit": "years"},
        "harm": {"description": "harm", "reason": "{value:.0f} harm days", "unit": "harm_days"},
    }
    b = ModelBundle(
        boosters={},
        calibrators={},
        feature_names=list(df.columns),
        feature_spec={"dictionary": dictionary},
    )
    params = {
        "objective": "binary",
        "verbose": -1,
        "num_leaves": 6,
        "max_depth": 3,
        "seed": 1,
        "min_data_in_leaf": 20,
        "num_threads": 1,
    }
    b.boosters["reoffend"] = lgb.train(params, lgb.Dataset(df, y), num_boost_round=6)
    rows = df.iloc[:25]
    reference = _brute_force_shapley(b.boosters["reoffend"], rows.to_numpy())
    rc = reason_codes(b, rows, k=2)
    feats, contrib = _reason_arrays(rc, 2)
    names = list(df.columns)
    for i in range(len(rows)):
        ref = reference[i]
        top = np.sort(ref[ref > 0])[::-1][:2]
        np.testing.assert_allclose(contrib[i][~np.isnan(contrib[i])], top, atol=1e-9)
        for f, c in zip(feats[i], contrib[i], strict=True):
            if f:
                assert ref[names.index(f)] == pytest.approx(c, abs=1e-9)


# --- sentences ----------------------------------------------------------------------------------
def _n(v: float) -> str:
    return f"{v:.0f}"


def _plural(shown: str, one: str, many: str) -> str:
    return one if shown == "1" else many


def _expected_sentence(feature: str, value) -> str:
    """The sentence a reader should see, written out per feature from the fixture dictionary."""
    missing = value is None or (isinstance(value, float) and np.isnan(value))
    label = {"rfg_score": "RFG score"}.get(feature) or (
        DICTIONARY[feature]["description"][0].upper() + DICTIONARY[feature]["description"][1:]
    )
    if feature == "days_since_last_da" and missing:
        return "No previous recorded DA incident"
    if missing:
        return f"{label}: not recorded"
    if feature in ("da_incidents_90d", "da_incidents_5y") and value == 0:
        span = "90 days" if feature.endswith("90d") else "5 years"
        return f"No recorded DA incidents in the last {span}"
    if feature == "harm_days_5y" and value == 0:
        return "No recorded harm in the last 5 years"
    if feature == "prior_victims" and value == 0:
        return "No victims recorded"
    if feature in ("da_incidents_90d", "da_incidents_5y"):
        s = _n(value)
        span = "90 days" if feature.endswith("90d") else "5 years"
        return f"{s} recorded DA {_plural(s, 'incident', 'incidents')} in the last {span}"
    if feature == "days_since_last_da":
        s = f"{value:,.0f}"
        return f"A previous recorded DA incident ({s} {_plural(s, 'day', 'days')} before this one)"
    if feature == "age_at_index":
        return f"Aged {_n(value)} at the index event"
    if feature == "harm_days_5y":
        s = f"{value:,.0f}"
        return f"Recorded harm of {s} {_plural(s, 'harm day', 'harm days')} in the last 5 years"
    if feature == "prior_victims":
        s = _n(value)
        return f"{s} different {_plural(s, 'victim', 'victims')} recorded"
    if feature == "breach_of_order":
        return "Has breached a protective order" if value else "Has not breached a protective order"
    if feature == "relationship":
        if value in CATEGORICAL["relationship"]:
            return f"Relationship to the victim at the index event: {value.replace('_', ' ')}"
        return (
            f"Relationship to the victim at the index event: {value} "
            "(a value not seen in training, treated as not recorded)"
        )
    if feature == "rfg_score":
        return (
            f"RFG score: {value:,.0f}" if float(value).is_integer() else f"RFG score: {value:,.1f}"
        )
    raise AssertionError(feature)


_maybe_nan = st.one_of(st.just(float("nan")), st.integers(1, 4000).map(float))
_row = st.fixed_dictionaries(
    {
        "da_incidents_90d": st.integers(0, 9),
        "da_incidents_5y": st.integers(0, 45),
        "days_since_last_da": _maybe_nan,
        "age_at_index": st.floats(16, 90, allow_nan=False),
        "harm_days_5y": st.floats(0, 9000, allow_nan=False),
        "prior_victims": st.integers(0, 6),
        "breach_of_order": st.booleans(),
        "relationship": st.sampled_from([*CATEGORICAL["relationship"], None, "stranger"]),
        "rfg_score": st.one_of(st.just(float("nan")), st.floats(0, 40, allow_nan=False)),
    }
)


@given(rows=st.lists(_row, min_size=1, max_size=12))
def test_sentences_are_readable_and_carry_the_persons_value(bundle, rows):
    frame = pd.DataFrame(rows)
    frame["days_since_last_da"] = frame["days_since_last_da"].astype(float)
    frame["rfg_score"] = frame["rfg_score"].astype(float)
    frame["breach_of_order"] = frame["breach_of_order"].astype(bool)
    frame["relationship"] = frame["relationship"].astype("object")
    rc = reason_codes(bundle, frame, k=K)
    for r in range(len(frame)):
        for i in range(1, K + 1):
            sentence = rc[f"reason_{i}"].iloc[r]
            feature = rc[f"reason_feature_{i}"].iloc[r]
            if not feature:
                assert sentence == ""
                continue
            assert rc[f"reason_contribution_{i}"].iloc[r] > 0
            for bad in ("nan", "None", "{", "}", "_"):
                assert bad not in sentence, sentence
            assert sentence == _expected_sentence(feature, frame[feature].iloc[r])


def test_template_with_a_foreign_field_is_refused(bundle, test_frame):
    spec = {
        **bundle.feature_spec,
        "dictionary": {
            **DICTIONARY,
            "da_incidents_5y": {**DICTIONARY["da_incidents_5y"], "reason": "{value} in {window}"},
        },
    }
    b = ModelBundle(
        boosters=bundle.boosters,
        calibrators=bundle.calibrators,
        feature_names=bundle.feature_names,
        categorical_levels=bundle.categorical_levels,
        feature_spec=spec,
    )
    with pytest.raises(ValueError, match="at most one field"):
        reason_codes(b, test_frame.iloc[:5])
    assert "{value}" in ERR_TEMPLATE.format(template="x")


def test_hand_worked_sentences_agree_in_number_and_drop_asides():
    r = np.random.default_rng(2)
    n = 3000
    df = pd.DataFrame(
        {"n_nonda_violence_90d": r.poisson(0.2, n), "n_coercive_control_90d": r.poisson(0.2, n)}
    )
    logit = -1 + 0.9 * df["n_nonda_violence_90d"] + 0.9 * df["n_coercive_control_90d"]
    y = (r.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    dictionary = {
        "n_nonda_violence_90d": {
            "description": "number of recorded violent offences that were not DA (any victim)",
            "reason": "{value:.0f} recorded violent offences that were not DA in the last 90 days",
            "unit": "count",
        },
        "n_coercive_control_90d": {
            "description": "number of coercive control offences; counted at the index event",
            "reason": "{value:.0f} recorded coercive or controlling behaviour offences in the "
            "last 90 days",
            "unit": "count",
        },
    }
    b = ModelBundle(
        boosters={},
        calibrators={},
        feature_names=list(df.columns),
        feature_spec={"dictionary": dictionary},
    )
    params = {"objective": "binary", "verbose": -1, "num_leaves": 4, "seed": 0, "num_threads": 1}
    b.boosters["reoffend"] = lgb.train(params, lgb.Dataset(df, y), num_boost_round=10)
    people = pd.DataFrame(
        {"n_nonda_violence_90d": [1.0, 3.0, np.nan], "n_coercive_control_90d": [1, 2, 1]}
    )
    rc = reason_codes(b, people, k=2)
    got = [set(rc.loc[i, ["reason_1", "reason_2"]]) - {""} for i in range(3)]
    assert got[0] == {
        "1 recorded violent offence that was not DA in the last 90 days",
        "1 recorded coercive or controlling behaviour offence in the last 90 days",
    }
    assert got[1] == {
        "3 recorded violent offences that were not DA in the last 90 days",
        "2 recorded coercive or controlling behaviour offences in the last 90 days",
    }
    # a missing count, if it raises risk at all, is named by the description without its aside
    assert got[2] <= {
        "Number of recorded violent offences that were not DA: not recorded",
        "1 recorded coercive or controlling behaviour offence in the last 90 days",
    }

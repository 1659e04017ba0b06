"""The eligibility rule against a hand-worked example and a brute-force reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskmodel.eligibility import ERR_RULE_PROB, EligibilityConfig, apply_eligibility_rule
from tests.eligibility.reference import reference


def test_hand_worked_example():
    df = pd.DataFrame(
        {
            "person_id": ["c", "b", "a", "d", "e", "f", "g"],
            "p_reoffend": [0.50, 0.50, 0.50, 0.90, 0.20, 0.70, 0.35],
            "p_severe": [0.05, 0.02, 0.05, 0.10, 0.01, 0.099, 0.0],
            "area": ["X", "X", "Y", "X", "Y", "Y", "X"],
        },
        index=[10, 11, 12, 13, 14, 15, 16],
    )
    rule = EligibilityConfig(reoffend_threshold=0.35, severe_threshold=0.1, capacity=3)
    out = apply_eligibility_rule(df, rule=rule)
    # f (0.70) first; then the three 0.50s: b (lower severe) before a and c (same severe: by id)
    assert out["rank"].tolist() == [pd.NA, 2, 3, pd.NA, pd.NA, 1, pd.NA]
    assert out["outcome"].tolist() == [
        "over_capacity",
        "listed",
        "listed",
        "excluded_high_harm",  # p_severe exactly at the threshold is excluded
        "below_reoffend_threshold",
        "listed",
        "over_capacity",  # exactly at the reoffend threshold is a candidate
    ]
    assert out["excluded_high_harm"].tolist() == [False, False, False, True, False, False, False]
    assert out["eligible"].tolist() == [False, True, True, False, False, True, False]
    assert out["band"].tolist() == [
        "higher",
        "higher",
        "higher",
        "higher",
        "lower",
        "higher",
        "moderate",
    ]
    assert list(out.index) == list(df.index)
    assert "rank" not in df.columns  # pure: the input is untouched

    per_area = EligibilityConfig(
        reoffend_threshold=0.35, severe_threshold=0.1, capacity=10, capacity_per_area={"Y": 1}
    )
    out = apply_eligibility_rule(df, rule=per_area)
    # Y: f then a; only f gets Y's one place. X is uncapped: b, c, g
    assert out.set_index("person_id")["outcome"].to_dict() == {
        "c": "listed",
        "b": "listed",
        "a": "over_area_capacity",
        "d": "excluded_high_harm",
        "e": "below_reoffend_threshold",
        "f": "listed",
        "g": "listed",
    }
    assert out.set_index("person_id")["rank"].dropna().astype(int).to_dict() == {
        "f": 1,
        "b": 2,
        "c": 3,
        "g": 4,
    }


def test_tie_break_column_comes_before_severity_and_id():
    df = pd.DataFrame(
        {
            "person_id": ["a", "b", "c", "d"],
            "p_reoffend": [0.6, 0.6, 0.6, 0.7],
            "raw": [0.52, 0.55, 0.55, 0.1],
            "p_severe": [0.01, 0.05, 0.02, 0.09],
        }
    )
    rule = EligibilityConfig(reoffend_threshold=0.5, capacity=10)
    out = apply_eligibility_rule(df, rule=rule, tie_break_col="raw")
    assert out.set_index("person_id")["rank"].astype(int).to_dict() == {
        "d": 1,
        "c": 2,
        "b": 3,
        "a": 4,
    }
    plain = apply_eligibility_rule(df, rule=rule)
    assert plain.set_index("person_id")["rank"].astype(int).to_dict() == {
        "d": 1,
        "a": 2,
        "c": 3,
        "b": 4,
    }


def test_top_n_without_threshold_and_zero_area_capacity():
    df = pd.DataFrame(
        {
            "person_id": ["p1", "p2", "p3", "p4"],
            "p_reoffend": [0.01, 0.02, 0.03, 0.04],
            "p_severe": [0.0, 0.0, 0.0, 0.0],
            "area": ["A", "B", "A", None],
        }
    )
    rule = EligibilityConfig(reoffend_threshold=None, capacity=2, capacity_per_area={"B": 0})
    out = apply_eligibility_rule(df, rule=rule).set_index("person_id")
    assert out["outcome"].to_dict() == {
        "p4": "listed",
        "p3": "listed",
        "p2": "over_area_capacity",
        "p1": "over_capacity",
    }
    assert out.loc["p4", "band"] == "lower"


def test_missing_or_bad_probabilities_are_refused():
    df = pd.DataFrame(
        {"person_id": ["a", "b"], "p_reoffend": [0.2, np.nan], "p_severe": [0.1, 0.1]}
    )
    with pytest.raises(ValueError, match="p_reoffend"):
        apply_eligibility_rule(df, rule=EligibilityConfig())
    df = pd.DataFrame({"person_id": ["a"], "p_reoffend": [0.2], "p_severe": [1.5]})
    with pytest.raises(ValueError) as info:
        apply_eligibility_rule(df, rule=EligibilityConfig())
    assert str(info.value) == ERR_RULE_PROB.format(col="p_severe", n=1)
    with pytest.raises(KeyError, match="area"):
        apply_eligibility_rule(
            pd.DataFrame({"person_id": ["a"], "p_reoffend": [0.5], "p_severe": [0.0]}),
            rule=EligibilityConfig(capacity_per_area={"X": 1}),
        )


def test_rule_config_refuses_incoherent_settings():
    with pytest.raises(ValueError, match="reoffend_threshold, a capacity"):
        EligibilityConfig(reoffend_threshold=None, capacity=None)
    with pytest.raises(ValueError, match="band_moderate_from"):
        EligibilityConfig(band_moderate_from=0.6, band_higher_from=0.5)
    with pytest.raises(ValueError, match="places must be"):
        EligibilityConfig(capacity_per_area={"Thanet": -1})
    with pytest.raises(ValueError):
        EligibilityConfig(severe_treshold=0.2)  # typo: unknown keys refused


# probabilities on a coarse grid so that ties are common
probs = st.sampled_from([0.0, 0.05, 0.1, 0.2, 0.3, 0.35, 0.5, 0.5, 0.7, 0.95, 1.0])


@st.composite
def scored_people(draw):
    n = draw(st.integers(0, 60))
    ids = draw(
        st.lists(st.text("abcxyz019", min_size=1, max_size=4), min_size=n, max_size=n, unique=True)
    )
    return pd.DataFrame(
        {
            "person_id": pd.Series(ids, dtype="str"),
            "p_reoffend": draw(st.lists(probs, min_size=n, max_size=n)),
            "p_severe": draw(st.lists(probs, min_size=n, max_size=n)),
            "raw": draw(st.lists(probs, min_size=n, max_size=n)),
            "area": pd.Series(
                draw(st.lists(st.sampled_from("ABC"), min_size=n, max_size=n)), dtype="str"
            ),
        }
    )


rules = (
    st.fixed_dictionaries(
        {
            "reoffend_threshold": st.one_of(st.none(), probs),
            "severe_threshold": st.sampled_from([0.05, 0.1, 0.3, 0.5, 1.0]),
            "capacity": st.one_of(st.just(None), st.integers(1, 70)),
            "capacity_per_area": st.one_of(
                st.none(), st.dictionaries(st.sampled_from("ABD"), st.integers(0, 10), max_size=3)
            ),
            "area_capacity_default": st.one_of(st.none(), st.integers(0, 10)),
        }
    )
    .filter(lambda d: d["reoffend_threshold"] is not None or d["capacity"] is not None)
    .map(lambda d: EligibilityConfig(**d))
)


@given(scored_people(), rules, st.booleans(), st.randoms(use_true_random=False))
def test_rule_matches_brute_force_and_keeps_its_promises(df, rule, use_tie, rnd):
    tie = "raw" if use_tie else None
    out = apply_eligibility_rule(df, rule=rule, tie_break_col=tie)
    ref = reference(df.to_dict("records"), rule, tie=tie)
    got = {
        pid: (o, None if pd.isna(r) else int(r))
        for pid, o, r in zip(out["person_id"], out["outcome"], out["rank"], strict=True)
    }
    assert got == ref
    listed = out[out["eligible"]]
    # counts conserved: everyone has exactly one outcome
    assert len(out) == len(df)
    assert (
        out["outcome"]
        .isin(
            [
                "listed",
                "excluded_high_harm",
                "below_reoffend_threshold",
                "over_area_capacity",
                "over_capacity",
            ]
        )
        .all()
    )
    # nobody at or above the severe threshold is ever listed
    assert (listed["p_severe"] < rule.severe_threshold).all()
    assert (out["excluded_high_harm"] == (out["p_severe"] >= rule.severe_threshold)).all()
    # capacity respected, overall and per area; ranks are 1..n
    if rule.capacity is not None:
        assert len(listed) <= rule.capacity
    for area, k in listed["area"].value_counts().items():
        cap = (rule.capacity_per_area or {}).get(area, rule.area_capacity_default)
        assert cap is None or k <= cap
    assert sorted(listed["rank"].astype(int)) == list(range(1, len(listed) + 1))
    # a shuffled input gives every person the same outcome and rank
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    again = apply_eligibility_rule(df.iloc[perm], rule=rule, tie_break_col=tie)
    again = again.set_index("person_id")
    pd.testing.assert_series_equal(
        again["rank"].sort_index(), out.set_index("person_id")["rank"].sort_index()
    )


def test_rank_order_follows_probabilities():
    r = np.random.default_rng(0)
    n = 500
    df = pd.DataFrame(
        {
            "person_id": [f"{i:04d}" for i in range(n)],
            "p_reoffend": r.random(n).round(2),
            "p_severe": r.random(n).round(2) * 0.2,
        }
    )
    out = apply_eligibility_rule(df, rule=EligibilityConfig(reoffend_threshold=0.2, capacity=100))
    listed = out[out["eligible"]].sort_values("rank")
    keys = list(zip(-listed["p_reoffend"], listed["p_severe"], listed["person_id"], strict=True))
    assert keys == sorted(keys)
    worst_listed = listed["p_reoffend"].min()
    over = out[out["outcome"] == "over_capacity"]
    assert (over["p_reoffend"] <= worst_listed + 1e-12).all()
    assert math.isclose(len(listed), 100)

"""The coordinator's summary: selection rates by group with small cells suppressed."""

from __future__ import annotations

import json

import pandas as pd

from riskmodel.scoring import score_cohort
from riskmodel.scoring._summary import rejection_reasons, selection_rates


def _scored(
    groups: dict[str, int], listed: dict[str, int], excluded: dict[str, int]
) -> pd.DataFrame:
    rows = []
    for g, n in groups.items():
        for i in range(n):
            outcome = (
                "listed"
                if i < listed.get(g, 0)
                else "excluded_high_harm"
                if i < listed.get(g, 0) + excluded.get(g, 0)
                else "over_capacity"
            )
            rows.append({"sex": g, "outcome": outcome})
    return pd.DataFrame(rows)


def test_rates_match_a_hand_count_and_small_groups_are_suppressed():
    scored = _scored(
        {"female": 20, "male": 50, "x": 4}, {"female": 5, "male": 10, "x": 1}, {"male": 5}
    )
    out = selection_rates(scored, attributes=("sex", "ethnicity"), min_cell=10)
    assert set(out) == {"sex"}  # attributes absent from the cohort are skipped
    assert out["sex"]["male"] == {
        "suppressed": False,
        "n": 50,
        "listed": 10,
        "excluded_high_harm": 5,
        "selection_rate": 0.2,
        "excluded_rate": 0.1,
    }
    # x (4 people) is suppressed; as the only suppressed group its size would follow from the
    # total, so the next smallest group (female) is suppressed as well
    assert out["sex"]["x"] == {"suppressed": True}
    assert out["sex"]["female"] == {"suppressed": True}
    big = selection_rates(scored, attributes=("sex",), min_cell=3)
    assert big["sex"]["female"]["selection_rate"] == 0.25 and big["sex"]["x"]["n"] == 4
    two = selection_rates(
        _scored({"a": 4, "b": 30, "c": 40}, {}, {}), attributes=("sex",), min_cell=10
    )
    assert two["sex"]["a"] == {"suppressed": True} and two["sex"]["b"] == {"suppressed": True}
    assert two["sex"]["c"]["n"] == 40


def test_missing_group_values_are_their_own_group():
    scored = pd.DataFrame({"area": ["A"] * 12 + [None] * 12, "outcome": ["listed"] * 24})
    out = selection_rates(scored, attributes=("area",), min_cell=10)
    assert out["area"]["(not recorded)"]["n"] == 12


def test_rejection_reasons_grouped_most_frequent_first():
    rej = pd.DataFrame(
        {
            "file": ["f"] * 4,
            "row": [1, 2, 3, 4],
            "person_id": ["a", "b", "c", None],
            "column": ["x", "x", "y", "person_id"],
            "value": ["", "", "", ""],
            "reason": ["not a number", "not a number", "not a date", "person_id is missing"],
        }
    )
    got = rejection_reasons(rej)
    assert got[0] == {"file": "f", "column": "x", "reason": "not a number", "records": 2}
    assert sum(x["records"] for x in got) == 4


def test_summary_of_a_run_where_everyone_is_rejected(isolated_project, bundle_dir, tmp_path):
    from .conftest import make_features

    df = make_features(3, 1)
    df["person_id"] = None
    path = tmp_path / "c.parquet"
    df.to_parquet(path)
    res = score_cohort(
        model=bundle_dir,
        cohort=path,
        purpose="programme_referral",
        capacity=5,
        out_dir=tmp_path / "out",
    )
    assert res.counts == {
        "in": 3,
        "listed": 0,
        "not_listed": 0,
        "excluded_high_harm": 0,
        "rejected": 3,
    }
    assert len(res.eligibility_list) == 0
    assert any("nobody could be scored" in w for w in res.warnings)
    assert "nobody could be scored" in res.summary_html.read_text()
    summary = json.loads(res.summary_json.read_text())
    assert summary["rejection_reasons"] == [
        {"file": str(path), "column": "person_id", "reason": "person_id is missing", "records": 3}
    ]


def test_flags_are_shown_as_yes_and_no():
    scored = pd.DataFrame({"disability": [True] * 10 + [False] * 10, "outcome": ["listed"] * 20})
    out = selection_rates(scored, attributes=("disability",), min_cell=10)
    assert set(out["disability"]) == {"yes", "no"}

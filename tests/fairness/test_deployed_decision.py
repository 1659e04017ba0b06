"""The audit audits the decision actually made: the people it counts as selected are exactly the
people ``score`` lists for the same rows and capacity (same rule function, same tie-breaks)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from riskmodel.eligibility import EligibilityConfig
from riskmodel.fairness import _report as R
from riskmodel.models import load_run
from riskmodel.scoring import score_cohort

AS_OF = dt.date(2020, 6, 30)


@pytest.mark.parametrize(
    "rule",
    [
        EligibilityConfig(reoffend_threshold=0.35, severe_threshold=0.1, capacity=60),
        EligibilityConfig(reoffend_threshold=None, severe_threshold=0.08, capacity=200),
        EligibilityConfig(
            reoffend_threshold=0.2,
            severe_threshold=0.1,
            capacity=150,
            capacity_per_area={"Thanet": 20},
        ),
    ],
)
def test_audited_selection_is_the_scored_list(run_dir_with_bundle, isolated_project, rule):
    run = load_run(run_dir_with_bundle)
    pred = pd.read_parquet(run_dir_with_bundle / "predictions.parquet")
    # the run's test-period predictions, as training writes them: calibrated, raw and severe
    # (a 5-tree model on two inputs: few distinct values, so ties are many and tie-breaks matter)
    pred["p_reoffend"] = run.bundle.predict(pred, "reoffend")
    pred["p_reoffend_uncalibrated"] = run.bundle.predict(pred, "reoffend", calibrated=False)
    pred["p_severe"] = run.bundle.predict(pred, "severe")
    # one index event per person, all in the year before the scoring date: the same people
    info = {"config": {"train": {"split": {"method": "temporal", "test_years": 1}}}}
    selected, _, text, audited = R._selection(pred, rule, info)
    # capacity per year for a one-year cohort of exactly these people: the places are the capacity
    assert audited["places_in_test_period"] == rule.capacity
    audit_ids = set(pred.loc[selected.to_numpy(), "person_id"])

    score_cohort(
        model=run_dir_with_bundle / "model",
        cohort=pred.drop(columns=["p_reoffend", "p_reoffend_uncalibrated", "p_severe"]),
        purpose="programme_referral",
        capacity=rule.capacity,
        out_dir=isolated_project / "out",
        as_of=AS_OF,
        rule=rule,
    )
    assert pred["p_reoffend"].duplicated().sum() > len(pred) / 2
    listed = pd.read_csv(
        isolated_project / "out" / "eligibility_list.csv", comment="#", dtype={"person_id": str}
    )
    assert set(listed["person_id"]) == audit_ids
    assert len(audit_ids) == audited["n_listed"] > 0
    assert str(rule.capacity) in text

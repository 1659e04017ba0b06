"""Label-bias audit against the equal-recording counterfactual: under-recording of one group
shows, with its known size; equal recording shows nothing; any-incident truth is context only."""

from __future__ import annotations

import pytest

from riskmodel.fairness import FairnessConfig, audit_frame

CF = {
    "equal_label_col": "equal",
    "recorded_incidents_col": "recorded_incidents",
    "equal_incidents_col": "equal_incidents",
}


def _audit(df, **extra):
    cfg = FairnessConfig(attributes=("group",), intersections=(), n_boot=300, mitigation=False)
    return audit_frame(
        df,
        score_col="score",
        label_col="recorded",
        group_cols=["group"],
        threshold=0.5,
        truth_label_col="true_outcome",
        truth_score_col="p_true",
        person_col="person_id",
        config=cfg,
        **{**CF, **extra},
    )


def test_under_recorded_group_shows_the_gap(make_population):
    # b's reoffences are recorded half as often as equal recording would record them: 0.5
    df = make_population(6000, seed=1, recording={"a": 0.9, "b": 0.45})
    out = _audit(df)["label_bias"]
    assert out["available"] and out["basis"] == "equal_recording"
    res = out["attributes"]["group"]
    b, a = res["groups"]["b"], res["groups"]["a"]
    sub = df[df.group == "b"]
    assert b["base_rate_recorded"] == pytest.approx(sub.recorded.mean())
    assert b["base_rate_equal"] == pytest.approx(sub.equal.mean())
    assert b["base_rate_any_incident"] == pytest.approx(sub.true_outcome.mean())
    assert b["mean_p_true"] == pytest.approx(sub.p_true.mean())
    # recorded per equal-recording incident: the knob's 0.5 for b, 1 for a
    assert a["recording_ratio"] == pytest.approx(1.0)
    assert b["recording_ratio"] == pytest.approx(0.5, abs=0.04)
    rr = b["vs_reference"]["recording_ratio"]
    assert rr["ratio"] == pytest.approx(0.5, abs=0.04) and rr["flag"] == "flagged"
    found = {(f["group"], f["metric"], f["finding"]) for f in res["findings"]}
    assert ("b", "recording_ratio", "under_recorded") in found
    assert not any(f["group"] == "a" for f in res["findings"])
    # same score, same risk: on recorded labels b seems to reoffend less and its selected people
    # seem to reoffend less (precision): disparities created by recording
    assert b["findings"]["ppv"] == "invented_by_recording"
    assert b["findings"]["base_rate"] == "invented_by_recording"
    assert b["vs_reference"]["ppv_equal"]["flag"] == "within_band"
    assert b["fpr_recorded"] > b["fpr_equal"]


def test_equal_recording_shows_nothing_even_when_groups_offend_differently(make_population):
    # equal recording, but b reoffends less (a lower true rate): the old any-incident comparison
    # called this under-recording; against the counterfactual it is no finding at all
    df = make_population(6000, seed=2, recording={"a": 0.7, "b": 0.7}, score_shift={"b": -0.2})
    df.loc[df.group == "b", "true_outcome"] &= df.loc[df.group == "b", "p_true"] < 0.5
    res = _audit(df)["label_bias"]["attributes"]["group"]
    b = res["groups"]["b"]
    assert b["recording_ratio"] == 1.0 and b["vs_reference"]["recording_ratio"]["ratio"] == 1.0
    assert b["vs_reference"]["recording_ratio"]["flag"] == "within_band"
    assert res["findings"] == []
    assert all(v in ("consistent", "unclear") for v in b["findings"].values())


def test_no_counterfactual_means_no_label_bias_section(make_population):
    df = make_population(500, seed=3)
    cfg = FairnessConfig(attributes=("group",), intersections=(), n_boot=20, mitigation=False)
    out = audit_frame(
        df, score_col="score", label_col="recorded", group_cols=["group"], threshold=0.5, config=cfg
    )
    assert out["label_bias"]["available"] is False
    # the any-incident truth alone is never the basis of a finding
    out = audit_frame(
        df,
        score_col="score",
        label_col="recorded",
        group_cols=["group"],
        threshold=0.5,
        truth_label_col="true_outcome",
        config=cfg,
    )
    assert out["label_bias"]["available"] is False

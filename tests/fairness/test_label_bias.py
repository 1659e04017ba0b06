"""Label-bias audit: under-recording of one group shows; unbiased recording does not."""

from __future__ import annotations

import pytest

from riskmodel.fairness import FairnessConfig, audit_frame


def _audit(df):
    cfg = FairnessConfig(attributes=("group",), intersections=(), n_boot=300, mitigation=False)
    return audit_frame(
        df,
        score_col="score",
        label_col="recorded",
        group_cols=["group"],
        threshold=0.5,
        truth_label_col="true_outcome",
        truth_score_col="p_true",
        config=cfg,
    )


def test_under_recorded_group_shows_the_gap(make_population):
    # b's reoffences are recorded half as often as a's: a known factor of 0.5
    df = make_population(6000, seed=1, recording={"a": 0.9, "b": 0.45})
    out = _audit(df)["label_bias"]
    assert out["available"]
    res = out["attributes"]["group"]
    b, a = res["groups"]["b"], res["groups"]["a"]
    # recorded against true rates, from the data directly
    sub = df[df.group == "b"]
    assert b["base_rate_recorded"] == pytest.approx(sub.recorded.mean())
    assert b["base_rate_true"] == pytest.approx(sub.true_outcome.mean())
    assert b["mean_p_true"] == pytest.approx(sub.p_true.mean())
    # the share of true reoffending recorded is about the knob's value, and half of a's
    assert b["recording_rate"] == pytest.approx(0.45, abs=0.04)
    assert b["vs_reference"]["recording_rate"]["ratio"] == pytest.approx(0.5, abs=0.07)
    assert b["vs_reference"]["recording_rate"]["flag"] == "flagged"
    found = {(f["group"], f["metric"], f["finding"]) for f in res["findings"]}
    assert ("b", "recording_rate", "under_recorded") in found
    # the score treats both groups alike against the truth, but on recorded labels b's selected
    # people seem to reoffend half as often (precision) and b seems to reoffend less: disparities
    # created by recording
    assert b["findings"]["ppv"] == "invented_by_recording"
    assert b["findings"]["base_rate"] == "invented_by_recording"
    assert b["vs_reference"]["ppv_true"]["flag"] == "within_band"
    # unrecorded reoffenders who were selected count as false positives on recorded labels
    assert b["fpr_recorded"] > b["fpr_true"]
    assert b["vs_reference"]["fpr_recorded"]["ratio"] > b["vs_reference"]["fpr_true"]["ratio"]
    assert a["fpr_recorded"] == pytest.approx(a["fpr_true"], abs=0.05)


def test_unbiased_recording_shows_no_gap(make_population):
    df = make_population(6000, seed=2, recording={"a": 0.7, "b": 0.7})
    res = _audit(df)["label_bias"]["attributes"]["group"]
    b = res["groups"]["b"]
    assert b["vs_reference"]["recording_rate"]["flag"] == "within_band"
    assert not [f for f in res["findings"] if f["finding"] != "consistent"]
    assert all(v in ("consistent", "unclear") for v in b["findings"].values())


def test_no_truth_column_means_no_label_bias_section(make_population):
    df = make_population(500, seed=3)
    cfg = FairnessConfig(attributes=("group",), intersections=(), n_boot=20, mitigation=False)
    out = audit_frame(
        df, score_col="score", label_col="recorded", group_cols=["group"], threshold=0.5, config=cfg
    )
    assert out["label_bias"] == {"available": False}

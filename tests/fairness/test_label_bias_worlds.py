"""Label-bias audit on generated worlds: the measurement-bias knob shows up, and only when on.

kent_measurement_bias.yaml records DA by black and asian perpetrators at 0.6 times, and DA in
Thanet at 1.3 times, the rate of kent_no_trends.yaml (same seed, same true offending). Against the
world's equal-recording counterfactual, the recording-rate findings must name exactly those groups,
with ratios near those multipliers, and the unbiased world must give no label-bias finding at all.
The default world (kent.yaml, which changes over time) records DA by women less often before 2017
(male victims reporting less): the audit finds exactly that before 2017 and nothing after.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.fairness import audit_frame
from riskmodel.fairness._config import FairnessConfig
from riskmodel.features import build_cohort
from riskmodel.features._config import FeatureConfig
from riskmodel.paths import configs_dir
from riskmodel.synth import generate_world, load_world_config

pytestmark = pytest.mark.slow
ATTRS = ("ethnicity", "area", "sex")
SCALE = 0.2  # the smallest scale at which the black group (about 0.7% of index events) speaks


def _world(world_file: str, scale: float = SCALE):
    return generate_world(
        load_world_config(configs_dir() / "world" / world_file), seed=7, scale=scale
    )


@pytest.fixture(scope="module")
def unbiased():
    return _world("kent_no_trends.yaml", scale=0.05)


@pytest.fixture(scope="module")
def changing():
    return _world("kent.yaml", scale=0.05)


@pytest.fixture(scope="module")
def biased():
    return _world("kent_measurement_bias.yaml")


def _events(world):
    """Every recorded DA event with a complete follow-up as an index event (more events than
    the one-per-year feature table, so the small groups the bias targets can speak at CI scale),
    with the same labels as the feature builder's (checked in the first test)."""
    t = world.truth[world.truth["followup_complete"]]
    people = world.people.set_index("person_id")
    frame = t.join(people[["sex", "ethnicity", "area"]], on="person_id")
    return frame.assign(
        reoffend_12m=t["recorded_incidents_12m"] > 0,
        equal_recording_reoffend_12m=t["equal_recording_incidents_12m"] > 0,
        true_reoffend_12m=t["true_incidents_12m"] > 0,
    )


def _audit(frame) -> dict:
    return audit_frame(
        frame,
        score_col="p_reoffend_12m",
        label_col="reoffend_12m",
        group_cols=list(ATTRS),
        threshold=0.3,
        person_col="person_id",
        equal_label_col="equal_recording_reoffend_12m",
        recorded_incidents_col="recorded_incidents_12m",
        equal_incidents_col="equal_recording_incidents_12m",
        truth_label_col="true_reoffend_12m",
        config=FairnessConfig(
            n_boot=200, attributes=ATTRS, intersections=(), mitigation=False, proxy_sample_n=500
        ),
    )["label_bias"]


def test_the_features_count_recorded_incidents_as_the_world_does(unbiased):
    # the feature builder's recorded label (from the recorded events) and the world's recorded
    # count agree row by row, so the equal-recording label (same definition, the counterfactual
    # count) is comparable with it
    frame = build_cohort(unbiased, FeatureConfig()).frame
    rec = frame["recorded_incidents_12m"].to_numpy(dtype=float)
    assert np.array_equal(rec > 0, frame["reoffend_12m"].to_numpy(dtype=bool))
    eq = frame["equal_recording_incidents_12m"].to_numpy(dtype=float)
    assert np.array_equal(eq > 0, frame["equal_recording_reoffend_12m"].to_numpy(dtype=bool))
    # the world's truth agrees with its own recorded label too
    t = unbiased.truth
    assert np.array_equal(t["recorded_incidents_12m"] > 0, t["recorded_reoffend_12m"])


def test_unbiased_world_has_no_label_bias_finding(unbiased):
    # equal recording for everyone: recorded and equal-recording counts coincide exactly
    t = unbiased.truth
    assert (t["recorded_incidents_12m"] == t["equal_recording_incidents_12m"]).all()
    lb = _audit(_events(unbiased))
    assert lb["available"]
    assert [f for a in lb["attributes"].values() for f in a["findings"]] == []


def test_biased_world_names_exactly_the_configured_groups(biased):
    lb = _audit(_events(biased))
    found = {
        (attr, f["group"]): f
        for attr, res in lb["attributes"].items()
        for f in res["findings"]
        if f["metric"] == "recording_ratio"
    }
    assert set(found) == {("ethnicity", "black"), ("ethnicity", "asian"), ("area", "Thanet")}
    for g in ("black", "asian"):
        assert found[("ethnicity", g)]["finding"] == "under_recorded"
        # 0.6 against a white reference that includes some over-recorded Thanet residents
        assert found[("ethnicity", g)]["ratio"] == pytest.approx(0.6, abs=0.08)
    assert found[("area", "Thanet")]["finding"] == "over_recorded"
    # 1.3 times the recording probability, less where it reaches 1 (every incident recorded)
    assert 1.15 < found[("area", "Thanet")]["ratio"] < 1.35


def _recording_findings(lb: dict) -> dict:
    return {
        (attr, f["group"]): f
        for attr, res in lb["attributes"].items()
        for f in res["findings"]
        if f["metric"] == "recording_ratio"
    }


def test_changing_world_under_records_women_before_2017_only(changing):
    """Recording practice that changes for everyone is not bias (kept by the counterfactual);
    the step for DA by women is (removed by it). So the audit of index events before 2017 names
    women as under-recorded, and that of later years (as the default run's test year) finds
    nothing at all."""
    events = _events(changing)
    year = pd.to_datetime(events["date"]).dt.year
    early = _recording_findings(_audit(events[year <= 2015]))
    assert set(early) == {("sex", "female")}
    assert early[("sex", "female")]["finding"] == "under_recorded"
    # the steps for women: 0.40 to March 2014, 0.55 to December 2015
    assert 0.3 < early[("sex", "female")]["ratio"] < 0.65
    late = _audit(events[year >= 2018])
    assert [f for a in late["attributes"].values() for f in a["findings"]] == []

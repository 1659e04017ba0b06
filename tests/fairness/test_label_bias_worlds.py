"""Label-bias audit on generated worlds: the measurement-bias knob shows up, and only when on.

kent_measurement_bias.yaml records DA by black and asian perpetrators at 0.6 times the rate of
kent.yaml (same seed, same true offending). The audit's per-group recording rate (recorded /
true reoffending) must show that gap against the white reference group on the biased world and
not on the unbiased one.
"""

from __future__ import annotations

import pytest

from riskmodel.fairness import audit_frame
from riskmodel.fairness._config import FairnessConfig
from riskmodel.fairness._label_bias import INVENTED
from riskmodel.features import build_cohort
from riskmodel.features._config import FeatureConfig
from riskmodel.paths import configs_dir
from riskmodel.synth import generate_world, load_world_config


def _audit(world_file: str) -> dict:
    world = generate_world(
        load_world_config(configs_dir() / "world" / world_file), seed=7, scale=0.05
    )
    frame = build_cohort(world, FeatureConfig()).frame
    payload = audit_frame(
        frame,
        score_col="p_reoffend_true",
        label_col="reoffend_12m",
        group_cols=["ethnicity"],
        threshold=0.3,
        truth_label_col="true_reoffend_12m",
        config=FairnessConfig(n_boot=100, attributes=("ethnicity",), intersections=()),
    )
    return payload["label_bias"]["attributes"]["ethnicity"]["groups"]


def _ratio(groups: dict) -> float:
    return groups["asian"]["recording_rate"] / groups["white"]["recording_rate"]


@pytest.mark.slow
def test_label_bias_section_shows_the_configured_under_recording():
    # Recorded rates are not linear in the recording probability (P(at least one recorded)
    # saturates, and under-recording also changes who has a recorded index event), so the biased
    # world is compared with its unbiased twin (same seed, same true offending), not with 0.6.
    unbiased, biased = _audit("kent.yaml"), _audit("kent_measurement_bias.yaml")
    assert _ratio(biased) / _ratio(unbiased) < 0.75
    # the audit itself names the gap as invented by recording on the biased world only
    assert biased["asian"]["findings"]["base_rate"] == INVENTED
    assert unbiased["asian"]["findings"]["base_rate"] != INVENTED

"""The calibration report: right keys, scale-aware targets, and the Kent defaults pass."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.evaluation import expected_calibration_error
from riskmodel.synth import calibration_report
from riskmodel.synth._calibration import ENTRY_KEYS, NA_NO_BIAS


def test_entries_have_the_contract_keys(kent_small, kent_config):
    entries = calibration_report(kent_small)
    assert [e["name"] for e in entries] == [t.name for t in kent_config.calibration]
    for e in entries:
        assert tuple(e) == ENTRY_KEYS
        assert e["ok"] in (True, False, None)
        assert e["source"]
        if e["ok"] is None:
            assert e["note"].startswith("not applicable") or "cannot" in e["note"]


def test_kent_defaults_pass_on_a_scaled_world(kent_small):
    failing = [e for e in kent_small.calibration if e["ok"] is False]
    assert failing == []
    applicable = [e for e in kent_small.calibration if e["ok"] is not None]
    assert len(applicable) >= 20


def test_count_targets_scale_with_the_world(kent_small, kent_config):
    by_name = {e["name"]: e for e in kent_small.calibration}
    for t in kent_config.calibration:
        if t.scales:
            assert by_name[t.name]["target"] == pytest.approx(t.target * 0.05)
            assert by_name[t.name]["tolerance"] == pytest.approx(t.tolerance * 0.05)
    per_year = by_name["recorded_da_per_year"]["generated"]
    da = kent_small.events["is_da"].sum()
    assert per_year == pytest.approx(da / 15, rel=1e-6)


def test_figures_are_measured_on_the_tables(kent_small):
    by_name = {e["name"]: e for e in kent_small.calibration}
    ev = kent_small.events
    assert by_name["da_share_all_crime"]["generated"] == pytest.approx(ev["is_da"].mean(), abs=1e-6)
    truth = kent_small.truth
    full = truth[truth["followup_complete"]]
    ece = expected_calibration_error(full["recorded_reoffend_12m"], full["p_reoffend_12m"])
    assert by_name["truth_ece"]["generated"] == pytest.approx(ece, abs=1e-6)
    # harm concentration by hand: the fewest perpetrators holding 90% of 2016-2017 recorded harm
    da = ev[ev["is_da"]]
    year = np.array([d.year for d in da["date"]])
    sel = da[(year >= 2016) & (year <= 2017)]
    harm = np.sort(sel.groupby("perpetrator_id")["harm_days"].sum().to_numpy())[::-1]
    k = next(i + 1 for i, c in enumerate(np.cumsum(harm)) if c >= 0.9 * harm.sum())
    assert by_name["harm_concentration_2y"]["generated"] == pytest.approx(k / len(harm), abs=1e-6)


def test_bme_share_does_not_apply_without_bias(kent_small):
    entry = next(e for e in kent_small.calibration if e["name"] == "bme_share_victims")
    assert entry["ok"] is None
    assert entry["note"].startswith(NA_NO_BIAS.split("{")[0])

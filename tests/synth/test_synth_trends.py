"""A world that changes over time: the dated changes show in what is recorded, the truth follows
them exactly, and a world with the trends off is the old world bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.data._schema import SEXES
from riskmodel.synth import generate_world
from riskmodel.synth._params import build_params
from riskmodel.synth._truth import p_none, p_none_eras, solve_phi

YEAR = 365.25


def _da(world) -> pd.DataFrame:
    ev = world.events
    da = ev[ev["is_da"].to_numpy(dtype=bool)].copy()
    da["date"] = pd.to_datetime(da["date"])
    return da


def test_trends_off_is_the_trendless_world(tiny_config, kent_config):
    """Switching the trends off gives exactly the draws of a world that never had them."""
    with_trends = tiny_config.model_copy(update={"trends": kent_config.trends})
    off = tiny_config.model_copy(
        update={"trends": kent_config.trends.model_copy(update={"enabled": False})}
    )
    bare = tiny_config.model_copy(update={"trends": type(tiny_config.trends)()})
    a, b = generate_world(off), generate_world(bare)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    on = generate_world(with_trends)
    assert not on.truth["p_reoffend_12m"].equals(a.truth["p_reoffend_12m"])


def test_one_era_reduces_to_the_closed_form_without_eras():
    rec = np.array([[0.02, 0.05, 0.1], [0.01, 0.02, 0.04]])
    _, phi, g0 = solve_phi(rec, branching=0.6, beta=1 / 14)
    r = np.random.default_rng(0)
    n = 50
    common = dict(
        combo=r.integers(0, 2, n),
        phi=phi,
        g0=g0,
        excitation=r.random((n, 3)),
        window=np.full(n, 365.5),
        cut=r.uniform(0, 400, n),
        after_cut=np.full(n, 0.7),
        branching=0.6,
        mu_at=lambda idx, s: 0.01 * (1 + 0.0 * s),
    )
    want = p_none(**common)
    got = p_none_eras(**common, era_stride=0, era_starts=np.array([-np.inf]), t0=r.random(n))
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_controlling_behaviour_is_recorded_only_after_the_offence_exists(kent_small):
    da = _da(kent_small)
    cc = da["offence_type"] == "coercive_control"
    assert cc.sum() > 0
    assert da.loc[cc, "date"].min() >= pd.Timestamp("2015-12-29")
    # its share of recorded DA ramps up after the offence starts
    share = cc.groupby(da["date"].dt.year).mean()
    assert share.loc[2020:2024].mean() > 2 * share.loc[2016:2017].mean()


def test_lockdown_raises_recorded_incidents(kent_small):
    da = _da(kent_small)
    day = da["date"].dt.day_of_year
    spring = (day >= 83) & (day <= 185)  # 23 March to 3 July
    n2020 = int((spring & (da["date"].dt.year == 2020)).sum())
    n2019 = int((spring & (da["date"].dt.year == 2019)).sum())
    # 1.35 times the rate in the model; well beyond Poisson noise (sd ~ sqrt(n))
    assert n2020 > n2019 + 3 * math.sqrt(n2019)


def test_truth_follows_the_dated_rates(kent_small):
    """Mean true probability against recorded reoffending, period by period: a truth blind to the
    trends would miss the recording eras and the lockdown."""
    tr = kent_small.truth
    tr = tr[tr["followup_complete"].to_numpy(dtype=bool)]
    year = pd.to_datetime(tr["date"]).dt.year
    for lo, hi in ((2010, 2013), (2014, 2016), (2017, 2019), (2020, 2023)):
        sel = (year >= lo) & (year <= hi)
        p = tr.loc[sel, "p_reoffend_12m"].to_numpy()
        y = tr.loc[sel, "recorded_reoffend_12m"].to_numpy(dtype=float)
        se = math.sqrt(np.sum(p * (1 - p))) / len(p)
        assert abs(y.mean() - p.mean()) < 4 * se + 1e-3, (lo, hi, y.mean(), p.mean())


def test_recording_eras_and_rate_trends_are_built_from_the_config(kent_config):
    params = build_params(kent_config)
    assert len(params.era_mult) == len(kent_config.trends.recording)
    female, male = SEXES.index("female"), SEXES.index("male")
    assert params.era_mult[0, female] < params.era_mult[0, male]
    assert params.era_mult[-1, female] == pytest.approx(params.era_mult[-1, male])
    # age growth: 16-17 and 65+ grow, 30-year-olds do not
    t_late = np.array([(pd.Timestamp("2024-06-01") - pd.Timestamp("2010-01-01")).days], float)
    t_early = np.array([0.0])
    for age, grows in ((16.5, True), (70.0, True), (30.0, False)):
        ratio = params.rate_trend(t_late, np.array([age])) / params.rate_trend(
            t_early, np.array([age])
        )
        assert (ratio[0] > 1.5) == grows
    assert params.rate_trend_max() >= params.rate_trend(t_late, np.array([16.5]))[0]


def test_no_trends_twin_is_kent_with_the_trends_off():
    import yaml

    from riskmodel.paths import configs_dir

    def raw(name):
        return yaml.safe_load((configs_dir() / "world" / f"{name}.yaml").read_text())

    kent, flat = raw("kent"), raw("kent_no_trends")
    assert kent["trends"]["enabled"] is True and flat["trends"]["enabled"] is False
    assert all(step["source"] for step in kent["trends"]["recording"])
    assert kent["trends"]["new_offence"]["start"].isoformat() == "2015-12-29"
    for key in ("name", "description", "trends", "calibration"):
        kent.pop(key), flat.pop(key)
    # women's propensity is the one other difference (tuned with the recording trend)
    assert kent["propensity"].pop("sex_multiplier") == {"male": 1.0, "female": 0.8}
    assert flat["propensity"].pop("sex_multiplier") == {"male": 1.0, "female": 0.5}
    assert kent == flat


def test_equal_recording_removes_the_sex_specific_step_only(kent_small):
    """The recording trend's step for women (male victims reporting less before 2017) is
    measurement bias, so the equal-recording counterfactual removes it; the steps that apply to
    everyone stay in both labels. Men's labels are therefore the same on both sides, and so are
    women's once recording is equal by sex."""
    tr = kent_small.truth
    sex = tr["person_id"].map(kent_small.people.set_index("person_id")["sex"])
    year = pd.to_datetime(tr["date"]).dt.year
    rec, eq = tr["recorded_incidents_12m"], tr["equal_recording_incidents_12m"]
    men = sex == "male"
    assert (rec[men] == eq[men]).all()
    late_women = (sex == "female") & (year >= 2018)
    assert late_women.sum() > 100 and (rec[late_women] == eq[late_women]).all()
    early_women = (sex == "female") & (year <= 2013)  # the first era: women's step 0.40
    ratio = rec[early_women].sum() / eq[early_women].sum()
    assert eq[early_women].sum() > 30  # binomial sd of the ratio about 0.07 here
    assert 0.2 < ratio < 0.65, ratio
    assert (rec <= eq).all()  # a step below 1 only ever loses records


@given(
    t=st.lists(st.floats(-400, 6500), min_size=1, max_size=40),
    age=st.lists(st.floats(10, 95), min_size=1, max_size=40),
)
@settings(max_examples=60, deadline=None)
def test_rate_trend_is_the_product_of_the_dated_factors(kent_config, t, age):
    """Every cell's multiplier is the lockdowns in force times each age band's growth since its
    start, whatever the shapes broadcast (computed one number at a time here)."""
    params = build_params(kent_config)
    assert len(params.lockdowns) and len(params.age_growth)
    n = min(len(t), len(age))
    tt, aa = np.array(t[:n])[:, None], np.array(age[:n])[None, :]
    got = params.rate_trend(tt, aa)
    assert got.shape == (n, n)
    for i in range(n):
        for j in range(n):
            want = 1.0
            for lo, hi, m in params.lockdowns:
                want *= m if lo <= tt[i, 0] < hi else 1.0
            for a_lo, a_hi, t_lo, t_hi, g in params.age_growth:
                if a_lo <= aa[0, j] < a_hi + 1:
                    want *= (1.0 + g) ** (min(max(tt[i, 0] - t_lo, 0.0), t_hi - t_lo) / YEAR)
            assert got[i, j] == pytest.approx(want, rel=1e-12)

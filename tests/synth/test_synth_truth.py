"""The truth is true: the closed form matches an independent simulation, and on generated worlds
``p_reoffend_12m`` is calibrated against what was recorded."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from riskmodel.evaluation import expected_calibration_error
from riskmodel.synth import generate_world
from riskmodel.synth._offending import excitation
from riskmodel.synth._truth import p_none, solve_phi
from tests.synth.synth_reference import simulate_first_marks

YEAR = 365.25


def _formula(
    *, state: dict, mix: np.ndarray, record_p: np.ndarray, severe: np.ndarray
) -> tuple[float, float]:
    """The truth's closed form for one state (as the generator computes it)."""
    n, beta, k = state["branching"], state["beta"], mix.shape[0]
    rec_any = mix @ record_p
    rec_sev = mix @ (record_p * severe)
    _, phi, g0 = solve_phi(np.vstack([rec_any, rec_sev]), branching=n, beta=beta)
    nxt = np.minimum(np.arange(k) + 1, k - 1)
    exc = np.zeros((1, k))
    for t_j, c_j in zip(state["past_t"], state["past_cls"], strict=True):
        exc[0, nxt[c_j]] += math.exp(-beta * (state["t0"] - t_j))
    t0 = state["t0"]

    def mu_at(idx, s):
        age = (t0 + s - state["birth"]) / YEAR
        return state["lam"] * np.interp(age, state["knots"], state["mults"])

    out = []
    for row in (0, 1):
        p0 = p_none(
            combo=np.array([row]),
            phi=phi,
            g0=g0,
            excitation=exc,
            window=np.array([state["window"]]),
            mu_at=mu_at,
            cut=np.array([state["cut"] - t0]),
            after_cut=np.array([1 - state["effect"]]),
            branching=n,
        )
        out.append(1.0 - float(p0[0]))
    return out[0], out[1]


STATES = {
    # a burst just happened, the programme was completed a while ago, age crosses a knot
    "burst_after_programme": dict(
        lam=0.04,
        birth=-39.7 * YEAR,
        t0=1000.3,
        past_t=[960.0, 995.0, 999.5, 1000.3],
        past_cls=[0, 1, 2, 1],
        cut=700.0,
        effect=0.3,
        branching=0.6,
        beta=1 / 14,
    ),
    # a quiet, older perpetrator; completion falls inside the window
    "quiet_programme_inside": dict(
        lam=0.01,
        birth=-60.2 * YEAR,
        t0=2000.9,
        past_t=[1500.0, 2000.9],
        past_cls=[0, 0],
        cut=2120.0,
        effect=0.5,
        branching=0.4,
        beta=1 / 30,
    ),
    # strong self-excitation with long delays, no programme
    "strong_bursts": dict(
        lam=0.004,
        birth=-22.0 * YEAR,
        t0=50.0,
        past_t=[40.0, 45.0, 49.0, 50.0],
        past_cls=[0, 1, 2, 2],
        cut=1e9,
        effect=0.0,
        branching=0.85,
        beta=1 / 60,
    ),
}
MIX = np.array([[0.6, 0.3, 0.1], [0.45, 0.35, 0.2], [0.3, 0.35, 0.35]])
RECORD_P = np.array([0.02, 0.08, 0.3])
SEVERE = np.array([False, False, True])


@pytest.mark.parametrize("name", sorted(STATES))
def test_closed_form_matches_an_independent_simulation(name):
    state = dict(STATES[name])
    state["knots"] = np.array([16.0, 25.0, 34.0, 40.0, 60.0, 90.0])
    state["mults"] = np.array([0.45, 1.0, 1.0, 0.8, 0.22, 0.04])
    state["window"] = math.floor(state["t0"]) + 366 - state["t0"]
    p_any, p_sev = _formula(state=state, mix=MIX, record_p=RECORD_P, severe=SEVERE)

    def mu(t):
        age = (t - state["birth"]) / YEAR
        base = state["lam"] * np.interp(age, state["knots"], state["mults"])
        return np.where(t > state["cut"], base * (1 - state["effect"]), base)

    reps = 30_000
    hit_any, hit_sev = simulate_first_marks(
        t0=state["t0"],
        window=state["window"],
        mu=mu,
        mu_max=state["lam"],
        past_t=np.array(state["past_t"]),
        past_cls=np.array(state["past_cls"]),
        branching=state["branching"],
        beta=state["beta"],
        n_classes=3,
        type_mix=MIX,
        record_p=RECORD_P,
        severe=SEVERE,
        replicates=reps,
        rng=np.random.default_rng(sum(map(ord, name))),
    )
    for p, hits in ((p_any, hit_any), (p_sev, hit_sev)):
        se = math.sqrt(p * (1 - p) / reps)
        assert abs(hits.mean() - p) < 4 * se + 1e-4, (name, hits.mean(), p)
    assert 0.02 < p_any < 0.98  # the states are informative, not trivially 0 or 1


def test_closed_form_limits():
    """No recording: nothing can be recorded; recording everything: P(none) is the Poisson
    probability of no incident, exp(-integral of the intensity)."""
    for rec, expect in ((0.0, 1.0), (1.0, None)):
        _, phi, g0 = solve_phi(np.full((1, 2), rec), branching=0.5, beta=0.1)
        exc = np.array([[0.0, 2.0]])  # two units of class-1 excitation
        lam, window = 0.01, 365.5
        p0 = p_none(
            combo=np.array([0]),
            phi=phi,
            g0=g0,
            excitation=exc,
            window=np.array([window]),
            mu_at=lambda idx, s, lam=lam: np.full(s.shape, lam),
            cut=np.array([window]),
            after_cut=np.array([1.0]),
            branching=0.5,
        )[0]
        if expect is None:
            alpha = 0.5 * 0.1
            expect = math.exp(-lam * window - alpha * 2.0 * (1 - math.exp(-0.1 * window)) / 0.1)
        assert p0 == pytest.approx(expect, rel=1e-6)


def test_excitation_scan_matches_brute_force():
    rng = np.random.default_rng(3)
    person = np.sort(rng.integers(0, 40, 600))
    t = np.empty(600)
    for p in np.unique(person):  # a brute-force reference: loops are fine here
        sel = person == p
        t[sel] = np.sort(rng.uniform(0, 400, sel.sum()))
    child = rng.integers(0, 3, 600).astype(np.int8)
    got = excitation(person, t, child, beta=0.07, n_classes=3)
    want = np.zeros((600, 3))
    for i in range(600):
        for j in range(i + 1):
            if person[j] == person[i]:
                want[i, child[j]] += math.exp(-0.07 * (t[i] - t[j]))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _hosmer_lemeshow(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """P-value of observed against expected counts in equal-mass bins (chi-square, ``bins`` df:
    the probabilities are given, not fitted)."""
    order = np.argsort(p)
    chi2 = 0.0
    for part in np.array_split(order, bins):
        e = p[part].sum()
        v = (p[part] * (1 - p[part])).sum()
        chi2 += (y[part].sum() - e) ** 2 / v
    return float(stats.chi2.sf(chi2, bins))


def test_truth_is_calibrated_on_a_small_world(kent_small):
    truth = kent_small.truth[kent_small.truth["followup_complete"]]
    p = truth["p_reoffend_12m"].to_numpy()
    y = truth["recorded_reoffend_12m"].to_numpy(dtype=float)
    assert len(p) > 15_000
    assert _hosmer_lemeshow(p, y) > 0.001
    # the overall rate, as a Poisson-binomial z-score
    assert abs(y.sum() - p.sum()) < 4 * math.sqrt((p * (1 - p)).sum())
    # the truth discriminates: far better than chance, as a true risk should
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, p) > 0.7


def test_severe_truth_matches_recorded_severe_reoffending(kent_small):
    events = kent_small.events
    da = events[events["is_da"]].reset_index(drop=True)
    truth = kent_small.truth.set_index("event_id").loc[da["event_id"]].reset_index()
    severe = da["offence_type"].isin(["serious_violence", "sexual_offence"]).to_numpy()
    date = da["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    perp = da["perpetrator_id"].to_numpy()
    # a later recorded severe DA event of the same perpetrator within 365 days
    y = np.zeros(len(da), dtype=bool)
    order = np.lexsort((np.arange(len(da)), perp))
    for i_pos, i in enumerate(order):  # per person scan, independent of the generator's code
        for j in order[i_pos + 1 :]:
            if perp[j] != perp[i] or date[j] > date[i] + 365:
                break
            if severe[j]:
                y[i] = True
                break
    full = truth["followup_complete"].to_numpy()
    p = truth["p_severe_12m"].to_numpy()[full]
    obs = y[full]
    assert abs(obs.sum() - p.sum()) < 4 * math.sqrt((p * (1 - p)).sum())
    assert _hosmer_lemeshow(p, obs.astype(float), bins=5) > 0.001


@pytest.mark.slow
def test_truth_ece_on_100k_events(kent_config):
    """The acceptance figure: ECE <= 0.01 (10 equal-mass bins) on >= 100,000 recorded DA
    events with a complete follow-up."""
    world = generate_world(kent_config, scale=0.3)
    truth = world.truth[world.truth["followup_complete"]]
    assert len(truth) >= 100_000
    ece = expected_calibration_error(
        truth["recorded_reoffend_12m"].to_numpy(), truth["p_reoffend_12m"].to_numpy()
    )
    assert ece <= 0.01

"""Property-based checks of the engine's vectorised pieces against plain reference loops."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from riskmodel.synth._offending import branch, excitation
from riskmodel.synth._params import YEAR
from riskmodel.synth._population import People, Perpetrators
from riskmodel.synth._victims import (
    ADOLESCENT_TO_PARENT,
    EX_PARTNER,
    FAMILY,
    PARTNER,
    Households,
    assign_victims,
)


@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    beta=st.floats(0.01, 2.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_excitation_scan_equals_the_double_sum(sizes, beta, seed):
    rng = np.random.default_rng(seed)
    person = np.repeat(np.arange(len(sizes)), sizes)
    t = np.concatenate([np.sort(rng.uniform(0, 200, n)) for n in sizes])
    child = rng.integers(0, 3, len(t)).astype(np.int8)
    got = excitation(person, t, child, beta=beta, n_classes=3)
    want = np.zeros((len(t), 3))
    for i in range(len(t)):
        for j in range(i + 1):
            if person[i] == person[j]:
                want[i, child[j]] += math.exp(-beta * (t[i] - t[j]))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@given(n0=st.integers(0, 50), branching=st.floats(0.0, 0.9), seed=st.integers(0, 2**32 - 1))
def test_branching_keeps_bursts_consistent(n0, branching, seed):
    """Every follow-on incident comes after its burst's spontaneous incident, belongs to the
    same person, and has a class one above its parent's (capped)."""
    rng = np.random.default_rng(seed)
    person = rng.integers(0, 5, n0).astype(np.int32)
    t = rng.uniform(0, 100, n0)
    inc = branch(person, t, branching=branching, beta=0.1, n_classes=3, t_hi=400.0, rng=rng)
    assert len(inc) >= n0
    assert (inc.cls[:n0] == 0).all() and (inc.root[:n0] == np.arange(n0)).all()
    assert (inc.person == person[inc.root]).all()
    assert (inc.t >= t[inc.root]).all() and (inc.t < 400.0).all()
    assert (inc.cls[n0:] >= 1).all() and inc.cls.max(initial=0) <= 2


class _Params:
    """The few parameters assign_victims reads."""

    def __init__(self, weights: np.ndarray):
        self.rel_weights = weights

        class _Rel:
            ex_partner_window_years = 2.0
            adolescent_max_age = 19.0

        class _Cfg:
            relationships = _Rel()

        self.cfg = _Cfg()


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60))
def test_a_victim_is_always_someone_available(seed, n):
    rng = np.random.default_rng(seed)
    k = 3
    n_perps = 4
    gaps = rng.uniform(0.1, 6, (n_perps, k)) * YEAR
    start = np.cumsum(gaps, axis=1) - 3 * YEAR
    end = start + rng.uniform(0.2, 4, (n_perps, k)) * YEAR
    end = np.minimum(end, np.r_[start[:, 1:].T, start[:, -1:].T + 50 * YEAR].T)  # no overlap
    homes = Households(
        members=np.arange(n_perps),
        start=start,
        end=end,
        partner_sex=np.zeros((n_perps, k), np.int8),
        partner_perpetrator=np.full((n_perps, k), -1),
        birth_t=np.zeros((n_perps, k + 2)),
        sex=np.zeros((n_perps, k + 2), np.int8),
        ethnicity=np.zeros((n_perps, k + 2), np.int8),
        disability=np.zeros((n_perps, k + 2), bool),
        mental_health=np.zeros((n_perps, k + 2), bool),
        substance_misuse=np.zeros((n_perps, k + 2), bool),
    )
    birth = -rng.uniform(16, 40, n_perps) * YEAR
    z = np.zeros(n_perps, np.int8)
    perps = Perpetrators(
        people=People(birth, z, z, z, z.astype(bool), z.astype(bool), z.astype(bool)),
        propensity=np.ones(n_perps),
        level=z,
        nonda_rate=np.zeros(n_perps),
        bias=np.ones(n_perps),
    )
    weights = rng.uniform(0, 1, (9, 4)) * (rng.random((9, 4)) < 0.8)
    person = np.sort(rng.integers(0, n_perps, n))
    t = rng.uniform(-2 * YEAR, 15 * YEAR, n)
    offence = rng.integers(0, 9, n).astype(np.int8)
    rel, slot = assign_victims(
        _Params(weights), perps, homes, person=person, t=t, offence=offence, u=rng.random(n)
    )
    for i in range(n):  # a reference loop over incidents: what was available at that moment?
        p, ti = person[i], t[i]
        started = [j for j in range(k) if start[p, j] <= ti]
        current = started[-1] if started and ti < end[p, started[-1]] else None
        prev = (
            (started[-2] if len(started) > 1 else None)
            if current is not None
            else (started[-1] if started else None)
        )
        ex_ok = prev is not None and ti - end[p, prev] < 2 * YEAR
        young = (ti - birth[p]) / YEAR < 19
        avail = {
            PARTNER: current is not None,
            EX_PARTNER: ex_ok,
            FAMILY: True,
            ADOLESCENT_TO_PARENT: young,
        }
        w = {r: weights[offence[i], r] * avail[r] for r in avail}
        if sum(w.values()) == 0:
            assert rel[i] == FAMILY
        else:
            assert w[int(rel[i])] > 0
        expected_slot = {
            PARTNER: current,
            EX_PARTNER: prev,
            FAMILY: k,
            ADOLESCENT_TO_PARENT: k + 1,
        }[int(rel[i])]
        assert slot[i] == expected_slot

"""Who the victim of each incident is: partners that change over a life, ex-partners, family.

Each perpetrator has a sequence of intimate relationships (episodes: start after 16, a lognormal
duration, an exponential gap before the next), a family member (older: a parent, older sibling
or other relative) and a parent. An incident's relationship is drawn, after its offence type,
among those available at that moment (current partner, an ex-partner within the ex-partner
window, a parent while the perpetrator is an adolescent, the family member), with the config's
weights. Victim marks never change rates or recording, so the truth stays exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskmodel.data import RELATIONSHIPS
from riskmodel.synth._params import YEAR, WorldParams
from riskmodel.synth._population import Perpetrators

PARTNER, EX_PARTNER, FAMILY, ADOLESCENT_TO_PARENT = (
    RELATIONSHIPS.index(r) for r in ("partner", "ex_partner", "family", "adolescent_to_parent")
)


MAX_VICTIM_AGE_AT_START = 95.0


@dataclass
class Households:
    """The potential victims of a chunk of perpetrators: slot ``k < K`` is partner episode
    ``k``, slot ``K`` the family member, slot ``K + 1`` the parent. Rows are the perpetrators
    of the block with at least one incident (``members``: their block-local indices)."""

    members: np.ndarray  # (n,) block-local perpetrator index of each row, ascending
    start: np.ndarray  # (n, K) partner episode start, days
    end: np.ndarray  # (n, K)
    partner_sex: np.ndarray  # (n, K) int8
    partner_perpetrator: np.ndarray  # (n, K) block-local index of a perpetrator partner, or -1
    birth_t: np.ndarray  # (n, K + 2) victims' birth (for slots that are not perpetrators)
    sex: np.ndarray  # (n, K + 2)
    ethnicity: np.ndarray  # (n, K + 2)
    disability: np.ndarray
    mental_health: np.ndarray
    substance_misuse: np.ndarray

    @property
    def n_slots(self) -> int:
        return self.start.shape[1] + 2

    def row(self, person: np.ndarray) -> np.ndarray:
        """Row of block-local perpetrators (who must be members)."""
        return np.searchsorted(self.members, person)


def draw_households(
    params: WorldParams, perps: Perpetrators, *, members: np.ndarray, rng: np.random.Generator
) -> Households:
    """Partners, family member and parent of the block's perpetrators ``members``."""
    perps = perps.take(members)
    rel = params.cfg.relationships
    ep = rel.partner_episodes
    n, k = len(perps), ep.max_episodes
    people = perps.people
    first = people.birth_t + 16 * YEAR + rng.exponential(ep.first_start_mean_years * YEAR, n)
    dur = np.exp(
        np.log(ep.duration_median_years * YEAR) + ep.duration_sigma * rng.standard_normal((n, k))
    )
    gap = rng.exponential(ep.gap_mean_years * YEAR, (n, k))
    gap[:, 0] = 0.0
    # start_k = first + sum_{j<k} (dur_j + gap_{j+1}); end_k = start_k + dur_k
    steps = np.concatenate([np.zeros((n, 1)), dur[:, :-1]], axis=1) + gap
    start = first[:, None] + np.cumsum(steps, axis=1)
    end = start + dur
    same_sex = rng.random((n, k)) < rel.same_sex_share
    partner_sex = np.where(same_sex, people.sex[:, None], 1 - people.sex[:, None]).astype(np.int8)

    # some partners are perpetrators themselves (a person can be both over time): a perpetrator
    # of the partner's sex in the same area and of a similar age
    mutual = rng.random((n, k)) < rel.partner_is_perpetrator_share
    # sort by (area, sex, birth); a partner's place is found with one binary search
    group = people.area.astype(np.int64) * 2 + people.sex
    big = 1e6  # > any birth offset range in days
    key = group * big + (people.birth_t + 5e5)
    order = np.argsort(key, kind="stable")
    skey = key[order]
    sgroup = group[order]
    want = people.area[:, None].astype(np.int64) * 2 + partner_sex
    g_lo = np.searchsorted(sgroup, want, side="left")
    g_hi = np.searchsorted(sgroup, want, side="right")
    pos = np.searchsorted(skey, want * big + (people.birth_t[:, None] + 5e5), side="left")
    pos = pos + rng.integers(-10, 11, (n, k))
    ok = mutual & (g_hi > g_lo)
    pos = np.clip(pos, g_lo, np.maximum(g_hi - 1, g_lo))
    target = np.where(ok, order[np.minimum(pos, n - 1)], -1)
    self_pick = target == np.arange(n)[:, None]
    too_young = np.where(
        target >= 0, start - people.birth_t[np.maximum(target, 0)] < 16 * YEAR, True
    )
    target = np.where(self_pick | too_young, -1, target)
    target = np.where(target >= 0, members[np.maximum(target, 0)], -1)

    vs = rel.victims
    s = k + 2
    birth = np.empty((n, s))
    partner_birth = people.birth_t[:, None] + rng.normal(0.0, 4.0 * YEAR, (n, k))
    birth[:, :k] = np.minimum(partner_birth, start - 16 * YEAR)  # partners are 16+ from day one
    birth[:, k] = people.birth_t - rng.uniform(0.5, 25.0, n) * YEAR  # older relative
    birth[:, k + 1] = people.birth_t - rng.uniform(18.0, 40.0, n) * YEAR  # parent
    # an elderly perpetrator's parent or older relative would otherwise be born before 1900,
    # which no force's records hold (and the people contract rejects): cap at 95 at the start
    birth[:, k:] = np.maximum(birth[:, k:], -MAX_VICTIM_AGE_AT_START * YEAR)
    sex = np.empty((n, s), dtype=np.int8)
    sex[:, :k] = partner_sex
    # SEXES = ("female", "male"): "is female" xor 1 is the sex code
    sex[:, k] = (rng.random(n) < vs.family_female_share).astype(np.int8) ^ 1
    sex[:, k + 1] = (rng.random(n) < vs.parent_female_share).astype(np.int8) ^ 1
    same_eth = rng.random((n, s)) < vs.same_ethnicity
    other_eth = _ethnicity_draw(params, people.area, rng, (n, s))
    ethnicity = np.where(same_eth, people.ethnicity[:, None], other_eth).astype(np.int8)
    return Households(
        members=members,
        start=start,
        end=end,
        partner_sex=partner_sex,
        partner_perpetrator=target,
        birth_t=birth,
        sex=sex,
        ethnicity=ethnicity,
        disability=rng.random((n, s)) < vs.disability,
        mental_health=rng.random((n, s)) < vs.mental_health,
        substance_misuse=rng.random((n, s)) < vs.substance_misuse,
    )


def _ethnicity_draw(
    params: WorldParams, area: np.ndarray, rng: np.random.Generator, shape: tuple[int, int]
) -> np.ndarray:
    from riskmodel.data import AREAS, ETHNICITIES

    pop = params.cfg.population
    u = rng.random(shape)
    out = np.empty(shape, dtype=np.int8)
    default = np.array([pop.ethnicity.get(e, 0.0) for e in ETHNICITIES])
    for a, name in enumerate(AREAS):
        shares = pop.ethnicity_by_area.get(name)
        table = default if shares is None else np.array([shares.get(e, 0.0) for e in ETHNICITIES])
        cum = np.cumsum(table)
        cum[-1] = 1.0
        sel = area == a
        out[sel] = np.searchsorted(cum, u[sel], side="right")
    return out


def assign_victims(
    params: WorldParams,
    perps: Perpetrators,
    homes: Households,
    *,
    person: np.ndarray,
    t: np.ndarray,
    offence: np.ndarray,
    u: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Relationship code and victim slot of each incident (``u``: one uniform per incident).

    ``person`` is block-local and sorted; episode lookups are binary searches in the flattened
    (row, start) keys, so no (incidents x episodes) matrix is built.
    """
    rel = params.cfg.relationships
    k = homes.start.shape[1]
    row = homes.row(person)
    # starts clipped to just outside the incidents' time range keep every comparison with t
    lo, hi = float(t.min(initial=0.0)) - 1.0, float(t.max(initial=0.0)) + 1.0
    span = hi - lo + 2.0
    starts = np.clip(homes.start, lo, hi) - lo
    flat = (np.arange(len(homes.members))[:, None] * span + starts).ravel()
    n_started = np.searchsorted(flat, row * span + (t - lo), side="right") - row * k
    cur = n_started - 1  # latest episode that has started, -1 if none
    cur_c = np.maximum(cur, 0)
    ends = homes.end.ravel()
    has_partner = (cur >= 0) & (t < ends[row * k + cur_c])
    # the ex-partner: the previous episode if there is a current partner, else the last one
    ex = np.where(has_partner, cur - 1, cur)
    ex_c = np.maximum(ex, 0)
    has_ex = (ex >= 0) & (t - ends[row * k + ex_c] < rel.ex_partner_window_years * YEAR)
    young = (t - perps.people.birth_t[person]) / YEAR < rel.adolescent_max_age
    # cumulative relationship weights for each (offence type, availability) pattern: 72 rows
    pattern = has_partner * 4 + has_ex * 2 + young
    cum = _cumulative_weights(params.rel_weights)[offence.astype(np.int64) * 8 + pattern]
    pick = (u[:, None] >= cum[:, :-1]).sum(axis=1).astype(np.int8)
    slot = np.where(
        pick == PARTNER,
        cur_c,
        np.where(pick == EX_PARTNER, ex_c, k + (pick == ADOLESCENT_TO_PARENT)),
    ).astype(np.int8)
    return pick, slot


def _cumulative_weights(weights: np.ndarray) -> np.ndarray:
    """(types x 8 availability patterns, 4) normalised cumulative weights of the relationships.

    Pattern bits: 4 = a current partner, 2 = an ex-partner within the window, 1 = the
    perpetrator is an adolescent (the family member is always available). An offence type whose
    relationships are all unavailable falls back to the family member.
    """
    n_types = weights.shape[0]
    out = np.empty((n_types * 8, 4))
    for pattern in range(8):  # 8 patterns x types: a table, not a loop over events
        avail = np.array([pattern & 4, pattern & 2, 1, pattern & 1], dtype=bool)
        w = weights * avail
        total = w.sum(axis=1, keepdims=True)
        fallback = np.zeros(4)
        fallback[FAMILY] = 1.0
        w = np.where(total > 0, w / np.where(total > 0, total, 1.0), fallback)
        out[np.arange(n_types) * 8 + pattern] = np.cumsum(w, axis=1)
    out[:, -1] = 1.0
    return out

"""One block of perpetrators, start to finish: incidents, marks, programmes, truth, statistics.

Perpetrators are independent of each other (victims who are perpetrators too are labels only),
so the world is simulated in blocks of a fixed size: memory stays bounded and the true incidents
never need to exist all at once. Every step inside a block is vectorised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from riskmodel.synth._offending import branch, excitation, nonda_offences, poisson_times
from riskmodel.synth._params import (
    FOLLOWUP_DAYS,
    SEVERE_CODES,
    YEAR,
    WorldParams,
)
from riskmodel.synth._population import Perpetrators
from riskmodel.synth._truth import p_none, p_none_eras, solve_phi
from riskmodel.synth._victims import Households, assign_victims, draw_households

_TIME_SPAN = float(1 << 16)  # > any time range (days) of a world: (person, time) sort keys
SEXUAL = 8  # code of sexual_offence in DA_TYPES


@dataclass
class TruthTables:
    """The tabulated burst functions of every (bias value, severity level, sex) combination
    the config allows (enumerated from the config, so blocks can be drawn independently)."""

    bias_values: np.ndarray  # sorted distinct reporting multipliers (visibility x bias)
    n_levels: int
    phi: np.ndarray  # (2m, K, G): rows [0, m) any recorded DA, [m, 2m) recorded severe
    g0: np.ndarray  # (2m, G)
    m: int
    era_stride: int = 0  # rows per recording era (era e: rows + e * era_stride); 0: one era

    def combo(self, perps: Perpetrators) -> np.ndarray:
        """Row of each perpetrator in the tables."""
        b = np.searchsorted(self.bias_values, perps.bias)
        if not np.array_equal(
            self.bias_values[np.minimum(b, len(self.bias_values) - 1)], perps.bias
        ):
            raise AssertionError("a perpetrator's reporting multiplier is not in the tables")
        return (b.astype(np.int64) * self.n_levels + perps.level) * 2 + perps.people.sex


def bias_values(params: WorldParams) -> np.ndarray:
    """Every reporting multiplier a perpetrator can have, computed exactly as
    :func:`riskmodel.synth._population.draw_perpetrators` does (ethnicity x area x visibility)."""
    vals = (
        params.bias_ethnicity[:, None, None] * params.bias_area[None, :, None]
    ) * params.visibility_mult[None, None, :]
    return np.unique(vals.ravel())


def truth_tables(params: WorldParams) -> TruthTables:
    """Solve the burst equations once for each distinct set of recording probabilities."""
    values = bias_values(params)
    n_levels = len(params.level_shares)
    rec_any, rec_sev = [], []
    for era in params.era_mult:  # recording eras of the world's trends (one without trends)
        for b in values:  # a loop over combinations of the config's categories, not people
            for level in range(n_levels):
                for sex in range(2):
                    a, s = params.class_recording(level, sex)
                    rec_any.append(a * (b * era[sex]) if len(params.era_mult) > 1 else a * b)
                    rec_sev.append(s * (b * era[sex]) if len(params.era_mult) > 1 else s * b)
    rec = np.clip(np.vstack(rec_any + rec_sev), 0.0, 1.0)
    _, phi, g0 = solve_phi(rec, branching=params.branching, beta=params.beta)
    stride = len(values) * n_levels * 2 if len(params.era_mult) > 1 else 0
    return TruthTables(
        bias_values=values, n_levels=n_levels, phi=phi, g0=g0, m=len(rec_any), era_stride=stride
    )


@dataclass
class ChunkResult:
    """What one block contributes to the world (perpetrator indices are global)."""

    # recorded DA events inside the recorded history, sorted by (perpetrator, time)
    person: np.ndarray
    t: np.ndarray
    offence: np.ndarray
    relationship: np.ndarray
    victim: np.ndarray  # person key of the victim (see victim_keys)
    p_reoffend: np.ndarray
    p_severe: np.ndarray
    true_incidents_12m: np.ndarray
    recorded_reoffend_12m: np.ndarray
    # recorded DA incidents after the index event in its 12 months, and how many of the same
    # incidents equal recording (every measurement-bias multiplier 1, same draws) would record
    recorded_incidents_12m: np.ndarray
    equal_recording_incidents_12m: np.ndarray
    # recorded non-DA events of these perpetrators
    nonda_person: np.ndarray
    nonda_t: np.ndarray
    nonda_offence: np.ndarray
    # programmes (one referral at most per person)
    prog_person: np.ndarray
    prog_referral: np.ndarray
    prog_start: np.ndarray  # NaN when never started
    prog_completion: np.ndarray  # NaN when not completed
    # victims who are not perpetrators and appear in recorded DA events
    victims: dict[str, np.ndarray]
    # attributes of this block's perpetrators who appear in the records (as either role)
    perpetrators: dict[str, np.ndarray]
    # statistics for the calibration report
    stats: dict[str, np.ndarray] = field(default_factory=dict)
    incidents: dict[str, np.ndarray] | None = None


def _categorical_rows(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)


def simulate_chunk(
    params: WorldParams,
    perps: Perpetrators,
    *,
    tables: TruthTables,
    offset: int,
    n_total: int,
    stream: Callable[[str], np.random.Generator],
    keep_incidents: bool = False,
) -> ChunkResult:
    """Simulate perpetrators ``offset .. offset + len(perps) - 1`` of the world.

    ``stream(name)`` gives this block's generator for one purpose (offending, marks, programme,
    households, non-DA): a change in one (say, recording) never shifts the draws of another.
    """
    cal = params.cal
    cfg = params.cfg
    people = perps.people
    n_days = cal.n_days

    # 1. spontaneous incidents and their bursts
    rng = stream("offending")
    owner, t0 = poisson_times(
        perps.propensity,
        people.birth_t,
        t_lo=cal.t_lo,
        t_hi=cal.t_hi,
        onset_days=params.onset_days,
        age_factor=params.age_factor,
        rng=rng,
        trend=params.rate_trend if params.has_rate_trend else None,
        trend_max=params.rate_trend_max(),
    )
    keep_u = rng.random(len(t0))  # programme effect: thins spontaneous incidents after completion
    inc = branch(
        owner,
        t0,
        branching=params.branching,
        beta=params.beta,
        n_classes=params.n_classes,
        t_hi=cal.t_hi,
        rng=rng,
    )
    order = np.argsort(inc.person * _TIME_SPAN + (inc.t - cal.t_lo), kind="stable")
    inc = inc.take(order)
    n = len(inc)
    # households only for perpetrators with an incident (offending alone decides who they are)
    members = np.flatnonzero(np.bincount(inc.person, minlength=len(perps)))

    # 2. marks, drawn before any thinning so that the random streams do not depend on it
    rng = stream("marks")
    u_type, u_rec, u_ref, u_victim = (rng.random(n) for _ in range(4))
    level = perps.level[inc.person]
    sex = people.sex[inc.person]
    n_levels = params.type_mix.shape[1]
    mix_code = (inc.cls.astype(np.int64) * n_levels + level) * 2 + sex
    offence = np.empty(n, dtype=np.int8)
    for code in np.flatnonzero(np.bincount(mix_code)):  # (class, level, sex) combinations
        c, rest = divmod(int(code), n_levels * 2)
        lv, sx = divmod(rest, 2)
        sel = mix_code == code
        offence[sel] = _categorical_rows(np.cumsum(params.type_mix[c, lv, sx]), u_type[sel])
    p_report = params.reporting[offence] * params.class_reporting[inc.cls] * perps.bias[inc.person]
    p_report = _with_recording_trend(params, p_report, t0[inc.root], sex)
    reported = u_rec < p_report
    recorded = u_rec < p_report * params.recorded_given_reported
    # the equal-recording counterfactual (common random numbers): the same incident and the same
    # draw u_rec, with the measurement-bias multipliers (ethnicity, area, and the sex-specific
    # part of a recording trend) set to 1; household visibility, the offence mix and recording
    # changes that apply to everyone are kept, because they are not bias. Dividing by exactly
    # 1.0 leaves an unbiased world's probabilities bit-identical, so there recorded == equal.
    bias_mult = (params.bias_ethnicity[people.ethnicity] * params.bias_area[people.area])[
        inc.person
    ]
    if len(params.era_mult) > 1:
        bias_mult = bias_mult * params.era_sex_bias[params.era_of(t0[inc.root]), sex]
    recorded_equal = u_rec < (p_report / bias_mult) * params.recorded_given_reported
    in_window = (inc.t >= 0.0) & (inc.t < n_days)
    severe = np.isin(offence, SEVERE_CODES)

    # 3. programmes: referral at a recorded DA event; completion lowers the spontaneous rate
    prog = cfg.programme
    eligible = recorded & in_window & (prog.refer_after_severe | ~severe)
    referred_at = np.nonzero(eligible & (u_ref < prog.referral_probability))[0]
    ref_person, first = np.unique(inc.person[referred_at], return_index=True)
    ref_t = inc.t[referred_at[first]]
    n_ref = len(ref_person)
    rng = stream("programme")
    started = rng.random(n_ref) < prog.start_probability
    start_t = (
        ref_t
        + prog.start_delay_days.min
        + rng.exponential(max(prog.start_delay_days.mean_extra, 1e-12), n_ref)
    )
    completed = started & (rng.random(n_ref) < prog.completion_probability)
    completion_t = np.where(completed, start_t + prog.duration_days, np.nan)
    start_t = np.where(started, start_t, np.nan)
    completion_of = np.full(len(perps), np.inf)
    completion_of[ref_person[completed]] = completion_t[completed]
    root_t = t0
    root_person = owner
    removed_root = (root_t > completion_of[root_person]) & (keep_u < prog.effect)
    kept = ~removed_root[inc.root]
    if not kept.all():
        inc = inc.take(kept)
        offence, reported, recorded = offence[kept], reported[kept], recorded[kept]
        recorded_equal = recorded_equal[kept]
        in_window, severe, u_victim = in_window[kept], severe[kept], u_victim[kept]
        n = len(inc)

    # 4. victims and relationships
    homes = draw_households(params, perps, members=members, rng=stream("households"))
    rel, slot = assign_victims(
        params, perps, homes, person=inc.person, t=inc.t, offence=offence, u=u_victim
    )

    # 5. the index events: recorded DA events inside the recorded history
    idx = np.nonzero(recorded & in_window)[0]
    ip = inc.person[idx]
    it = inc.t[idx]
    window = np.floor(it) + FOLLOWUP_DAYS + 1 - it  # up to the end of day index + 365
    n_eras = len(params.era_mult)
    # follow-ons are recorded under their burst's era: one excitation column per (era, class)
    exc_col = params.next_class(inc.cls) + (params.era_of(t0[inc.root]) * params.n_classes)
    exc = excitation(
        inc.person,
        inc.t,
        exc_col.astype(np.int64),
        beta=params.beta,
        n_classes=params.n_classes * n_eras,
    )[idx]
    comp = completion_of[ip]
    has_comp = np.isfinite(comp)
    cut = np.where(has_comp, comp - it, window)
    after = np.where(has_comp, 1.0 - prog.effect, 1.0)
    birth = people.birth_t[ip]
    lam = perps.propensity[ip]

    def mu_at(rows: np.ndarray, s: np.ndarray) -> np.ndarray:
        age = (it[rows, None] + s - birth[rows, None]) / YEAR
        out = lam[rows, None] * params.age_factor(age)
        if params.has_rate_trend:
            out = out * params.rate_trend(it[rows, None] + s, age)
        return out

    combo = tables.combo(perps)[ip]
    common = dict(excitation=exc, window=window, mu_at=mu_at, cut=cut, after_cut=after)
    if n_eras > 1:
        common.update(era_stride=tables.era_stride, era_starts=params.era_starts, t0=it)
    none = p_none_eras if n_eras > 1 else p_none
    p_reoffend = 1.0 - none(
        combo=combo, phi=tables.phi, g0=tables.g0, branching=params.branching, **common
    )
    p_severe = 1.0 - none(
        combo=combo + tables.m, phi=tables.phi, g0=tables.g0, branching=params.branching, **common
    )

    # 6. what happened: recorded reoffence (same person, later, dated <= index date + 365) and
    # the true number of incidents in the same window
    horizon = np.floor(it) + FOLLOWUP_DAYS + 1
    nxt_same = np.zeros(len(idx), dtype=bool)
    nxt_same[:-1] = ip[1:] == ip[:-1]
    nxt_t = np.append(it[1:], np.inf)
    recorded_12m = nxt_same & (nxt_t < horizon)
    key = inc.person.astype(np.float64) * _TIME_SPAN + (inc.t - cal.t_lo)
    hi = np.searchsorted(key, ip.astype(np.float64) * _TIME_SPAN + (horizon - cal.t_lo), "left")
    true_12m = hi - idx - 1
    # the same window counted on recorded incidents and on equal-recording ones (the index event
    # itself is excluded: it is recorded in both, by construction of the index events)
    cum_rec = np.cumsum(recorded & in_window)
    cum_eq = np.cumsum(recorded_equal & in_window)
    rec_12m = cum_rec[hi - 1] - cum_rec[idx]
    eq_12m = cum_eq[hi - 1] - cum_eq[idx]

    # 7. recorded non-DA offending of these perpetrators
    rng = stream("nonda")
    nd_owner, nd_t, nd_type = nonda_offences(
        perps.nonda_rate,
        people.birth_t,
        n_days=n_days,
        params=params,
        violence_share=cfg.nonda.violence_share,
        rng=rng,
    )

    # 8. statistics the calibration report needs (true incidents never leave this function)
    stats = _chunk_stats(
        params,
        perps,
        homes=homes,
        inc=inc,
        offence=offence,
        reported=reported,
        recorded=recorded,
        in_window=in_window,
        slot=slot,
        offset=offset,
        n_total=n_total,
    )
    vkey = victim_keys(homes, inc.person[idx], slot[idx], offset=offset, n_total=n_total)
    labels = _new_offence_labels(params, offence[idx], it, stream)
    result = ChunkResult(
        person=ip.astype(np.int64) + offset,
        t=it,
        offence=labels,
        relationship=rel[idx],
        victim=vkey,
        p_reoffend=p_reoffend,
        p_severe=p_severe,
        true_incidents_12m=true_12m.astype(np.int64),
        recorded_reoffend_12m=recorded_12m,
        recorded_incidents_12m=rec_12m.astype(np.int64),
        equal_recording_incidents_12m=eq_12m.astype(np.int64),
        nonda_person=nd_owner.astype(np.int64) + offset,
        nonda_t=nd_t,
        nonda_offence=nd_type,
        prog_person=ref_person.astype(np.int64) + offset,
        prog_referral=ref_t,
        prog_start=start_t,
        prog_completion=completion_t,
        victims=victim_attributes(perps, homes, vkey, offset=offset, n_total=n_total),
        perpetrators=_recorded_perpetrators(
            perps, np.concatenate([ip, nd_owner, vkey[vkey < n_total] - offset]), offset=offset
        ),
        stats=stats,
    )
    if keep_incidents:
        as_recorded = offence.copy()
        as_recorded[idx] = labels  # recorded incidents carry the offence they were recorded as
        result.incidents = {
            "person": inc.person.astype(np.int64) + offset,
            "t": inc.t,
            "cls": inc.cls,
            "offence": as_recorded,
            "relationship": rel,
            "victim": victim_keys(homes, inc.person, slot, offset=offset, n_total=n_total),
            "reported": reported,
            "recorded": recorded,
        }
    return result


def _with_recording_trend(
    params: WorldParams, p_report: np.ndarray, root_t: np.ndarray, sex: np.ndarray
) -> np.ndarray:
    """Reporting probability under the recording practice of the era each burst began in."""
    if len(params.era_mult) == 1:
        return p_report  # no recording trend: the same numbers, bit for bit
    return p_report * params.era_mult[params.era_of(root_t), sex]


def _new_offence_labels(
    params: WorldParams, offence: np.ndarray, t: np.ndarray, stream: Callable
) -> np.ndarray:
    """Labels of recorded events when an offence exists only from a date (controlling or
    coercive behaviour): before it recorded under the older offence, after it a rising share
    under the new one. The label only: whether the incident is recorded is unchanged, so the
    truth (any recorded DA, recorded severe DA) is unchanged too."""
    if params.new_offence is None:
        return offence
    code, start, before, initial, ramp = params.new_offence
    share = np.clip(initial + (1.0 - initial) * (t - start) / ramp, initial, 1.0)
    share = np.where(t < start, 0.0, share)
    u = stream("trends").random(len(offence))  # its own stream: no other draw moves
    out = offence.copy()
    out[(offence == code) & (u >= share)] = before
    return out


def _recorded_perpetrators(perps: Perpetrators, local: np.ndarray, *, offset: int) -> dict:
    """Attributes of the block's perpetrators in ``local`` (block-local indices, repeats ok)."""
    idx = np.flatnonzero(np.bincount(local.astype(np.int64), minlength=len(perps)))
    people = perps.people
    return {
        "key": idx.astype(np.int64) + offset,
        **{
            c: getattr(people, c)[idx]
            for c in (
                "birth_t",
                "sex",
                "ethnicity",
                "area",
                "disability",
                "mental_health",
                "substance_misuse",
            )
        },
    }


def victim_keys(
    homes: Households, person: np.ndarray, slot: np.ndarray, *, offset: int, n_total: int
) -> np.ndarray:
    """Person key of the victim in ``slot`` of local perpetrator ``person``.

    Keys: ``[0, n_total)`` perpetrators (a partner who is a perpetrator too), then
    ``n_total + perpetrator * n_slots + slot`` for victims who are not perpetrators.
    """
    k = homes.start.shape[1]
    partner = slot < k
    row = homes.row(person)
    target = np.where(partner, homes.partner_perpetrator[row, np.minimum(slot, k - 1)], -1)
    own = n_total + (person.astype(np.int64) + offset) * homes.n_slots + slot
    return np.where(target >= 0, target.astype(np.int64) + offset, own)


def victim_attributes(
    perps: Perpetrators, homes: Households, keys: np.ndarray, *, offset: int, n_total: int
) -> dict[str, np.ndarray]:
    """Attributes of the non-perpetrator victims among ``keys`` (one row per distinct key)."""
    uniq = np.unique(keys[keys >= n_total])
    dyad = uniq - n_total
    person = dyad // homes.n_slots - offset
    p = homes.row(person)
    s = dyad % homes.n_slots
    return {
        "key": uniq,
        "birth_t": homes.birth_t[p, s],
        "sex": homes.sex[p, s],
        "ethnicity": homes.ethnicity[p, s],
        "area": perps.people.area[person],
        "disability": homes.disability[p, s],
        "mental_health": homes.mental_health[p, s],
        "substance_misuse": homes.substance_misuse[p, s],
    }


def _chunk_stats(
    params: WorldParams,
    perps: Perpetrators,
    *,
    homes: Households,
    inc,
    offence: np.ndarray,
    reported: np.ndarray,
    recorded: np.ndarray,
    in_window: np.ndarray,
    slot: np.ndarray,
    offset: int,
    n_total: int,
) -> dict[str, np.ndarray]:
    cal = params.cal
    people = perps.people
    years = np.arange(cal.start.year, cal.end.year + 1)
    yr = cal.year_of(inc.t[reported & in_window])
    reported_by_year = np.bincount(yr - years[0], minlength=len(years))[: len(years)]
    n_areas, n_eth = len(params.area_population), len(params.bias_ethnicity)
    grp = people.ethnicity[inc.person].astype(np.int64) * n_areas + people.area[inc.person]
    true_by_group = np.bincount(grp[in_window], minlength=n_eth * n_areas)
    rec_by_group = np.bincount(grp[in_window & recorded], minlength=n_eth * n_areas)

    # victim (dyad) histories: incidents before the first recorded one, time to it, and whether
    # any of the incidents against the victim was a sexual offence
    s = homes.n_slots
    dyad = inc.person.astype(np.int64) * s + slot
    order = np.argsort(dyad, kind="stable")  # incidents are in time order within a person
    d_sorted = dyad[order]
    new = np.ones(len(d_sorted), dtype=bool)
    new[1:] = d_sorted[1:] != d_sorted[:-1]
    starts = np.flatnonzero(new)
    dyads = d_sorted[starts]
    first_t = inc.t[order][starts]
    rec_sorted = (recorded & in_window)[order]
    rec_pos = np.flatnonzero(rec_sorted)
    rec_dyad, rec_first = np.unique(d_sorted[rec_pos], return_index=True)
    first_rec_pos = rec_pos[rec_first]
    grp_of = np.searchsorted(dyads, rec_dyad)
    n_before = first_rec_pos - starts[grp_of]
    t_first = first_t[grp_of]
    t_first_rec = inc.t[order][first_rec_pos]
    p_local = rec_dyad // s
    age_first = (t_first - people.birth_t[p_local]) / YEAR
    expected_rate = (
        perps.propensity[p_local] * params.age_factor(age_first) / (1.0 - params.branching) * YEAR
    )
    sexual_any = np.zeros(len(dyads), dtype=bool)
    np.logical_or.at(sexual_any, np.searchsorted(dyads, d_sorted), offence[order] == SEXUAL)
    return {
        "reported_by_year": reported_by_year,
        "true_by_group": true_by_group,
        "recorded_by_group": rec_by_group,
        "true_in_window": np.array([int(in_window.sum())]),
        "dyad_victim": victim_keys(
            homes, rec_dyad // s, (rec_dyad % s).astype(np.int8), offset=offset, n_total=n_total
        ),
        "dyad_first_t": t_first,
        "dyad_first_recorded_t": t_first_rec,
        "dyad_incidents_before": n_before,
        "dyad_expected_rate": expected_rate,
        "dyad_sexual_any": sexual_any[grp_of],
    }

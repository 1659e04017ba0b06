"""The validated config turned into the numeric arrays the engine uses (days as the time unit)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from riskmodel.data import (
    AREAS,
    ETHNICITIES,
    RELATIONSHIPS,
    SEVERE_OFFENCE_TYPES,
    SEXES,
)
from riskmodel.synth._config import DA_TYPES, NONDA_TYPES, WorldConfig

YEAR = 365.25  # days per year, for ages and rates
FOLLOWUP_DAYS = 365  # the 12-month window: events dated up to index date + 365
HORIZON_EXTRA = 367.0  # offending is simulated this long past the last recorded day

#: every offence type in one code space: DA types first (codes 0..8), then non-DA
ALL_TYPES: tuple[str, ...] = DA_TYPES + NONDA_TYPES
SEVERE_CODES = np.array([DA_TYPES.index(t) for t in SEVERE_OFFENCE_TYPES], dtype=np.int8)
NONDA_VIOLENCE = len(DA_TYPES)
NONDA_OTHER = len(DA_TYPES) + 1


@dataclass(frozen=True)
class Calendar:
    """Time runs in days from the first recorded day (``start``, t = 0)."""

    start: dt.date
    end: dt.date  # last recorded day (inclusive)
    n_days: int  # recorded days: dates 0 .. n_days - 1
    t_lo: float  # offending starts here (burn-in, negative)
    t_hi: float  # offending simulated up to here (past the end, for complete true counts)

    @classmethod
    def from_config(cls, cfg: WorldConfig) -> Calendar:
        start = cfg.period.start
        try:
            end_excl = start.replace(year=start.year + cfg.period.years)
        except ValueError:  # 29 February
            end_excl = start.replace(year=start.year + cfg.period.years, day=28)
        n_days = (end_excl - start).days
        return cls(
            start=start,
            end=end_excl - dt.timedelta(days=1),
            n_days=n_days,
            t_lo=-cfg.period.burn_in_years * YEAR,
            t_hi=n_days + HORIZON_EXTRA,
        )

    def year_of(self, t: np.ndarray) -> np.ndarray:
        """Calendar year of day offsets ``t``."""
        d = np.datetime64(self.start, "D") + np.floor(t).astype("timedelta64[D]")
        return d.astype("datetime64[Y]").astype(np.int64) + 1970


@dataclass(frozen=True)
class WorldParams:
    """Everything the engine needs, as arrays indexed by the codes of ``riskmodel.data._schema``."""

    cfg: WorldConfig
    cal: Calendar
    # offending process
    base_rate: float  # spontaneous incidents per day, mean of the heterogeneous part, peak age
    sex_mult: np.ndarray  # (2,)
    area_incidence: np.ndarray  # (13,)
    area_population: np.ndarray  # (13,)
    mh_mult: float
    sub_mult: float
    onset_days: float
    age_knots: np.ndarray  # years
    age_mult: np.ndarray
    branching: float
    beta: float  # 1 / mean delay (per day)
    n_classes: int
    # marks
    type_mix: np.ndarray  # (classes, levels, sexes, n_da_types): probabilities
    reporting: np.ndarray  # (n_da_types,)
    class_reporting: np.ndarray  # (classes,) multiplier of reporting by escalation class
    recorded_given_reported: float
    harm_days: np.ndarray  # (n_all_types,)
    level_shares: np.ndarray
    visibility_shares: np.ndarray
    visibility_mult: np.ndarray
    bias_ethnicity: np.ndarray  # (5,)
    bias_area: np.ndarray  # (13,)
    # relationships
    rel_weights: np.ndarray  # (n_da_types, 4): base weight x type multiplier
    # non-DA
    nonda_age_knots: np.ndarray
    nonda_age_mult: np.ndarray
    # trends over time (all neutral when the config's trends are off)
    era_starts: np.ndarray = field(default_factory=lambda: np.array([-np.inf]))  # days
    era_mult: np.ndarray = field(default_factory=lambda: np.ones((1, 2)))  # (eras, sexes)
    # the part of era_mult that differs by sex (trends.recording[].female): measurement bias,
    # removed by the equal-recording counterfactual like the measurement_bias multipliers
    era_sex_bias: np.ndarray = field(default_factory=lambda: np.ones((1, 2)))  # (eras, sexes)
    lockdowns: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # lo, hi, mult
    age_growth: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))  # lo, hi, t0, t1, g
    new_offence: tuple | None = None  # (code, start day, fallback code, initial, ramp days)

    @property
    def has_rate_trend(self) -> bool:
        return len(self.lockdowns) > 0 or len(self.age_growth) > 0

    def era_of(self, t: np.ndarray) -> np.ndarray:
        """Recording era (index into ``era_mult``) of times ``t`` (days)."""
        return np.maximum(np.searchsorted(self.era_starts, t, side="right") - 1, 0)

    def rate_trend(self, t: np.ndarray, age_years: np.ndarray) -> np.ndarray:
        """Multiplier of the spontaneous rate at time ``t`` and age: lockdowns x age growth."""
        t, age_years = np.broadcast_arrays(np.asarray(t, dtype=float), age_years)
        out = np.ones(t.shape)
        # each factor is computed only where it applies (the same products, element by element,
        # as multiplying everywhere and keeping the affected cells; the power is the cost)
        for lo, hi, m in self.lockdowns:
            out[(t >= lo) & (t < hi)] *= m
        for a_lo, a_hi, t_lo, t_hi, g in self.age_growth:
            inside = (age_years >= a_lo) & (age_years < a_hi + 1)
            years = np.clip(t[inside] - t_lo, 0.0, t_hi - t_lo) / YEAR
            out[inside] *= (1.0 + g) ** years
        return out

    def rate_trend_max(self) -> float:
        """An upper bound of :meth:`rate_trend` (for thinning)."""
        bound = (
            float(np.prod(np.maximum(self.lockdowns[:, 2], 1.0))) if len(self.lockdowns) else 1.0
        )
        for _, _, t_lo, t_hi, g in self.age_growth:
            bound *= max(1.0, (1.0 + g) ** ((t_hi - t_lo) / YEAR))
        return bound

    @property
    def alpha(self) -> float:
        return self.branching * self.beta

    def next_class(self, cls: np.ndarray) -> np.ndarray:
        """Class of the follow-on incidents of an incident of class ``cls``."""
        return np.minimum(cls + 1, self.n_classes - 1).astype(np.int8)

    def age_factor(self, age_years: np.ndarray) -> np.ndarray:
        """Desistance curve: multiplier of the spontaneous rate at an age (0 before onset)."""
        out = np.interp(age_years, self.age_knots, self.age_mult)
        return np.where(age_years < self.onset_days / YEAR, 0.0, out)

    def nonda_age_factor(self, age_years: np.ndarray) -> np.ndarray:
        out = np.interp(age_years, self.nonda_age_knots, self.nonda_age_mult)
        return np.where(age_years < self.onset_days / YEAR, 0.0, out)

    def class_recording(self, level: int, sex: int) -> tuple[np.ndarray, np.ndarray]:
        """Per escalation class: the probability an incident is recorded (any DA type, and a
        severe type), before the person's bias multiplier."""
        mix = self.type_mix[:, level, sex, :]  # (classes, types)
        rec = self.reporting * self.recorded_given_reported
        severe = np.zeros(len(DA_TYPES), dtype=bool)
        severe[SEVERE_CODES] = True
        # elementwise sums rather than BLAS products: bit-identical whatever the thread count
        any_rec = (mix * rec).sum(axis=1)
        severe_rec = (mix * (rec * severe)).sum(axis=1)
        return any_rec * self.class_reporting, severe_rec * self.class_reporting


def _curve(points: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(points, dtype=np.float64)
    return arr[:, 0].copy(), arr[:, 1].copy()


def build_params(cfg: WorldConfig) -> WorldParams:
    """Numeric form of a validated config."""
    k = cfg.self_excitation.escalation_classes
    levels = cfg.severity_levels
    share = np.array([cfg.offence_types[t].share for t in DA_TYPES])
    mix = np.empty((k, len(levels), len(SEXES), len(DA_TYPES)))
    for c in range(k):
        esc = np.array([cfg.escalation[c].get(t, 1.0) for t in DA_TYPES])
        for li, lv in enumerate(levels):
            lm = np.array([lv.multipliers.get(t, 1.0) for t in DA_TYPES])
            for si, sex in enumerate(SEXES):
                sm = np.array([cfg.sex_type_multipliers.get(sex, {}).get(t, 1.0) for t in DA_TYPES])
                w = share * esc * lm * sm
                mix[c, li, si] = w / w.sum()
    areas = {a.name: a for a in cfg.areas}
    rel = cfg.relationships
    base = np.array([rel.weights.get(r, 0.0) for r in RELATIONSHIPS])
    rel_w = np.empty((len(DA_TYPES), len(RELATIONSHIPS)))
    for ti, t in enumerate(DA_TYPES):
        tm = cfg.relationships.type_multipliers.get(t, {})
        rel_w[ti] = base * np.array([tm.get(r, 1.0) for r in RELATIONSHIPS])
    harm = np.array(
        [cfg.offence_types[t].harm_days for t in DA_TYPES]
        + [cfg.nonda.harm_days.get(t, 0.0) for t in NONDA_TYPES]
    )
    knots, mults = _curve(cfg.propensity.age_curve)
    nd_knots, nd_mults = _curve(cfg.nonda.age_curve)
    return WorldParams(
        cfg=cfg,
        cal=Calendar.from_config(cfg),
        base_rate=cfg.propensity.mean_incidents_per_year / YEAR,
        sex_mult=np.array([cfg.propensity.sex_multiplier.get(s, 1.0) for s in SEXES]),
        area_incidence=np.array([areas[a].incidence for a in AREAS]),
        area_population=np.array([areas[a].population for a in AREAS], dtype=np.float64),
        mh_mult=cfg.propensity.vulnerability_multiplier.get("mental_health", 1.0),
        sub_mult=cfg.propensity.vulnerability_multiplier.get("substance_misuse", 1.0),
        onset_days=cfg.propensity.onset_age * YEAR,
        age_knots=knots,
        age_mult=mults,
        branching=cfg.self_excitation.branching_ratio,
        beta=1.0 / cfg.self_excitation.mean_delay_days,
        n_classes=k,
        type_mix=mix,
        reporting=np.array([cfg.offence_types[t].reporting for t in DA_TYPES]),
        class_reporting=np.array(cfg.self_excitation.class_reporting()),
        recorded_given_reported=cfg.recording.recorded_given_reported,
        harm_days=harm,
        level_shares=np.array([lv.share for lv in levels]),
        visibility_shares=np.array([v.share for v in cfg.recording.visibility]),
        visibility_mult=np.array([v.multiplier for v in cfg.recording.visibility]),
        bias_ethnicity=np.array([cfg.measurement_bias.ethnicity.get(e, 1.0) for e in ETHNICITIES]),
        bias_area=np.array([cfg.measurement_bias.area.get(a, 1.0) for a in AREAS]),
        rel_weights=rel_w,
        nonda_age_knots=nd_knots,
        nonda_age_mult=nd_mults,
        **_trend_params(cfg, Calendar.from_config(cfg)),
    )


def _trend_params(cfg: WorldConfig, cal: Calendar) -> dict:
    """Numeric form of ``cfg.trends`` (days from the first recorded day)."""
    tr = cfg.trends
    if not tr.enabled:
        return {}

    def day(d: dt.date) -> float:
        return float((d - cal.start).days)

    out: dict = {}
    if tr.recording:
        out["era_starts"] = np.array([-np.inf] + [day(s.start) for s in tr.recording[1:]])
        female = SEXES.index("female")
        mult = np.empty((len(tr.recording), len(SEXES)))
        sex_bias = np.ones((len(tr.recording), len(SEXES)))
        for i, s in enumerate(tr.recording):
            mult[i] = s.multiplier
            mult[i, female] *= s.female
            sex_bias[i, female] = s.female
        out["era_mult"] = mult
        out["era_sex_bias"] = sex_bias
    if tr.lockdowns:
        out["lockdowns"] = np.array(
            [[day(w.start), day(w.end) + 1.0, w.multiplier] for w in tr.lockdowns]
        )
    if tr.age_growth:
        out["age_growth"] = np.array(
            [[g.low, g.high, day(g.start), day(g.end), g.annual] for g in tr.age_growth]
        )
    if tr.new_offence is not None:
        no = tr.new_offence
        out["new_offence"] = (
            DA_TYPES.index(no.offence),
            day(no.start),
            DA_TYPES.index(no.recorded_before_as),
            no.initial_share,
            no.ramp_years * YEAR,
        )
    return out

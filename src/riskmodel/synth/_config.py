"""World configuration: every parameter of the synthetic world, with the source of each figure.

The world is data (Synthea style): rates, harm weights, recording probabilities, measurement
bias, programme effect and the calibration targets live in a YAML file (``configs/world/``) that
is validated here before anything runs. Errors name the path of the faulty field
(``offence_types.threats.reporting``), through :func:`riskmodel.config.validate_mapping`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from riskmodel._base import StrictModel
from riskmodel.config import load_config
from riskmodel.data import AREAS, ETHNICITIES, RELATIONSHIPS, SEVERE_OFFENCE_TYPES, SEXES

Sex = Literal[SEXES]  # same values as the contract (Literal unpacks the tuple)
Ethnicity = Literal[ETHNICITIES]
Area = Literal[AREAS]
Relationship = Literal[RELATIONSHIPS]

#: the DA offence types in the engine's fixed order (index = type code)
DA_TYPES: tuple[str, ...] = (
    "violence_with_injury",
    "violence_without_injury",
    "serious_violence",
    "threats",
    "criminal_damage",
    "coercive_control",
    "stalking_harassment",
    "breach_of_order",
    "sexual_offence",
)
NONDA_TYPES: tuple[str, ...] = ("nonda_violence", "nonda_other")
DAType = Literal[DA_TYPES]

MetricName = Literal[
    "recorded_da_per_year",
    "recorded_da_in_year",
    "reported_da_in_year",
    "reoffend_12m_perpetrators",
    "harm_concentration_2y",
    "male_share_perpetrators",
    "male_share_victims",
    "modal_age_band_perpetrators",
    "modal_age_band_victims",
    "age_band_growth",
    "same_sex_share",
    "bme_share_victims",
    "top_incidence_areas",
    "west_kent_relative_rate",
    "da_share_all_crime",
    "da_share_violent_crime",
    "years_before_first_record",
    "incidents_before_first_record",
    "victim_mental_health",
    "victim_substance_misuse",
    "victim_sexual_abuse",
    "history_years",
    "truth_ece",
]

# Error messages (tests assert them). Each names the path of the faulty field.
ERR_SHARES = "{path}: shares must add up to 1 (they add up to {total:.4f})"
ERR_AREAS = "areas: every one of the 13 Kent and Medway areas must appear once; {problem}"
ERR_AGE_CURVE = "{path}: ages must increase strictly and every multiplier must be in [0, 1] with a maximum of exactly 1"
ERR_ESCALATION_LEN = (
    "escalation: needs one entry per escalation class (self_excitation.escalation_classes = "
    "{k}), got {n}"
)
ERR_PROGRAMME_DELAY = (
    "programme: start_delay_days.min + duration_days must be at least 366 ({total} given): a "
    "referral made inside a 12-month follow-up window must not change the rates inside that "
    "window, or the truth would stop being exact"
)
ERR_RECORDING_CAP = (
    "offence_types.{offence}.reporting: {rep} times the largest multipliers (recording.visibility "
    "{vis}, self_excitation.reporting_multiplier {cls}, measurement_bias {bias}) gives a "
    "reporting probability of {p:.3f} (> 1); lower one of them"
)
ERR_TREND_STEPS = "trends.recording: the steps' start dates must increase strictly"
ERR_SEVERE_THRESHOLD = (
    "offence_types.{offence}.harm_days: {harm} is {side} the severe threshold "
    "(severe_threshold_days = {threshold}); severe offences ({severe}) must be at or above it "
    "and the others below"
)


class Period(StrictModel):
    """The recorded history: ``years`` from ``start``; offending is simulated from
    ``burn_in_years`` earlier so that the first recorded years already carry a history."""

    start: dt.date = dt.date(2010, 1, 1)
    years: int = Field(default=15, ge=1, le=40)
    burn_in_years: float = Field(default=2.0, ge=0, le=20)


class AreaSpec(StrictModel):
    name: Area
    population: int = Field(gt=0, description="residents (for rates per 1,000)")
    incidence: float = Field(gt=0, description="multiplier of the offending propensity")
    source: str = ""


class AgeBand(StrictModel):
    low: int = Field(ge=0, le=100)
    high: int = Field(ge=0, le=100)
    share: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> AgeBand:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must not be below low ({self.low})")
        return self


def _check_shares(values: dict[str, float] | list[float], path: str) -> None:
    total = sum(values.values()) if isinstance(values, dict) else sum(values)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(ERR_SHARES.format(path=path, total=total))


def _check_age_curve(curve: list[tuple[float, float]], path: str) -> None:
    ages = [a for a, _ in curve]
    mults = [m for _, m in curve]
    if (
        len(curve) < 2
        or any(b <= a for a, b in zip(ages, ages[1:], strict=False))
        or any(m < 0 or m > 1 for m in mults)
        or abs(max(mults) - 1.0) > 1e-9
    ):
        raise ValueError(ERR_AGE_CURVE.format(path=path))


class Population(StrictModel):
    """The people who may perpetrate domestic abuse (latent; most never reach police records)."""

    perpetrators: int = Field(gt=0, description="potential DA perpetrators at scale 1")
    sex: dict[Sex, float]
    ethnicity: dict[Ethnicity, float]
    ethnicity_by_area: dict[Area, dict[Ethnicity, float]] = Field(default_factory=dict)
    age_at_start: list[AgeBand] = Field(min_length=1)
    disability: float = Field(ge=0, le=1)
    mental_health: float = Field(ge=0, le=1)
    substance_misuse: float = Field(ge=0, le=1)
    source: str = ""

    @model_validator(mode="after")
    def _shares(self) -> Population:
        _check_shares(self.sex, "population.sex")
        _check_shares(self.ethnicity, "population.ethnicity")
        for area, shares in sorted(self.ethnicity_by_area.items()):
            _check_shares(shares, f"population.ethnicity_by_area.{area}")
        _check_shares([b.share for b in self.age_at_start], "population.age_at_start")
        return self


class Propensity(StrictModel):
    """Latent rate of spontaneous DA incidents: heterogeneous across people (``distribution``
    with mean 1: ``gamma`` with ``shape``, or ``lognormal`` with ``sigma``), times the mean,
    multipliers for sex, area and vulnerabilities, and an age curve (desistance).

    A lognormal keeps its spread among the people who reach police records (size-biased
    sampling turns a gamma of shape k into one of shape k + 1, a lognormal into a lognormal of
    the same sigma), so it gives the recorded history more to discriminate on."""

    mean_incidents_per_year: float = Field(gt=0, description="spontaneous incidents, peak age")
    distribution: Literal["gamma", "lognormal"] = "gamma"
    shape: float = Field(default=1.0, gt=0, description="gamma shape")
    sigma: float = Field(default=1.0, gt=0, le=4, description="lognormal sigma")
    sex_multiplier: dict[Sex, float]
    vulnerability_multiplier: dict[Literal["mental_health", "substance_misuse"], float] = Field(
        default_factory=dict
    )
    onset_age: float = Field(default=16.0, ge=16, le=40)
    age_curve: list[tuple[float, float]] = Field(min_length=2)
    source: str = ""

    @field_validator("sex_multiplier", "vulnerability_multiplier")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for k, m in v.items():
            if m <= 0:
                raise ValueError(f"multiplier for {k!r} must be positive, got {m}")
        return v

    @model_validator(mode="after")
    def _curve(self) -> Propensity:
        _check_age_curve(self.age_curve, "propensity.age_curve")
        return self


class SelfExcitation(StrictModel):
    """Each incident triggers on average ``branching_ratio`` follow-on incidents at exponential
    delays (a Hawkes process). Follow-on incidents of follow-on incidents escalate: the class of
    an incident is its generation in the burst, capped at ``escalation_classes - 1``."""

    branching_ratio: float = Field(ge=0, lt=1)
    mean_delay_days: float = Field(gt=0, le=365)
    escalation_classes: int = Field(default=3, ge=1, le=6)
    reporting_multiplier: list[float] | None = Field(
        default=None,
        description="per escalation class: multiplier of the reporting probability (escalating "
        "bursts are more often reported than isolated incidents); default 1 for every class",
    )
    source: str = ""

    @model_validator(mode="after")
    def _classes(self) -> SelfExcitation:
        rm = self.reporting_multiplier
        if rm is not None and (len(rm) != self.escalation_classes or min(rm) <= 0):
            raise ValueError(
                f"self_excitation.reporting_multiplier: needs {self.escalation_classes} positive "
                f"numbers (one per escalation class), got {rm}"
            )
        return self

    def class_reporting(self) -> list[float]:
        return list(self.reporting_multiplier or [1.0] * self.escalation_classes)


class OffenceSpec(StrictModel):
    harm_days: float = Field(ge=0, description="Crime Harm Index style weight")
    share: float = Field(ge=0, le=1, description="share of spontaneous incidents (class 0)")
    reporting: float = Field(ge=0, le=1, description="probability an incident is reported")
    source: str = ""


class SeverityLevel(StrictModel):
    """A latent level of violence: multiplies the shares of offence types for its members."""

    name: str
    share: float = Field(ge=0, le=1)
    multipliers: dict[DAType, float] = Field(default_factory=dict)


class VisibilityLevel(StrictModel):
    share: float = Field(ge=0, le=1)
    multiplier: float = Field(gt=0)


class Recording(StrictModel):
    """An incident is reported with probability ``offence reporting x visibility x measurement
    bias`` and, once reported, recorded with ``recorded_given_reported``. ``visibility`` is a
    latent trait of the perpetrator's household (some never call the police): a few levels."""

    recorded_given_reported: float = Field(gt=0, le=1)
    visibility: list[VisibilityLevel] = Field(
        default_factory=lambda: [VisibilityLevel(share=1.0, multiplier=1.0)], min_length=1
    )
    source: str = ""

    @model_validator(mode="after")
    def _shares(self) -> Recording:
        _check_shares([v.share for v in self.visibility], "recording.visibility.*.share")
        return self


class MeasurementBias(StrictModel):
    """Multipliers of the reporting-and-recording probability by the perpetrator's ethnicity
    group and by area. 1 (or absent) means no bias; the fairness audit can be tested against a
    bias of known size."""

    ethnicity: dict[Ethnicity, float] = Field(default_factory=dict)
    area: dict[Area, float] = Field(default_factory=dict)
    note: str = ""

    @field_validator("ethnicity", "area")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for k, m in v.items():
            if m <= 0:
                raise ValueError(f"multiplier for {k!r} must be positive, got {m}")
        return v

    def is_neutral_for(self, groups: tuple[str, ...]) -> bool:
        return all(self.ethnicity.get(g, 1.0) == 1.0 for g in groups)


class PartnerEpisodes(StrictModel):
    """Intimate relationships over a life: start after 16, last, end, and a new one begins."""

    max_episodes: int = Field(default=6, ge=1, le=12)
    first_start_mean_years: float = Field(gt=0, description="mean wait after age 16")
    duration_median_years: float = Field(gt=0)
    duration_sigma: float = Field(ge=0, description="lognormal sigma of durations")
    gap_mean_years: float = Field(gt=0)


class VictimSpec(StrictModel):
    """Attributes of victims who are not themselves perpetrators in the world."""

    disability: float = Field(ge=0, le=1)
    mental_health: float = Field(ge=0, le=1)
    substance_misuse: float = Field(ge=0, le=1)
    same_ethnicity: float = Field(ge=0, le=1)
    parent_female_share: float = Field(ge=0, le=1)
    family_female_share: float = Field(ge=0, le=1)
    source: str = ""


class Relationships(StrictModel):
    """Who the victim of an incident is. The relationship is drawn after the offence type, from
    ``weights`` times ``type_multipliers`` among the relationships available at that moment."""

    weights: dict[Relationship, float]
    type_multipliers: dict[DAType, dict[Relationship, float]] = Field(default_factory=dict)
    partner_episodes: PartnerEpisodes
    ex_partner_window_years: float = Field(gt=0)
    adolescent_max_age: float = Field(default=19.0, ge=16, le=25)
    parent_until_age: float = Field(default=35.0, ge=16, le=70)
    same_sex_share: float = Field(ge=0, le=1)
    partner_is_perpetrator_share: float = Field(ge=0, le=1)
    victims: VictimSpec
    source: str = ""


class Distribution(StrictModel):
    min: float = Field(ge=0)
    mean_extra: float = Field(ge=0, description="mean of an exponential added to min")


class Programme(StrictModel):
    """Perpetrator programme: referral at a recorded DA event, start after a wait, completion;
    completion multiplies the spontaneous offending rate by ``1 - effect`` from then on."""

    referral_probability: float = Field(ge=0, le=1)
    refer_after_severe: bool = False
    start_probability: float = Field(ge=0, le=1)
    start_delay_days: Distribution
    duration_days: float = Field(gt=0)
    completion_probability: float = Field(ge=0, le=1)
    effect: float = Field(ge=0, le=1)
    source: str = ""

    @model_validator(mode="after")
    def _delay(self) -> Programme:
        total = self.start_delay_days.min + self.duration_days
        if total < 366:
            raise ValueError(ERR_PROGRAMME_DELAY.format(total=total))
        return self


class NonDA(StrictModel):
    """Recorded non-DA offending, of DA perpetrators and of people who never commit DA."""

    da_perpetrator_rate_per_year: float = Field(ge=0, description="recorded, average propensity")
    propensity_exponent: float = Field(ge=0, le=2)
    offenders: int = Field(ge=0, description="non-DA-only offenders at scale 1")
    offender_rate_per_year: float = Field(ge=0)
    offender_gamma_shape: float = Field(gt=0)
    offender_sex: dict[Sex, float]
    violence_share: float = Field(ge=0, le=1)
    harm_days: dict[Literal["nonda_violence", "nonda_other"], float]
    age_curve: list[tuple[float, float]] = Field(min_length=2)
    source: str = ""

    @model_validator(mode="after")
    def _check(self) -> NonDA:
        _check_shares(self.offender_sex, "nonda.offender_sex")
        _check_age_curve(self.age_curve, "nonda.age_curve")
        return self


class CalibrationTarget(StrictModel):
    """A published figure the world should reproduce.

    ``kind``: ``within`` (|generated - target| <= tolerance), ``at_least`` (target <= generated
    <= target + tolerance), ``below`` (generated < target), ``same_set`` / ``equal`` (categorical),
    ``not_applicable`` (reported with the reason in ``note``). Counts (``scales: true``) are
    multiplied by the world's scale.
    """

    name: MetricName
    label: str
    target: float | str | list[str] | None
    tolerance: float | None = None
    kind: Literal["within", "at_least", "below", "same_set", "equal", "not_applicable"] = "within"
    scales: bool = False
    year: int | None = None
    source: str = ""
    note: str = ""


class RecordingStep(StrictModel):
    """From ``start`` on, the reporting-and-recording probability of every DA incident is
    multiplied by ``multiplier`` (and by ``female`` more for incidents by women: male victims'
    willingness to report). ``multiplier`` applies to everyone and is kept by the equal-recording
    counterfactual; ``female`` differs by sex, is measurement bias, and is removed by it. A chain
    of incidents (a burst) is recorded under the practice in force when it began: the change is
    exact in the truth and bursts last weeks, not years."""

    start: dt.date
    multiplier: float = Field(gt=0)
    female: float = Field(default=1.0, gt=0)
    source: str = ""


class RateWindow(StrictModel):
    """A period (``start`` to ``end`` inclusive) in which spontaneous incidents are
    ``multiplier`` times as frequent (a lockdown keeps households together)."""

    start: dt.date
    end: dt.date
    multiplier: float = Field(gt=0, le=5)
    source: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> RateWindow:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        return self


class AgeGrowth(StrictModel):
    """Spontaneous incidents of people aged ``low`` to ``high`` (years, inclusive) grow by
    ``annual`` a year between ``start`` and ``end`` (a proportional rise, held after ``end``)."""

    low: float = Field(ge=16, le=100)
    high: float = Field(ge=16, le=200)
    start: dt.date
    end: dt.date
    annual: float = Field(ge=-0.5, le=1.0)
    source: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> AgeGrowth:
        if self.end <= self.start or self.high < self.low:
            raise ValueError("age growth: need start < end and low <= high")
        return self


class NewOffence(StrictModel):
    """An offence that exists only from ``start`` (controlling or coercive behaviour, Serious
    Crime Act 2015 s.76, in force 29 December 2015). Before it, a recorded incident of that type
    is recorded as ``recorded_before_as``; after it, the share recorded under the new offence
    rises linearly from ``initial_share`` to 1 over ``ramp_years``. Only the label changes:
    whether the incident is recorded does not (the recording trend covers that)."""

    offence: DAType = "coercive_control"
    start: dt.date = dt.date(2015, 12, 29)
    recorded_before_as: DAType = "stalking_harassment"
    initial_share: float = Field(default=0.1, ge=0, le=1)
    ramp_years: float = Field(default=5.0, gt=0, le=30)
    source: str = ""


class Trends(StrictModel):
    """How the world changes over time. ``enabled: false`` (the default) gives a world with no
    change at all (``configs/world/kent_no_trends.yaml``), the same draws as before trends
    existed. Every change names its source."""

    enabled: bool = False
    recording: list[RecordingStep] = Field(default_factory=list)
    lockdowns: list[RateWindow] = Field(default_factory=list)
    age_growth: list[AgeGrowth] = Field(default_factory=list)
    new_offence: NewOffence | None = None
    note: str = ""

    @model_validator(mode="after")
    def _steps(self) -> Trends:
        starts = [s.start for s in self.recording]
        if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
            raise ValueError(ERR_TREND_STEPS)
        return self

    def max_recording(self) -> float:
        """Largest multiplier of the recording probability any trend applies."""
        if not self.enabled or not self.recording:
            return 1.0
        return max(s.multiplier * max(s.female, 1.0) for s in self.recording)


class WorldConfig(StrictModel):
    """The synthetic world: who offends, how often, against whom, what gets recorded."""

    name: str = Field(default="world", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(default=20240101, ge=0)
    description: str = ""
    period: Period = Period()
    areas: list[AreaSpec]
    population: Population
    propensity: Propensity
    self_excitation: SelfExcitation
    offence_types: dict[DAType, OffenceSpec]
    escalation: list[dict[DAType, float]]
    severity_levels: list[SeverityLevel] = Field(min_length=1)
    sex_type_multipliers: dict[Sex, dict[DAType, float]] = Field(default_factory=dict)
    severe_threshold_days: float = Field(default=365.0, gt=0)
    recording: Recording
    measurement_bias: MeasurementBias = MeasurementBias()
    relationships: Relationships
    programme: Programme
    nonda: NonDA
    trends: Trends = Trends()
    calibration: list[CalibrationTarget] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> WorldConfig:
        names = [a.name for a in self.areas]
        missing = sorted(set(AREAS) - set(names))
        dupes = sorted({n for n in names if names.count(n) > 1})
        if missing or dupes:
            problem = f"missing {missing}" if missing else f"repeated {dupes}"
            raise ValueError(ERR_AREAS.format(problem=problem))
        missing_types = [t for t in DA_TYPES if t not in self.offence_types]
        if missing_types:
            raise ValueError(f"offence_types: missing {missing_types}; every DA type needs a spec")
        _check_shares({t: s.share for t, s in self.offence_types.items()}, "offence_types.*.share")
        _check_shares([lv.share for lv in self.severity_levels], "severity_levels.*.share")
        k = self.self_excitation.escalation_classes
        if len(self.escalation) != k:
            raise ValueError(ERR_ESCALATION_LEN.format(k=k, n=len(self.escalation)))
        thr = self.severe_threshold_days
        for t in DA_TYPES:
            harm = self.offence_types[t].harm_days
            severe = t in SEVERE_OFFENCE_TYPES
            if severe != (harm >= thr):
                raise ValueError(
                    ERR_SEVERE_THRESHOLD.format(
                        offence=t,
                        harm=harm,
                        side="below" if severe else "at or above",
                        threshold=thr,
                        severe=", ".join(SEVERE_OFFENCE_TYPES),
                    )
                )
        # the recording probability is a product of multipliers: it must stay a probability
        top_report = max(self.offence_types.values(), key=lambda s: s.reporting)
        top_offence = max(self.offence_types, key=lambda t: self.offence_types[t].reporting)
        eth = max(self.measurement_bias.ethnicity.values(), default=1.0)
        area = max(self.measurement_bias.area.values(), default=1.0)
        vis = max(v.multiplier for v in self.recording.visibility)
        cls = max(self.self_excitation.class_reporting())
        trend = self.trends.max_recording()
        p = top_report.reporting * max(eth, 1.0) * max(area, 1.0) * vis * cls * trend
        if p > 1.0:
            raise ValueError(
                ERR_RECORDING_CAP.format(
                    offence=top_offence,
                    rep=top_report.reporting,
                    vis=vis,
                    cls=cls,
                    bias=max(eth, 1.0) * max(area, 1.0) * trend,
                    p=p,
                )
            )
        return self


def load_world_config(path: str | Path, **overrides: Any) -> WorldConfig:
    """Load a world file (``configs/world/*.yaml``); ``overrides`` (non-None) replace top keys."""
    return load_config(path, WorldConfig, **overrides)


__all__ = [
    "AREAS",
    "DA_TYPES",
    "ETHNICITIES",
    "NONDA_TYPES",
    "RELATIONSHIPS",
    "SEXES",
    "CalibrationTarget",
    "Trends",
    "WorldConfig",
    "load_world_config",
]

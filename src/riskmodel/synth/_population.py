"""People of the world: perpetrators with their latent propensity, and non-DA-only offenders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskmodel.data import AREAS, ETHNICITIES, SEXES
from riskmodel.synth._params import YEAR, WorldParams


@dataclass
class People:
    """Column arrays of one group of people (codes index the vocabularies of ``_schema``)."""

    birth_t: np.ndarray  # birth, days from the start of the recorded history (negative)
    sex: np.ndarray  # int8 code into SEXES
    ethnicity: np.ndarray  # int8 code into ETHNICITIES
    area: np.ndarray  # int8 code into AREAS
    disability: np.ndarray
    mental_health: np.ndarray
    substance_misuse: np.ndarray

    def __len__(self) -> int:
        return len(self.birth_t)

    def take(self, idx: np.ndarray) -> People:
        return People(**{k: v[idx] for k, v in self.__dict__.items()})


@dataclass
class Perpetrators:
    people: People
    propensity: np.ndarray  # spontaneous DA incidents per day at peak age (all multipliers)
    level: np.ndarray  # latent severity level (int8)
    nonda_rate: np.ndarray  # recorded non-DA offences per day at peak age
    bias: np.ndarray  # reporting multiplier: household visibility x measurement bias

    def __len__(self) -> int:
        return len(self.propensity)

    def take(self, idx: np.ndarray) -> Perpetrators:
        return Perpetrators(
            people=self.people.take(idx),
            propensity=self.propensity[idx],
            level=self.level[idx],
            nonda_rate=self.nonda_rate[idx],
            bias=self.bias[idx],
        )


def _categorical(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    cum = np.cumsum(shares)
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(n), side="right").astype(np.int8)


def draw_people(
    params: WorldParams,
    n: int,
    rng: np.random.Generator,
    *,
    sex_shares: dict[str, float],
    prevalence: dict[str, float],
) -> People:
    """Birth dates, sex, area (by population), ethnicity (by area) and vulnerability flags."""
    cfg = params.cfg
    pop = cfg.population
    sex = _categorical(rng, np.array([sex_shares.get(s, 0.0) for s in SEXES]), n)
    area = _categorical(rng, params.area_population / params.area_population.sum(), n)
    ethnicity = np.empty(n, dtype=np.int8)
    u = rng.random(n)
    default = np.array([pop.ethnicity.get(e, 0.0) for e in ETHNICITIES])
    for a, name in enumerate(AREAS):  # 13 areas: a loop over categories, not people
        shares = pop.ethnicity_by_area.get(name)
        table = default if shares is None else np.array([shares.get(e, 0.0) for e in ETHNICITIES])
        cum = np.cumsum(table)
        cum[-1] = 1.0
        sel = area == a
        ethnicity[sel] = np.searchsorted(cum, u[sel], side="right")
    bands = pop.age_at_start
    band = _categorical(rng, np.array([b.share for b in bands]), n)
    low = np.array([b.low for b in bands], dtype=np.float64)[band]
    high = np.array([b.high for b in bands], dtype=np.float64)[band] + 1.0
    age = low + (high - low) * rng.random(n)
    flags = {
        k: rng.random(n) < prevalence[k]
        for k in ("disability", "mental_health", "substance_misuse")
    }
    return People(
        birth_t=-age * YEAR,
        sex=sex,
        ethnicity=ethnicity,
        area=area.astype(np.int8),
        **flags,
    )


def draw_perpetrators(params: WorldParams, n: int, rng: np.random.Generator) -> Perpetrators:
    """Potential DA perpetrators with heterogeneous latent propensity and severity."""
    cfg = params.cfg
    pop = cfg.population
    people = draw_people(
        params,
        n,
        rng,
        sex_shares=pop.sex,
        prevalence={
            "disability": pop.disability,
            "mental_health": pop.mental_health,
            "substance_misuse": pop.substance_misuse,
        },
    )
    prop = cfg.propensity
    if prop.distribution == "gamma":
        g = rng.gamma(prop.shape, 1.0 / prop.shape, n)  # mean 1
    else:
        g = np.exp(prop.sigma * rng.standard_normal(n) - 0.5 * prop.sigma**2)  # mean 1
    mult = (
        params.sex_mult[people.sex]
        * params.area_incidence[people.area]
        * np.where(people.mental_health, params.mh_mult, 1.0)
        * np.where(people.substance_misuse, params.sub_mult, 1.0)
    )
    level = _categorical(rng, params.level_shares, n)
    visibility = params.visibility_mult[_categorical(rng, params.visibility_shares, n)]
    nd = cfg.nonda
    nonda_rate = nd.da_perpetrator_rate_per_year / YEAR * g**nd.propensity_exponent
    bias = params.bias_ethnicity[people.ethnicity] * params.bias_area[people.area] * visibility
    return Perpetrators(
        people=people,
        propensity=params.base_rate * g * mult,
        level=level,
        nonda_rate=nonda_rate * params.sex_mult[people.sex],
        bias=bias,
    )


def draw_nonda_offenders(
    params: WorldParams, n: int, rng: np.random.Generator
) -> tuple[People, np.ndarray]:
    """People who offend but never commit DA, with their recorded offending rate per day."""
    nd = params.cfg.nonda
    pop = params.cfg.population
    people = draw_people(
        params,
        n,
        rng,
        sex_shares=nd.offender_sex,
        prevalence={
            "disability": pop.disability,
            "mental_health": pop.mental_health,
            "substance_misuse": pop.substance_misuse,
        },
    )
    shape = nd.offender_gamma_shape
    rate = nd.offender_rate_per_year / YEAR * rng.gamma(shape, 1.0 / shape, n)
    return people, rate

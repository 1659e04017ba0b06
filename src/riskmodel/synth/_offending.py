"""The offending process, vectorised over all people at once.

Spontaneous ("immigrant") incidents follow an inhomogeneous Poisson process per person (rate =
latent propensity x age curve), drawn by thinning. Each incident then triggers follow-on incidents
(a Hawkes process with an exponential kernel) simulated as a branching process: generation by
generation, every incident of the current generation gets Poisson(branching ratio) children at
Exp(beta) delays. The loop runs over generations, never over events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from riskmodel.synth._params import NONDA_OTHER, NONDA_VIOLENCE, YEAR


@dataclass
class Incidents:
    """True incidents of a group of people (local person index), in generation order."""

    person: np.ndarray  # int32
    t: np.ndarray  # float64, days
    cls: np.ndarray  # int8 escalation class (generation in the burst, capped)
    root: np.ndarray  # int64 index of the spontaneous incident that started the burst

    def __len__(self) -> int:
        return len(self.t)

    def take(self, idx: np.ndarray) -> Incidents:
        return Incidents(self.person[idx], self.t[idx], self.cls[idx], self.root[idx])


def poisson_times(
    rate: np.ndarray,
    birth_t: np.ndarray,
    *,
    t_lo: float,
    t_hi: float,
    onset_days: float,
    age_factor: Callable[[np.ndarray], np.ndarray],
    rng: np.random.Generator,
    trend: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    trend_max: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Event times of independent Poisson processes with intensity ``rate[i] * f(age) * h(t, age)``.

    ``f`` (the age curve) is at most 1 and ``h`` (the world's trends, optional) at most
    ``trend_max``, so candidates at the constant rate ``rate[i] * trend_max`` are kept with
    probability ``f(age) h(t, age) / trend_max`` (thinning: exact, no discretisation).
    Returns (owner index, time), owners ascending (times unordered within an owner).
    """
    lo = np.maximum(t_lo, birth_t + onset_days)
    span = np.clip(t_hi - lo, 0.0, None)
    count = rng.poisson(rate * span * trend_max)
    owner = np.repeat(np.arange(len(rate), dtype=np.int32), count)
    t = lo[owner] + span[owner] * rng.random(owner.size)
    age = (t - birth_t[owner]) / YEAR
    accept = age_factor(age)
    if trend is not None:  # without trends the draws are exactly those of a trendless world
        accept = accept * trend(t, age) / trend_max
    keep = rng.random(owner.size) < accept
    return owner[keep], t[keep]


def branch(
    person: np.ndarray,
    t: np.ndarray,
    *,
    branching: float,
    beta: float,
    n_classes: int,
    t_hi: float,
    rng: np.random.Generator,
) -> Incidents:
    """All incidents descending from the spontaneous incidents ``(person, t)`` (class 0)."""
    n0 = len(t)
    parts = [Incidents(person, t, np.zeros(n0, np.int8), np.arange(n0, dtype=np.int64))]
    cur = parts[0]
    while len(cur) and branching > 0:
        k = rng.poisson(branching, len(cur))
        idx = np.repeat(np.arange(len(cur)), k)
        child_t = cur.t[idx] + rng.exponential(1.0 / beta, idx.size)
        keep = child_t < t_hi
        idx, child_t = idx[keep], child_t[keep]
        cur = Incidents(
            cur.person[idx],
            child_t,
            np.minimum(cur.cls[idx] + 1, n_classes - 1).astype(np.int8),
            cur.root[idx],
        )
        parts.append(cur)
    return Incidents(
        np.concatenate([p.person for p in parts]),
        np.concatenate([p.t for p in parts]),
        np.concatenate([p.cls for p in parts]),
        np.concatenate([p.root for p in parts]),
    )


def excitation(
    person: np.ndarray, t: np.ndarray, child_cls: np.ndarray, *, beta: float, n_classes: int
) -> np.ndarray:
    """``E[i, d] = sum over j <= i of the same person with child class d of exp(-beta (t_i - t_j))``.

    Input sorted by (person, t). This is the linear recurrence ``E_i = d_i E_{i-1} + e_i`` with
    ``d_i = exp(-beta (t_i - t_{i-1}))`` (0 at a new person), solved by a doubling scan: log2 of
    the longest run of non-negligible decay passes over the arrays, no Python loop over events.
    The excitation intensity of class-``d`` follow-ons just after incident i is ``alpha E[i, d]``.
    """
    n = len(t)
    out = np.zeros((n, n_classes))
    if n == 0:
        return out
    out[np.arange(n), child_cls] = 1.0
    decay = np.zeros(n)
    same = person[1:] == person[:-1]
    decay[1:] = np.where(same, np.exp(-beta * (t[1:] - t[:-1])), 0.0)
    step = 1
    # stop once every remaining product of decays is below double precision's resolution
    while step < n and decay.max() > 1e-17:
        out[step:] += decay[step:, None] * out[:-step]
        decay[step:] = decay[step:] * decay[:-step]
        decay[:step] = 0.0
        step *= 2
    return out


def nonda_offences(
    rate: np.ndarray,
    birth_t: np.ndarray,
    *,
    n_days: int,
    params,
    violence_share: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Recorded non-DA offences over the whole history: (owner, day, type code).

    One definition for perpetrators and for non-DA-only offenders, so both follow the same age
    curve and violence share (draw order: times, then types).
    """
    owner, t = poisson_times(
        rate,
        birth_t,
        t_lo=0.0,
        t_hi=float(n_days),
        onset_days=params.onset_days,
        age_factor=params.nonda_age_factor,
        rng=rng,
    )
    kind = np.where(rng.random(len(t)) < violence_share, NONDA_VIOLENCE, NONDA_OTHER).astype(
        np.int8
    )
    return owner, t, kind

"""An independent simulator of the offending process, for checking the truth's closed form.

It uses the intensity view of the Hawkes process (Ogata's thinning), not the branching view the
generator uses, and draws every incident's offence type and recording explicitly: nothing is
shared with the generator or with the truth's burst equations.
"""

from __future__ import annotations

import numpy as np


def simulate_first_marks(
    *,
    t0: float,
    window: float,
    mu,  # mu(t: ndarray) -> spontaneous rate per day at absolute times t (vectorised)
    mu_max: float,
    past_t: np.ndarray,
    past_cls: np.ndarray,
    branching: float,
    beta: float,
    n_classes: int,
    type_mix: np.ndarray,  # (classes, types)
    record_p: np.ndarray,  # (types,) probability an incident of the type is recorded
    severe: np.ndarray,  # (types,) bool
    replicates: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """For each replicate: was any incident in (t0, t0 + window] recorded / recorded severe?"""
    alpha = branching * beta
    nxt = np.minimum(np.arange(n_classes) + 1, n_classes - 1)
    # excitation per child class just after t0, from the past incidents
    x = np.zeros((replicates, n_classes))
    for t_j, c_j in zip(past_t, past_cls, strict=True):
        x[:, nxt[c_j]] += np.exp(-beta * (t0 - t_j))
    t = np.full(replicates, t0)
    any_rec = np.zeros(replicates, dtype=bool)
    sev_rec = np.zeros(replicates, dtype=bool)
    alive = np.ones(replicates, dtype=bool)
    end = t0 + window
    cum_mix = np.cumsum(type_mix, axis=1)
    while alive.any():
        idx = np.flatnonzero(alive)
        bound = mu_max + alpha * x[idx].sum(axis=1)
        dt = rng.exponential(1.0 / bound)
        t_new = t[idx] + dt
        x[idx] *= np.exp(-beta * dt)[:, None]
        t[idx] = t_new
        done = t_new > end
        alive[idx[done]] = False
        go = ~done
        idx, t_new, bound = idx[go], t_new[go], bound[go]
        m = mu(t_new)
        exc = alpha * x[idx]
        total = m + exc.sum(axis=1)
        u = rng.random(len(idx)) * bound
        accept = u < total
        idx, u, m, exc = idx[accept], u[accept], m[accept], exc[accept]
        # which component fired: the spontaneous rate, or the follow-ons of class d
        edges = np.cumsum(np.column_stack([m, exc]), axis=1)
        comp = (u[:, None] >= edges).sum(axis=1)
        cls = np.where(comp == 0, 0, comp - 1)
        kind = (rng.random(len(idx))[:, None] >= cum_mix[cls]).sum(axis=1)
        kind = np.minimum(kind, type_mix.shape[1] - 1)
        rec = rng.random(len(idx)) < record_p[kind]
        any_rec[idx[rec]] = True
        sev_rec[idx[rec & severe[kind]]] = True
        x[idx, nxt[cls]] += 1.0
    return any_rec, sev_rec

"""The true probability of a recorded (severe) DA reoffence in the 12 months after an event.

Computed from the same process that is simulated, in closed form, so it is exact rather than an
approximation that drifts.

An incident of escalation class ``c`` is recorded (the "target" mark: any recorded DA offence, or
a recorded severe one) independently with probability ``r_c``. Write ``g_c(u)`` for the
probability that a burst started by a class-``c`` incident ``u`` days before the end of the
window has no recorded member in the window. A burst member's follow-ons arrive as a Poisson
process of rate ``alpha exp(-beta v)`` and start class-``next(c)`` bursts, so

    g_c(u) = (1 - r_c) exp(-n Phi_{next(c)}(u)),
    Phi_d(u) = integral_0^u beta exp(-beta v) (1 - g_d(u - v)) dv,
    Phi_d'(u) = beta (1 - g_d(u) - Phi_d(u)),   Phi_d(0) = 0,

an ordinary differential equation solved once per distinct set of recording probabilities.
Bursts that start inside the window come from spontaneous incidents (class 0, rate ``mu``) and
from follow-ons of past incidents (rate ``alpha E_d(t0) exp(-beta s)``), both Poisson, so

    P(none in (t0, t0 + T]) = exp(- int_0^T mu(t0 + s) (1 - g_0(T - s)) ds
                                  - n sum_d E_d(t0) Phi_d(T)).

``mu`` (propensity x age curve x programme effect after a completion) is integrated by
Gauss-Legendre quadrature, split at the completion date.
"""

from __future__ import annotations

import numpy as np

GRID_STEP = 0.125  # days; RK4 and linear interpolation on this grid are exact to ~1e-6
T_MAX = 367.0


def solve_phi(
    rec: np.ndarray, *, branching: float, beta: float, t_max: float = T_MAX
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tabulate ``Phi_d(u)`` and ``g_0(u)`` on a grid.

    Parameters
    ----------
    rec : (m, K) recording probability per escalation class, one row per distinct combination

    Returns
    -------
    grid (G,), phi (m, K, G), g0 (m, G)
    """
    rec = np.atleast_2d(np.asarray(rec, dtype=np.float64))
    m, k = rec.shape
    nxt = np.minimum(np.arange(k) + 1, k - 1)
    keep = 1.0 - rec

    def deriv(phi: np.ndarray) -> np.ndarray:
        g = keep * np.exp(-branching * phi[:, nxt])  # g_d for every class d
        return beta * (1.0 - g - phi)

    n_steps = int(np.ceil(t_max / GRID_STEP))
    h = GRID_STEP
    phi = np.zeros((m, k))
    out = np.empty((n_steps + 1, m, k))
    out[0] = phi
    for i in range(n_steps):  # a loop over grid points (fixed, ~6,000), not over events
        k1 = deriv(phi)
        k2 = deriv(phi + 0.5 * h * k1)
        k3 = deriv(phi + 0.5 * h * k2)
        k4 = deriv(phi + h * k3)
        phi = phi + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
        out[i + 1] = phi
    grid = np.arange(n_steps + 1) * h
    phi_t = np.moveaxis(out, 0, -1)  # (m, K, G)
    g0 = keep[:, :1] * np.exp(-branching * phi_t[:, nxt[0], :])
    return grid, phi_t, g0


def _interp(table: np.ndarray, row: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``table[row, :]`` (grid step GRID_STEP) at ``u``, vectorised."""
    pos = np.clip(u / GRID_STEP, 0.0, table.shape[1] - 1.000001)
    i0 = pos.astype(np.int64)
    frac = pos - i0
    flat = table.reshape(-1)
    base = row * table.shape[1]
    return (1.0 - frac) * flat[base + i0] + frac * flat[base + i0 + 1]


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(24)


def p_none(
    *,
    combo: np.ndarray,
    phi: np.ndarray,
    g0: np.ndarray,
    excitation: np.ndarray,
    window: np.ndarray,
    mu_at: callable,
    cut: np.ndarray,
    after_cut: np.ndarray,
    branching: float,
    chunk: int = 100_000,
) -> np.ndarray:
    """Probability of no target-marked incident in ``(t0, t0 + window]`` for each event.

    Parameters
    ----------
    combo : (n,) row of ``phi``/``g0`` holding the event's recording probabilities
    excitation : (n, K) ``E_d(t0)`` just after the event (the event itself included)
    window : (n,) ``T`` in days
    mu_at : ``mu_at(idx, s)`` spontaneous rate of events ``idx`` at ``t0 + s`` (s: (len(idx), q))
        before any programme effect
    cut : (n,) offset in the window from which ``mu`` is multiplied by ``after_cut`` (a
        programme completion; ``window`` when none falls inside, 0 when it came before)
    """
    n = len(window)
    out = np.empty(n)
    k = phi.shape[1]
    for lo in range(0, n, chunk):  # bounded memory: chunks of events, each fully vectorised
        sl = slice(lo, min(n, lo + chunk))
        idx = np.arange(sl.start, sl.stop)
        T = window[sl]
        c = np.clip(cut[sl], 0.0, T)
        rows = combo[sl]
        total = np.zeros(len(idx))
        for a, b, factor in ((np.zeros_like(c), c, 1.0), (c, T, None)):
            half = 0.5 * (b - a)
            s = (a + half)[:, None] + half[:, None] * _GL_NODES[None, :]
            mu = mu_at(idx, s)
            one_minus_g = 1.0 - _interp(
                g0, np.repeat(rows, len(_GL_NODES)), (T[:, None] - s).ravel()
            )
            # an elementwise sum, not a BLAS product: the same bits whatever the thread count
            part = half * (mu * one_minus_g.reshape(s.shape) * _GL_WEIGHTS).sum(axis=1)
            total += part * (after_cut[sl] if factor is None else factor)
        exc = np.zeros(len(idx))
        for d in range(k):
            exc += excitation[sl, d] * _interp(phi[:, d, :], rows, T)
        out[sl] = np.exp(-total - branching * exc)
    return out


def p_none_eras(
    *,
    combo: np.ndarray,
    era_stride: int,
    era_starts: np.ndarray,
    t0: np.ndarray,
    phi: np.ndarray,
    g0: np.ndarray,
    excitation: np.ndarray,
    window: np.ndarray,
    mu_at: callable,
    cut: np.ndarray,
    after_cut: np.ndarray,
    branching: float,
    chunk: int = 100_000,
) -> np.ndarray:
    """:func:`p_none` in a world whose recording practice changes at ``era_starts``.

    A burst is recorded under the practice of the era its first incident fell in, so a burst
    that starts at ``t0 + s`` uses the tables of ``era(t0 + s)`` (the integral is split at every
    era boundary inside the window, and at ``cut``), and the follow-ons of past incidents use the
    tables of their burst's era: ``excitation`` has one column per (era, class), ``e * K + d``.
    Row ``combo + e * era_stride`` of ``phi``/``g0`` holds era ``e``'s probabilities. With a
    single era this is exactly :func:`p_none`.
    """
    n = len(window)
    out = np.empty(n)
    k = phi.shape[1]
    n_eras = len(era_starts)
    inner = np.asarray(era_starts[1:], dtype=np.float64)
    for lo in range(0, n, chunk):
        sl = slice(lo, min(n, lo + chunk))
        idx = np.arange(sl.start, sl.stop)
        T = window[sl]
        start = t0[sl]
        c = np.clip(cut[sl], 0.0, T)
        rows = combo[sl]
        pts = np.column_stack(
            [np.zeros(len(idx)), c, np.clip(inner[None, :] - start[:, None], 0.0, T[:, None]), T]
        )
        pts.sort(axis=1)
        total = np.zeros(len(idx))
        for j in range(pts.shape[1] - 1):
            a, b = pts[:, j], pts[:, j + 1]
            half = 0.5 * (b - a)
            mid = a + half
            era = np.maximum(np.searchsorted(era_starts, start + mid, side="right") - 1, 0)
            factor = np.where(mid < c, 1.0, after_cut[sl])
            s = mid[:, None] + half[:, None] * _GL_NODES[None, :]
            mu = mu_at(idx, s)
            seg_rows = rows + era * era_stride
            one_minus_g = 1.0 - _interp(
                g0, np.repeat(seg_rows, len(_GL_NODES)), (T[:, None] - s).ravel()
            )
            part = half * (mu * one_minus_g.reshape(s.shape) * _GL_WEIGHTS).sum(axis=1)
            total += part * factor
        exc = np.zeros(len(idx))
        for e in range(n_eras):
            for d in range(k):
                exc += excitation[sl, e * k + d] * _interp(phi[:, d, :], rows + e * era_stride, T)
        out[sl] = np.exp(-total - branching * exc)
    return out

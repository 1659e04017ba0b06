"""The one suppression rule: when a cell of people is too small to speak.

A metric is shown only when its *own* denominator (people for a selection rate, reoffenders for a
true or false negative rate, non-reoffenders for a false positive rate, the listed for precision)
reaches the configured minimum. An interval that has collapsed onto one value (every replicate
equal, e.g. 0 of 5) carries no information about uncertainty and never supports a finding. The
fairness report, the model card and the coordinator's summary all use these two functions.
"""

from __future__ import annotations

import numpy as np


def cell_speaks(n: object, min_n: int) -> np.ndarray | bool:
    """True where a metric's denominator ``n`` (people or index events) is at least ``min_n``.

    Works on a number or an array; missing or non-finite ``n`` never speaks.
    """
    arr = np.asarray(n, dtype=float)
    out = np.isfinite(arr) & (arr >= min_n)
    return bool(out) if out.ndim == 0 else out


def interval_speaks(lo: object, hi: object) -> np.ndarray | bool:
    """True where ``[lo, hi]`` is a real interval: both ends finite and ``lo < hi``.

    A degenerate interval (``lo == hi``) or a missing one can never make a finding.
    """
    lo_a = np.asarray(np.where(np.equal(lo, None), np.nan, lo), dtype=float)
    hi_a = np.asarray(np.where(np.equal(hi, None), np.nan, hi), dtype=float)
    out = np.isfinite(lo_a) & np.isfinite(hi_a) & (lo_a < hi_a)
    return bool(out) if out.ndim == 0 else out

"""One even-handed rule for every comparison a report puts into words.

A comparison is ``better``, ``worse`` or ``no clear difference`` according to where the whole
interval of the difference lies, never the point estimate. Applied to unrounded values; the same
rule serves model-vs-baseline statements, champion-vs-challenger gates and run comparisons, so no
report can choose a kinder reading for the good news.
"""

from __future__ import annotations

import math

BETTER = "better"
WORSE = "worse"
NO_CLEAR_DIFFERENCE = "no clear difference"
VERDICTS = (BETTER, WORSE, NO_CLEAR_DIFFERENCE)

ERR_INTERVAL = "verdict: interval [{lo}, {hi}] is not an interval (need finite lo <= hi)"


def verdict(lo: float | None, hi: float | None, *, higher_is_better: bool = True) -> str:
    """Word for a difference (A - B) from its interval ``[lo, hi]``.

    ``better`` only when the whole interval is on the good side of 0 (strictly), ``worse`` only
    when the whole interval is on the bad side, otherwise ``no clear difference``: an interval
    that reaches 0 never supports a direction. A missing interval (``None``/NaN) gives
    ``no clear difference``: nothing was shown.
    """
    if lo is None or hi is None or _nan(lo) or _nan(hi):
        return NO_CLEAR_DIFFERENCE
    lo, hi = float(lo), float(hi)
    if math.isinf(lo) or math.isinf(hi) or lo > hi:
        raise ValueError(ERR_INTERVAL.format(lo=lo, hi=hi))
    if lo > 0:
        return BETTER if higher_is_better else WORSE
    if hi < 0:
        return WORSE if higher_is_better else BETTER
    return NO_CLEAR_DIFFERENCE


def _nan(x: float) -> bool:
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return True

"""The one verdict rule: direction only when the whole interval is on one side of zero."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskmodel.evaluation import BETTER, NO_CLEAR_DIFFERENCE, WORSE, verdict

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(finite, finite, st.booleans())
def test_direction_needs_the_whole_interval_on_one_side(a, b, higher_is_better):
    lo, hi = min(a, b), max(a, b)
    word = verdict(lo, hi, higher_is_better=higher_is_better)
    if lo <= 0 <= hi:
        assert word == NO_CLEAR_DIFFERENCE
    good_side = lo > 0 if higher_is_better else hi < 0
    bad_side = hi < 0 if higher_is_better else lo > 0
    assert (word == BETTER) == good_side
    assert (word == WORSE) == bad_side


@given(finite, finite)
def test_flipping_the_sign_flips_the_verdict(a, b):
    lo, hi = min(a, b), max(a, b)
    flipped = {BETTER: WORSE, WORSE: BETTER, NO_CLEAR_DIFFERENCE: NO_CLEAR_DIFFERENCE}
    assert verdict(-hi, -lo) == flipped[verdict(lo, hi)]
    assert verdict(lo, hi, higher_is_better=False) == flipped[verdict(lo, hi)]


def test_interval_touching_zero_is_never_a_direction():
    # the report's own example: +0.002 with interval 0.000 to 0.004
    assert verdict(0.0, 0.004) == NO_CLEAR_DIFFERENCE
    assert verdict(-0.018, -0.0) == NO_CLEAR_DIFFERENCE
    assert verdict(1e-12, 0.004) == BETTER


@pytest.mark.parametrize("lo,hi", [(None, 0.1), (0.1, None), (math.nan, 0.2)])
def test_missing_interval_supports_nothing(lo, hi):
    assert verdict(lo, hi) == NO_CLEAR_DIFFERENCE


def test_reversed_interval_is_an_error():
    with pytest.raises(ValueError, match="not an interval"):
        verdict(0.3, 0.1)

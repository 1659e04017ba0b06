"""The one percentile interval: scalar for 1-D replicates, per column for 2-D, NaN ignored."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.evaluation import interval_json, percentile_interval


def test_one_dimensional_replicates_give_a_scalar_interval():
    lo, hi = percentile_interval(np.arange(101.0), 0.9)
    assert (lo, hi) == pytest.approx((5.0, 95.0))
    assert interval_json(lo, hi) == pytest.approx([5.0, 95.0])


def test_undefined_replicates_are_ignored_and_none_defined_gives_none():
    assert percentile_interval(np.r_[np.arange(101.0), np.nan], 0.9) == pytest.approx((5.0, 95.0))
    assert interval_json(*percentile_interval(np.array([np.nan, np.nan]))) == [None, None]


def test_columns_are_intervals_of_their_own_replicates():
    reps = np.c_[np.arange(101.0), 10 * np.arange(101.0), np.full(101, np.nan)]
    lo, hi = percentile_interval(reps, 0.9)
    assert lo[:2] == pytest.approx([5.0, 50.0]) and hi[:2] == pytest.approx([95.0, 950.0])
    assert np.isnan(lo[2]) and np.isnan(hi[2])
    lo0, hi0 = percentile_interval(np.empty((0, 3)))
    assert np.isnan(lo0).all() and np.isnan(hi0).all()

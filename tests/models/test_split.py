"""Splits: time order, follow-up embargoes, person overlap, and the random split for COMPAS."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskmodel.models import SplitConfig, make_split, random_split, temporal_split


def _frame(dates: list[dt.date], people: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": pd.array([f"P{p}" for p in people], dtype="str"),
            "index_date": pd.to_datetime(pd.Series(dates)),
        }
    )


@given(
    st.lists(st.integers(0, 9 * 365), min_size=30, max_size=200),
    st.integers(0, 2**31 - 1),
    st.sampled_from([0, 90, 365]),
    st.sampled_from([0.5, 1.0, 2.0]),
)
def test_temporal_split_orders_periods_and_leaves_follow_up_gaps(offsets, seed, embargo, years):
    start = dt.date(2010, 1, 1)
    dates = [start + dt.timedelta(days=o) for o in offsets]
    dates[0], dates[-1] = start, start + dt.timedelta(days=9 * 365)  # span the whole range
    people = list(np.random.default_rng(seed).integers(0, 25, len(dates)))
    frame = _frame(dates, people)
    cfg = SplitConfig(test_years=years, validation_years=years, embargo_days=embargo)
    try:
        split = temporal_split(frame, cfg)
    except ValueError as err:
        assert "holds no rows" in str(err)
        return
    d = frame["index_date"]
    tr, va, te = (d.iloc[split.rows(p)] for p in ("train", "validation", "test"))
    # no training or validation row is later than any test row, and each gap is >= embargo
    assert tr.max() < va.min() and va.max() < te.min()
    assert (va.min() - tr.max()).days > embargo
    assert (te.min() - va.max()).days > embargo
    # the test period is the latest: it ends at the last index date
    assert te.max() == d.max()
    # every row is in exactly one period or dropped in a gap
    used = np.concatenate([split.train, split.validation, split.test])
    assert len(set(used)) == len(used)
    assert len(used) + split.n_dropped == len(frame)
    # the overlap flag is exactly "this test person also has a training or validation row"
    fitted = set(frame["person_id"].iloc[np.concatenate([split.train, split.validation])])
    expected = frame["person_id"].iloc[split.test].isin(fitted).to_numpy()
    np.testing.assert_array_equal(split.seen_in_fitting, expected)


def test_temporal_split_worked_example():
    dates = [dt.date(2015, 1, 1) + dt.timedelta(days=i) for i in range(0, 8 * 365, 5)]
    frame = _frame(dates, list(range(len(dates))))
    split = temporal_split(frame, SplitConfig(test_years=1, validation_years=1, embargo_days=365))
    b = split.bounds
    last = frame["index_date"].max().date()
    assert b["test"]["end"] == last.isoformat()
    test_start = last - dt.timedelta(days=364)  # 365 days, both ends included
    assert b["test"]["start"] == test_start.isoformat()
    # validation ends a full follow-up year before the test period starts
    val_last = dt.date.fromisoformat(b["validation"]["last_index_date"])
    assert val_last + dt.timedelta(days=365) < test_start
    train_last = dt.date.fromisoformat(b["train"]["last_index_date"])
    val_first = dt.date.fromisoformat(b["validation"]["first_index_date"])
    assert train_last + dt.timedelta(days=365) < val_first


def test_train_years_limits_the_training_window():
    dates = [dt.date(2010, 1, 1) + dt.timedelta(days=i) for i in range(0, 10 * 365, 3)]
    frame = _frame(dates, [0] * len(dates))
    full = temporal_split(frame, SplitConfig(embargo_days=0))
    short = temporal_split(frame, SplitConfig(embargo_days=0, train_years=2))
    span = frame["index_date"].iloc[short.train]
    assert (span.max() - span.min()).days <= round(2 * 365.25)
    assert len(short.train) < len(full.train)
    np.testing.assert_array_equal(short.test, full.test)


def test_empty_period_is_explained():
    frame = _frame([dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(300)], [1] * 300)
    with pytest.raises(ValueError, match=r"the train period .* holds no rows"):
        temporal_split(frame, SplitConfig())


def test_random_split_keeps_people_together_and_is_seeded():
    r = np.random.default_rng(0)
    frame = _frame([dt.date(2013, 1, 1)] * 1000, list(r.integers(0, 700, 1000)))
    cfg = SplitConfig(method="random", test_fraction=0.3, validation_fraction=0.2)
    a = random_split(frame, cfg, seed=11)
    b = make_split(frame, cfg, seed=11)
    c = random_split(frame, cfg, seed=12)
    np.testing.assert_array_equal(a.test, b.test)
    assert not np.array_equal(a.test, c.test)
    sets = [set(frame["person_id"].iloc[a.rows(p)]) for p in ("train", "validation", "test")]
    assert not (sets[0] & sets[2]) and not (sets[1] & sets[2]) and not (sets[0] & sets[1])
    assert not a.seen_in_fitting.any()
    n_people = frame["person_id"].nunique()
    assert len(sets[2]) == round(0.3 * n_people)
    assert len(sets[1]) == round(0.2 * (n_people - len(sets[2])))

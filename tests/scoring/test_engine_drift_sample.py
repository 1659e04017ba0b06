"""The drift check of a cohort scored partition by partition reads a sample of feature rows that
does not depend on how the cohort was split."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.scoring._engine import combine_drift_samples, drift_sample


def _features(n: int, seed: int) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    return pd.DataFrame({"person_id": [f"P{i:06d}" for i in range(n)], "x": g.normal(size=n)})


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 400),
    size=st.integers(1, 120),
    cuts=st.lists(st.integers(0, 400), max_size=6),
    seed=st.integers(0, 10),
)
def test_the_sample_is_the_same_whatever_the_partitions(n, size, cuts, seed):
    whole = _features(n, seed)
    bounds = sorted({0, n, *(c for c in cuts if c <= n)})
    parts = [whole.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)] or [whole]
    split = combine_drift_samples([drift_sample(p, size) for p in parts], size)
    one = combine_drift_samples([drift_sample(whole, size)], size)
    pd.testing.assert_frame_equal(split.reset_index(drop=True), one.reset_index(drop=True))
    assert len(one) == min(n, size)
    # everyone when the cohort is no larger than the sample, each person at most once
    assert one["person_id"].is_unique
    if n <= size:
        assert set(one["person_id"]) == set(whole["person_id"])


def test_the_sample_is_not_the_first_ids():
    # a hash, not the id order: the first people by id are not favoured
    whole = _features(10_000, 0)
    sample = drift_sample(whole, 1_000)
    ranks = whole.index.get_indexer(sample.index)
    assert 3_500 < ranks.mean() < 6_500

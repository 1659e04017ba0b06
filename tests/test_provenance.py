"""Seed plumbing and fingerprints: the basis of byte-identical reruns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskmodel.provenance import config_hash, frame_fingerprint, rng, stream_key


@given(seed=st.integers(0, 2**32 - 1), stream=st.text(min_size=1, max_size=20))
def test_same_seed_and_stream_give_the_same_draws(seed, stream):
    assert np.array_equal(rng(seed, stream).random(8), rng(seed, stream).random(8))


@given(seed=st.integers(0, 2**32 - 1))
def test_streams_and_seeds_are_independent(seed):
    a = rng(seed, "population").random(8)
    assert not np.array_equal(a, rng(seed, "offending").random(8))
    assert not np.array_equal(a, rng(seed + 1, "population").random(8))


def test_stream_key_is_stable_across_processes():
    # sha256-based, so it cannot depend on PYTHONHASHSEED; pin one value computed independently
    import hashlib

    expected = int.from_bytes(hashlib.sha256(b"offending").digest()[:8], "little")
    assert stream_key("offending") == expected


def test_negative_seed_refused():
    with pytest.raises(ValueError, match="non-negative"):
        rng(-1, "x")


def test_frame_fingerprint_ignores_layout_but_not_content():
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    same = pd.DataFrame({"a": np.array([1, 2, 3]), "b": ["x", "y", "z"]}, index=[10, 11, 12])
    assert frame_fingerprint(df) == frame_fingerprint(same)
    changed = df.copy()
    changed.loc[1, "a"] = 5
    assert frame_fingerprint(df) != frame_fingerprint(changed)
    renamed = df.rename(columns={"b": "c"})
    assert frame_fingerprint(df) != frame_fingerprint(renamed)


def test_config_hash_depends_on_values_not_key_order():
    assert config_hash({"a": 1, "b": 2}) == config_hash({"b": 2, "a": 1})
    assert config_hash({"a": 1, "b": 2}) != config_hash({"a": 1, "b": 3})

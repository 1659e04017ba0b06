"""The shared vocabulary: one age band rule, roles that can never be features."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskmodel.notice import PROTECTED_CHARACTERISTICS
from riskmodel.schema import (
    AGE_BANDS,
    AUDIT_ATTRIBUTES,
    KEYS,
    LABELS,
    TRUTH,
    UNDER_16,
    age_band,
    forbidden_reason,
)


def test_age_bands_at_their_edges():
    ages = np.array([0.0, 15.99, 16.0, 24.99, 25.0, 34.5, 44.0, 54.9, 64.99, 65.0, 90.0])
    assert age_band(ages).tolist() == [
        "under 16",
        "under 16",
        "16-24",
        "16-24",
        "25-34",
        "25-34",
        "35-44",
        "45-54",
        "55-64",
        "65+",
        "65+",
    ]


@given(st.integers(min_value=0, max_value=120))
def test_a_band_holds_the_completed_years(age):
    band = age_band(np.array([age]))[0]
    if age < 16:
        assert band == UNDER_16
        return
    assert band in AGE_BANDS
    lo, _, hi = band.rstrip("+").partition("-")
    assert int(lo) <= age and (not hi or age <= int(hi))


@pytest.mark.parametrize("name", [*KEYS, *LABELS, *TRUTH, *AUDIT_ATTRIBUTES])
def test_every_role_column_is_refused_as_a_feature(name):
    assert forbidden_reason(name) is not None


def test_protected_characteristics_are_named_as_such_and_features_pass():
    for name in PROTECTED_CHARACTERISTICS:
        assert forbidden_reason(name).startswith("a protected characteristic")
    assert forbidden_reason("prior_da_365d") is None

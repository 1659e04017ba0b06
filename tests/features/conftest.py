"""Fixtures of the features tests (the builders live in ``feature_worlds``)."""

from __future__ import annotations

import pytest

from tests.features.feature_worlds import WorldBuilder


@pytest.fixture
def builder() -> WorldBuilder:
    return WorldBuilder()

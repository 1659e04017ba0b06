"""Fixtures of the features tests (the builders live in ``feature_worlds``)."""

from __future__ import annotations

import pytest
from feature_worlds import WorldBuilder


@pytest.fixture
def builder() -> WorldBuilder:
    return WorldBuilder()

"""Fixtures of the explain stage (builders in explain_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskmodel.models import ModelBundle
from tests.explain.explain_fixtures import build_run, make_people, train_bundle


@pytest.fixture(scope="session")
def train_frame() -> pd.DataFrame:
    return make_people(3000, 0)


@pytest.fixture(scope="session")
def test_frame() -> pd.DataFrame:
    return make_people(1200, 1)


@pytest.fixture(scope="session")
def bundle(train_frame) -> ModelBundle:
    return train_bundle(train_frame)


@pytest.fixture(scope="session")
def run_root(tmp_path_factory, bundle, test_frame) -> Path:
    """A fake run with fairness audit and world; shared read-only by the tests."""
    root = tmp_path_factory.mktemp("runs")
    return build_run(root, bundle, test_frame)

"""Fixtures of the models tests: the feature table of ``models_fixtures`` and a project home."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.models.models_fixtures import make_feature_table


@pytest.fixture(scope="session")
def feature_table() -> tuple[pd.DataFrame, dict[str, Any]]:
    return make_feature_table()


@pytest.fixture(scope="module")
def project_home(tmp_path_factory):
    """A throwaway project directory (reports, caches, MLflow store) for one test module.

    Module-scoped twin of ``isolated_project``: training once and reading the run in several
    tests keeps the suite fast.
    """
    home: Path = tmp_path_factory.mktemp("project")
    mp = pytest.MonkeyPatch()
    mp.setenv("RISKMODEL_HOME", str(home))
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
    mp.setenv("RISKMODEL_AUDIT_LOG", str(home / "audit_log" / "scoring.jsonl"))
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    yield home
    mp.undo()

"""Shared test settings. Stage fixtures live in tests/<stage>/conftest.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def isolated_project(tmp_path, monkeypatch):
    """Point the project's stores (MLflow, audit log, reports) at a temporary directory.

    The audit log follows the installation (``RISKMODEL_HOME``): it has no setting of its own.
    """
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("RISKMODEL_HOME", str(tmp_path))
    monkeypatch.delenv("RISKMODEL_AUDIT_LOG", raising=False)
    return tmp_path

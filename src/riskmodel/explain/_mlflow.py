"""Attach the explanation files to the run's MLflow run.

``riskmodel.tracking`` is the only module meant to talk to MLflow. Its ``log_artifacts`` logs to
the *active* run, while explanations are made later, for a finished run; until tracking offers
``log_run_artifacts(run_id, paths)``, this stand-in logs through tracking's own client (to be
moved into ``tracking.py`` by its owner).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

ARTIFACT_DIR = "explain"
WARN_NOT_LOGGED = "explanations not logged to MLflow (run {run_id!r}): {reason}"


def _client():
    from riskmodel import tracking

    if hasattr(tracking, "client"):
        return tracking.client()
    from mlflow import MlflowClient

    tracking.configure()
    return MlflowClient()


def log_artifacts(
    run_id: str, paths: Iterable[str | Path], *, artifact_path: str = ARTIFACT_DIR
) -> bool:
    """Log ``paths`` to MLflow run ``run_id``; returns False (with a warning) if it cannot."""
    from riskmodel import tracking

    paths = [Path(p) for p in paths]
    if hasattr(tracking, "log_run_artifacts"):
        tracking.log_run_artifacts(run_id, paths, artifact_path=artifact_path)
        return True
    from mlflow.exceptions import MlflowException

    client = _client()
    try:
        client.get_run(run_id)
        for p in paths:
            client.log_artifact(run_id, str(p), artifact_path=artifact_path)
    except MlflowException as exc:
        warnings.warn(WARN_NOT_LOGGED.format(run_id=run_id, reason=exc.message), stacklevel=2)
        return False
    return True

"""Every default location in one place.

The project root is the repository holding this package (editable install), or the directory
named by ``RISKMODEL_HOME``. Relative paths inside config files are resolved against the
directory of the file that names them.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    env = os.environ.get("RISKMODEL_HOME")
    if env:
        return Path(env).resolve()
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").exists():
        return repo
    return Path.cwd().resolve()


def configs_dir() -> Path:
    return project_root() / "configs"


def experiments_dir() -> Path:
    return project_root() / "experiments"


def default_experiment() -> Path:
    return experiments_dir() / "baseline.yaml"


def synthetic_data_dir() -> Path:
    return project_root() / "synthetic_data"


def reports_dir() -> Path:
    return project_root() / "reports"


def cache_dir() -> Path:
    """Intermediate worlds and feature tables, keyed by a hash of the configs that made them."""
    return project_root() / ".cache"


def audit_log_path() -> Path:
    """The installation's scoring audit log. Deliberately not settable per run (no option, no
    environment variable of its own): it moves only with the whole installation
    (``RISKMODEL_HOME``), so a run cannot be recorded in a throwaway file."""
    return project_root() / "audit_log" / "scoring.jsonl"


def tracking_uri() -> str:
    """MLflow store: ``MLFLOW_TRACKING_URI`` if set, else SQLite in the project directory."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{project_root() / 'mlflow.db'}"

"""Keep learning from new data, safely: refresh a model on what is known at a date, gate the
promotion (discrimination, calibration, fairness, data, sensitive inputs), keep the MLflow
aliases champion / challenger / previous, roll back, and measure drift.

Library API (the ``riskmodel refresh`` / ``rollback`` commands call the same functions)::

    refresh(as_of=date, ...) -> RefreshResult       # challenger, gates, promotion report
    rollback(log_event=...)                         # champion <- previous
    psi(reference, current) / drift_table(...)       # population stability index
    cohort_drift(reference, cohort, features=...)    # what scoring puts in summary.json
"""

from __future__ import annotations

import importlib
from typing import Any

from riskmodel.refresh._config import RefreshConfig

_LAZY = {
    "bin_reference": "_drift",
    "cohort_drift": "_drift",
    "drift_table": "_drift",
    "psi": "_drift",
    "Gate": "_gates",
    "SENSITIVE_BY_DESIGN": "_gates",
    "calibration_slope_intercept": "_gates",
    "paired_auc_gain": "_gates",
    "person_bootstrap_weights": "_gates",
    "RefreshResult": "_refresh",
    "check_training_table": "_refresh",
    "current_aliases": "_refresh",
    "known_at": "_refresh",
    "refresh": "_refresh",
    "rollback": "_refresh",
    "run_of_alias": "_refresh",
    "scoring_drift": "_scoring",
    "training_reference": "_scoring",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'riskmodel.refresh' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"riskmodel.refresh.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["RefreshConfig", *sorted(_LAZY)]

"""Temporal splits, the two heads, baselines, calibration, and saving/loading with integrity checks.

Library API (the ``riskmodel train`` / ``promote`` commands call the same functions)::

    train_experiment(path) -> TrainResult        # world + features (cached), train, report, MLflow
    load_run(run) -> Run                          # reports/<run id>/, bundle verified
    resolve_model(ref) -> (bundle dir, sha)       # run id | models:/riskmodel-reoffend@champion | dir
    promote(run_id, alias="champion")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Names -> private module. Imported on first use, so `riskmodel --help` and `riskmodel.config`
# (which needs only the config models) do not pay for LightGBM and scikit-learn.
_LAZY = {
    "HEADS": "_bundle",
    "Calibrator": "_bundle",
    "ModelBundle": "_bundle",
    "ModelIntegrityError": "_bundle",
    "load_bundle": "_bundle",
    "verify_bundle": "_bundle",
    "BaselineConfig": "_config",
    "HeadConfig": "_config",
    "SplitConfig": "_config",
    "TrainConfig": "_config",
    "PreparedData": "_data",
    "prepare_data": "_data",
    "Trained": "_fit",
    "fit_and_evaluate": "_fit",
    "HEAD_LABELS": "_heads",
    "HEAD_TRUTH": "_heads",
    "CHAMPION": "_run",
    "REGISTERED_NAMES": "_run",
    "Run": "_run",
    "TrainResult": "_run",
    "list_runs": "_run",
    "load_run": "_run",
    "promote": "_run",
    "resolve_model": "_run",
    "train_experiment": "_run",
    "train_table": "_run",
    "Split": "_split",
    "make_split": "_split",
    "random_split": "_split",
    "temporal_split": "_split",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'riskmodel.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"riskmodel.models.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from riskmodel.models._bundle import (
        HEADS,
        Calibrator,
        ModelBundle,
        ModelIntegrityError,
        load_bundle,
        verify_bundle,
    )
    from riskmodel.models._config import BaselineConfig, HeadConfig, SplitConfig, TrainConfig
    from riskmodel.models._data import PreparedData, prepare_data
    from riskmodel.models._fit import Trained, fit_and_evaluate
    from riskmodel.models._heads import HEAD_LABELS, HEAD_TRUTH
    from riskmodel.models._run import (
        CHAMPION,
        REGISTERED_NAMES,
        Run,
        TrainResult,
        list_runs,
        load_run,
        promote,
        resolve_model,
        train_experiment,
        train_table,
    )
    from riskmodel.models._split import Split, make_split, random_split, temporal_split

__all__ = [
    "CHAMPION",
    "HEADS",
    "HEAD_LABELS",
    "HEAD_TRUTH",
    "REGISTERED_NAMES",
    "BaselineConfig",
    "Calibrator",
    "HeadConfig",
    "ModelBundle",
    "ModelIntegrityError",
    "PreparedData",
    "Run",
    "Split",
    "SplitConfig",
    "TrainConfig",
    "TrainResult",
    "Trained",
    "fit_and_evaluate",
    "list_runs",
    "load_bundle",
    "load_run",
    "make_split",
    "prepare_data",
    "promote",
    "random_split",
    "resolve_model",
    "temporal_split",
    "train_experiment",
    "train_table",
    "verify_bundle",
]

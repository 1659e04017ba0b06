"""Temporal splits, the two heads, baselines, calibration, and saving/loading with integrity checks.

Library API (the ``riskmodel train`` / ``promote`` commands call the same functions)::

    train_experiment(path) -> TrainResult        # world + features (cached), train, report, MLflow
    load_run(run) -> Run                          # reports/<run id>/, bundle verified
    resolve_model(ref) -> (bundle dir, sha)       # run id | models:/riskmodel-reoffend@champion | dir
    promote(run_id, alias="champion")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "Calibrator": "_bundle",
    "HEADS": "_bundle",
    "ModelBundle": "_bundle",
    "ModelIntegrityError": "_bundle",
    "load_bundle": "_bundle",
    "verify_bundle": "_bundle",
    "BaselineConfig": "_config",
    "HeadConfig": "_config",
    "SplitConfig": "_config",
    "TrainConfig": "_config",
    "PreparedData": "_data",
    "ensure_world": "_data",
    "prepare_data": "_data",
    "Trained": "_fit",
    "calibration_fit": "_report",
    "calibration_fit_replicates": "_report",
    "comparisons": "_report",
    "compare_runs": "_compare",
    "limits_headline": "_limits:headline",
    "merge_limits_metrics": "_limits",
    "run_limits": "_limits",
    "TuningConfig": "_tune_config",
    "verdict_counts": "_report",
    "fit_and_evaluate": "_fit",
    "HEAD_LABELS": "_heads",
    "HEAD_TRUTH": "_heads",
    "CHAMPION": "_run",
    "ERR_NO_RUN": "_run",
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

__all__ = [
    "BaselineConfig",
    "CHAMPION",
    "Calibrator",
    "ERR_NO_RUN",
    "HEADS",
    "HEAD_LABELS",
    "HEAD_TRUTH",
    "HeadConfig",
    "ModelBundle",
    "ModelIntegrityError",
    "PreparedData",
    "REGISTERED_NAMES",
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
    "ensure_world",
    "prepare_data",
    "promote",
    "random_split",
    "resolve_model",
    "temporal_split",
    "train_experiment",
    "train_table",
    "verify_bundle",
    "TuningConfig",
    "compare_runs",
    "calibration_fit",
    "calibration_fit_replicates",
    "comparisons",
    "limits_headline",
    "merge_limits_metrics",
    "run_limits",
    "verdict_counts",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.models._bundle import (
        HEADS,
        Calibrator,
        ModelBundle,
        ModelIntegrityError,
        load_bundle,
        verify_bundle,
    )
    from riskmodel.models._compare import compare_runs
    from riskmodel.models._config import BaselineConfig, HeadConfig, SplitConfig, TrainConfig
    from riskmodel.models._data import PreparedData, ensure_world, prepare_data
    from riskmodel.models._fit import Trained, fit_and_evaluate
    from riskmodel.models._heads import HEAD_LABELS, HEAD_TRUTH
    from riskmodel.models._limits import headline as limits_headline
    from riskmodel.models._limits import merge_limits_metrics, run_limits
    from riskmodel.models._report import (
        calibration_fit,
        calibration_fit_replicates,
        comparisons,
        verdict_counts,
    )
    from riskmodel.models._run import (
        CHAMPION,
        ERR_NO_RUN,
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
    from riskmodel.models._tune_config import TuningConfig

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

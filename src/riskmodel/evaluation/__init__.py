"""Discrimination, calibration and capacity (top-k) metrics, with paired bootstrap intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "replicate_weights": "_bootstrap",
    "cell_speaks": "_cells",
    "interval_speaks": "_cells",
    "EvaluationConfig": "_config",
    "GAIN_METRICS": "_evaluate",
    "ModelScores": "_evaluate",
    "capacity_k": "_evaluate",
    "evaluate_head": "_evaluate",
    "flatten_head": "_evaluate",
    "HIGHER_IS_BETTER": "_metrics",
    "average_precision": "_metrics",
    "brier_score": "_metrics",
    "capacity_curve": "_metrics",
    "equal_mass_bins": "_metrics",
    "expected_calibration_error": "_metrics",
    "interval_json": "_metrics",
    "log_loss": "_metrics",
    "negative_prediction_rate": "_metrics",
    "percentile_interval": "_metrics",
    "probability_metrics": "_metrics",
    "rank_metrics": "_metrics",
    "reliability_table": "_metrics",
    "roc_auc": "_metrics",
    "top_k": "_metrics",
    "BETTER": "_verdict",
    "NO_CLEAR_DIFFERENCE": "_verdict",
    "VERDICTS": "_verdict",
    "WORSE": "_verdict",
    "verdict": "_verdict",
}

__all__ = [
    "BETTER",
    "EvaluationConfig",
    "GAIN_METRICS",
    "HIGHER_IS_BETTER",
    "ModelScores",
    "NO_CLEAR_DIFFERENCE",
    "VERDICTS",
    "WORSE",
    "average_precision",
    "brier_score",
    "capacity_curve",
    "capacity_k",
    "cell_speaks",
    "equal_mass_bins",
    "evaluate_head",
    "expected_calibration_error",
    "flatten_head",
    "interval_json",
    "interval_speaks",
    "log_loss",
    "negative_prediction_rate",
    "percentile_interval",
    "probability_metrics",
    "rank_metrics",
    "reliability_table",
    "replicate_weights",
    "roc_auc",
    "top_k",
    "verdict",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.evaluation._bootstrap import replicate_weights
    from riskmodel.evaluation._cells import cell_speaks, interval_speaks
    from riskmodel.evaluation._config import EvaluationConfig
    from riskmodel.evaluation._evaluate import (
        GAIN_METRICS,
        ModelScores,
        capacity_k,
        evaluate_head,
        flatten_head,
    )
    from riskmodel.evaluation._metrics import (
        HIGHER_IS_BETTER,
        average_precision,
        brier_score,
        capacity_curve,
        equal_mass_bins,
        expected_calibration_error,
        interval_json,
        log_loss,
        negative_prediction_rate,
        percentile_interval,
        probability_metrics,
        rank_metrics,
        reliability_table,
        roc_auc,
        top_k,
    )
    from riskmodel.evaluation._verdict import BETTER, NO_CLEAR_DIFFERENCE, VERDICTS, WORSE, verdict

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

"""Discrimination, calibration and capacity (top-k) metrics, with paired bootstrap intervals."""

from riskmodel.evaluation._bootstrap import percentile_interval, replicate_weights
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
    log_loss,
    negative_prediction_rate,
    probability_metrics,
    rank_metrics,
    reliability_table,
    roc_auc,
    top_k,
)
from riskmodel.evaluation._verdict import (
    BETTER,
    NO_CLEAR_DIFFERENCE,
    VERDICTS,
    WORSE,
    verdict,
)

__all__ = [
    "BETTER",
    "NO_CLEAR_DIFFERENCE",
    "VERDICTS",
    "WORSE",
    "GAIN_METRICS",
    "HIGHER_IS_BETTER",
    "EvaluationConfig",
    "ModelScores",
    "average_precision",
    "brier_score",
    "capacity_curve",
    "capacity_k",
    "cell_speaks",
    "equal_mass_bins",
    "evaluate_head",
    "expected_calibration_error",
    "flatten_head",
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

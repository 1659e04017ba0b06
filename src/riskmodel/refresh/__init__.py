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

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

_WHERE = {
    "backtest_summary": "_backtest",
    "run_backtest": "_backtest",
    "write_backtest_report": "_backtest",
    "RefreshConfig": "_config",
    "bin_reference": "_drift",
    "cohort_drift": "_drift",
    "drift_table": "_drift",
    "feature_words": "_drift",
    "psi": "_drift",
    "Gate": "_gates",
    "SENSITIVE_BY_DESIGN": "_gates",
    "paired_auc_gain": "_gates",
    "RefreshResult": "_refresh",
    "WINDOW_AUDIT": "_refresh",
    "check_training_table": "_refresh",
    "current_aliases": "_refresh",
    "known_at": "_refresh",
    "refresh": "_refresh",
    "rollback": "_refresh",
    "run_of_alias": "_refresh",
    "scoring_drift": "_scoring",
    "training_reference": "_scoring",
}

__all__ = [
    "backtest_summary",
    "run_backtest",
    "write_backtest_report",
    "Gate",
    "RefreshConfig",
    "RefreshResult",
    "WINDOW_AUDIT",
    "SENSITIVE_BY_DESIGN",
    "bin_reference",
    "check_training_table",
    "cohort_drift",
    "current_aliases",
    "drift_table",
    "feature_words",
    "known_at",
    "paired_auc_gain",
    "psi",
    "refresh",
    "rollback",
    "run_of_alias",
    "scoring_drift",
    "training_reference",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.refresh._backtest import backtest_summary, run_backtest, write_backtest_report
    from riskmodel.refresh._config import RefreshConfig
    from riskmodel.refresh._drift import (
        bin_reference,
        cohort_drift,
        drift_table,
        feature_words,
        psi,
    )
    from riskmodel.refresh._gates import (
        SENSITIVE_BY_DESIGN,
        Gate,
        paired_auc_gain,
    )
    from riskmodel.refresh._refresh import (
        WINDOW_AUDIT,
        RefreshResult,
        check_training_table,
        current_aliases,
        known_at,
        refresh,
        rollback,
        run_of_alias,
    )
    from riskmodel.refresh._scoring import scoring_drift, training_reference

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

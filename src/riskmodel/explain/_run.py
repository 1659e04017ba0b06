"""A trained run as the explain stage reads it, and its metrics as table rows.

The run itself is :class:`riskmodel.models.Run`, read once by :func:`riskmodel.models.load_run`
(``RunView`` and ``load_run_view`` are its names here); its ``fairness`` is the audit's
``fairness.json`` when present.
"""

from __future__ import annotations

from typing import Any

from riskmodel.models import ERR_NO_RUN, Run, load_run
from riskmodel.tracking import flatten

RunView = Run
load_run_view = load_run


def flat_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """``metrics.json`` as flat dotted keys, whether it was written flat or nested."""
    return flatten(metrics)


def parse_metric_key(key: str) -> tuple[str, str, str, bool] | None:
    """``test.<head>.<metric>.<model>[_ci]`` (or ``test.<head>.<metric>_ci.<model>``) ->
    ``(head, metric, model, is_ci)``; None for any other key."""
    parts = key.split(".")
    if len(parts) != 4 or parts[0] != "test":
        return None
    _, head, metric, model = parts
    if model.endswith("_ci"):
        return head, metric, model[:-3], True
    if metric.endswith("_ci"):
        return head, metric[:-3], model, True
    return head, metric, model, False


def metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Test-period metrics as rows ``{head, metric, model, key, value, ci}``, in file order."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for key, value in flat_metrics(metrics).items():
        parsed = parse_metric_key(key)
        if parsed is None:
            continue
        head, metric, model, is_ci = parsed
        row = rows.setdefault(
            (head, metric, model),
            {"head": head, "metric": metric, "model": model, "value": None, "ci": None},
        )
        if is_ci:
            row["ci"] = list(value) if isinstance(value, list | tuple) else None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            row["value"] = float(value)
            row["key"] = key
    return [r for r in rows.values() if r["value"] is not None]


__all__ = [
    "ERR_NO_RUN",
    "RunView",
    "flat_metrics",
    "load_run_view",
    "metric_rows",
    "parse_metric_key",
]

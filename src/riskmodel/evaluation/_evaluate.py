"""Score several models of one head on the same rows, with paired bootstrap intervals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from riskmodel.evaluation._bootstrap import replicate_weights
from riskmodel.evaluation._metrics import (
    interval_json,
    percentile_interval,
    probability_metrics,
    rank_metrics,
)

# metrics whose model-minus-baseline difference gets its own paired interval
GAIN_METRICS = ("auc", "average_precision", "recall_top_k", "harm_share_top_k", "brier")

ERR_NO_MODEL = "evaluate_head: the models to compare must include 'model' for gains, got {names}"


@dataclass(frozen=True)
class ModelScores:
    """One model's output on the evaluated rows.

    ``rank`` orders people (higher = riskier) for AUC, average precision and the top ``k``;
    ``proba`` is the calibrated probability used for Brier, log-loss, ECE and the negative
    prediction rate. For a pure ranking (the RFG score) ``proba`` comes from a calibration fit.
    """

    rank: np.ndarray
    proba: np.ndarray


def capacity_k(capacity: int, *, n_rows: int, cohort_people: float) -> int:
    """Programme places scaled to the evaluated rows.

    ``capacity`` places serve one scoring cohort of ``cohort_people`` people; the evaluated rows
    get the same share: ``k = round(capacity * n_rows / cohort_people)``, at least 1 and at most
    ``n_rows``. For a temporal test period of ``T`` years the cohort is the people with an index
    event in one year (test-period people / ``T``); for a random split it is everyone in the table.
    """
    if n_rows <= 0:
        return 0
    k = round(capacity * n_rows / max(cohort_people, 1.0))
    return int(min(max(k, 1), n_rows))


def _all_metrics(
    y: np.ndarray,
    scores: ModelScores,
    *,
    k: float,
    threshold: float | None,
    harm: np.ndarray | None,
    n_bins: int,
    weights: np.ndarray | None,
) -> dict[str, np.ndarray]:
    out = rank_metrics(y, scores.rank, k=k, weights=weights, harm=harm)
    out.update(
        probability_metrics(
            y,
            scores.proba,
            threshold=threshold,
            n_bins=n_bins,
            weights=weights,
            k=k,
            rank_score=scores.rank,
        )
    )
    return out


def evaluate_head(
    y: np.ndarray,
    models: Mapping[str, ModelScores],
    *,
    k: int,
    threshold: float | None,
    harm: np.ndarray | None = None,
    n_boot: int = 0,
    ci_level: float = 0.95,
    n_bins: int = 10,
    generator: np.random.Generator | None = None,
    unit: str = "row",
    groups: np.ndarray | None = None,
    gains_vs: tuple[str, ...] = (),
) -> dict[str, dict[str, Any]]:
    """Every metric for every model, ``{metric: {model: value}}`` plus ``<metric>_ci`` siblings.

    All models are scored on the same bootstrap replicates, so ``<metric>_gain.<baseline>``
    (``model`` minus the baseline) and its ``_ci`` are paired comparisons.
    """
    y = np.asarray(y, dtype=float)
    if gains_vs and "model" not in models:
        raise ValueError(ERR_NO_MODEL.format(names=sorted(models)))
    kw = {"k": k, "threshold": threshold, "harm": harm, "n_bins": n_bins}
    point = {name: _all_metrics(y, s, weights=None, **kw) for name, s in models.items()}
    out: dict[str, dict[str, Any]] = {}
    for name, metrics in point.items():
        for metric, value in metrics.items():
            v = float(value[0])
            out.setdefault(metric, {})[name] = None if np.isnan(v) else v
    for b in gains_vs:
        if b not in point:
            continue
        for metric in GAIN_METRICS:
            if metric in point["model"]:
                d = float(point["model"][metric][0] - point[b][metric][0])
                out.setdefault(f"{metric}_gain", {})[b] = None if np.isnan(d) else d
    if n_boot <= 0 or len(y) == 0:
        return out
    if generator is None:
        raise ValueError("evaluate_head: a bootstrap needs a generator (riskmodel.provenance.rng)")
    reps: dict[str, dict[str, list[np.ndarray]]] = {name: {} for name in models}
    for W in replicate_weights(len(y), n_boot, generator, unit=unit, groups=groups):
        for name, s in models.items():
            for metric, values in _all_metrics(y, s, weights=W, **kw).items():
                reps[name].setdefault(metric, []).append(values)
    flat = {name: {m: np.concatenate(v) for m, v in ms.items()} for name, ms in reps.items()}
    for name, metrics in flat.items():
        for metric, values in metrics.items():
            out.setdefault(f"{metric}_ci", {})[name] = interval_json(
                *percentile_interval(values, ci_level)
            )
    for b in gains_vs:
        if b not in flat:
            continue
        for metric in GAIN_METRICS:
            if metric in flat["model"]:
                diff = flat["model"][metric] - flat[b][metric]
                out.setdefault(f"{metric}_gain_ci", {})[b] = interval_json(
                    *percentile_interval(diff, ci_level)
                )
    return out


def flatten_head(prefix: str, result: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``{metric: {model: v}}`` -> ``{"<prefix>.<metric>.<model>": v}``."""
    return {
        f"{prefix}.{metric}.{model}": value
        for metric, by_model in result.items()
        for model, value in by_model.items()
    }

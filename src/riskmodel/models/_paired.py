"""Several scores of the same people, compared on the same person-level bootstrap replicates.

Every replicate resamples PEOPLE with replacement and keeps all of a drawn person's index events
(``riskmodel.evaluation.replicate_weights(unit="person")``), and every score is evaluated on that
same replicate, so the difference between two scores gets a paired interval. Each difference is
put into words by the one rule, ``riskmodel.evaluation.verdict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from riskmodel.evaluation import (
    HIGHER_IS_BETTER,
    interval_json,
    percentile_interval,
    probability_metrics,
    rank_metrics,
    replicate_weights,
    verdict,
)

DEFAULT_METRICS = ("auc", "brier")
ERR_LENGTHS = "paired comparison: y ({n}) and score {name!r} ({m}) describe different rows"
ERR_UNKNOWN_PAIR = "paired comparison: pair {pair!r} names a score that was not given ({names})"


def _metrics(
    y: np.ndarray, s: np.ndarray, W: np.ndarray | None, metrics: tuple[str, ...], k: float
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if any(m in ("auc", "average_precision", "precision_top_k", "recall_top_k") for m in metrics):
        out.update(rank_metrics(y, s, k=k, weights=W))
    if any(m in ("brier", "log_loss", "ece", "npr") for m in metrics):
        out.update(probability_metrics(y, s, threshold=None, k=k, weights=W))
    return {m: out[m] for m in metrics}


def paired_comparison(
    y: np.ndarray,
    scores: Mapping[str, np.ndarray],
    *,
    groups: np.ndarray,
    pairs: Mapping[str, tuple[str, str]] | None = None,
    metrics: tuple[str, ...] = DEFAULT_METRICS,
    n_boot: int = 500,
    ci_level: float = 0.95,
    generator: np.random.Generator,
    k: float | None = None,
    keep_replicates: bool = False,
) -> dict[str, Any]:
    """Point values, intervals and paired differences of several scores of the same rows.

    Parameters
    ----------
    y : 0/1 outcome per row (index event)
    scores : name -> probability per row (used both as ranking and as probability)
    groups : person id per row; replicates resample people
    pairs : difference name -> (a, b): the difference ``a - b`` of every metric, paired
    k : list length for top-k metrics (default 5% of the rows)
    keep_replicates : also return every replicate's value (``"replicates": {metric: {name: array}}``),
        e.g. to difference two independently resampled runs

    Returns
    -------
    ``{"value": {metric: {name: v}}, "ci": {metric: {name: [lo, hi]}},
    "diff": {pair: {metric: v}}, "diff_ci": {pair: {metric: [lo, hi]}},
    "verdict": {pair: {metric: "better" | "worse" | "no clear difference"}}}`` where the verdict
    reads "a is better/worse than b" (lower Brier is better).
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    pairs = dict(pairs or {})
    for name, s in scores.items():
        if len(s) != n:
            raise ValueError(ERR_LENGTHS.format(n=n, name=name, m=len(s)))
    for pair, (a, b) in pairs.items():
        if a not in scores or b not in scores:
            raise KeyError(ERR_UNKNOWN_PAIR.format(pair=pair, names=", ".join(scores)))
    kk = float(k if k is not None else max(1, round(0.05 * n)))
    arrays = {name: np.asarray(s, dtype=float) for name, s in scores.items()}
    point = {name: _metrics(y, s, None, metrics, kk) for name, s in arrays.items()}
    reps: dict[str, dict[str, list[np.ndarray]]] = {
        name: {m: [] for m in metrics} for name in arrays
    }
    if n_boot > 0 and n > 0:
        for W in replicate_weights(n, n_boot, generator, unit="person", groups=np.asarray(groups)):
            for name, s in arrays.items():
                for m, v in _metrics(y, s, W, metrics, kk).items():
                    reps[name][m].append(v)
    flat = {
        name: {m: np.concatenate(v) if v else np.zeros(0) for m, v in ms.items()}
        for name, ms in reps.items()
    }
    out: dict[str, Any] = {"value": {}, "ci": {}, "diff": {}, "diff_ci": {}, "verdict": {}}
    for m in metrics:
        out["value"][m] = {name: _num(point[name][m][0]) for name in arrays}
        out["ci"][m] = {
            name: interval_json(*percentile_interval(flat[name][m], ci_level)) for name in arrays
        }
    for pair, (a, b) in pairs.items():
        out["diff"][pair], out["diff_ci"][pair], out["verdict"][pair] = {}, {}, {}
        for m in metrics:
            out["diff"][pair][m] = _num(point[a][m][0] - point[b][m][0])
            ci = interval_json(*percentile_interval(flat[a][m] - flat[b][m], ci_level))
            out["diff_ci"][pair][m] = ci
            out["verdict"][pair][m] = verdict(*ci, higher_is_better=HIGHER_IS_BETTER[m])
    if keep_replicates:
        out["replicates"] = {m: {name: flat[name][m] for name in arrays} for m in metrics}
    out["n_rows"] = n
    out["n_people"] = int(len(np.unique(np.asarray(groups).astype(str))))
    out["n_boot"] = n_boot
    out["ci_level"] = ci_level
    out["bootstrap_unit"] = "person"
    return out


def _num(v: float) -> float | None:
    v = float(v)
    return None if np.isnan(v) else v

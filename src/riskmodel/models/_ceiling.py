"""The ceiling of the records: the best any model can do from a feature set.

In a synthetic world the outcome is Bernoulli(p_true) given the person's state, so the best
prediction any model can make from features ``x`` is ``E[p_true | x]``. We estimate it with a
flexible LightGBM fitted to the continuous, low-noise target ``p_reoffend_true`` /
``p_severe_true`` (cross-entropy objective on a probability label) on a *larger* training world:
same world config, another seed, more people. Evaluated on the experiment's test rows beside the
model and the oracle (``p_true`` itself), the oracle's lead over the model splits into

- the **information gap** = oracle - ceiling: what the recorded history does not contain (no
  model of these features can close it), and
- the **learning gap** = ceiling - model: what a better model, more data or tuning could still gain.

Intervals are paired person-level bootstrap intervals (``riskmodel.models._paired``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskmodel.models._bundle import ModelBundle
from riskmodel.models._heads import HEAD_LABELS, HEAD_TRUTH
from riskmodel.models._paired import paired_comparison
from riskmodel.provenance import rng

# flexible but regularised: the target is smooth and nearly noise-free, so deeper trees and
# smaller leaves than the heads' defaults; early stopping on held-out people picks the size
CEILING_PARAMS: dict[str, Any] = {
    "learning_rate": 0.08,
    "num_leaves": 63,
    "min_child_samples": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 255,
}
HOLDOUT_SHARE = 0.2
# the pairs every report states, as (a, b): the difference a - b
GAP_PAIRS = {
    "oracle_gap": ("oracle", "model"),
    "information_gap": ("oracle", "ceiling"),
    "learning_gap": ("ceiling", "model"),
    "beyond_two_features": ("ceiling", "ceiling_age_priors"),
    "information_gap_two_features": ("oracle", "ceiling_age_priors"),
}

ERR_NO_TRUTH = (
    "the ceiling needs the world's true probability column {col!r} (synthetic worlds only); "
    "the table has none: is this an external table?"
)
ERR_TRUTH_MISSING_VALUES = "{col}: {n} of {m} rows have no true probability"
ERR_EMPTY = "the ceiling's training rows are empty ({what})"

Progress = Callable[[str], None]


@dataclass
class CeilingModel:
    """``E[p_true | features]`` as a LightGBM booster over the prepared feature columns."""

    booster: lgb.Booster
    feature_names: list[str]
    categorical_levels: dict[str, list[str]]
    target: str
    best_iteration: int
    n_train_rows: int
    n_train_people: int
    params: dict[str, Any] = field(default_factory=dict)

    def _bundle(self) -> ModelBundle:
        return ModelBundle(
            boosters={},
            calibrators={},
            feature_names=self.feature_names,
            categorical_levels={
                c: v for c, v in self.categorical_levels.items() if c in self.feature_names
            },
            feature_spec={},
        )

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.clip(self.booster.predict(self._bundle().prepare(frame)), 0.0, 1.0)


def truth_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        raise KeyError(ERR_NO_TRUTH.format(col=column))
    v = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = int(np.isnan(v).sum())
    if bad:
        raise ValueError(ERR_TRUTH_MISSING_VALUES.format(col=column, n=bad, m=len(v)))
    return np.clip(v, 0.0, 1.0)


def fit_ceiling(
    frame: pd.DataFrame,
    features: list[str],
    categorical_levels: Mapping[str, list[str]],
    target: str,
    *,
    seed: int,
    num_threads: int = 1,
    num_boost_round: int = 1500,
    early_stopping_rounds: int = 50,
    params: Mapping[str, Any] | None = None,
) -> CeilingModel:
    """Fit ``E[target | features]`` on ``frame`` (a larger world's rows).

    A fifth of the people (never rows of a person on both sides) are held out to stop early on
    the cross-entropy of the true probability.
    """
    if len(frame) == 0:
        raise ValueError(ERR_EMPTY.format(what="no rows"))
    frame = frame.reset_index(drop=True)
    levels = {c: list(v) for c, v in categorical_levels.items() if c in features}
    bundle = ModelBundle(
        boosters={},
        calibrators={},
        feature_names=list(features),
        categorical_levels=levels,
        feature_spec={},
    )
    X = bundle.prepare(frame)
    t = truth_values(frame, target)
    codes, people = pd.factorize(frame["person_id"].astype("string"), sort=True)
    held = rng(seed, f"ceiling.holdout.{target}").random(len(people)) < HOLDOUT_SHARE
    val = held[codes]
    full = {
        **CEILING_PARAMS,
        **(params or {}),
        "objective": "cross_entropy",
        "metric": "cross_entropy",
        "seed": int(rng(seed, f"ceiling.{target}").integers(0, 2**31 - 1)),
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": num_threads,
        "verbose": -1,
    }
    dtrain = lgb.Dataset(X[~val], label=t[~val], free_raw_data=False)
    dval = lgb.Dataset(X[val], label=t[val], reference=dtrain, free_raw_data=False)
    trained = lgb.train(
        full,
        dtrain,
        num_boost_round=num_boost_round,
        valid_sets=[dval],
        valid_names=["holdout"],
        callbacks=[lgb.early_stopping(early_stopping_rounds, verbose=False)],
    )
    best = int(trained.best_iteration or trained.current_iteration())
    booster = lgb.Booster(model_str=trained.model_to_string(num_iteration=best))
    return CeilingModel(
        booster=booster,
        feature_names=list(features),
        categorical_levels=levels,
        target=target,
        best_iteration=best,
        n_train_rows=len(frame),
        n_train_people=len(people),
        params=full,
    )


def ceiling_gaps(
    test: pd.DataFrame,
    *,
    head: str,
    model: np.ndarray,
    ceiling: np.ndarray,
    ceiling_two: np.ndarray | None = None,
    baselines: Mapping[str, np.ndarray] | None = None,
    n_boot: int,
    ci_level: float,
    seed: int,
    metrics: tuple[str, ...] = ("auc", "brier"),
) -> dict[str, Any]:
    """Model, ceiling(s) and oracle on the test rows, with the paired gaps (``GAP_PAIRS``).

    ``baselines``: other scores of the same rows to show beside them (e.g. the logistic models).
    """
    y = test[HEAD_LABELS[head]].astype(bool).to_numpy().astype(int)
    scores: dict[str, np.ndarray] = {
        "model": np.asarray(model, dtype=float),
        "ceiling": np.asarray(ceiling, dtype=float),
    }
    if ceiling_two is not None:
        scores["ceiling_age_priors"] = np.asarray(ceiling_two, dtype=float)
    for name, s in (baselines or {}).items():
        scores[name] = np.asarray(s, dtype=float)
    scores["oracle"] = truth_values(test, HEAD_TRUTH[head])
    pairs = {p: ab for p, ab in GAP_PAIRS.items() if ab[0] in scores and ab[1] in scores}
    if "logistic_age_priors" in scores and "ceiling_age_priors" in scores:
        pairs["learning_gap_two_features"] = ("ceiling_age_priors", "logistic_age_priors")
    return paired_comparison(
        y,
        scores,
        groups=test["person_id"].astype(str).to_numpy(),
        pairs=pairs,
        metrics=metrics,
        n_boot=n_boot,
        ci_level=ci_level,
        generator=rng(seed, f"limits.ceiling.{head}"),
    )


def gap_metrics(head: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """The stable ``metrics.json`` keys of one head's ceiling result.

    ``test.<head>.<metric>.ceiling`` / ``.ceiling_age_priors`` and ``<metric>_ci``, and the gaps in
    AUC: ``test.<head>.information_gap``, ``.learning_gap``, ``.oracle_gap``,
    ``.beyond_two_features`` each with ``_ci`` (Brier gaps as ``..._brier``).
    """
    out: dict[str, Any] = {}
    for metric, by_name in result["value"].items():
        for name in ("ceiling", "ceiling_age_priors"):
            if name in by_name:
                out[f"test.{head}.{metric}.{name}"] = by_name[name]
                out[f"test.{head}.{metric}_ci.{name}"] = result["ci"][metric][name]
    for pair, by_metric in result["diff"].items():
        for metric, value in by_metric.items():
            suffix = "" if metric == "auc" else f"_{metric}"
            out[f"test.{head}.{pair}{suffix}"] = value
            out[f"test.{head}.{pair}{suffix}_ci"] = result["diff_ci"][pair][metric]
    return out

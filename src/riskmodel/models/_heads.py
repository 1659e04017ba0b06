"""The two LightGBM heads: deterministic training with early stopping, then calibration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskmodel.models._bundle import Calibrator
from riskmodel.models._config import HeadConfig
from riskmodel.provenance import rng

HEAD_LABELS = {"reoffend": "reoffend_12m", "severe": "severe_12m"}
HEAD_TRUTH = {"reoffend": "p_reoffend_true", "severe": "p_severe_true"}

ERR_MONOTONE_UNKNOWN = (
    "monotone constraint on {name!r}, which is not a model feature (features: {have})"
)
ERR_MONOTONE_CATEGORICAL = (
    "monotone constraint on categorical feature {name!r}: only numeric features can be monotone"
)
ERR_ONE_CLASS = "the {head} head's {period} period has only one outcome class ({n} rows); it cannot be trained or calibrated"


def fit_calibrator(method: str, p_raw: np.ndarray, y: np.ndarray) -> Calibrator:
    """``Calibrator.fit`` on the validation period, refusing to turn a ranking upside down.

    A Platt fit with a negative slope means the scores ranked the validation period the wrong way
    round; rather than silently inverting them, the probability falls back to the validation base
    rate (the scores carry no usable information), which the report's metrics then show.
    """
    cal = Calibrator.fit(method, p_raw, y)
    if cal.method == "platt" and cal.a <= 0:
        rate = float(np.clip(np.mean(y), 1e-6, 1 - 1e-6))
        return Calibrator("platt", a=0.0, b=float(np.log(rate / (1 - rate))))
    return cal


@dataclass
class FittedHead:
    """A trained, calibrated head and how it was trained."""

    booster: lgb.Booster
    calibrator: Calibrator
    best_iteration: int
    params: dict[str, Any]


def lightgbm_params(
    config: HeadConfig, *, head: str, seed: int, num_threads: int, y_train: np.ndarray
) -> dict[str, Any]:
    """Full parameter set: the head's params plus the ones riskmodel fixes for reproducibility."""
    params: dict[str, Any] = {
        **config.params,
        "objective": "binary",
        "metric": config.early_stopping_metric,
        "seed": int(rng(seed, f"lightgbm.{head}").integers(0, 2**31 - 1)),
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": num_threads,
        "verbose": -1,
    }
    if config.imbalance == "scale_pos_weight":
        pos = float(np.sum(y_train))
        params["scale_pos_weight"] = config.scale_pos_weight or (len(y_train) - pos) / max(pos, 1.0)
    return params


def monotone_vector(
    monotone: dict[str, int], feature_names: list[str], categorical: set[str]
) -> list[int] | None:
    if not monotone:
        return None
    for name in monotone:
        if name not in feature_names:
            raise ValueError(ERR_MONOTONE_UNKNOWN.format(name=name, have=", ".join(feature_names)))
        if name in categorical and monotone[name] != 0:
            raise ValueError(ERR_MONOTONE_CATEGORICAL.format(name=name))
    return [int(monotone.get(f, 0)) for f in feature_names]


def fit_head(
    head: str,
    *,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_val: pd.DataFrame,
    y_val: np.ndarray,
    config: HeadConfig,
    seed: int,
    num_threads: int,
    categorical: set[str],
) -> FittedHead:
    """Train on the training period, stop early and calibrate on the validation period.

    The returned booster is rebuilt from its text form, so it is exactly what the bundle saves
    (trimmed to the best iteration).
    """
    for period, y in (("training", y_train), ("validation", y_val)):
        if len(np.unique(y)) < 2:
            raise ValueError(ERR_ONE_CLASS.format(head=head, period=period, n=len(y)))
    params = lightgbm_params(config, head=head, seed=seed, num_threads=num_threads, y_train=y_train)
    mono = monotone_vector(config.monotone, list(X_train.columns), categorical)
    if mono is not None:
        params["monotone_constraints"] = mono
    dtrain = lgb.Dataset(X_train, label=y_train, free_raw_data=False)
    dval = lgb.Dataset(X_val, label=y_val, reference=dtrain, free_raw_data=False)
    trained = lgb.train(
        params,
        dtrain,
        num_boost_round=config.num_boost_round,
        valid_sets=[dval],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    best = int(trained.best_iteration or trained.current_iteration())
    booster = lgb.Booster(model_str=trained.model_to_string(num_iteration=best))
    p_val_raw = booster.predict(X_val)
    calibrator = fit_calibrator(config.calibration, p_val_raw, y_val)
    return FittedHead(booster=booster, calibrator=calibrator, best_iteration=best, params=params)

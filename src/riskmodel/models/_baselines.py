"""The comparison models every run fits on the same periods as the heads.

- ``base_rate``: everyone gets the validation period's outcome rate (no ranking at all).
- score baselines (``rfg``; ``decile_score`` on COMPAS): an existing score used as the ranking; its
  probability for calibration metrics is a logistic fit of the outcome on the score over the
  validation period.
- ``logistic_age_priors``: logistic regression on age at index and prior DA count only.
- ``logistic``: logistic regression on every model feature (categoricals one-hot).
- Both logistic baselines take ``log(1 + x)`` of every numeric column that is never negative in
  training (counts, harm days, days since: long right tails a linear model would otherwise let a
  few extreme people dominate), fill missing values with the training median, clip to the
  training range (no linear extrapolation into a later period) and standardise. Their L2
  strength is chosen on the validation period (log-loss) from ``LOGISTIC_C_GRID`` unless fixed in
  the config: they are tuned as carefully as the heads, which stop early on the same period.
- ``oracle`` (synthetic worlds): the world's true probability, the best any model could do.

The logistic baselines are calibrated on the validation period with the head's own method, so
calibration metrics compare like with like.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from riskmodel.evaluation import ModelScores
from riskmodel.models._heads import fit_calibrator

LOGISTIC_C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)

ERR_BASELINE_FEATURE = (
    "baseline {name}: column {col!r} is not in the feature table (columns: {have})"
)


def _numeric(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):
        raise TypeError("categorical column passed as numeric")
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


@dataclass
class _Design:
    """Standardised numeric columns and one-hot categoricals, learned on the training period."""

    numeric: list[str]
    categorical: dict[str, list[str]]
    log_: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    fill_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    low_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    high_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    center_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale_: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def _raw(self, df: pd.DataFrame) -> np.ndarray:
        M = np.column_stack([_numeric(df[c]) for c in self.numeric])
        return np.where(self.log_, np.log1p(np.clip(M, 0.0, None)), M)

    def fit(self, df: pd.DataFrame) -> _Design:
        if self.numeric:
            M = np.column_stack([_numeric(df[c]) for c in self.numeric])
            with np.errstate(all="ignore"):
                lowest = np.nanmin(np.where(np.isnan(M), np.inf, M), axis=0)
            self.log_ = lowest >= 0
            M = self._raw(df)
            fill = np.nanmedian(np.where(np.isfinite(M), M, np.nan), axis=0)
            self.fill_ = np.where(np.isnan(fill), 0.0, fill)
            M = np.where(np.isnan(M), self.fill_, M)
            self.low_, self.high_ = M.min(axis=0), M.max(axis=0)
            self.center_ = M.mean(axis=0)
            sd = M.std(axis=0)
            self.scale_ = np.where(sd > 0, sd, 1.0)
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        parts = []
        if self.numeric:
            M = self._raw(df)
            M = np.clip(np.where(np.isnan(M), self.fill_, M), self.low_, self.high_)
            parts.append((M - self.center_) / self.scale_)
        for col, levels in self.categorical.items():
            codes = pd.Categorical(df[col].astype("object"), categories=levels).codes
            onehot = np.zeros((len(df), len(levels)))
            ok = codes >= 0
            onehot[np.flatnonzero(ok), codes[ok]] = 1.0
            parts.append(onehot)
        return np.hstack(parts) if parts else np.zeros((len(df), 0))


@dataclass
class LogisticBaseline:
    """Logistic regression on named columns, calibrated on the validation period."""

    numeric: list[str]
    categorical: dict[str, list[str]]
    C: float | None = None
    max_iter: int = 2000
    calibration: str = "platt"

    def fit(
        self, train: pd.DataFrame, y_train: np.ndarray, val: pd.DataFrame, y_val: np.ndarray
    ) -> LogisticBaseline:
        from sklearn.metrics import log_loss

        self.design_ = _Design(self.numeric, self.categorical).fit(train)
        X_train, X_val = self.design_.transform(train), self.design_.transform(val)
        best = None
        # one model walked along the grid from the strongest penalty to the weakest, each fit
        # starting from the last one's coefficients (the path is smooth, so each needs a few
        # iterations instead of hundreds); each C still has its own unique optimum
        model = LogisticRegression(max_iter=self.max_iter, solver="lbfgs", warm_start=True)
        for C in (self.C,) if self.C is not None else sorted(LOGISTIC_C_GRID):
            model.set_params(C=C)
            model.fit(X_train, y_train)
            loss = log_loss(y_val, model.predict_proba(X_val)[:, 1], labels=[0, 1])
            if best is None or loss < best[0]:
                best = (loss, C, copy.deepcopy(model))
        _, self.C_, self.model_ = best
        self.calibrator_ = fit_calibrator(self.calibration, self._raw(val), y_val)
        return self

    def _raw(self, df: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(self.design_.transform(df))[:, 1]

    def scores(self, df: pd.DataFrame) -> ModelScores:
        raw = self._raw(df)
        return ModelScores(rank=raw, proba=self.calibrator_.apply(raw))


@dataclass
class ScoreBaseline:
    """An existing score (higher = riskier) used as a ranking, calibrated by a logistic fit."""

    column: str

    def fit(self, val: pd.DataFrame, y_val: np.ndarray) -> ScoreBaseline:
        s = _numeric(val[self.column])
        self.fill_ = float(np.nanmedian(s)) if np.isfinite(s).any() else 0.0
        s = np.where(np.isnan(s), self.fill_, s)
        self.center_, self.scale_ = float(s.mean()), float(s.std() or 1.0)
        self.model_ = LogisticRegression(C=1e6, max_iter=1000).fit(
            ((s - self.center_) / self.scale_)[:, None], y_val
        )
        return self

    def scores(self, df: pd.DataFrame) -> ModelScores:
        s = _numeric(df[self.column])
        s = np.where(np.isnan(s), self.fill_, s)
        p = self.model_.predict_proba(((s - self.center_) / self.scale_)[:, None])[:, 1]
        return ModelScores(rank=s, proba=p)


def base_rate_scores(n: int, rate: float) -> ModelScores:
    const = np.full(n, rate)
    return ModelScores(rank=const, proba=const)


def oracle_scores(df: pd.DataFrame, column: str) -> ModelScores:
    p = np.clip(_numeric(df[column]), 0.0, 1.0)
    return ModelScores(rank=p, proba=p)


def check_columns(name: str, columns: list[str], frame: pd.DataFrame) -> None:
    for c in columns:
        if c not in frame.columns:
            raise KeyError(
                ERR_BASELINE_FEATURE.format(
                    name=name, col=c, have=", ".join(map(str, frame.columns))
                )
            )

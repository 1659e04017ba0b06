"""Training configuration (owned by the models stage): split, the two heads, baselines."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from riskmodel._base import StrictModel
from riskmodel.models._tune_config import TuningConfig
from riskmodel.notice import PROTECTED_CHARACTERISTICS

ERR_BASELINE_PROTECTED = (
    "baselines.age_priors_features: {name!r} is a protected characteristic (Equality Act 2010), "
    "used only to audit fairness; no model input may be one, baselines included"
)
#: plain words for the usual age-and-priors baseline inputs; others are named as they are
BASELINE_WORDS = {"age_at_index": "age at index", "n_da_all": "prior DA count"}

# LightGBM parameters riskmodel sets itself (reproducibility and the objective): never from config
RESERVED_PARAMS = frozenset(
    {
        "objective",
        "seed",
        "random_state",
        "bagging_seed",
        "feature_fraction_seed",
        "data_random_seed",
        "drop_seed",
        "extra_seed",
        "objective_seed",
        "deterministic",
        "num_threads",
        "n_jobs",
        "nthread",
        "monotone_constraints",
        "scale_pos_weight",
        "is_unbalance",
        "num_iterations",
        "num_boost_round",
        "n_estimators",
        "early_stopping_round",
        "early_stopping_rounds",
        "verbose",
        "verbosity",
    }
)

DEFAULT_REOFFEND_PARAMS: dict[str, Any] = {
    "learning_rate": 0.03,
    "num_leaves": 31,
    "min_child_samples": 200,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 5.0,
    "max_bin": 255,
    "cat_smooth": 20,
}
# the severe head sees few positives (a few per cent): smaller trees, larger leaves
DEFAULT_SEVERE_PARAMS: dict[str, Any] = {
    **DEFAULT_REOFFEND_PARAMS,
    "num_leaves": 15,
    "min_child_samples": 400,
    "lambda_l2": 10.0,
}


class SplitConfig(StrictModel):
    """Which rows train, validate and test.

    ``temporal`` (default): by index date. The test period is the latest ``test_years`` up to
    ``test_end`` (default: the table's last index date; the feature table already drops index
    events without a full 12-month follow-up). The validation period ends ``embargo_days`` before
    the test period starts, and training ends ``embargo_days`` before validation starts, so every
    label used for fitting was observable before the period it is judged on (no row's 12-month
    outcome window reaches into a later period). Rows in the gaps are not used.

    ``random``: people (not rows) are shuffled with the experiment seed; ``test_fraction`` of them
    are the test set and ``validation_fraction`` of the rest validate. For tables without time
    structure (COMPAS).
    """

    method: Literal["temporal", "random"] = "temporal"
    test_years: float = Field(default=1.0, gt=0, le=10)
    validation_years: float = Field(default=1.0, gt=0, le=10)
    train_years: float | None = Field(
        default=None, gt=0, description="length of the training period; None: all earlier rows"
    )
    embargo_days: int = Field(default=365, ge=0, le=3650)
    test_end: dt.date | None = None
    test_fraction: float = Field(default=0.3, gt=0, lt=1)
    validation_fraction: float = Field(default=0.2, gt=0, lt=1)


class HeadConfig(StrictModel):
    """One LightGBM head.

    Parameters
    ----------
    params : LightGBM parameters, merged over the head's defaults (seeds, threads, objective and
        determinism are set by riskmodel and refused here)
    num_boost_round : upper bound on trees; early stopping picks the number
    early_stopping_rounds : stop when the validation metric has not improved for this many trees
    early_stopping_metric : ``binary_logloss`` (a proper score, stable with rare outcomes) or ``auc``
    imbalance : ``none`` fits the natural class balance and relies on calibration (default: the
        trees' ranking is what matters and reweighting only distorts probabilities that calibration
        must then undo); ``scale_pos_weight`` weights positives by ``n_negative / n_positive`` (or
        ``scale_pos_weight`` if given) before the same calibration
    calibration : ``platt`` (a logistic fit of the raw log-odds on the validation period: strictly
        increasing, so it never ties people the trees had ranked apart) or ``isotonic``
    monotone : feature name -> +1 (risk may only rise with it), -1, or 0
    """

    params: dict[str, Any] = Field(default_factory=dict)
    num_boost_round: int = Field(default=3000, ge=1, le=100_000)
    early_stopping_rounds: int = Field(default=100, ge=1)
    early_stopping_metric: Literal["binary_logloss", "auc"] = "binary_logloss"
    imbalance: Literal["none", "scale_pos_weight"] = "none"
    scale_pos_weight: float | None = Field(default=None, gt=0)
    calibration: Literal["platt", "isotonic"] = "platt"
    monotone: dict[str, Literal[-1, 0, 1]] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _no_reserved(cls, v: dict[str, Any]) -> dict[str, Any]:
        bad = sorted(set(v) & RESERVED_PARAMS)
        if bad:
            raise ValueError(
                f"parameter(s) {', '.join(bad)} are set by riskmodel (seeds, threads, objective, "
                "determinism, imbalance, monotone constraints have their own keys)"
            )
        return v


class BaselineConfig(StrictModel):
    """The comparison models fitted in every run.

    ``age_priors_features``: the two-feature logistic model (age at index and prior DA count);
    ``score_columns``: baseline name -> a column of scores already in use (a ranking, calibrated
    for probability metrics by a logistic fit on the validation period); only those present in
    the table are used. ``logistic_C``: inverse L2 strength of both logistic baselines; ``None``
    (default) chooses it on the validation period (see ``riskmodel.models._baselines``).
    """

    age_priors_features: tuple[str, ...] = ("age_at_index", "n_da_all")
    score_columns: dict[str, str] = Field(
        default_factory=lambda: {"rfg": "rfg_score", "decile_score": "decile_score"}
    )
    logistic_C: float | None = Field(default=None, gt=0)
    logistic_max_iter: int = Field(default=2000, ge=10)

    @field_validator("age_priors_features")
    @classmethod
    def _no_protected(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for name in v:
            if name.strip().casefold() in PROTECTED_CHARACTERISTICS:
                raise ValueError(ERR_BASELINE_PROTECTED.format(name=name))
        if not v:
            raise ValueError("baselines.age_priors_features: name at least one feature")
        return v

    @property
    def age_priors_description(self) -> str:
        """What the small logistic baseline is fitted on, in words, from its actual features."""
        words = [BASELINE_WORDS.get(f, f) for f in self.age_priors_features]
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class TrainConfig(StrictModel):
    """How the two heads are trained and compared.

    ``num_threads`` is fixed: LightGBM with ``deterministic=True`` gives identical trees for the
    same data, seed and thread count (summation order depends on the threads). The default, one
    thread, gives the same model on every machine and is also the fastest when the cores are
    shared (OpenMP threads waiting on busy cores slow training down many times over); raise it
    on a dedicated machine, knowing that results then match only runs with the same count. ``exclude_features``: feature names (shell patterns such as
    ``harm_*`` allowed) left out of every model, for ablations on a cached feature table.
    """

    split: SplitConfig = SplitConfig()
    reoffend: HeadConfig = HeadConfig(params=DEFAULT_REOFFEND_PARAMS)
    severe: HeadConfig = HeadConfig(params=DEFAULT_SEVERE_PARAMS)
    baselines: BaselineConfig = BaselineConfig()
    num_threads: int = Field(default=1, ge=1, le=256)
    exclude_features: tuple[str, ...] = ()
    # optional (issue 17): choose the heads' settings on the validation period; None keeps them
    tuning: TuningConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _merge_head_defaults(cls, data: Any) -> Any:
        # a head given in YAML overrides only the parameters it names
        if isinstance(data, dict):
            data = dict(data)
            for head, defaults in (
                ("reoffend", DEFAULT_REOFFEND_PARAMS),
                ("severe", DEFAULT_SEVERE_PARAMS),
            ):
                given = data.get(head)
                if isinstance(given, dict):
                    data[head] = {**given, "params": {**defaults, **(given.get("params") or {})}}
        return data

    def head(self, name: str) -> HeadConfig:
        return {"reoffend": self.reoffend, "severe": self.severe}[name]

"""Fit both heads and every baseline on one feature table and score them: no files, no MLflow.

``fit_and_evaluate`` is the pure core of ``riskmodel train``: same table, config and seed give the
same models and the same metrics.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.evaluation import ModelScores, capacity_k, evaluate_head, flatten_head
from riskmodel.models._baselines import (
    LogisticBaseline,
    ScoreBaseline,
    base_rate_scores,
    check_columns,
    oracle_scores,
)
from riskmodel.models._bundle import HEADS, ModelBundle
from riskmodel.models._heads import HEAD_LABELS, HEAD_TRUTH, FittedHead, fit_head
from riskmodel.models._split import Split, make_split
from riskmodel.notice import PROTECTED_CHARACTERISTICS
from riskmodel.provenance import rng

HARM_COLUMN = "harm_days_12m"
MODEL_ORDER = (
    "model",
    "base_rate",
    "rfg",
    "decile_score",
    "logistic_age_priors",
    "logistic",
    "oracle",
)
# share of rows in the top k when the eligibility rule has no capacity
DEFAULT_TOP_K_SHARE = 0.05

ERR_PROTECTED_FEATURE = (
    "protected characteristic(s) {cols} listed as model features; they are audit attributes only "
    "and are never model inputs"
)
ERR_NO_FEATURES = "no model features left (spec features: {have}; excluded: {excluded})"
ERR_MISSING_COLUMNS = "the feature table lacks column(s) the spec names: {cols}"

Progress = Callable[[str], None]


@dataclass
class Trained:
    """Everything one training produced, in memory."""

    bundle: ModelBundle
    split: Split
    heads: dict[str, FittedHead]
    scores: dict[str, dict[str, dict[str, ModelScores]]]  # period -> head -> model -> scores
    metrics: dict[str, Any]
    predictions: pd.DataFrame
    k: int
    thresholds: dict[str, float | None]
    feature_names: list[str]
    excluded_features: list[str] = field(default_factory=list)

    def models(self, head: str) -> list[str]:
        return [m for m in MODEL_ORDER if m in self.scores["test"][head]]


def model_features(spec: dict[str, Any], exclude: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The spec's features minus ``exclude`` patterns; refuses protected characteristics."""
    features = list(spec.get("features", []))
    protected = sorted(f for f in features if f.lower() in PROTECTED_CHARACTERISTICS)
    if protected:
        raise ValueError(ERR_PROTECTED_FEATURE.format(cols=", ".join(protected)))
    dropped = [f for f in features if any(fnmatch.fnmatchcase(f, pat) for pat in exclude)]
    kept = [f for f in features if f not in dropped]
    if not kept:
        raise ValueError(
            ERR_NO_FEATURES.format(have=", ".join(features), excluded=", ".join(exclude))
        )
    return kept, dropped


def categorical_levels(
    frame: pd.DataFrame, features: list[str], spec: dict[str, Any], train_rows: np.ndarray
) -> dict[str, list[str]]:
    """Training-period levels of each categorical feature (declared, or string/category typed)."""
    declared = set(spec.get("categorical_features", []))
    out: dict[str, list[str]] = {}
    for col in features:
        s = frame[col]
        is_cat = (
            col in declared
            or isinstance(s.dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(s.dtype)
            or s.dtype == object
        )
        if is_cat:
            values = s.iloc[train_rows].dropna().astype(str).unique()
            out[col] = sorted(values)
    return out


def _eval_k(experiment: Any, split: Split, frame: pd.DataFrame, n_rows: int) -> int:
    ev = experiment.evaluation
    if ev.top_k is not None:
        return int(min(ev.top_k, n_rows))
    capacity = experiment.eligibility.capacity
    if capacity is None:
        return max(1, round(DEFAULT_TOP_K_SHARE * n_rows))
    test_people = frame["person_id"].iloc[split.test].nunique()
    if split.method == "temporal":
        cohort = test_people / (split.period_years or 1.0)
    else:
        cohort = frame["person_id"].nunique()
    return capacity_k(capacity, n_rows=n_rows, cohort_people=cohort)


def fit_and_evaluate(
    frame: pd.DataFrame,
    spec: dict[str, Any],
    experiment: Any,
    *,
    progress: Progress | None = None,
) -> Trained:
    """Split, train both heads and every baseline, calibrate, and score validation and test.

    Parameters
    ----------
    frame, spec : the feature table (docs/CONTRACTS.md) and its ``feature_spec.json`` content
    experiment : the :class:`riskmodel.config.ExperimentConfig` (train, evaluation, eligibility)
    progress : called with a short description as each step starts
    """
    from threadpoolctl import threadpool_limits

    # BLAS/OpenMP pools (logistic fits, bootstrap products) use the same fixed thread count as
    # LightGBM: reproducible, and not slowed down by threads spinning on shared cores
    with threadpool_limits(limits=experiment.train.num_threads):
        return _fit_and_evaluate(frame, spec, experiment, progress=progress)


def _fit_and_evaluate(
    frame: pd.DataFrame,
    spec: dict[str, Any],
    experiment: Any,
    *,
    progress: Progress | None = None,
) -> Trained:
    say = progress or (lambda _msg: None)
    cfg = experiment.train
    seed = experiment.seed
    features, excluded = model_features(spec, cfg.exclude_features)
    needed = {"person_id", *features, *HEAD_LABELS.values()}
    missing = sorted(c for c in needed if c not in frame.columns)
    if missing:
        raise KeyError(ERR_MISSING_COLUMNS.format(cols=", ".join(missing)))
    frame = frame.reset_index(drop=True)

    say("splitting by " + ("index date" if cfg.split.method == "temporal" else "person"))
    split = make_split(frame, cfg.split, seed=seed)
    levels = categorical_levels(frame, features, spec, split.train)
    bundle = ModelBundle(
        boosters={},
        calibrators={},
        feature_names=features,
        categorical_levels=levels,
        feature_spec=spec,
    )
    X = bundle.prepare(frame)
    parts = {p: frame.iloc[split.rows(p)] for p in ("train", "validation", "test")}
    Xp = {p: X.iloc[split.rows(p)] for p in parts}
    numeric = [f for f in features if f not in levels]

    scores: dict[str, dict[str, dict[str, ModelScores]]] = {"validation": {}, "test": {}}
    heads: dict[str, FittedHead] = {}
    chosen_C: dict[str, float] = {}
    tuned: dict[str, Any] = {}
    truth_cols = set(spec.get("truth", [])) | {c for c in HEAD_TRUTH.values() if c in frame}
    for head in HEADS:
        label = HEAD_LABELS[head]
        y = {p: parts[p][label].astype(bool).to_numpy().astype(int) for p in parts}
        head_cfg = cfg.head(head)
        if cfg.tuning is not None and head in cfg.tuning.heads:
            head_cfg = _tuned(head, head_cfg, cfg, Xp, y, seed, levels, tuned, say)
        say(f"training the {head} head (LightGBM, early stopping on validation)")
        fitted = fit_head(
            head,
            X_train=Xp["train"],
            y_train=y["train"],
            X_val=Xp["validation"],
            y_val=y["validation"],
            config=head_cfg,
            seed=seed,
            num_threads=cfg.num_threads,
            categorical=set(levels),
        )
        heads[head] = fitted
        bundle.boosters[head] = fitted.booster
        bundle.calibrators[head] = fitted.calibrator

        say(f"fitting the {head} baselines")
        logistic = LogisticBaseline(
            numeric=numeric,
            categorical=levels,
            C=cfg.baselines.logistic_C,
            max_iter=cfg.baselines.logistic_max_iter,
            calibration=cfg.head(head).calibration,
        ).fit(parts["train"], y["train"], parts["validation"], y["validation"])
        age_cols = list(cfg.baselines.age_priors_features)
        check_columns("logistic_age_priors", age_cols, frame)
        age_priors = LogisticBaseline(
            numeric=age_cols,
            categorical={},
            C=cfg.baselines.logistic_C,
            max_iter=cfg.baselines.logistic_max_iter,
            calibration=cfg.head(head).calibration,
        ).fit(parts["train"], y["train"], parts["validation"], y["validation"])
        score_baselines = {
            name: ScoreBaseline(col).fit(parts["validation"], y["validation"])
            for name, col in cfg.baselines.score_columns.items()
            if col in frame.columns
        }
        chosen_C[f"{head}.logistic"] = logistic.C_
        chosen_C[f"{head}.logistic_age_priors"] = age_priors.C_
        rate = float(y["validation"].mean())
        truth = HEAD_TRUTH[head]
        for period in ("validation", "test"):
            df = parts[period]
            raw = fitted.booster.predict(Xp[period])
            s: dict[str, ModelScores] = {
                "model": ModelScores(rank=raw, proba=fitted.calibrator.apply(raw)),
                "base_rate": base_rate_scores(len(df), rate),
            }
            for name, sb in score_baselines.items():
                s[name] = sb.scores(df)
            s["logistic_age_priors"] = age_priors.scores(df)
            s["logistic"] = logistic.scores(df)
            if truth in truth_cols and truth in df and df[truth].notna().all():
                s["oracle"] = oracle_scores(df, truth)
            scores[period][head] = s

    k = _eval_k(experiment, split, frame, len(split.test))
    thresholds = {
        "reoffend": experiment.eligibility.reoffend_threshold,
        "severe": experiment.eligibility.severe_threshold,
    }
    metrics = _metrics(
        experiment=experiment,
        frame=frame,
        split=split,
        parts=parts,
        scores=scores,
        k=k,
        thresholds=thresholds,
        say=say,
    )
    for head, fitted in heads.items():
        metrics[f"heads.{head}.best_iteration"] = fitted.best_iteration
    for key, C in chosen_C.items():
        metrics[f"baselines.{key}.C"] = C
    for head, found in tuned.items():
        for name, value in found["chosen"].items():
            metrics[f"tuning.{head}.chosen.{name}"] = value
        metrics[f"tuning.{head}.best_validation_log_loss"] = found["best_value"]
        metrics[f"tuning.{head}.trial_validation_log_loss"] = [t["value"] for t in found["trials"]]
    metrics["features.n"] = len(features)
    metrics["features.excluded"] = excluded

    predictions = parts["test"].copy()
    for head in HEADS:
        s = scores["test"][head]
        predictions[f"p_{head}"] = s["model"].proba
        predictions[f"p_{head}_uncalibrated"] = s["model"].rank
        for name, ms in s.items():
            if name == "model":
                continue
            col = f"score_{name}" if head == "reoffend" else f"score_{name}_severe"
            predictions[col] = ms.proba
    predictions = predictions.reset_index(drop=True)
    return Trained(
        bundle=bundle,
        split=split,
        heads=heads,
        scores=scores,
        metrics=metrics,
        predictions=predictions,
        k=k,
        thresholds=thresholds,
        feature_names=features,
        excluded_features=excluded,
    )


def _tuned(head, head_cfg, cfg, Xp, y, seed, levels, tuned, say):
    """The head's config with the settings chosen on the validation period (``train.tuning``)."""
    from riskmodel.models._tune import tune_head

    say(f"tuning the {head} head ({cfg.tuning.n_trials} trials on the validation period)")
    found = tune_head(
        head,
        X_train=Xp["train"],
        y_train=y["train"],
        X_val=Xp["validation"],
        y_val=y["validation"],
        config=head_cfg,
        tuning=cfg.tuning,
        seed=seed,
        num_threads=cfg.num_threads,
        categorical=set(levels),
        progress=say,
    )
    tuned[head] = found
    return head_cfg.model_copy(update={"params": {**head_cfg.params, **found["chosen"]}})


def _metrics(
    *,
    experiment: Any,
    frame: pd.DataFrame,
    split: Split,
    parts: dict[str, pd.DataFrame],
    scores: dict[str, dict[str, dict[str, ModelScores]]],
    k: int,
    thresholds: dict[str, float | None],
    say: Progress,
) -> dict[str, Any]:
    ev = experiment.evaluation
    seed = experiment.seed
    m: dict[str, Any] = {}
    for p, df in parts.items():
        m[f"n.{p}"] = len(df)
        m[f"n_people.{p}"] = int(df["person_id"].nunique())
        for head, label in HEAD_LABELS.items():
            m[f"base_rate.{p}.{head}"] = float(df[label].astype(bool).mean())
    m["n.dropped_in_gaps"] = split.n_dropped
    for key, value in split.describe().items():
        m[f"split.{key}"] = value
    m["top_k.k"] = k
    m["top_k.share_of_test"] = k / max(len(parts["test"]), 1)
    m["top_k.capacity"] = experiment.eligibility.capacity
    for head, t in thresholds.items():
        m[f"threshold.{head}"] = t
    m["bootstrap.n_boot"] = ev.n_boot
    m["bootstrap.ci_level"] = ev.ci_level
    m["bootstrap.unit"] = ev.bootstrap_unit
    m["ece.bins"] = ev.ece_bins

    unseen = ~split.seen_in_fitting
    m["person_disjoint.n"] = int(unseen.sum())
    m["person_disjoint.share_test_rows_seen_in_fitting"] = float(split.seen_in_fitting.mean())
    test_people = parts["test"]["person_id"]
    m["person_disjoint.share_test_people_seen_in_fitting"] = float(
        test_people[split.seen_in_fitting].nunique() / max(test_people.nunique(), 1)
    )

    jobs = []
    for head, label in HEAD_LABELS.items():
        harm = HARM_COLUMN if head == "severe" else None
        for period, n_boot, rows in (
            ("test", ev.n_boot, None),
            ("validation", 0, None),
            ("person_disjoint", ev.n_boot, unseen),
        ):
            src = "validation" if period == "validation" else "test"
            df = parts[src]
            model_scores = scores[src][head]
            if rows is not None:
                if rows.sum() == 0:
                    continue
                df = df.iloc[np.flatnonzero(rows)]
                model_scores = {
                    name: ModelScores(rank=s.rank[rows], proba=s.proba[rows])
                    for name, s in model_scores.items()
                }
            kk = (
                k
                if period == "test"
                else max(1, min(len(df), round(k * len(df) / max(len(parts["test"]), 1))))
            )
            jobs.append(
                (
                    head,
                    period,
                    kk,
                    dict(
                        y=df[label].astype(bool).to_numpy().astype(int),
                        models=model_scores,
                        k=kk,
                        threshold=thresholds[head],
                        harm=(
                            df[harm].to_numpy(dtype=float, na_value=0.0)
                            if harm and harm in df.columns
                            else None
                        ),
                        n_boot=n_boot,
                        ci_level=ev.ci_level,
                        n_bins=ev.ece_bins,
                        generator=rng(seed, f"bootstrap.{period}.{head}"),
                        unit=ev.bootstrap_unit,
                        groups=df["person_id"].to_numpy()
                        if ev.bootstrap_unit == "person"
                        else None,
                        gains_vs=tuple(n for n in model_scores if n != "model"),
                    ),
                )
            )
    say(
        f"scoring both heads on the test period and on people unseen in fitting "
        f"({ev.n_boot} bootstrap replicates by {ev.bootstrap_unit})"
    )
    # each evaluation has its own generator, so running them side by side changes no figure;
    # numpy releases the GIL in the bootstrap's array work, so threads use the idle core
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1) or 1) as pool:
        results = list(pool.map(lambda job: evaluate_head(**job[3]), jobs))
    for (head, period, kk, _), result in zip(jobs, results, strict=True):
        m.update(flatten_head(f"{period}.{head}", result))
        if period != "test":
            m[f"{period}.{head}.k"] = kk
    return m

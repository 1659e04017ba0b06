"""Tuning under time order: the heads' LightGBM settings chosen on the validation period.

Optuna's TPE sampler, seeded, one trial at a time (``n_jobs=1``), with a fixed number of trials:
the same table, config and seed give the same trials and the same chosen parameters. Each trial
trains on the training period and is judged by the log-loss of its raw probabilities on the
validation period, which ends ``embargo_days`` before the test period starts: the test period is
never seen while choosing. The chosen values are then compared with the experiment's fixed ones
on the test period's people (paired person-level bootstrap), and the search is logged to MLflow
through ``riskmodel.tracking``.

An experiment asks for tuning with an optional ``tuning:`` section in its ``train:`` config
(:class:`TuningConfig`); without it, training keeps the fixed parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.models._tune_config import TuningConfig

Progress = Callable[[str], None]

# the searched settings: (low, high, log scale, integer)
SEARCH_SPACE: dict[str, tuple[float, float, bool, bool]] = {
    "learning_rate": (0.01, 0.15, True, False),
    "num_leaves": (7, 127, True, True),
    "min_child_samples": (20, 1000, True, True),
    "feature_fraction": (0.4, 1.0, False, False),
    "lambda_l2": (0.01, 100.0, True, False),
}


def _suggest(trial: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (low, high, log, integer) in SEARCH_SPACE.items():
        if integer:
            out[name] = trial.suggest_int(name, int(low), int(high), log=log)
        else:
            out[name] = trial.suggest_float(name, low, high, log=log)
    return out


def _val_log_loss(fitted: Any, X_val: pd.DataFrame, y_val: np.ndarray) -> float:
    from riskmodel.evaluation import log_loss

    return log_loss(y_val, fitted.booster.predict(X_val))


def tune_head(
    head: str,
    *,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_val: pd.DataFrame,
    y_val: np.ndarray,
    config: Any,
    tuning: TuningConfig,
    seed: int,
    num_threads: int,
    categorical: set[str],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Search ``SEARCH_SPACE`` for one head; returns the chosen params and every trial."""
    import optuna

    from riskmodel.models._heads import fit_head

    say = progress or (lambda _msg: None)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial: Any) -> float:
        params = {**config.params, **_suggest(trial)}
        cfg = config.model_copy(update={"params": params})
        fitted = fit_head(
            head,
            X_train=X_train,
            y_train=y_train,
            X_val=X_val,
            y_val=y_val,
            config=cfg,
            seed=seed,
            num_threads=num_threads,
            categorical=categorical,
        )
        trial.set_user_attr("best_iteration", fitted.best_iteration)
        say(f"tuning {head}: trial {trial.number + 1} of {tuning.n_trials}")
        return _val_log_loss(fitted, X_val, y_val)

    sampler = optuna.samplers.TPESampler(seed=tuning.seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(objective, n_trials=tuning.n_trials, n_jobs=1)
    trials = [
        {
            "number": t.number,
            "value": t.value,
            "params": t.params,
            "best_iteration": t.user_attrs.get("best_iteration"),
        }
        for t in study.trials
    ]
    return {
        "chosen": dict(study.best_params),
        "best_value": float(study.best_value),
        "trials": trials,
    }


def tune_and_compare(
    frame: pd.DataFrame,
    spec: dict[str, Any],
    experiment: Any,
    tuning: TuningConfig,
    *,
    n_boot: int = 200,
    log_to_mlflow: bool = True,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Tune each head on the validation period, then compare tuned with fixed on the test period."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=experiment.train.num_threads):
        out = _tune_and_compare(frame, spec, experiment, tuning, n_boot, progress)
    if log_to_mlflow:
        log_search(out, experiment, frame)
    return out


def _tune_and_compare(frame, spec, experiment, tuning, n_boot, progress) -> dict[str, Any]:
    from riskmodel.models._bundle import ModelBundle
    from riskmodel.models._fit import categorical_levels, model_features
    from riskmodel.models._heads import HEAD_LABELS, fit_head
    from riskmodel.models._paired import paired_comparison
    from riskmodel.models._split import make_split
    from riskmodel.provenance import rng

    cfg = experiment.train
    seed = experiment.seed
    frame = frame.reset_index(drop=True)
    features, _ = model_features(spec, cfg.exclude_features)
    split = make_split(frame, cfg.split, seed=seed)
    levels = categorical_levels(frame, features, spec, split.train)
    X = ModelBundle({}, {}, features, levels, spec).prepare(frame)
    Xp = {p: X.iloc[split.rows(p)] for p in ("train", "validation", "test")}
    test = frame.iloc[split.test]
    out: dict[str, Any] = {
        "n_trials": tuning.n_trials,
        "seed": tuning.seed,
        "sampler": "optuna TPESampler, n_jobs=1",
        "objective": "validation-period log-loss of the raw head",
        "search_space": {k: list(v) for k, v in SEARCH_SPACE.items()},
        "validation_period": (
            f"{split.bounds['validation'].get('first_index_date')} to "
            f"{split.bounds['validation'].get('last_index_date')}"
        ),
        "test_period": (
            f"{split.bounds['test'].get('first_index_date')} to "
            f"{split.bounds['test'].get('last_index_date')}"
        ),
        "heads": {},
        "compare": {},
    }
    for head in tuning.heads:
        label = HEAD_LABELS[head]
        y = {p: frame[label].iloc[split.rows(p)].astype(bool).to_numpy().astype(int) for p in Xp}
        common = {
            "X_train": Xp["train"],
            "y_train": y["train"],
            "X_val": Xp["validation"],
            "y_val": y["validation"],
            "seed": seed,
            "num_threads": cfg.num_threads,
            "categorical": set(levels),
        }
        base_cfg = cfg.head(head)
        found = tune_head(head, config=base_cfg, tuning=tuning, progress=progress, **common)
        fixed = fit_head(head, config=base_cfg, **common)
        tuned_cfg = base_cfg.model_copy(update={"params": {**base_cfg.params, **found["chosen"]}})
        tuned = fit_head(head, config=tuned_cfg, **common)
        found["fixed"] = {k: base_cfg.params.get(k) for k in SEARCH_SPACE}
        found["fixed_value"] = _val_log_loss(fixed, Xp["validation"], y["validation"])
        found["best_iteration"] = {"fixed": fixed.best_iteration, "tuned": tuned.best_iteration}
        out["heads"][head] = found
        scores = {
            name: f.calibrator.apply(f.booster.predict(Xp["test"]))
            for name, f in (("tuned", tuned), ("fixed", fixed))
        }
        res = paired_comparison(
            y["test"],
            scores,
            groups=test["person_id"].astype(str).to_numpy(),
            pairs={"tuned_vs_fixed": ("tuned", "fixed")},
            metrics=("auc", "brier"),
            n_boot=n_boot,
            ci_level=experiment.evaluation.ci_level,
            generator=rng(seed, f"tuning.{head}"),
        )
        out["compare"][head] = {
            "value": res["value"],
            "ci_by_model": res["ci"],
            "diff": res["diff"]["tuned_vs_fixed"],
            "ci": res["diff_ci"]["tuned_vs_fixed"],
            "verdict": res["verdict"]["tuned_vs_fixed"],
        }
    return out


def log_search(result: dict[str, Any], experiment: Any, frame: pd.DataFrame) -> str:
    """One MLflow run (experiment ``<name>-tuning``): chosen values as params, every trial's
    validation log-loss as a step series, the comparison with the fixed settings as metrics."""
    from riskmodel import tracking
    from riskmodel.provenance import frame_fingerprint

    config = {
        "experiment": experiment.model_dump(mode="json"),
        "tuning": {k: v for k, v in result.items() if k in ("n_trials", "seed", "search_space")},
        "chosen": {h: r["chosen"] for h, r in result["heads"].items()},
    }
    with tracking.start_run(
        f"{experiment.name}-tuning",
        config=config,
        seed=experiment.seed,
        data_fingerprint=frame_fingerprint(frame),
        tags={"riskmodel.kind": "tuning"},
    ) as active:
        for head, r in result["heads"].items():
            tracking.log_metric_series(
                f"tuning.{head}.validation_log_loss", [t["value"] for t in r["trials"]]
            )
        metrics: dict[str, Any] = {}
        for head, c in result["compare"].items():
            metrics[f"tuning.{head}.best_validation_log_loss"] = result["heads"][head]["best_value"]
            metrics[f"tuning.{head}.fixed_validation_log_loss"] = result["heads"][head][
                "fixed_value"
            ]
            for m in ("auc", "brier"):
                metrics[f"test.{head}.{m}_gain_tuned"] = c["diff"][m]
                metrics[f"test.{head}.{m}_gain_tuned_ci"] = c["ci"][m]
        tracking.log_metrics(metrics)
        run_id = active.info.run_id
    result["mlflow_run_id"] = run_id
    return run_id

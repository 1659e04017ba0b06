"""Learning curves: discrimination and calibration against the amount of training data.

The training period's PEOPLE (not rows) are shuffled once with the experiment seed; a fraction
``f`` trains on the first ``f`` share of them (all their training-period index events), so the
subsets are nested and a larger fraction only ever adds people. Validation (early stopping,
calibration, the logistic models' L2 strength) and test periods stay whole, so each point differs
from the next only in how much there was to learn from. Each fraction's model and logistic
baselines are scored on the same test rows with person-level bootstrap intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.models._baselines import LogisticBaseline
from riskmodel.models._bundle import HEADS, ModelBundle
from riskmodel.models._fit import categorical_levels, model_features
from riskmodel.models._heads import HEAD_LABELS, fit_head
from riskmodel.models._paired import paired_comparison
from riskmodel.models._split import make_split
from riskmodel.provenance import rng

DEFAULT_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
CURVE_MODELS = ("model", "logistic", "logistic_age_priors")
CURVE_METRICS = ("auc", "ece", "brier")

ERR_FRACTIONS = "learning-curve fractions must be in (0, 1], got {bad}"
ERR_TOO_FEW = (
    "fraction {f} leaves {n} training people for the {head} head with a single outcome class; "
    "use larger fractions"
)

Progress = Callable[[str], None]


def nested_people(people: pd.Series, fractions: Sequence[float], seed: int) -> dict[float, set]:
    """For each fraction, the first ``f`` share of the people in one seeded shuffle (nested)."""
    bad = [f for f in fractions if not 0 < f <= 1]
    if bad:
        raise ValueError(ERR_FRACTIONS.format(bad=bad))
    unique = np.sort(people.astype(str).unique())
    order = unique[rng(seed, "learning.people").permutation(len(unique))]
    return {f: set(order[: max(1, round(f * len(order)))]) for f in sorted(fractions)}


def learning_curves(
    frame: pd.DataFrame,
    spec: dict[str, Any],
    experiment: Any,
    *,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    heads: Sequence[str] = HEADS,
    n_boot: int = 200,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """``{head: [{"fraction", "n_people", "n_rows", "value", "ci"}, ...]}`` over ``fractions``."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=experiment.train.num_threads):
        return _curves(frame, spec, experiment, fractions, heads, n_boot, progress)


def _curves(frame, spec, experiment, fractions, heads, n_boot, progress) -> dict[str, Any]:
    say = progress or (lambda _msg: None)
    cfg = experiment.train
    seed = experiment.seed
    frame = frame.reset_index(drop=True)
    features, _ = model_features(spec, cfg.exclude_features)
    split = make_split(frame, cfg.split, seed=seed)
    levels = categorical_levels(frame, features, spec, split.train)
    numeric = [f for f in features if f not in levels]
    bundle = ModelBundle({}, {}, features, levels, spec)
    X = bundle.prepare(frame)
    train, val, test = (frame.iloc[split.rows(p)] for p in ("train", "validation", "test"))
    Xval, Xtest = X.iloc[split.validation], X.iloc[split.test]
    subsets = nested_people(train["person_id"], fractions, seed)
    out: dict[str, Any] = {"fractions": sorted(fractions), "heads": {}}
    for head in heads:
        label = HEAD_LABELS[head]
        y_val = val[label].astype(bool).to_numpy().astype(int)
        y_test = test[label].astype(bool).to_numpy().astype(int)
        points = []
        all_scores: dict[str, np.ndarray] = {}
        for f, people in subsets.items():
            keep = train["person_id"].astype(str).isin(people).to_numpy()
            sub = train[keep]
            y_sub = sub[label].astype(bool).to_numpy().astype(int)
            if len(np.unique(y_sub)) < 2:
                raise ValueError(ERR_TOO_FEW.format(f=f, n=len(people), head=head))
            say(f"learning curve: {head} head on {f:.0%} of the training people")
            fitted = fit_head(
                head,
                X_train=X.iloc[split.train[keep]],
                y_train=y_sub,
                X_val=Xval,
                y_val=y_val,
                config=cfg.head(head),
                seed=seed,
                num_threads=cfg.num_threads,
                categorical=set(levels),
            )
            scores = {"model": fitted.calibrator.apply(fitted.booster.predict(Xtest))}
            for name, cols, cats in (
                ("logistic", numeric, levels),
                ("logistic_age_priors", list(cfg.baselines.age_priors_features), {}),
            ):
                lb = LogisticBaseline(
                    numeric=cols,
                    categorical=cats,
                    C=cfg.baselines.logistic_C,
                    max_iter=cfg.baselines.logistic_max_iter,
                    calibration=cfg.head(head).calibration,
                ).fit(sub, y_sub, val, y_val)
                scores[name] = lb.scores(test).proba
            for name, sc in scores.items():
                all_scores[f"{name}@{f}"] = sc
            points.append(
                {
                    "fraction": f,
                    "n_people": len(people),
                    "n_rows": int(keep.sum()),
                    "best_iteration": fitted.best_iteration,
                }
            )
        fs = [p["fraction"] for p in points]
        pairs = {f"model_vs_logistic@{f}": (f"model@{f}", f"logistic@{f}") for f in fs}
        if len(fs) >= 2:
            half = min(fs[:-1], key=lambda x: abs(x - fs[-1] / 2))
            pairs["more_data"] = (f"model@{fs[-1]}", f"model@{half}")
        res = paired_comparison(
            y_test,
            all_scores,
            groups=test["person_id"].astype(str).to_numpy(),
            pairs=pairs,
            metrics=CURVE_METRICS,
            n_boot=n_boot,
            ci_level=experiment.evaluation.ci_level,
            generator=rng(seed, f"learning.{head}"),
        )
        for p in points:
            f = p["fraction"]
            p["value"] = {
                m: {n: res["value"][m][f"{n}@{f}"] for n in CURVE_MODELS} for m in CURVE_METRICS
            }
            p["ci"] = {
                m: {n: res["ci"][m][f"{n}@{f}"] for n in CURVE_MODELS} for m in CURVE_METRICS
            }
            key = f"model_vs_logistic@{f}"
            p["model_vs_logistic"] = {
                "diff": res["diff"][key],
                "ci": res["diff_ci"][key],
                "verdict": res["verdict"][key],
            }
        if "more_data" in pairs:
            out.setdefault("more_data", {})[head] = {
                "from": pairs["more_data"][1].split("@")[1],
                "to": pairs["more_data"][0].split("@")[1],
                "diff": res["diff"]["more_data"],
                "ci": res["diff_ci"]["more_data"],
                "verdict": res["verdict"]["more_data"],
            }
        out["heads"][head] = points
    out["n_test_rows"] = len(test)
    out["n_test_people"] = int(test["person_id"].nunique())
    out["n_boot"] = n_boot
    return out

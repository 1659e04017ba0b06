"""Proxy check: can a protected attribute be predicted from the model's own inputs?

Protected characteristics are never model inputs, but other inputs can stand in for them (area
for ethnicity, say). For each attribute, a small LightGBM classifier is trained on a sample to
predict it from the model's features; its out-of-fold AUC (one-vs-rest macro average for more
than two groups) says how much of the attribute the inputs carry. 0.5 is none; above the
configured threshold the attribute is flagged, with the features that carry most of it (share
of the classifier's total split gain).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from riskmodel.fairness._groups import encode_groups
from riskmodel.provenance import rng

N_FOLDS = 3
_LGB_PARAMS = {
    "n_estimators": 80,
    "learning_rate": 0.1,
    "num_leaves": 15,
    "min_child_samples": 20,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "n_jobs": 1,
    "deterministic": True,
    "verbose": -1,
}


def prepare_features(df: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """Model inputs in a form LightGBM accepts: strings as categories, booleans as 0/1."""
    X = df.loc[:, features].copy()
    for col in features:
        dt = X[col].dtype
        if pd.api.types.is_bool_dtype(dt):
            X[col] = X[col].astype("float32")  # nullable booleans: missing -> NaN
        elif isinstance(dt, pd.CategoricalDtype):
            continue
        elif not pd.api.types.is_numeric_dtype(dt):
            X[col] = X[col].astype("object").astype("category")
    return X


def proxy_check(
    df: pd.DataFrame,
    *,
    attributes: list[str],
    features: list[str],
    threshold: float,
    sample_n: int,
    top_n: int,
    seed: int,
) -> dict:
    """``{threshold, features, attributes: {attr: {auc, flagged, top_features, ...}}}``."""
    import lightgbm as lgb
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    gen = rng(seed, "fairness.proxy")
    n = len(df)
    take = np.sort(gen.choice(n, size=sample_n, replace=False)) if n > sample_n else np.arange(n)
    sample = df.iloc[take]
    X = prepare_features(sample, features)
    out: dict[str, dict] = {}
    # every random draw is made here, in attribute order; the fits then run on a thread per
    # core (LightGBM releases the GIL), so no figure depends on the number of threads
    jobs: list[tuple[str, dict]] = []
    for attr in attributes:
        known = sample[attr].notna().to_numpy()
        grouping = encode_groups(sample.loc[known, attr], name=attr)
        y = grouping.codes
        counts = np.bincount(y, minlength=grouping.n_groups)
        # a class needs a member in every fold; rarer classes are left out and reported
        keep_cls = counts >= N_FOLDS
        keep = keep_cls[y]
        dropped = [grouping.labels[i] for i in np.flatnonzero(~keep_cls)]
        y = y[keep]
        classes = np.unique(y)
        if len(classes) < 2:
            out[attr] = {
                "auc": None,
                "flagged": False,
                "n": int(len(y)),
                "note": "fewer than two groups with enough people",
                "top_features": [],
            }
            continue
        y = np.searchsorted(classes, y)
        folds = StratifiedKFold(N_FOLDS, shuffle=True, random_state=int(gen.integers(2**31 - 1)))
        jobs.append(
            (
                attr,
                {
                    "X": X.loc[known].iloc[keep],
                    "y": y,
                    "folds": list(folds.split(np.zeros(len(y)), y)),
                    "seed": int(gen.integers(2**31 - 1)),
                    "groups": [grouping.labels[c] for c in classes],
                    "dropped": dropped,
                },
            )
        )

    def fit(job: dict, fold: tuple[np.ndarray, np.ndarray] | None) -> tuple:
        params = {**_LGB_PARAMS, "random_state": job["seed"]}
        if fold is None:  # the whole sample, for the features that carry the attribute
            clf = lgb.LGBMClassifier(**params, importance_type="gain")
            clf.fit(job["X"], job["y"])
            return np.asarray(clf.booster_.feature_importance("gain"), dtype=float)
        tr, te = fold
        clf = lgb.LGBMClassifier(**params)
        clf.fit(job["X"].iloc[tr], job["y"][tr])
        return te, clf.predict_proba(job["X"].iloc[te])

    tasks = [(i, f) for i, (_, job) in enumerate(jobs) for f in [*job["folds"], None]]
    with ThreadPoolExecutor(max_workers=max(1, min(os.cpu_count() or 1, len(tasks)))) as pool:
        results = list(pool.map(lambda t: fit(jobs[t[0]][1], t[1]), tasks))
    by_job: dict[int, list] = {}
    for (i, _), r in zip(tasks, results, strict=True):
        by_job.setdefault(i, []).append(r)
    for i, (attr, job) in enumerate(jobs):
        *fold_out, gain = by_job[i]
        y = job["y"]
        oof = np.zeros((len(y), len(job["groups"])))
        for te, proba in fold_out:
            oof[te] = proba
        if len(job["groups"]) == 2:
            auc = float(roc_auc_score(y, oof[:, 1]))
        else:
            auc = float(roc_auc_score(y, oof, multi_class="ovr", average="macro"))
        share = gain / gain.sum() if gain.sum() > 0 else gain
        top = np.argsort(-share, kind="stable")[:top_n]
        out[attr] = {
            "auc": auc,
            "flagged": bool(auc > threshold),
            "n": int(len(y)),
            "groups": job["groups"],
            "groups_left_out": job["dropped"],
            "top_features": [
                {"feature": features[j], "gain_share": float(share[j])} for j in top if share[j] > 0
            ],
        }
    out = {a: out[a] for a in attributes}
    return {
        "threshold": threshold,
        "method": (
            f"LightGBM ({_LGB_PARAMS['n_estimators']} trees) predicting the attribute from the "
            f"model's inputs; {N_FOLDS}-fold out-of-fold AUC (one-vs-rest macro average for more "
            "than two groups) on a sample; top features by share of split gain"
        ),
        "sample_n": int(len(take)),
        "features": list(features),
        "attributes": out,
    }

"""What drives the model overall: SHAP values on a sample, importance, and differences by group.

SHAP values come from the shap package's ``TreeExplainer`` on the LightGBM booster (exact,
tree-path-dependent), computed on a random sample of rows (``sample``), never on all of them.
Mean absolute SHAP by protected group asks whether a feature moves scores more for one group
than another; a marked difference is a prompt to look, not proof of unfairness: it often
reflects that the groups' values differ (younger people have more recent incidents).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.explain._reasons import ERR_HEAD, feature_labels
from riskmodel.models import ModelBundle
from riskmodel.provenance import rng
from riskmodel.schema import AUDIT_ATTRIBUTES as DEFAULT_AUDIT

#: audit attributes looked for when the feature spec does not name them
#: a feature is flagged when its largest group mean |SHAP| is at least this multiple of the smallest
FLAG_RATIO = 1.5
#: ... and it carries at least this share of the model's total mean |SHAP| (ignore minor features)
FLAG_MIN_SHARE = 0.05
#: ... and the gap is larger than this many standard errors (not sampling noise)
FLAG_Z = 2.0
#: groups with fewer sampled people are not compared (their means are noise)
MIN_GROUP_N = 50
ERR_SAMPLE = "sample must be a positive number of rows, got {sample}"
ERR_EMPTY = "no rows to explain: the frame is empty"


@dataclass
class ShapSample:
    """SHAP values of one head on a sample of rows.

    ``values`` (m, p) in log-odds; ``X`` the prepared model inputs of the sampled rows;
    ``rows`` their positions in the original frame; ``expected_value`` the model's mean score.
    """

    head: str
    rows: np.ndarray
    X: pd.DataFrame
    values: np.ndarray
    expected_value: float
    raw_score: np.ndarray


def sample_rows(n: int, sample: int, seed: int) -> np.ndarray:
    """Positions of a uniform random sample of ``min(sample, n)`` rows, in frame order."""
    if sample < 1:
        raise ValueError(ERR_SAMPLE.format(sample=sample))
    if n == 0:
        raise ValueError(ERR_EMPTY)
    if sample >= n:
        return np.arange(n)
    return np.sort(rng(seed, "explain.global_sample").choice(n, size=sample, replace=False))


def shap_sample(
    bundle: ModelBundle, frame: pd.DataFrame, *, head: str, sample: int, seed: int
) -> ShapSample:
    """SHAP values from ``shap.TreeExplainer`` for a sample of ``frame``."""
    import shap

    if head not in bundle.boosters:
        raise ValueError(ERR_HEAD.format(head=head, heads=", ".join(sorted(bundle.boosters))))
    rows = sample_rows(len(frame), sample, seed)
    X = bundle.prepare(frame.iloc[rows])
    booster = bundle.boosters[head]
    with warnings.catch_warnings():
        # shap warns that binary LightGBM output "has changed"; we read its shape ourselves
        warnings.simplefilter("ignore", UserWarning)
        explainer = shap.TreeExplainer(booster)
        values = explainer.shap_values(X)
    values = np.asarray(values[-1] if isinstance(values, list) else values, dtype=float)
    if values.ndim == 3:  # (n, p, outputs): take the positive class
        values = values[..., -1]
    expected = np.ravel(explainer.expected_value)[-1]
    raw = booster.predict(X, raw_score=True)
    return ShapSample(head, rows, X, values, float(expected), np.asarray(raw, dtype=float))


def _audit_attributes(bundle: ModelBundle, frame: pd.DataFrame) -> list[str]:
    named = (bundle.feature_spec or {}).get("audit") or DEFAULT_AUDIT
    return [a for a in named if a in frame.columns and a not in bundle.feature_names]


def _group_labels(col: pd.Series) -> pd.Series:
    """Group names as text; a missing attribute is its own group, named so."""
    out = col.astype("object").map(
        lambda v: "not recorded" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
    )
    return out.astype("str")


def group_mean_abs(
    values: np.ndarray,
    groups: pd.Series,
    features: list[str],
    *,
    min_group_n: int = MIN_GROUP_N,
) -> dict[str, Any]:
    """Mean |SHAP| per feature within each group of one attribute.

    Returns ``{"groups": {group: {"n", "compared", "mean_abs_shap": {feature: x},
    "se": {feature: standard error}}}, "ratio": {feature: max/min over compared groups or None}}``.
    """
    labels = _group_labels(groups.reset_index(drop=True))
    codes, names = pd.factorize(labels, sort=True)
    n_groups = len(names)
    counts = np.bincount(codes, minlength=n_groups)
    sums = np.zeros((n_groups, values.shape[1]))
    np.add.at(sums, codes, np.abs(values))
    sq = np.zeros_like(sums)
    np.add.at(sq, codes, values**2)
    safe = np.maximum(counts, 1)[:, None]
    means = sums / safe
    var = np.maximum(sq / safe - means**2, 0.0) * (safe / np.maximum(safe - 1, 1))
    se = np.sqrt(var / safe)
    compared = counts >= min_group_n
    out: dict[str, Any] = {"groups": {}, "ratio": {}}
    for g, name in enumerate(names):
        out["groups"][str(name)] = {
            "n": int(counts[g]),
            "compared": bool(compared[g]),
            "mean_abs_shap": {f: float(means[g, j]) for j, f in enumerate(features)},
            "se": {f: float(se[g, j]) for j, f in enumerate(features)},
        }
    for j, f in enumerate(features):
        if compared.sum() < 2:
            out["ratio"][f] = None
            continue
        m = means[compared, j]
        out["ratio"][f] = float(m.max() / m.min()) if m.min() > 0 else None
    return out


def _expected_note(attribute: str, feature: str) -> str:
    """Why a flag is expected by construction, when it is (age is a feature by design)."""
    if attribute == "age_band" and "age" in feature.lower().split("_"):
        return (
            "expected: age is a model input by design (desistance with age) and the age bands "
            "are made from it"
        )
    return ""


def summarise(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    s: ShapSample,
    *,
    min_group_n: int = MIN_GROUP_N,
) -> dict[str, Any]:
    """The JSON-ready global summary of one :class:`ShapSample` (see :func:`global_importance`)."""
    features = list(bundle.feature_names)
    labels = feature_labels(bundle)
    mean_abs = np.abs(s.values).mean(axis=0)
    mean = s.values.mean(axis=0)
    raising = (s.values > 0).mean(axis=0)
    total = float(mean_abs.sum()) or 1.0
    order = np.argsort(-mean_abs, kind="stable")
    ranked = [
        {
            "rank": r + 1,
            "feature": features[j],
            "label": labels[features[j]],
            "mean_abs_shap": float(mean_abs[j]),
            "mean_shap": float(mean[j]),
            "share": float(mean_abs[j] / total),
            "share_raising": float(raising[j]),
        }
        for r, j in enumerate(order)
    ]
    share = {row["feature"]: row["share"] for row in ranked}
    by_group: dict[str, Any] = {}
    flags: list[dict[str, Any]] = []
    sampled = frame.iloc[s.rows]
    for attr in _audit_attributes(bundle, frame):
        g = group_mean_abs(s.values, sampled[attr], features, min_group_n=min_group_n)
        by_group[attr] = g
        for f in features:
            if share[f] < FLAG_MIN_SHARE:
                continue
            comp = {k: v for k, v in g["groups"].items() if v["compared"]}
            if len(comp) < 2:
                continue
            vals = {k: v["mean_abs_shap"][f] for k, v in comp.items()}
            hi, lo = max(vals, key=vals.get), min(vals, key=vals.get)
            ratio = g["ratio"][f]
            gap_se = np.hypot(comp[hi]["se"][f], comp[lo]["se"][f])
            beyond_noise = vals[hi] - vals[lo] > FLAG_Z * gap_se
            if (ratio is None or ratio >= FLAG_RATIO) and beyond_noise:
                flags.append(
                    {
                        "attribute": attr,
                        "feature": f,
                        "label": labels[f],
                        "highest_group": hi,
                        "highest": vals[hi],
                        "lowest_group": lo,
                        "lowest": vals[lo],
                        "ratio": ratio,
                        "note": _expected_note(attr, f),
                    }
                )
    flags.sort(key=lambda d: -(d["ratio"] or np.inf))
    return {
        "head": s.head,
        "n_sample": len(s.rows),
        "n_rows": len(frame),
        "expected_value": s.expected_value,
        "additivity_max_abs_error": float(
            np.max(np.abs(s.values.sum(axis=1) + s.expected_value - s.raw_score), initial=0.0)
        ),
        "features": ranked,
        "by_group": by_group,
        "group_flags": flags,
        "flag_rule": {
            "ratio_at_least": FLAG_RATIO,
            "min_share_of_importance": FLAG_MIN_SHARE,
            "min_group_n": min_group_n,
            "gap_standard_errors": FLAG_Z,
        },
    }


def global_importance(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    *,
    head: str = "reoffend",
    sample: int = 2000,
    seed: int = 0,
    min_group_n: int = MIN_GROUP_N,
) -> dict[str, Any]:
    """What drives one head overall, from SHAP values on a random sample of ``frame``.

    Returns a JSON-ready dict: ``head``, ``n_sample``, ``n_rows``, ``expected_value``,
    ``additivity_max_abs_error`` (|sum of SHAP + expected value - raw score|, a self-check),
    ``features`` (ranked: ``rank, feature, label, mean_abs_shap, mean_shap, share``,
    ``share_raising``: the share of people whose score it raises),
    ``by_group`` (per audit attribute present in ``frame``: group sizes and mean |SHAP| per
    feature, and the max/min ``ratio`` per feature), ``group_flags`` (features whose mean |SHAP|
    differs between groups by at least ``FLAG_RATIO``) and ``flag_rule``.
    """
    s = shap_sample(bundle, frame, head=head, sample=sample, seed=seed)
    return summarise(bundle, frame, s, min_group_n=min_group_n)

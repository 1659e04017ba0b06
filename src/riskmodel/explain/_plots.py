"""Figures of the explanation report, labelled in plain words from the feature dictionary.

Importance bar and beeswarm are the shap package's own plots; dependence plots and the group
heatmap are drawn with matplotlib (so categorical values and group names read as words).
Every function returns a PNG data URI for the self-contained HTML report.
"""

from __future__ import annotations

import textwrap
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from riskmodel.explain._global import ShapSample  # noqa: E402
from riskmodel.reports import figure_to_data_uri  # noqa: E402

SCORE_AXIS = "effect on the risk score (log-odds; above 0 raises risk)"


def _wrap(label: str, width: int = 42) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def numeric_inputs(X: pd.DataFrame) -> np.ndarray:
    """Model inputs as floats for colouring: categories by their code, missing as NaN."""
    cols = []
    for c in X.columns:
        col = X[c]
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy().astype(float)
            codes[codes < 0] = np.nan
            cols.append(codes)
        else:
            cols.append(pd.to_numeric(col, errors="coerce").to_numpy(dtype=float))
    return np.column_stack(cols) if cols else np.zeros((len(X), 0))


#: label width (characters) on the importance and beeswarm plots' y axes
LABEL_WIDTH = 58


def _explanation(s: ShapSample, labels: list[str]):
    import shap

    return shap.Explanation(
        values=s.values,
        base_values=np.full(len(s.values), s.expected_value),
        data=numeric_inputs(s.X),
        feature_names=[_wrap(lb, LABEL_WIDTH) for lb in labels],
    )


def _row_height(s: ShapSample, labels: list[str], max_display: int) -> float:
    """Inches per plotted feature: enough for the tallest wrapped label, so labels never
    overlap their neighbours."""
    order = np.argsort(-np.abs(s.values).mean(axis=0))[:max_display] if len(labels) else []
    lines = max((_wrap(labels[j], LABEL_WIDTH).count("\n") + 1 for j in order), default=1)
    return 0.3 + 0.2 * lines


def _tidy_labels(fig) -> None:
    ax = fig.axes[0]
    for t in ax.get_yticklabels():
        t.set_fontsize(9)
        t.set_linespacing(0.95)


def importance_bar(s: ShapSample, labels: list[str], *, max_display: int = 12) -> str:
    """shap's bar plot of mean |SHAP| per feature."""
    import shap

    plt.figure()
    shap.plots.bar(_explanation(s, labels), max_display=max_display, show=False)
    fig = plt.gcf()
    n = min(max_display, len(labels))
    fig.set_size_inches(10, _row_height(s, labels, max_display) * n + 1.5)
    fig.axes[0].set_xlabel("average size of the effect on the risk score (mean |SHAP|)")
    _tidy_labels(fig)
    return figure_to_data_uri(fig)


def beeswarm(s: ShapSample, labels: list[str], *, max_display: int = 12) -> str:
    """shap's beeswarm: one dot per sampled person per feature, coloured by the feature's value."""
    import shap

    plt.figure()
    shap.plots.beeswarm(
        _explanation(s, labels),
        max_display=max_display,
        show=False,
        plot_size=(
            10,
            _row_height(s, labels, max_display) * min(max_display, len(labels)) + 1.5,
        ),
        color_bar_label="value of the factor (low to high)",
    )
    fig = plt.gcf()
    fig.axes[0].set_xlabel(SCORE_AXIS)
    _tidy_labels(fig)
    return figure_to_data_uri(fig)


def dependence(s: ShapSample, j: int, label: str, *, unit: str = "") -> str:
    """How one feature's value moves the score: SHAP value against the feature's value."""
    col = s.X.iloc[:, j]
    y = s.values[:, j]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == bool:
        cats = col.astype("object").where(col.notna(), "not recorded").astype(str)
        names = sorted(cats.unique(), key=lambda v: (v == "not recorded", v))
        pos = {n: i for i, n in enumerate(names)}
        x = cats.map(pos).to_numpy(dtype=float)
        jitter = np.random.default_rng(0).uniform(-0.2, 0.2, len(x))  # display only
        ax.scatter(x + jitter, y, s=6, alpha=0.35, color="#1f5f99", linewidths=0)
        ax.set_xticks(range(len(names)), [n.replace("_", " ") for n in names], rotation=20)
    else:
        x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        ok = ~np.isnan(x)
        ax.scatter(x[ok], y[ok], s=6, alpha=0.35, color="#1f5f99", linewidths=0)
        if (~ok).any():
            ax.text(
                0.99,
                0.02,
                f"{int((~ok).sum())} sampled people with no value recorded are not shown",
                transform=ax.transAxes,
                ha="right",
                fontsize=8,
                color="#5b6673",
            )
    ax.axhline(0, color="#888", lw=0.8)
    unit_s = f" ({unit.replace('_', ' ')})" if unit and unit not in {"flag", "category"} else ""
    ax.set_xlabel(_wrap(label + unit_s, 70))
    ax.set_ylabel("effect on the risk score\n(log-odds)")
    ax.set_title(_wrap(label, 70), fontsize=10)
    return figure_to_data_uri(fig)


def group_heatmap(
    attribute: str, by_group: dict[str, Any], features: list[str], labels: dict[str, str]
) -> str:
    """Mean |SHAP| in each group relative to everyone (1.0 = the same as the whole sample)."""
    groups = list(by_group["groups"])
    compared = np.array([by_group["groups"][g]["compared"] for g in groups])
    n = np.array([by_group["groups"][g]["n"] for g in groups], dtype=float)
    m = np.array([[by_group["groups"][g]["mean_abs_shap"][f] for g in groups] for f in features])
    overall = (m * n).sum(axis=1, keepdims=True) / max(n.sum(), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(overall > 0, m / overall, np.nan)
    rel[:, ~compared] = np.nan  # too few sampled people: not compared, not coloured
    fig, ax = plt.subplots(figsize=(4.5 + 0.8 * len(groups), 0.42 * len(features) + 1.6))
    logr = np.log2(np.clip(rel, 1 / 4, 4))
    im = ax.imshow(logr, cmap="RdBu_r", vmin=-2, vmax=2, aspect="auto")
    for i in range(rel.shape[0]):
        for k in range(rel.shape[1]):
            text = f"{rel[i, k]:.2f}" if np.isfinite(rel[i, k]) else ("–" if compared[k] else "")
            ax.text(k, i, text, ha="center", va="center", fontsize=7)
    ticks = [
        f"{g}\n(n={int(c)}{'' if ok else ', too few'})"
        for g, c, ok in zip(groups, n, compared, strict=True)
    ]
    ax.set_xticks(range(len(groups)), ticks, fontsize=8, rotation=30, ha="right")
    ax.set_yticks(range(len(features)), [_wrap(labels[f], 45) for f in features], fontsize=8)
    ax.set_title(f"{attribute.replace('_', ' ')}: effect size in each group relative to everyone")
    cb = fig.colorbar(im, ax=ax, fraction=0.03)
    cb.set_ticks([-2, -1, 0, 1, 2], labels=["1/4", "1/2", "same", "2x", "4x"])
    return figure_to_data_uri(fig)

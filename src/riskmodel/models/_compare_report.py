"""``compare.html`` / ``compare.json``: runs side by side, differences worded by one rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

FIG_DPI = 90
METRIC_LABELS = {
    "auc": "AUC (higher is better)",
    "average_precision": "average precision (higher is better)",
    "recall_top_k": "recall in the top k (higher is better)",
    "brier": "Brier score (lower is better)",
    "ece": "calibration error, ECE (lower is better)",
}
NAMES = {
    "model": "model",
    "rfg": "RFG",
    "logistic_age_priors": "age + priors logistic",
    "oracle": "oracle",
}
RUN_COLOURS = ("#1f4e79", "#c0504d", "#2e7d32", "#8064a2", "#f79646", "#4bacc6")


def _figure(result: dict[str, Any]) -> str:
    """Each run's model AUC and ECE (dot + interval), per head: the runs side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from riskmodel.reports import figure_to_data_uri

    metrics = ("auc", "ece")
    fig, axes = plt.subplots(2, 2, figsize=(11, 1.6 + 0.55 * len(result["runs"]) * 2))
    for i, head in enumerate(("reoffend", "severe")):
        for j, metric in enumerate(metrics):
            ax = axes[i][j]
            for r, pr in enumerate(result["per_run"]):
                v = pr[head]["value"][metric]["model"]
                ci = pr[head]["ci"][metric]["model"]
                y = len(result["runs"]) - r
                colour = RUN_COLOURS[r % len(RUN_COLOURS)]
                if ci and ci[0] is not None:
                    ax.plot(ci, [y, y], color=colour, lw=3)
                if v is not None:
                    ax.plot([v], [y], "o", color=colour, ms=7)
            ax.set_yticks(
                np.arange(len(result["runs"]), 0, -1),
                [r["label"] for r in result["runs"]],
                fontsize=8,
            )
            ax.set_ylim(0.4, len(result["runs"]) + 0.6)
            ax.set_title(f"{head}: {METRIC_LABELS[metric]}", fontsize=9)
            ax.grid(axis="x", color="#eeeeee")
    fig.tight_layout()
    return figure_to_data_uri(fig, dpi=FIG_DPI)


def write_compare_report(out_dir: str | Path, result: dict[str, Any], *, version: str) -> Path:
    from riskmodel.reports import write_report

    html, _ = write_report(
        out_dir,
        "compare",
        "compare.html.j2",
        result,
        figure=_figure(result),
        metric_labels=METRIC_LABELS,
        names=NAMES,
        version=version,
    )
    return html

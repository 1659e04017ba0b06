"""Figures of the fairness report (matplotlib, Agg), returned as PNG data URIs."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from riskmodel.fairness._summary import METRIC_NAMES  # noqa: E402
from riskmodel.reports import figure_to_data_uri  # noqa: E402

FOREST_METRICS = ("selection_rate", "fpr", "fnr", "ppv")
_FLAG_COLOUR = {"flagged": "#a4161a", "inconclusive": "#d98e04", "within_band": "#3d5a80"}


def forest_plot(
    payload: dict[str, Any], attribute: str, *, band: tuple[float, float]
) -> str | None:
    """Ratio to the reference group with its interval, one panel per metric, band shaded."""
    disp = payload["disparities"][attribute]
    ref = payload["reference_groups"][attribute]
    groups = [g for g, m in disp.items() if g != ref and not m[FOREST_METRICS[0]].get("suppressed")]
    if not groups:
        return None
    fig, axes = plt.subplots(
        1,
        len(FOREST_METRICS),
        figsize=(3.0 * len(FOREST_METRICS), 0.45 * len(groups) + 1.6),
        sharey=True,
        squeeze=False,
    )
    ys = np.arange(len(groups))[::-1]
    for ax, m in zip(axes[0], FOREST_METRICS, strict=True):
        ax.axvspan(band[0], band[1], color="#d8e8d8", zorder=0, label="no material disparity")
        ax.axvline(1.0, color="#555", lw=0.8, zorder=1)
        ratios = []
        for y, g in zip(ys, groups, strict=True):
            d = disp[g][m]
            if d["ratio"] is None:
                continue
            lo, hi = d["ci"]
            col = _FLAG_COLOUR.get(d["flag"], "#777")
            if lo is not None and hi is not None:
                ax.plot([lo, hi], [y, y], color=col, lw=2, zorder=2)
                ratios += [lo, hi]
            ax.plot(d["ratio"], y, "o", color=col, ms=6, zorder=3)
            ratios.append(d["ratio"])
        ax.set_xscale("log")
        pos = [r for r in ratios if r and r > 0]
        lo_x = min([band[0] * 0.8, *pos]) if pos else band[0] * 0.8
        hi_x = max([band[1] * 1.25, *pos]) if pos else band[1] * 1.25
        ax.set_xlim(lo_x * 0.9, hi_x * 1.1)
        ticks = [
            t
            for t in (0.1, 0.25, 0.5, band[0], 1.0, band[1], 2.0, 4.0, 10.0)
            if lo_x * 0.9 <= t <= hi_x * 1.1
        ]
        ax.set_xticks(ticks)
        ax.set_title(METRIC_NAMES[m][0], fontsize=10)
        ax.set_xlabel(f"ratio to {ref}", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.2g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[0][0].set_yticks(ys)
    axes[0][0].set_yticklabels(groups, fontsize=8)
    fig.suptitle(
        f"{attribute}: each group against {ref} (dot = estimate, line = interval; "
        "red = flagged, amber = inconclusive)",
        fontsize=9,
    )
    # spacing set once: tight_layout would measure every tick label again (slow for many groups)
    fig.subplots_adjust(wspace=0.08, top=1 - 0.75 / fig.get_figheight())
    return figure_to_data_uri(fig)


def reliability_plot(payload: dict[str, Any], attribute: str) -> str | None:
    """Observed reoffending rate against mean score, per group (only unsuppressed bins)."""
    cal = payload["calibration"][attribute]
    prob = payload["data"]["score_is_probability"]
    shown = {
        g: c
        for g, c in cal.items()
        if not c["suppressed"] and any(not b.get("suppressed") for b in c["bins"])
    }
    if not shown:
        return None
    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    if prob:
        ax.plot([0, 1], [0, 1], ls="--", color="#888", lw=1, label="perfect calibration")
    for g, c in shown.items():
        bins = [b for b in c["bins"] if not b.get("suppressed")]
        x = np.array([b["mean_score"] for b in bins])
        yv = np.array([b["observed_rate"] for b in bins])
        lo = np.array([b["observed_ci"][0] for b in bins])
        hi = np.array([b["observed_ci"][1] for b in bins])
        yerr = np.clip([yv - lo, hi - yv], 0, None)  # Wilson bounds at 0 or 1: rounding noise
        ax.errorbar(x, yv, yerr=yerr, marker="o", ms=4, capsize=2, lw=1.3, label=g)
    ax.set_xlabel("average score in the bin" + (" (predicted probability)" if prob else ""))
    ax.set_ylabel("share who reoffended (recorded)")
    ax.set_ylim(0, 1)
    ax.set_title(f"Calibration by {attribute}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return figure_to_data_uri(fig)


def label_bias_plot(payload: dict[str, Any]) -> str | None:
    """Recorded against true reoffending rate per group, one panel per attribute."""
    lb = payload["label_bias"]
    if not lb.get("available"):
        return None
    attrs = [
        a
        for a, r in lb["attributes"].items()
        if any(not g.get("suppressed") for g in r["groups"].values())
    ]
    if not attrs:
        return None
    fig, axes = plt.subplots(len(attrs), 1, figsize=(7.5, 2.3 * len(attrs) + 0.6), squeeze=False)
    for ax, a in zip(axes[:, 0], attrs, strict=True):
        groups = {g: v for g, v in lb["attributes"][a]["groups"].items() if not v.get("suppressed")}
        names = list(groups)
        x = np.arange(len(names))
        for off, key, col, lab in (
            (-0.2, "base_rate_recorded", "#3d5a80", "recorded"),
            (0.2, "base_rate_true", "#ee6c4d", "true"),
        ):
            vals = np.array([groups[g][key] for g in names], dtype=float)
            lo = np.array([groups[g][f"{key}_ci"][0] for g in names], dtype=float)
            hi = np.array([groups[g][f"{key}_ci"][1] for g in names], dtype=float)
            ax.bar(x + off, vals, width=0.4, color=col, label=f"{lab} reoffending")
            ax.errorbar(
                x + off,
                vals,
                yerr=np.clip([vals - lo, hi - vals], 0, None),
                fmt="none",
                ecolor="#222",
                capsize=2,
                lw=0.8,
            )
        ax.set_xticks(x)
        ax.set_xticklabels(
            names,
            fontsize=8,
            rotation=20 if len(names) > 6 else 0,
            ha="right" if len(names) > 6 else "center",
        )
        ax.set_ylabel("share", fontsize=8)
        ax.set_title(a, fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0, 0].legend(fontsize=8, frameon=False)
    fig.suptitle(
        "Recorded against true reoffending by group (bars: estimate; lines: interval)", fontsize=9
    )
    fig.subplots_adjust(hspace=0.7, top=1 - 0.6 / fig.get_figheight())
    return figure_to_data_uri(fig)


def mitigation_plot(payload: dict[str, Any]) -> str | None:
    """Each option's balanced accuracy against its largest error-rate gap between groups."""
    mit = payload["mitigation"]
    if not mit.get("available"):
        return None
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    for row in mit["options"]:
        x, y = row["equalized_odds_difference"], row["balanced_accuracy"]
        if x is None:
            continue
        ax.plot(x, y, "o", ms=7)
        ax.annotate(
            row["option"].replace("_", " "),
            (x, y),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=8,
        )
    ax.set_xlabel(f"largest gap in true/false positive rate across {mit['attribute']}")
    ax.set_ylabel("balanced accuracy (overall)")
    ax.set_title("Trade-off: fairness of errors against accuracy", fontsize=10)
    ax.margins(0.25)
    return figure_to_data_uri(fig)

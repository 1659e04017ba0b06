"""Figures of the fairness report (matplotlib, Agg), returned as PNG data URIs."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.lines  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from riskmodel.fairness._summary import METRIC_NAMES  # noqa: E402
from riskmodel.reports import figure_to_data_uri  # noqa: E402

FOREST_METRICS = ("selection_rate", "fpr", "fnr", "ppv")
_FLAG_COLOUR = {"flagged": "#a4161a", "inconclusive": "#d98e04", "within_band": "#3d5a80"}
#: at most this many groups share one panel; more get small multiples
MAX_LINES = 6
#: ticks closer than this factor on the log axis would print into each other
_MIN_TICK_GAP = 1.18


def _tick_text(x: float, _pos: object = None) -> str:
    return f"{x:g}"


def _log_ticks(lo: float, hi: float, band: tuple[float, float]) -> list[float]:
    """Readable ticks on a log axis: the band edges and 1 first, then round values, never two
    within a factor ``_MIN_TICK_GAP`` of each other (they would collide)."""
    cands = [1.0, band[0], band[1], 0.5, 2.0, 0.25, 4.0, 0.1, 10.0, 0.05, 20.0]
    kept: list[float] = []
    for t in cands:
        if lo <= t <= hi and all(max(t, k) / min(t, k) >= _MIN_TICK_GAP for k in kept):
            kept.append(t)
    return sorted(kept)


def forest_plot(
    payload: dict[str, Any], attribute: str, *, band: tuple[float, float]
) -> str | None:
    """Ratio to the reference group with its interval, one panel per metric, band shaded.

    A ratio of 0 cannot sit on a log axis: it is drawn as a left-pointing marker at the axis edge
    and labelled 0, so it never vanishes.
    """
    disp = payload["disparities"][attribute]
    ref = payload["reference_groups"][attribute]
    groups = [
        g
        for g, m in disp.items()
        if g != ref and any(not m.get(x, {}).get("suppressed") for x in FOREST_METRICS)
    ]
    if not groups:
        return None
    fig, axes = plt.subplots(
        1,
        len(FOREST_METRICS),
        figsize=(3.2 * len(FOREST_METRICS), 0.45 * len(groups) + 2.1),
        sharey=True,
        squeeze=False,
    )
    ys = np.arange(len(groups))[::-1]
    for ax, m in zip(axes[0], FOREST_METRICS, strict=True):
        ax.axvspan(band[0], band[1], color="#d8e8d8", zorder=0)
        ax.axvline(1.0, color="#555", lw=0.8, ls="--", zorder=1)
        pos = [v for g in groups for v in (disp[g][m].get("ratio"), *disp[g][m].get("ci", []))]
        pos = [v for v in pos if v is not None and v > 0]
        lo_x = min([band[0] * 0.8, *pos]) * 0.85
        hi_x = max([band[1] * 1.25, *pos]) * 1.15
        for y, g in zip(ys, groups, strict=True):
            d = disp[g][m]
            if d.get("ratio") is None:
                continue
            col = _FLAG_COLOUR.get(d["flag"], "#777")
            lo, hi = d["ci"]
            if lo is not None and hi is not None:
                ax.plot([max(lo, lo_x), max(hi, lo_x)], [y, y], color=col, lw=2, zorder=2)
            if d["ratio"] <= 0:
                ax.plot(lo_x, y, "<", color=col, ms=7, zorder=3, clip_on=False)
                ax.annotate("0", (lo_x, y), xytext=(6, 3), textcoords="offset points", fontsize=7)
            else:
                ax.plot(d["ratio"], y, "o", color=col, ms=6, zorder=3)
        ax.set_xscale("log")
        ax.set_xlim(lo_x, hi_x)
        ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(_log_ticks(lo_x, hi_x, band)))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_tick_text))
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.set_title(METRIC_NAMES[m][0], fontsize=10)
        ax.set_xlabel(f"ratio to {ref}", fontsize=8)
        ax.tick_params(labelsize=8)
    axes[0][0].set_yticks(ys)
    axes[0][0].set_yticklabels(groups, fontsize=8)
    handles = [
        matplotlib.patches.Patch(
            color="#d8e8d8", label=f"no material difference ({band[0]:g}-{band[1]:g})"
        ),
        matplotlib.lines.Line2D([], [], color="#555", lw=0.8, ls="--", label="equal (ratio 1)"),
        *[
            matplotlib.lines.Line2D([], [], color=c, marker="o", lw=2, label=k.replace("_", " "))
            for k, c in _FLAG_COLOUR.items()
        ],
        matplotlib.lines.Line2D([], [], color="#777", marker="<", lw=0, label="ratio 0"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=7, frameon=False)
    fig.suptitle(
        f"{attribute}: each group against {ref} (dot = estimate, line = interval)", fontsize=9
    )
    # spacing set once: tight_layout would measure every tick label again (slow for many groups)
    h = fig.get_figheight()
    fig.subplots_adjust(wspace=0.08, top=1 - 0.6 / h, bottom=1.0 / h)
    return figure_to_data_uri(fig)


def reliability_plot(payload: dict[str, Any], attribute: str) -> str | None:
    """Observed reoffending rate against mean score per group (only unsuppressed bins).

    Up to ``MAX_LINES`` groups share one panel, each in its own colour; more groups get one
    small panel each (13 areas never share repeating colours).
    """
    cal = payload["calibration"][attribute]
    prob = payload["data"]["score_is_probability"]
    shown = {
        g: c
        for g, c in cal.items()
        if not c["suppressed"] and any(not b.get("suppressed") for b in c["bins"])
    }
    if not shown:
        return None
    multiples = len(shown) > MAX_LINES
    if multiples:
        ncol = 4
        nrow = -(-len(shown) // ncol)
        fig, axes = plt.subplots(
            nrow, ncol, figsize=(10.5, 2.4 * nrow + 0.6), sharex=True, sharey=True, squeeze=False
        )
        panels = list(axes.ravel())
        for ax in panels[len(shown) :]:
            ax.set_visible(False)
    else:
        fig, ax = plt.subplots(figsize=(6.2, 4.4))
        panels = [ax] * len(shown)
    colours = plt.get_cmap("tab10").colors
    for i, (ax, (g, c)) in enumerate(zip(panels, shown.items(), strict=False)):
        if prob and (multiples or i == 0):
            ax.plot([0, 1], [0, 1], ls="--", color="#888", lw=1, label="perfect calibration")
        bins = [b for b in c["bins"] if not b.get("suppressed")]
        x = np.array([b["mean_score"] for b in bins])
        yv = np.array([b["observed_rate"] for b in bins])
        lo = np.array([b["observed_ci"][0] for b in bins])
        hi = np.array([b["observed_ci"][1] for b in bins])
        yerr = np.clip([yv - lo, hi - yv], 0, None)  # Wilson bounds at 0 or 1: rounding noise
        col = "#3d5a80" if multiples else colours[i % len(colours)]
        ax.errorbar(x, yv, yerr=yerr, marker="o", ms=4, capsize=2, lw=1.3, color=col, label=g)
        ax.set_ylim(0, 1)
        if multiples:
            ax.set_title(g, fontsize=8)
            ax.tick_params(labelsize=7)
    if multiples:
        fig.supxlabel(
            "average score in the bin" + (" (predicted probability)" if prob else ""), fontsize=8
        )
        fig.supylabel("share who reoffended (recorded)", fontsize=8)
        fig.suptitle(
            f"Calibration by {attribute} (one panel per group; dashed: perfect calibration; "
            "bars: intervals)",
            fontsize=9,
        )
    else:
        ax = panels[0]
        ax.set_xlabel("average score in the bin" + (" (predicted probability)" if prob else ""))
        ax.set_ylabel("share who reoffended (recorded)")
        ax.set_title(f"Calibration by {attribute}", fontsize=10)
        ax.legend(fontsize=7, loc="upper left", frameon=False)
    return figure_to_data_uri(fig)


def label_bias_plot(payload: dict[str, Any]) -> str | None:
    """Recorded against equal-recording reoffending rate per group, one panel per attribute."""
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
            (0.2, "base_rate_equal", "#ee6c4d", "equal recording"),
        ):
            vals = np.array([groups[g][key] for g in names], dtype=float)
            lo = np.array([groups[g][f"{key}_ci"][0] for g in names], dtype=float)
            hi = np.array([groups[g][f"{key}_ci"][1] for g in names], dtype=float)
            ax.bar(x + off, vals, width=0.4, color=col, label=f"{lab} reoffending")
            ax.errorbar(
                x + off,
                vals,
                yerr=np.nan_to_num(np.clip([vals - lo, hi - vals], 0, None)),
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
        "Recorded against equal-recording reoffending by group (bars: estimate; lines: interval)",
        fontsize=9,
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

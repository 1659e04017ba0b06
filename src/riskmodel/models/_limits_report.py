"""``limits.html`` / ``limits.json``: what limits the model, in words, figures and numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from riskmodel.evaluation import BETTER, WORSE

FIG_DPI = 90
COLOURS = {
    "model": "#1f4e79",
    "logistic": "#4bacc6",
    "logistic_age_priors": "#f79646",
    "ceiling": "#7b5ea7",
    "ceiling_age_priors": "#c9b3e6",
    "oracle": "#2e7d32",
    "rfg": "#c0504d",
}
LABELS = {
    "model": "model (LightGBM, calibrated)",
    "rfg": "RFG score",
    "logistic_age_priors": "logistic: age + prior DA count",
    "logistic": "logistic: all features",
    "ceiling_age_priors": "ceiling of age + prior DA count",
    "ceiling": "ceiling of the records (all features)",
    "oracle": "oracle (world's true probability)",
}
ORDER = (
    "rfg",
    "logistic_age_priors",
    "ceiling_age_priors",
    "logistic",
    "model",
    "ceiling",
    "oracle",
)
GAP_WORDS = {
    "oracle_gap": ("oracle − model", "how far the model is from the best possible"),
    "information_gap": (
        "information gap: oracle − ceiling",
        "what the recorded history does not contain: no model of these features can close it",
    ),
    "learning_gap": (
        "learning gap: ceiling − model",
        "what a better model, more data or tuning could still gain from the same records",
    ),
    "beyond_two_features": (
        "ceiling − ceiling of age + priors",
        "the most the other features can add over age and prior count",
    ),
    "information_gap_two_features": (
        "oracle − ceiling of age + priors",
        "what age and prior count alone cannot tell",
    ),
    "learning_gap_two_features": (
        "ceiling of age + priors − logistic on them",
        "what the two-feature logistic leaves on the table",
    ),
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _gap_figure(ceiling: dict[str, Any]) -> str:
    """AUC of every score (dot + interval) with the two gaps shaded between model and oracle."""
    from riskmodel.reports import figure_to_data_uri

    plt = _plt()
    heads = list(ceiling["heads"])
    fig, axes = plt.subplots(1, len(heads), figsize=(6.2 * len(heads), 3.9), squeeze=False)
    for ax, head in zip(axes[0], heads, strict=True):
        h = ceiling["heads"][head]
        names = [n for n in ORDER if n in h["value"]["auc"]]
        ys = np.arange(len(names))[::-1]
        v = h["value"]["auc"]
        m, c, o = v["model"], v["ceiling"], v["oracle"]
        y_m, y_o = ys[names.index("model")], ys[names.index("oracle")]
        lo, hi = min(y_m, y_o) - 0.45, max(y_m, y_o) + 0.45
        if None not in (m, c, o):
            ax.axvspan(m, c, ymin=0, ymax=1, color="#f2c14e", alpha=0.35, lw=0)
            ax.axvspan(c, o, ymin=0, ymax=1, color="#9e9e9e", alpha=0.3, lw=0)
            ax.text(m + (c - m) / 2, ys[0] + 0.6, "learning\ngap", ha="center", fontsize=8)
            ax.text(c + (o - c) / 2, ys[0] + 0.6, "information\ngap", ha="center", fontsize=8)
        for yy, name in zip(ys, names, strict=True):
            ci = h["ci"]["auc"][name]
            val = v[name]
            if val is None:
                continue
            if ci and ci[0] is not None:
                ax.plot(ci, [yy, yy], color=COLOURS[name], lw=2.5)
            ax.plot([val], [yy], "o", color=COLOURS[name], ms=6)
        ax.set_yticks(ys, [LABELS[n] for n in names], fontsize=8)
        ax.set_ylim(-0.7, ys[0] + 1.4)
        del lo, hi
        ax.set_xlabel("AUC on the test period (dot; line = 95% person-bootstrap interval)")
        ax.set_title(f"{head}: where the model stands", fontsize=10)
        ax.grid(axis="x", color="#eeeeee")
    fig.tight_layout()
    return figure_to_data_uri(fig, dpi=FIG_DPI)


def _curve_figure(learning: dict[str, Any]) -> str:
    from riskmodel.reports import figure_to_data_uri

    plt = _plt()
    heads = list(learning["heads"])
    fig, axes = plt.subplots(
        2, len(heads), figsize=(6.2 * len(heads), 7.4), squeeze=False, sharex="col"
    )
    for j, head in enumerate(heads):
        points = learning["heads"][head]
        x = np.array([p["n_people"] for p in points], dtype=float)
        for i, (metric, label) in enumerate(
            (("auc", "AUC (higher is better)"), ("ece", "calibration error, ECE (lower is better)"))
        ):
            ax = axes[i][j]
            for name in ("model", "logistic", "logistic_age_priors"):
                vals = np.array([p["value"][metric][name] or np.nan for p in points], dtype=float)
                cis = np.array(
                    [
                        [np.nan, np.nan]
                        if not p["ci"][metric][name] or p["ci"][metric][name][0] is None
                        else p["ci"][metric][name]
                        for p in points
                    ],
                    dtype=float,
                )
                is_model = name == "model"
                ax.plot(
                    x,
                    vals,
                    marker="o",
                    ms=4,
                    color=COLOURS[name],
                    lw=1.8 if is_model else 1.1,
                    ls="-" if is_model else "--",
                    label=LABELS[name],
                )
                if is_model:  # one band only: overlapping bands hide the lines
                    ax.fill_between(x, cis[:, 0], cis[:, 1], color=COLOURS[name], alpha=0.15, lw=0)
            ax.set_xscale("log")
            ax.set_ylabel(label, fontsize=9)
            ax.grid(color="#eeeeee")
            if i == 0:
                ax.set_title(f"{head}: test-period score against training people", fontsize=10)
                ax.legend(fontsize=8, loc="lower right")
            else:
                ax.set_xlabel("people in the training period used (log scale)")
    fig.tight_layout()
    return figure_to_data_uri(fig, dpi=FIG_DPI)


def _iv(p: Any) -> str:
    if not p or p[0] is None:
        return "no interval"
    return f"interval {p[0]:.3f} to {p[1]:.3f}"


def _sentences(result: dict[str, Any]) -> list[str]:
    out = []
    for head, h in result["ceiling"]["heads"].items():
        v, w, d, ci = h["value"]["auc"], h["verdict"], h["diff"], h["diff_ci"]
        gap = d["oracle_gap"]["auc"]
        info, learn = d["information_gap"]["auc"], d["learning_gap"]["auc"]
        if None in (gap, info, learn, v["model"], v["ceiling"], v["oracle"]):
            continue
        i_iv, l_iv = _iv(ci["information_gap"]["auc"]), _iv(ci["learning_gap"]["auc"])
        s = (
            f"{head.capitalize()} head: AUC of the model {v['model']:.3f}, of the ceiling of the "
            f"records {v['ceiling']:.3f}, of the oracle {v['oracle']:.3f}. "
        )
        if w["information_gap"]["auc"] == BETTER:
            s += (
                f"The oracle is better than the ceiling (information gap {info:.3f}, {i_iv}): the "
                "records lack information that no model of them can recover. "
            )
        else:
            s += (
                f"No clear difference between oracle and ceiling (information gap {info:.3f}, "
                f"{i_iv}): this test period cannot show information missing from the records. "
            )
        if w["learning_gap"]["auc"] == BETTER:
            s += (
                f"The ceiling is better than the model (learning gap {learn:.3f}, {l_iv}): a "
                "better model, more data or tuning could still gain."
            )
        elif w["learning_gap"]["auc"] == WORSE:
            s += (
                f"The model is better than the estimated ceiling (learning gap {learn:.3f}, "
                f"{l_iv}): the ceiling estimate falls short (its world is too small or its fit "
                "too coarse), so the information gap is overstated."
            )
        else:
            s += (
                f"No clear difference between ceiling and model (learning gap {learn:.3f}, "
                f"{l_iv}): this test period cannot show room for better learning from the same "
                "records."
            )
        if gap > 0 and 0 <= info / gap <= 1:
            s += f" The information gap is {info / gap:.0%} of the distance from model to oracle."
        b2 = d.get("beyond_two_features", {}).get("auc")
        if b2 is not None:
            word = w["beyond_two_features"]["auc"]
            s += (
                f" At best, the other features add {b2:.3f} AUC over age and prior DA count "
                f"({_iv(ci['beyond_two_features']['auc'])}; full ceiling vs age + priors "
                f"ceiling: {word})."
            )
        out.append(s)
    return out


SHORT = {
    "model": "the model",
    "ceiling": "the ceiling",
    "ceiling_age_priors": "the age + priors ceiling",
    "oracle": "the oracle",
    "logistic_age_priors": "the age + priors logistic",
}
PAIRS = {
    "oracle_gap": ("oracle", "model"),
    "information_gap": ("oracle", "ceiling"),
    "learning_gap": ("ceiling", "model"),
    "beyond_two_features": ("ceiling", "ceiling_age_priors"),
    "information_gap_two_features": ("oracle", "ceiling_age_priors"),
    "learning_gap_two_features": ("ceiling_age_priors", "logistic_age_priors"),
}


def _readings(ceiling: dict[str, Any]) -> dict[str, dict[str, str]]:
    """ "A is better than B" / "worse than" / "no clear difference from", from the AUC verdict."""
    out: dict[str, dict[str, str]] = {}
    for head, h in ceiling["heads"].items():
        out[head] = {}
        for pair, word in h["verdict"].items():
            a, b = PAIRS.get(pair, (pair, ""))
            w = word["auc"]
            link = {BETTER: "is better than", WORSE: "is worse than"}.get(
                w, "shows no clear difference from"
            )
            out[head][pair] = f"{SHORT.get(a, a)} {link} {SHORT.get(b, b)}"
    return out


def _payload(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items()}


def write_limits_report(out_dir: str | Path, result: dict[str, Any], *, version: str) -> Path:
    """Write ``limits.html`` and ``limits.json`` to ``out_dir``; returns the HTML path."""
    from riskmodel.reports import write_report

    figures = {"gaps": _gap_figure(result["ceiling"])}
    if result.get("learning"):
        figures["curves"] = _curve_figure(result["learning"])
    html, _ = write_report(
        out_dir,
        "limits",
        "limits.html.j2",
        _payload(result),
        figures=figures,
        sentences=_sentences(result),
        readings=_readings(result["ceiling"]),
        labels=LABELS,
        order=ORDER,
        gap_words=GAP_WORDS,
        version=version,
    )
    return html

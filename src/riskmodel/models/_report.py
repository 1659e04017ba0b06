"""The training report: plain-language summary, figures and the full metric table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from riskmodel.evaluation import HIGHER_IS_BETTER, capacity_curve, reliability_table
from riskmodel.models._fit import MODEL_ORDER, Trained

MODEL_LABELS = {
    "model": "model (LightGBM, calibrated)",
    "base_rate": "base rate (everyone alike)",
    "rfg": "RFG score",
    "decile_score": "COMPAS decile score",
    "logistic_age_priors": "logistic: age + prior DA count",
    "logistic": "logistic: all features",
    "oracle": "oracle (world's true probability)",
}
METRIC_LABELS = {
    "auc": ("AUC", "chance a random person who reoffended is ranked above one who did not"),
    "average_precision": ("average precision", "precision averaged over every list length"),
    "precision_top_k": ("precision in top k", "share of the k listed people with the outcome"),
    "recall_top_k": ("recall in top k", "share of everyone with the outcome found in the top k"),
    "harm_share_top_k": ("harm share in top k", "share of all harm (days) held by the top k"),
    "brier": ("Brier score", "mean squared error of the probability (lower is better)"),
    "log_loss": ("log-loss", "penalty for confident wrong probabilities (lower is better)"),
    "ece": ("calibration error (ECE)", "average gap between predicted and observed rates"),
    "npr": (
        "negative prediction rate",
        "share of those called low risk who had the outcome (lower is better)",
    ),
}
HEAD_WORDS = {
    "reoffend": "a new recorded DA offence within 12 months",
    "severe": "a severe recorded DA offence (serious violence or sexual) within 12 months",
}
FIG_DPI = 90
COLOURS = {
    "model": "#1f4e79",
    "base_rate": "#999999",
    "rfg": "#c0504d",
    "decile_score": "#8064a2",
    "logistic_age_priors": "#f79646",
    "logistic": "#4bacc6",
    "oracle": "#2e7d32",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _y(trained: Trained, head: str) -> np.ndarray:
    from riskmodel.models._heads import HEAD_LABELS

    return trained.predictions[HEAD_LABELS[head]].astype(bool).to_numpy().astype(int)


def _roc_figure(trained: Trained) -> str:
    from sklearn.metrics import roc_curve

    from riskmodel.reports import figure_to_data_uri as _to_uri

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, head in zip(axes, ("reoffend", "severe"), strict=True):
        y = _y(trained, head)
        for name in trained.models(head):
            if name == "base_rate":
                continue
            fpr, tpr, _ = roc_curve(y, trained.scores["test"][head][name].rank)
            auc = trained.metrics.get(f"test.{head}.auc.{name}")
            ax.plot(
                fpr,
                tpr,
                color=COLOURS[name],
                lw=1.6 if name == "model" else 1.1,
                label=f"{name} ({auc:.3f})" if auc is not None else name,
            )
        ax.plot([0, 1], [0, 1], ls=":", color="#999999", lw=1)
        ax.set_title(f"{head}: ROC curve (AUC in brackets)")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.legend(fontsize=8, loc="lower right")
    return _to_uri(fig, dpi=FIG_DPI)


def _reliability_figure(trained: Trained, n_bins: int) -> str:
    from riskmodel.reports import figure_to_data_uri as _to_uri

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
    for ax, head in zip(axes, ("reoffend", "severe"), strict=True):
        y = _y(trained, head)
        top = 0.0
        for name in ("model", "logistic", "rfg", "decile_score", "oracle"):
            if name not in trained.scores["test"][head]:
                continue
            t = reliability_table(y, trained.scores["test"][head][name].proba, n_bins=n_bins)
            top = max(
                top, float(np.nanmax(t["mean_predicted"])), float(np.nanmax(t["observed_rate"]))
            )
            ax.plot(
                t["mean_predicted"],
                t["observed_rate"],
                marker="o",
                ms=3.5,
                color=COLOURS[name],
                lw=1.6 if name == "model" else 1,
                label=name,
            )
        top = min(1.0, top * 1.08 + 0.01)
        ax.plot([0, top], [0, top], ls=":", color="#999999", lw=1)
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.set_title(f"{head}: reliability ({n_bins} equal-size groups)")
        ax.set_xlabel("mean predicted probability")
        ax.set_ylabel("observed rate")
        ax.legend(fontsize=8, loc="upper left")
    return _to_uri(fig, dpi=FIG_DPI)


def _ks(n: int, points: int, k: int) -> np.ndarray:
    """List lengths for the curves: from 1 to five times the capacity (at least a tenth of n)."""
    top = min(n, max(5 * k, n // 10, 10))
    return np.unique(np.linspace(1, max(top, 1), points).round())


def _capacity_figure(trained: Trained, points: int) -> str:
    from riskmodel.reports import figure_to_data_uri as _to_uri

    plt = _plt()
    y = _y(trained, "reoffend")
    ks = _ks(len(y), points, trained.k)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for name in trained.models("reoffend"):
        c = capacity_curve(y, trained.scores["test"]["reoffend"][name].rank, ks)
        style = {"color": COLOURS[name], "lw": 1.6 if name == "model" else 1.0, "label": name}
        axes[0].plot(ks, c["precision"], **style)
        axes[1].plot(ks, c["recall"], **style)
    for ax, what in zip(axes, ("precision", "recall"), strict=True):
        ax.axvline(trained.k, color="#333333", ls="--", lw=1)
        ax.set_xlabel("people listed (k)")
        ax.set_ylabel(f"{what} in top k")
        ax.set_title(f"reoffend: {what} in the top k (dashed: k = {trained.k})", fontsize=10)
        ax.legend(fontsize=8)
    return _to_uri(fig, dpi=FIG_DPI)


def _harm_figure(trained: Trained, points: int) -> str | None:
    from riskmodel.reports import figure_to_data_uri as _to_uri

    if "harm_days_12m" not in trained.predictions:
        return None
    plt = _plt()
    y = _y(trained, "severe")
    harm = trained.predictions["harm_days_12m"].to_numpy(dtype=float, na_value=0.0)
    ks = _ks(len(y), points, trained.k)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name in trained.models("severe"):
        c = capacity_curve(y, trained.scores["test"]["severe"][name].rank, ks, harm=harm)
        ax.plot(
            ks, c["harm_share"], color=COLOURS[name], lw=1.6 if name == "model" else 1.0, label=name
        )
    ax.axvline(trained.k, color="#333333", ls="--", lw=1)
    ax.set_xlabel("people ranked highest by severity risk (k)")
    ax.set_ylabel("share of all harm days in the next 12 months")
    ax.set_title("severe: harm captured by the top k")
    ax.legend(fontsize=8)
    return _to_uri(fig, dpi=FIG_DPI)


def _fmt(v: Any, digits: int = 3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _ci(v: Any, digits: int = 3) -> str:
    if not v or v[0] is None:
        return ""
    return f"{v[0]:.{digits}f} to {v[1]:.{digits}f}"


def _compare(m: dict[str, Any], head: str, metric: str, other: str) -> dict[str, Any] | None:
    a = m.get(f"test.{head}.{metric}.model")
    b = m.get(f"test.{head}.{metric}.{other}")
    if a is None or b is None:
        return None
    gain = m.get(f"test.{head}.{metric}_gain.{other}")
    gci = m.get(f"test.{head}.{metric}_gain_ci.{other}")
    higher = HIGHER_IS_BETTER[metric]
    if gci and gci[0] is not None:
        lo, hi = gci
        if (lo > 0 and higher) or (hi < 0 and not higher):
            verdict = "better"
        elif (hi < 0 and higher) or (lo > 0 and not higher):
            verdict = "worse"
        else:
            verdict = "not clearly different"
    else:
        verdict = "better" if (a > b) == higher else "worse"
    than = {"better": "better than", "worse": "worse than"}.get(
        verdict, "not clearly different from"
    )
    return {
        "than": than,
        "model": a,
        "model_ci": m.get(f"test.{head}.{metric}_ci.model"),
        "other": b,
        "other_ci": m.get(f"test.{head}.{metric}_ci.{other}"),
        "gain": gain,
        "gain_ci": gci,
        "verdict": verdict,
    }


def summary_sentences(trained: Trained, level: float) -> list[str]:
    """The plain-language findings that open the report."""
    m = trained.metrics
    pct = f"{round(level * 100)}%"
    out: list[str] = []
    c = _compare(m, "reoffend", "auc", "rfg") or _compare(m, "reoffend", "auc", "decile_score")
    ref = "the RFG score" if _compare(m, "reoffend", "auc", "rfg") else "the COMPAS decile score"
    if c:
        s = (
            f"Ranking people by their chance of {HEAD_WORDS['reoffend']}, the model is "
            f"<strong>{c['than']}</strong> {ref}: AUC {_fmt(c['model'])} "
            f"({pct} interval {_ci(c['model_ci'])}) against {_fmt(c['other'])} "
            f"({_ci(c['other_ci'])})"
        )
        if c["gain"] is not None:
            s += f", a difference of {c['gain']:+.3f} ({_ci(c['gain_ci'])}, paired bootstrap)"
        out.append(s + ".")
    for other, words in (
        ("logistic", "a logistic regression on the same features"),
        ("logistic_age_priors", "a logistic regression on age and prior DA count only"),
    ):
        c = _compare(m, "reoffend", "auc", other)
        if c:
            out.append(
                f"Compared with {words}, the model is {c['verdict']}: AUC {_fmt(c['model'])} vs "
                f"{_fmt(c['other'])} (difference {c['gain']:+.3f}, {_ci(c['gain_ci'])})."
            )
    c = _compare(m, "reoffend", "auc", "oracle")
    if c:
        out.append(
            f"The best any model could do on this synthetic world (the oracle, which knows the "
            f"true probabilities) reaches AUC {_fmt(c['other'])}; the model is "
            f"{-c['gain']:.3f} below it."
        )
    ece = m.get("test.reoffend.ece.model")
    if ece is not None:
        good = "well calibrated" if ece <= 0.02 else "not well calibrated"
        out.append(
            f"The model's probabilities are {good}: on average predicted and observed rates "
            f"differ by {ece * 100:.1f} percentage points (ECE {_fmt(ece)}, "
            f"{_ci(m.get('test.reoffend.ece_ci.model'))})."
        )
    p_model = m.get("test.reoffend.precision_top_k.model")
    p_rfg = m.get("test.reoffend.precision_top_k.rfg")
    if p_model is not None:
        s = (
            f"Of the {trained.k} people the model would list first (programme capacity scaled "
            f"to the test period), {p_model * 100:.0f}% had a new recorded DA offence"
        )
        if p_rfg is not None:
            s += f", against {p_rfg * 100:.0f}% of the RFG score's top {trained.k}"
        out.append(s + ".")
    c = _compare(m, "severe", "auc", "rfg") or _compare(m, "severe", "auc", "decile_score")
    h = _compare(m, "severe", "harm_share_top_k", "rfg")
    if c:
        s = (
            f"For severe reoffending (rare: {m.get('base_rate.test.severe', 0) * 100:.1f}% of "
            f"test rows) the severity head is {c['than']} {ref} at ranking (AUC "
            f"{_fmt(c['model'])} vs {_fmt(c['other'])})"
        )
        if h:
            s += (
                f"; its top {trained.k} hold {h['model'] * 100:.0f}% of all harm days against "
                f"{h['other'] * 100:.0f}% for RFG's top {trained.k} (paired difference "
                f"{h['gain']:+.3f}, {_ci(h['gain_ci'])}: {h['verdict']})"
            )
        out.append(s + ".")
    share = m.get("person_disjoint.share_test_rows_seen_in_fitting")
    pd_auc = m.get("person_disjoint.reoffend.auc.model")
    if share is not None and pd_auc is not None:
        out.append(
            f"{share * 100:.0f}% of test rows belong to people who also appear in the training "
            f"or validation periods; on the other {m['person_disjoint.n']} rows (people the model "
            f"never saw) its AUC is {_fmt(pd_auc)} ({_ci(m.get('person_disjoint.reoffend.auc_ci.model'))})."
        )
    return out


def metric_tables(
    metrics: dict[str, Any], models_by_head: dict[str, list[str]], prefix: str = "test"
) -> list[dict[str, Any]]:
    """Rows of the metric x model table, one block per head."""
    blocks = []
    for head, models in models_by_head.items():
        rows = []
        for metric, (label, explain) in METRIC_LABELS.items():
            if f"{prefix}.{head}.{metric}.model" not in metrics:
                continue
            cells = []
            for name in models:
                v = metrics.get(f"{prefix}.{head}.{metric}.{name}")
                ci = metrics.get(f"{prefix}.{head}.{metric}_ci.{name}")
                cells.append({"value": _fmt(v), "ci": _ci(ci)})
            rows.append({"metric": label, "explain": explain, "cells": cells})
        blocks.append({"head": head, "words": HEAD_WORDS[head], "models": models, "rows": rows})
    return blocks


def gain_table(metrics: dict[str, Any], head: str, models: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in models:
        if name == "model":
            continue
        row = {"model": name, "cells": []}
        for metric in ("auc", "average_precision", "recall_top_k", "harm_share_top_k", "brier"):
            v = metrics.get(f"test.{head}.{metric}_gain.{name}")
            row["cells"].append(
                {
                    "value": "–" if v is None else f"{v:+.3f}",
                    "ci": _ci(metrics.get(f"test.{head}.{metric}_gain_ci.{name}")),
                }
            )
        rows.append(row)
    return rows


def build_context(trained: Trained, *, info: dict[str, Any], experiment: Any) -> dict[str, Any]:
    """Everything the template needs."""
    ev = experiment.evaluation
    m = trained.metrics
    models_by_head = {h: trained.models(h) for h in ("reoffend", "severe")}
    periods = []
    for p in ("train", "validation", "test"):
        periods.append(
            {
                "name": p,
                "start": m.get(f"split.{p}_first_index_date", m.get(f"split.{p}_start", "")),
                "end": m.get(f"split.{p}_last_index_date", m.get(f"split.{p}_end", "")),
                "rows": m[f"n.{p}"],
                "people": m[f"n_people.{p}"],
                "reoffend": m[f"base_rate.{p}.reoffend"],
                "severe": m[f"base_rate.{p}.severe"],
            }
        )
    return {
        "title": f"Training report: {experiment.name}",
        "experiment": experiment,
        "info": info,
        "summary": summary_sentences(trained, ev.ci_level),
        "figures": {
            "roc": _roc_figure(trained),
            "reliability": _reliability_figure(trained, ev.ece_bins),
            "capacity": _capacity_figure(trained, ev.curve_points),
            "harm": _harm_figure(trained, ev.curve_points),
        },
        "tables": metric_tables(m, models_by_head),
        "disjoint_tables": metric_tables(m, models_by_head, prefix="person_disjoint"),
        "gains": {h: gain_table(m, h, models_by_head[h]) for h in models_by_head},
        "gain_metrics": [
            "AUC",
            "average precision",
            "recall in top k",
            "harm share in top k",
            "Brier",
        ],
        "model_labels": MODEL_LABELS,
        "model_order": MODEL_ORDER,
        "periods": periods,
        "m": m,
        "level_pct": f"{round(ev.ci_level * 100)}%",
        "feature_names": trained.feature_names,
        "excluded_features": trained.excluded_features,
        "heads": {h: trained.heads[h] for h in trained.heads},
        "train_config": experiment.train,
    }


def write_training_report(
    run_dir: Path, trained: Trained, *, info: dict[str, Any], experiment: Any, version: str
) -> tuple[Path, Path]:
    """``report.html`` and ``metrics.json`` (its JSON twin: the flat metrics) in ``run_dir``."""
    from riskmodel.data import write_json, write_text
    from riskmodel.notice import PERMITTED_USE_NOTICE
    from riskmodel.reports import render_html

    ctx = build_context(trained, info=info, experiment=experiment)
    html = render_html("train_report.html.j2", version=version, **ctx)
    html_path = write_text(html, run_dir / "report.html")
    payload = {"permitted_use": PERMITTED_USE_NOTICE, "run_id": info["run_id"], **trained.metrics}
    json_path = write_json(payload, run_dir / "metrics.json")
    return html_path, json_path

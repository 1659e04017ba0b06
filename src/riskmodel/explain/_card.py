"""The documents published with a model: model card, transparency record, datasheet.

- Model card (HTML and Markdown): the sections of Mitchell et al. (2019), "Model Cards for Model
  Reporting".
- Transparency record (Markdown): the shape of the UK Algorithmic Transparency Recording
  Standard (tier 1 summary; tier 2 owner and responsibility, description and rationale,
  decision-making process, data, risks and mitigations).
- Datasheet (Markdown) for the synthetic world: Gebru et al. (2021), "Datasheets for Datasets".

Every number is read from the run's own files (``run.json``, ``metrics.json``,
``fairness.json``, ``explain.json``, predictions, the world's ``manifest.json`` and
``calibration.json``); nothing is typed by hand. What a deploying organisation must supply
(owner, contact) is marked as to be completed, never invented.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from riskmodel import __version__
from riskmodel.data import write_text
from riskmodel.evaluation import cell_speaks
from riskmodel.explain._reasons import feature_labels
from riskmodel.explain._run import RunView, flat_metrics, load_run_view, metric_rows
from riskmodel.notice import (
    PERMITTED_PURPOSE,
    PERMITTED_USE_NOTICE,
    PROHIBITED_USES,
    PROTECTED_CHARACTERISTICS,
    permitted_use_notice,
)
from riskmodel.reports import format_ci as _ci
from riskmodel.reports import format_number as _fmt
from riskmodel.reports import format_percent as _pct
from riskmodel.reports import markdown_to_html, render_html
from riskmodel.schema import AUDIT_ATTRIBUTES

NOT_AUDITED = "Not yet audited: run `riskmodel audit --run {run_id}`."
TO_COMPLETE = "to be completed by the deploying organisation"

METRIC_WORDS = {
    "auc": "AUC: chance that a person who reoffended is ranked above one who did not (0.5 = chance)",
    "roc_auc": "AUC: chance that a person who reoffended is ranked above one who did not",
    "pr_auc": "area under the precision-recall curve (higher is better)",
    "average_precision": "average precision: how well reoffenders are concentrated at the top of the ranking (higher is better)",
    "ece": "expected calibration error: average gap between predicted and observed rates (0 = perfect)",
    "brier": "Brier score: mean squared error of the probabilities (lower is better)",
    "log_loss": "log loss (lower is better)",
    "precision_top_k": "of the top k people by score (programme capacity), the share who reoffended",
    "recall_top_k": "of everyone who reoffended, the share found in the top k",
    "harm_share_top_k": "share of all later recorded harm caused by the top k",
    "npr": "of the people called low risk, the share who reoffended anyway (lower is better)",
    "base_rate": "share of people who reoffended",
}
MODEL_WORDS = {
    "model": "this model",
    "rfg": "RFG score (current police practice)",
    "decile_score": "COMPAS decile score (existing tool)",
    "logistic": "logistic regression on every model input",
    "logistic_age_priors": "logistic regression on age and prior DA offences only",
    "base_rate": "base rate (everyone gets the same score)",
    "oracle": "oracle: the synthetic world's true probabilities (best possible)",
}
HEAD_WORDS = {
    "reoffend": "a recorded DA reoffence within 12 months of the index event",
    "severe": "a recorded severe DA reoffence (serious violence or sexual offence) within 12 months",
}
FAIRNESS_WORDS = {
    "n": "people",
    "base_rate": "recorded reoffending rate",
    "mean_score": "mean predicted probability",
    "selection_rate": "share recommended",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "ppv": "precision (PPV)",
    "npv": "NPV",
    "auc": "AUC",
}
FAIRNESS_ORDER = (
    "n",
    "base_rate",
    "mean_score",
    "selection_rate",
    "tpr",
    "fpr",
    "fnr",
    "ppv",
    "npv",
    "auc",
)
#: fairness.json cell keys that describe a cell rather than measure the group
_NOT_METRICS = frozenset({"n_below", "suppressed", "reference"})
_DATE_KEYS = ("trained_at", "created_at", "started_at", "finished_at", "date")


# --- Markdown rendering (no HTML escaping; table cells made pipe-safe) --------------------------
def _md_cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


_MD_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("riskmodel.reports", "templates"),
    autoescape=False,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _cap(text: Any) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


_MD_ENV.filters.update(fmt=_fmt, pct=_pct, ci=_ci, cell=_md_cell, cap=_cap)


def render_markdown(template: str, **context: Any) -> str:
    base = {
        "notice": PERMITTED_USE_NOTICE,
        "permitted_purpose": PERMITTED_PURPOSE,
        "prohibited_uses": PROHIBITED_USES,
    }
    return _MD_ENV.get_template(template).render(
        **{**base, **context}
    )  # context may name its notice


# --- context ----------------------------------------------------------------------------------
def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if np.isfinite(x) else None


def _first(mappings: list[dict[str, Any]], keys: tuple[str, ...]) -> Any:
    for m in mappings:
        for k in keys:
            if m.get(k):
                return m[k]
    return None


def _model_details(view: RunView) -> dict[str, Any]:
    b = view.bundle
    heads = []
    for head in sorted(b.boosters, key=lambda h: (h != "reoffend", h)):
        booster = b.boosters[head]
        params = getattr(booster, "params", {}) or {}
        cal = b.calibrators.get(head)
        heads.append(
            {
                "head": head,
                "predicts": HEAD_WORDS.get(head, head),
                "n_trees": int(booster.num_trees()),
                "num_leaves": params.get("num_leaves"),
                "learning_rate": params.get("learning_rate"),
                "calibration": cal.method if cal is not None else "none",
                "registered_version": (view.info.get("registered") or {}).get(head),
            }
        )
    labels = feature_labels(b)
    dictionary = (view.feature_spec or {}).get("dictionary", {}) or {}
    features = [
        {
            "feature": f,
            "label": labels[f],
            "description": _cap((dictionary.get(f) or {}).get("description") or labels[f]),
            "unit": (dictionary.get(f) or {}).get("unit", ""),
            "categorical": f in b.categorical_levels,
        }
        for f in b.feature_names
    ]
    trained = _first([view.info, b.metadata or {}], _DATE_KEYS)
    return {"heads": heads, "features": features, "trained_at": trained}


#: one vocabulary for yes/no across the published documents (the fairness report says yes / no)
YES_NO = {True: "yes", False: "no"}


def group_labels(values: pd.Series) -> pd.Series:
    """Group names as a reader sees them: flags as yes / no, missing as "not recorded"."""
    v = values.astype("object")
    v = v.map(lambda x: YES_NO[bool(x)] if isinstance(x, bool | np.bool_) else x)
    return v.where(values.notna(), "not recorded").astype(str)


def _factors(preds: pd.DataFrame, spec: dict[str, Any]) -> list[dict[str, Any]]:
    attrs = spec.get("audit") or list(AUDIT_ATTRIBUTES)
    out = []
    for a in attrs:
        if a not in preds.columns:
            continue
        counts = group_labels(preds[a])
        vc = counts.value_counts().sort_index()
        out.append({"attribute": a, "groups": [(str(g), int(c)) for g, c in vc.items()]})
    return out


def _evaluation(preds: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {"n_rows": len(preds), "period": None, "rates": []}
    if "index_date" in preds.columns and len(preds):
        d = pd.to_datetime(preds["index_date"])
        out["period"] = (d.min().date().isoformat(), d.max().date().isoformat())
    if "person_id" in preds.columns:
        out["n_people"] = int(preds["person_id"].nunique())
    for col, words in (
        ("reoffend_12m", "Recorded DA reoffending within 12 months"),
        ("severe_12m", "Recorded severe DA reoffending within 12 months"),
        (
            "true_reoffend_12m",
            "Any DA reoffending within 12 months, recorded or not (synthetic truth)",
        ),
        ("p_reoffend", "Mean predicted probability of recorded reoffending"),
        ("p_severe", "Mean predicted probability of severe reoffending"),
    ):
        if col in preds.columns and len(preds):
            out["rates"].append(
                {"column": col, "words": words, "value": float(preds[col].astype(float).mean())}
            )
    return out


def _label_gap(
    preds: pd.DataFrame, factors: list[dict[str, Any]], min_n: int
) -> list[dict[str, Any]]:
    """Recorded against true reoffending by group (synthetic worlds know both)."""
    if not {"reoffend_12m", "true_reoffend_12m"} <= set(preds.columns):
        return []
    out = []
    for f in factors:
        a = f["attribute"]
        g = group_labels(preds[a])
        agg = (
            pd.DataFrame(
                {
                    "g": g,
                    "rec": preds["reoffend_12m"].astype(float),
                    "true": preds["true_reoffend_12m"].astype(float),
                }
            )
            .groupby("g")
            .agg(n=("rec", "size"), recorded=("rec", "mean"), true=("true", "mean"))
        )
        rows = []
        for name, r in agg.iterrows():
            if not cell_speaks(r["n"], min_n):  # the one small-cell rule of every report
                rows.append({"group": str(name), "n": int(r["n"]), "suppressed": True})
                continue
            share = r["recorded"] / r["true"] if r["true"] > 0 else None
            rows.append(
                {
                    "group": str(name),
                    "n": int(r["n"]),
                    "suppressed": False,
                    "recorded": float(r["recorded"]),
                    "true": float(r["true"]),
                    "recorded_share": None if share is None else float(share),
                }
            )
        out.append({"attribute": a, "rows": rows})
    return out


def _fairness(fairness: dict[str, Any] | None) -> dict[str, Any] | None:
    """fairness.json's ``groups`` as tables (metric value and interval per group)."""
    if not fairness or "groups" not in fairness:
        return None
    tables = []
    for attr, groups in fairness["groups"].items():
        if not isinstance(groups, dict):
            continue
        metrics: list[str] = []
        for cell in groups.values():
            for k, v in (cell or {}).items():
                if k.endswith("_ci") or isinstance(v, bool) or k in metrics or k in _NOT_METRICS:
                    continue
                if isinstance(v, int | float) or v is None:
                    metrics.append(k)
        metrics.sort(key=lambda m: (FAIRNESS_ORDER.index(m) if m in FAIRNESS_ORDER else 99, m))
        rows = []
        for g, cell in groups.items():
            cell = cell or {}
            rows.append(
                {
                    "group": str(g),
                    "suppressed": bool(cell.get("suppressed", False)),
                    "n_below": cell.get("n_below"),
                    "cells": {m: (_num(cell.get(m)), cell.get(f"{m}_ci")) for m in metrics},
                }
            )
        tables.append({"attribute": attr, "metrics": metrics, "rows": rows})
    flagged, inconclusive = [], 0
    for attr, groups in (fairness.get("disparities") or {}).items():
        for g, ms in (groups or {}).items():
            for m, d in (ms or {}).items():
                if not isinstance(d, dict):
                    continue
                if d.get("flag") == "flagged":
                    flagged.append(
                        {
                            "attribute": attr,
                            "group": g,
                            "metric": m,
                            "ratio": _num(d.get("ratio")),
                            "ci": d.get("ci"),
                            "reference": d.get("reference"),
                        }
                    )
                elif d.get("flag") == "inconclusive":
                    inconclusive += 1
    return {
        "tables": tables,
        "flagged": flagged,
        "n_inconclusive": inconclusive,
        "threshold": fairness.get("threshold"),
        "words": FAIRNESS_WORDS,
    }


def _weakest(fairness: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Groups with the lowest AUC per attribute (where the audit reports AUC)."""
    if not fairness:
        return []
    out = []
    for t in fairness["tables"]:
        if "auc" not in t["metrics"]:
            continue
        shown = [r for r in t["rows"] if not r["suppressed"] and r["cells"]["auc"][0] is not None]
        if len(shown) < 2:
            continue
        low = min(shown, key=lambda r: r["cells"]["auc"][0])
        out.append(
            {
                "attribute": t["attribute"],
                "group": low["group"],
                "auc": low["cells"]["auc"][0],
                "ci": low["cells"]["auc"][1],
            }
        )
    return out


def _world(info: dict[str, Any]) -> dict[str, Any] | None:
    wd = info.get("world_dir")
    if not wd:
        return None
    d = Path(wd)
    manifest = (
        json.loads((d / "manifest.json").read_text()) if (d / "manifest.json").exists() else None
    )
    calib = (
        json.loads((d / "calibration.json").read_text())
        if (d / "calibration.json").exists()
        else None
    )
    rows = calibration_rows(calib or [], scale=(manifest or {}).get("scale"))
    bias = ((manifest or {}).get("config") or {}).get("measurement_bias") or {}
    bias_on = any(bool(v) for k, v in bias.items() if k != "note")
    return {
        "dir": str(d),
        "manifest": manifest,
        "calibration": calib,
        "calibration_rows": rows,
        "bias_on": bias_on,
        "bias_note": bias.get("note"),
        "config_yaml": _yaml(((manifest or {}).get("config")) or {}),
    }


def _yaml(config: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)


#: the datasheet's words for a calibration row's status
CAL_STATUS = {True: "yes", False: "no", None: "not applicable"}


def calibration_rows(calib: list[dict[str, Any]], *, scale: Any = None) -> list[dict[str, Any]]:
    """The world's calibration rows with a status in words and, for every row that is not
    within tolerance, an explanation: the generator's own note when it gave one, else how far
    the generated figure is from the target (and that a scaled-down world is noisier)."""
    out = []
    for c in calib:
        ok = c.get("ok")
        status = CAL_STATUS.get(ok, "not applicable")
        why = str(c.get("note") or "")
        if why.startswith(status + ": "):  # the status is printed beside it already
            why = why[len(status) + 2 :]
        if ok is not True and not why:
            gen, target, tol = c.get("generated"), c.get("target"), c.get("tolerance")
            if isinstance(gen, int | float) and isinstance(target, int | float) and tol:
                why = (
                    f"generated {gen:.3g} against a target of {target:.3g}: "
                    f"{abs(gen - target) / float(tol):.1f} times the tolerance of {tol:.3g} away"
                )
            else:
                why = "the generated figure could not be compared with the target"
            if isinstance(scale, int | float) and scale < 1:
                why += (
                    f"; this world has {scale:g} of Kent's people, so its figures are noisier "
                    "than the full-size world's and a miss can be chance"
                )
        out.append({**c, "status": status, "why": why})
    return out


def _explain_summary(view: RunView) -> dict[str, Any] | None:
    p = view.dir / "explain.json"
    if not p.exists():
        return None
    data = json.loads(p.read_text())
    heads = data.get("heads", {})
    out = {"heads": {}, "reason_codes": data.get("reason_codes")}
    for head, h in heads.items():
        out["heads"][head] = {
            "top": h.get("features", [])[:5],
            "flags": [f for f in h.get("group_flags", []) if not f.get("note")],
            "expected_flags": [f for f in h.get("group_flags", []) if f.get("note")],
            "n_sample": h.get("n_sample"),
        }
    return out


METRIC_ORDER = ("auc", "roc_auc", "pr_auc", "average_precision", "brier", "log_loss", "ece")
MODEL_ORDER = ("model", "rfg", "logistic", "base_rate", "oracle")


def _rank(order: tuple[str, ...], name: str) -> tuple[int, str]:
    return (order.index(name) if name in order else len(order), name)


CAPACITY_METRICS = ("precision_top_k", "recall_top_k", "harm_share_top_k", "npr")


def _table_kind(metric: str) -> str:
    if metric.endswith("_gain"):
        return "gain"
    if metric in CAPACITY_METRICS or "top_k" in metric:
        return "capacity"
    return "main"


def _metric_tables(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per head, up to three tables (ranking and calibration; at programme capacity; gain of
    this model over each alternative), each with models as rows and metrics as columns."""
    heads = []
    for h in dict.fromkeys(r["head"] for r in rows):
        hr = [r for r in rows if r["head"] == h]
        tables = []
        for kind in ("main", "capacity", "gain"):
            kr = [r for r in hr if _table_kind(r["metric"]) == kind]
            if not kr:
                continue
            metrics = sorted(
                {r["metric"] for r in kr},
                key=lambda m: _rank(METRIC_ORDER + CAPACITY_METRICS, m.removesuffix("_gain")),
            )
            models = sorted({r["model"] for r in kr}, key=lambda m: _rank(MODEL_ORDER, m))
            cells = {(r["model"], r["metric"]): (r["value"], r["ci"]) for r in kr}
            tables.append({"kind": kind, "metrics": metrics, "models": models, "cells": cells})
        heads.append({"head": h, "predicts": HEAD_WORDS.get(h, h), "tables": tables})
    return heads


def _run_numbers(metrics: dict[str, Any]) -> dict[str, Any]:
    """Sizes, periods, capacity and interval method recorded by training (flat keys)."""
    flat = flat_metrics(metrics)
    keep = (
        "n.",
        "n_people.",
        "base_rate.",
        "split.",
        "top_k.",
        "threshold.",
        "bootstrap.",
    )
    return {k: v for k, v in flat.items() if k.startswith(keep)}


def card_context(run: str | Path | RunView) -> dict[str, Any]:
    """Everything the card, record and datasheet print, read from the run's own files."""
    view = load_run_view(run)
    info = view.info
    spec = view.feature_spec or {}
    min_n = view.experiment.fairness.min_group_n
    factors = _factors(view.predictions, spec)
    fairness = _fairness(view.fairness)
    details = _model_details(view)
    protected_inputs = sorted(set(view.bundle.feature_names) & PROTECTED_CHARACTERISTICS)
    age_inputs = [
        f["feature"] for f in details["features"] if "age" in f["feature"].lower().split("_")
    ]
    rows = metric_rows(view.metrics)
    heads = _metric_tables(rows)
    auc = {r["model"]: r for r in rows if r["head"] == "reoffend" and r["metric"] == "auc"}
    return {
        "run_id": view.run_id,
        "version": __version__,
        "info": info,
        "experiment": info.get("experiment"),
        "metadata": view.bundle.metadata or {},
        "details": details,
        "spec_source": spec.get("source"),
        "spec_n_rows": spec.get("n_rows"),
        "spec_n_censored": spec.get("n_censored"),
        "factors": factors,
        "metrics": heads,
        "metric_words": METRIC_WORDS,
        "numbers": _run_numbers(view.metrics),
        "metric_legend": [
            m
            for m in dict.fromkeys(m for h in heads for t in h["tables"] for m in t["metrics"])
            if m in METRIC_WORDS
        ],
        "model_words": {
            **MODEL_WORDS,
            # the small baseline named by the inputs it was actually fitted on
            "logistic_age_priors": "logistic regression on "
            f"{view.experiment.train.baselines.age_priors_description} only",
        },
        "auc": auc,
        "evaluation": _evaluation(view.predictions),
        "fairness": fairness,
        "not_audited": NOT_AUDITED.format(run_id=view.run_id),
        "weakest": _weakest(fairness),
        "label_gap": _label_gap(view.predictions, factors, min_n),
        "min_group_n": min_n,
        "protected_inputs": protected_inputs,
        "age_inputs": age_inputs,
        "explain": _explain_summary(view),
        "world": _world(info),
        "to_complete": TO_COMPLETE,
        "generated_at": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "view": view,
        # this model's own notice: it names the sensitive inputs the model actually uses
        "notice": permitted_use_notice(list(view.bundle.feature_names)),
    }


def write_model_card(run: str | Path | RunView) -> dict[str, Path]:
    """Write ``model_card.html``, ``model_card.md``, ``transparency_record.md`` and
    ``datasheet.md`` into the run directory; returns ``{name: path}``.

    The HTML card is the Markdown card rendered, so the two can never disagree.
    """
    ctx = card_context(run)
    d = ctx["view"].dir
    md = render_markdown("model_card.md.j2", **ctx)
    # the HTML page prints the notice itself, first (base template)
    body = "\n".join(ln for ln in md.splitlines() if not ln.startswith("> **Permitted use only.**"))
    html = render_html(
        "model_card.html.j2",
        body=markdown_to_html(body),
        notice=ctx["notice"],
        run_id=ctx["run_id"],
        version=ctx["version"],
        generated_at=ctx["generated_at"],
    )
    out = {
        "model card": write_text(html, d / "model_card.html"),
        "model card (Markdown)": write_text(md, d / "model_card.md"),
        "transparency record": write_text(
            render_markdown("transparency_record.md.j2", **ctx), d / "transparency_record.md"
        ),
        "datasheet": write_text(render_markdown("datasheet.md.j2", **ctx), d / "datasheet.md"),
    }
    return out

"""``riskmodel explain --run ID``: the explanation report, its JSON twin, and the model card.

``explain.json`` keys (stable, see :data:`EXPLAIN_JSON_KEYS`):

- ``permitted_use``: the notice
- ``run_id``: the run explained
- ``sample``: ``{"requested", "seed", "n_rows"}``: SHAP is computed on a random sample of the
  test-period rows (``requested`` at most), drawn from the run's seed
- ``heads``: ``{head: global summary}`` as returned by :func:`global_importance` (ranked
  ``features`` with ``mean_abs_shap``; ``by_group`` mean |SHAP| per audit attribute and group;
  ``group_flags``; ``additivity_max_abs_error``)
- ``reason_codes``: reasons for the sampled people (reoffending head): ``head``, ``k``,
  ``n_people``, ``people_by_number_of_reasons``, ``most_common`` (feature, label, people,
  share), ``examples`` (highest-risk sampled people with their reasons)
- ``method``: how the numbers were computed, in words
- ``provenance``: model and library versions
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.explain._card import HEAD_WORDS, write_model_card
from riskmodel.explain._global import ShapSample, shap_sample, summarise
from riskmodel.explain._reasons import feature_labels, reasons_from_contributions
from riskmodel.explain._run import RunView, load_run_view
from riskmodel.provenance import package_versions
from riskmodel.reports import write_report
from riskmodel.tracking import log_run_artifacts

EXPLAIN_JSON_KEYS = (
    "permitted_use",
    "run_id",
    "sample",
    "heads",
    "reason_codes",
    "method",
    "provenance",
)
#: dependence plots drawn for this many of the most influential features: the reoffending head
#: (the one lists are made from) gets more, and only it gets group heatmaps (others: tables)
N_DEPENDENCE = {"reoffend": 4}
N_DEPENDENCE_OTHER = 2
#: features shown in the group heatmaps
N_HEATMAP = 10
N_EXAMPLES = 8
K_REASONS = 3

METHOD = {
    "shap": (
        "SHAP values from the shap package's TreeExplainer on each LightGBM head (exact, "
        "tree-path-dependent). A SHAP value is how much one factor moved one person's score "
        "(log-odds) away from the average score; the values of all factors add up exactly to "
        "the person's score."
    ),
    "sample": "computed on a random sample of the test period, not on every row",
    "reason_codes": (
        "the factors with the largest positive contribution (LightGBM's exact TreeSHAP, "
        "pred_contrib) to a person's reoffending score, at most three; counts of the same "
        "thing over nested windows are one family (contributions summed, one reason at most). "
        "Where a value means presence or absence (a count, a harm total, a previous incident, "
        "a flag) the reason states the presence or the absence, and a presence is a reason "
        "only when setting the family to none lowers that person's score; factors that lower "
        "the score are never reasons"
    ),
    "group_differences": (
        "mean absolute SHAP per feature within each group of each audit attribute; a feature "
        "is flagged when the largest group mean is at least {ratio} times the smallest (among "
        "groups with at least {min_n} sampled people), the gap is more than {z} standard "
        "errors, and the feature carries at least {share:.0%} of the total effect"
    ),
}


def _min_group_n(view: RunView) -> int:
    return view.experiment.fairness.min_group_n


def _reason_summary(
    view: RunView, s: ShapSample, *, k: int = K_REASONS
) -> tuple[dict[str, Any], pd.DataFrame]:
    frame = view.predictions.iloc[s.rows]
    reasons = reasons_from_contributions(view.bundle, frame, s.X, s.values, k=k)
    labels = feature_labels(view.bundle)
    used = reasons[[f"reason_feature_{i}" for i in range(1, k + 1)]].to_numpy()
    n_reasons = (used != "").sum(axis=1)
    by_number = {str(i): int((n_reasons == i).sum()) for i in range(k + 1)}
    feats, counts = np.unique(used[used != ""], return_counts=True)
    # a person counts once per feature (a feature appears at most once per person anyway)
    order = np.argsort(-counts, kind="stable")
    most_common = [
        {
            "feature": str(feats[i]),
            "label": labels.get(str(feats[i]), str(feats[i])),
            "people": int(counts[i]),
            "share": float(counts[i] / max(len(reasons), 1)),
        }
        for i in order
    ]
    score_col = "p_reoffend" if "p_reoffend" in frame.columns else None
    score = (
        frame[score_col].to_numpy(dtype=float) if score_col else view.bundle.predict(frame, s.head)
    )
    top = np.argsort(-score, kind="stable")[:N_EXAMPLES]
    examples = []
    for i in top:
        row = reasons.iloc[i]
        examples.append(
            {
                "person_id": str(frame["person_id"].iloc[i]) if "person_id" in frame else str(i),
                "p_reoffend": float(score[i]),
                "reasons": [row[f"reason_{j}"] for j in range(1, k + 1) if row[f"reason_{j}"]],
                "contributions": [
                    float(row[f"reason_contribution_{j}"])
                    for j in range(1, k + 1)
                    if row[f"reason_{j}"]
                ],
            }
        )
    summary = {
        "head": s.head,
        "k": k,
        "n_people": len(reasons),
        "people_by_number_of_reasons": by_number,
        "most_common": most_common,
        "examples": examples,
    }
    return summary, reasons


def _figures(view: RunView, s: ShapSample, summary: dict[str, Any]) -> dict[str, Any]:
    from riskmodel.explain import _plots

    b = view.bundle
    labels = feature_labels(b)
    label_list = [labels[f] for f in b.feature_names]
    dictionary = (b.feature_spec or {}).get("dictionary", {}) or {}
    ranked = [r["feature"] for r in summary["features"]]
    dep = []
    for f in ranked[: N_DEPENDENCE.get(s.head, N_DEPENDENCE_OTHER)]:
        j = b.feature_names.index(f)
        unit = (dictionary.get(f) or {}).get("unit", "")
        dep.append({"label": labels[f], "uri": _plots.dependence(s, j, labels[f], unit=unit)})
    heat = []
    for attr, g in summary["by_group"].items() if s.head == "reoffend" else ():
        heat.append(
            {"attribute": attr, "uri": _plots.group_heatmap(attr, g, ranked[:N_HEATMAP], labels)}
        )
    return {
        "bar": _plots.importance_bar(s, label_list),
        "beeswarm": _plots.beeswarm(s, label_list),
        "dependence": dep,
        "heatmaps": heat,
    }


def _group_tables(summary: dict[str, Any], top: list[str]) -> list[dict[str, Any]]:
    """Per attribute: groups as columns, top features as rows (mean |SHAP|)."""
    out = []
    for attr, g in summary["by_group"].items():
        groups = list(g["groups"])
        out.append(
            {
                "attribute": attr,
                "groups": [
                    (name, g["groups"][name]["n"], g["groups"][name]["compared"]) for name in groups
                ],
                "rows": [
                    {
                        "feature": f,
                        "values": [g["groups"][name]["mean_abs_shap"][f] for name in groups],
                        "ratio": g["ratio"][f],
                    }
                    for f in top
                ],
            }
        )
    return out


def explain_run(
    run: str | Path | RunView,
    *,
    sample: int = 2000,
    step: Callable[[str], None] | None = None,
    model_card: bool = True,
) -> dict[str, Path]:
    """Explain a trained run and write its published documents into the run directory.

    Writes ``explain.html``, ``explain.json``, ``model_card.html``, ``model_card.md``,
    ``transparency_record.md`` and ``datasheet.md``, logs them to the run's MLflow run, and
    returns ``{what: path}``. ``sample`` caps the rows SHAP is computed on; ``step`` is told the
    name of each stage as it starts (for progress display). ``model_card=False`` leaves the card
    and its siblings to :func:`write_run_card` (the pipeline explains while the fairness audit
    runs, and the card quotes the audit, so it is written after both).
    """
    say = step or (lambda _m: None)
    say("loading the run")
    view = load_run_view(run)
    seed = int(view.info.get("seed") or 0)
    min_n = _min_group_n(view)
    frame = view.predictions
    labels = feature_labels(view.bundle)
    heads_json: dict[str, Any] = {}
    heads_ctx = []
    reason_json: dict[str, Any] | None = None
    for head in sorted(view.bundle.boosters, key=lambda h: (h != "reoffend", h)):
        say(f"SHAP values for the {head} head")
        s = shap_sample(view.bundle, frame, head=head, sample=sample, seed=seed)
        summary = summarise(view.bundle, frame, s, min_group_n=min_n)
        heads_json[head] = summary
        if head == "reoffend":
            say("reason codes")
            reason_json, _ = _reason_summary(view, s)
        say(f"figures for the {head} head")
        top = [r["feature"] for r in summary["features"][:N_HEATMAP]]
        heads_ctx.append(
            {
                "head": head,
                "predicts": HEAD_WORDS.get(head, head),
                "summary": summary,
                "figures": _figures(view, s, summary),
                "group_tables": _group_tables(summary, top),
            }
        )
    flag_rule = next(iter(heads_json.values()))["flag_rule"] if heads_json else {}
    method = dict(METHOD)
    if flag_rule:
        method["group_differences"] = METHOD["group_differences"].format(
            ratio=flag_rule["ratio_at_least"],
            min_n=flag_rule["min_group_n"],
            z=flag_rule["gap_standard_errors"],
            share=flag_rule["min_share_of_importance"],
        )
    payload = {
        "run_id": view.run_id,
        "sample": {"requested": sample, "seed": seed, "n_rows": len(frame)},
        "heads": heads_json,
        "reason_codes": reason_json,
        "method": method,
        "provenance": {
            "bundle_manifest_sha256": view.info.get("bundle_manifest_sha256"),
            "git_commit": view.info.get("git_commit"),
            "versions": package_versions(("riskmodel", "lightgbm", "shap", "numpy", "pandas")),
        },
    }
    say("writing the explanation report")
    from riskmodel import __version__

    html, js = write_report(
        view.dir,
        "explain",
        "explain.html.j2",
        payload,
        run_id=view.run_id,
        heads=heads_ctx,
        reasons=reason_json,
        labels=labels,
        version=__version__,
        n_rows=len(frame),
    )
    out = {"explanation report": html, "explanation data": js}
    if model_card:
        say("writing the model card, transparency record and datasheet")
        out.update(write_model_card(view))
    say("logging to MLflow")
    _log(view, out)
    return out


def write_run_card(run: str | Path | RunView) -> dict[str, Path]:
    """The model card, transparency record and datasheet of a run, written and logged to its
    MLflow run beside the explanation (call after ``audit_run``: the card quotes the audit)."""
    view = load_run_view(run)
    out = write_model_card(view)
    _log(view, out)
    return out


def _log(view: RunView, paths: dict[str, Path]) -> None:
    log_run_artifacts(
        str(view.info.get("mlflow_run_id") or view.run_id),
        list(paths.values()),
        artifact_path="explain",
    )

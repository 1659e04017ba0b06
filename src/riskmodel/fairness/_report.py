"""Writing ``fairness.html`` and ``fairness.json``: for any scored file, and for a trained run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.fairness._audit import audit_frame
from riskmodel.fairness._config import FairnessConfig
from riskmodel.fairness._summary import METRIC_NAMES, ratio_text
from riskmodel.models import Run, load_run

STEM = "fairness"
TEMPLATE = "fairness.html.j2"

ERR_EMPTY_FILE = "{path}: the file is empty (no header and no rows)"
ERR_RUN_COLUMNS = "{dir}: predictions.parquet lacks column(s) {cols} required by the audit"
ERR_NO_ATTRIBUTES = (
    "{dir}: none of the configured audit attributes ({attrs}) is a column of the predictions"
)

#: the truth columns of synthetic runs (docs/CONTRACTS.md)
TRUE_LABEL = "true_reoffend_12m"
TRUE_PROBABILITY = "p_reoffend_true"
SELECTED = "_fairness_selected"
ELIGIBLE = "_fairness_not_excluded"


def render_fairness(
    payload: dict[str, Any], out_dir: str | Path, **context: Any
) -> tuple[Path, Path]:
    """Draw the figures and write the report and its JSON twin into ``out_dir``."""
    from riskmodel import __version__
    from riskmodel.fairness import _figures as figs
    from riskmodel.notice import permitted_use_notice
    from riskmodel.reports import write_report

    band = tuple(payload["provenance"]["disparity_band"])
    attrs = list(payload["groups"])
    figures = {
        "forest": {a: figs.forest_plot(payload, a, band=band) for a in payload["disparities"]},
        "reliability": {a: figs.reliability_plot(payload, a) for a in attrs},
        "label_bias": figs.label_bias_plot(payload),
        "mitigation": figs.mitigation_plot(payload),
    }
    features = (payload.get("sensitive_inputs") or {}).get("features")
    notice = permitted_use_notice(features)
    payload = {"permitted_use": notice, **payload}
    return write_report(
        out_dir,
        STEM,
        TEMPLATE,
        payload,
        figures=figures,
        metric_names=METRIC_NAMES,
        band=band,
        ratio_text=ratio_text,
        version=__version__,
        notice=notice,
        **context,
    )


def _read_scores(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file of scores.

    CSV comment lines are honoured only at the top of the file (as ``riskmodel.data.write_csv``
    writes them): a ``#`` inside a field (``Poss Firearm W/Altered ID#`` in COMPAS) is data, and
    reading it as a comment would silently truncate the row.
    """
    from riskmodel.data import read_table

    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    if path.suffix.lower() not in {".csv", ".txt"}:
        return read_table(path)
    skip = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("#"):
                break
            skip += 1
    try:
        return pd.read_csv(path, skiprows=skip)
    except pd.errors.EmptyDataError:
        raise ValueError(ERR_EMPTY_FILE.format(path=path)) from None


def audit_scores(
    data_path: str | Path,
    *,
    score: str,
    label: str,
    groups: list[str] | tuple[str, ...],
    threshold: float,
    out_dir: str | Path,
    config: FairnessConfig | None = None,
) -> tuple[Path, Path]:
    """Audit an existing score in a CSV or Parquet file (a case is selected when score >= threshold).

    Returns the paths of ``fairness.html`` and ``fairness.json`` written into ``out_dir``.
    """
    path = Path(data_path)
    df = _read_scores(path)
    payload = audit_frame(
        df,
        score_col=score,
        label_col=label,
        group_cols=list(groups),
        threshold=threshold,
        config=config or FairnessConfig(),
        source=str(path),
    )
    return render_fairness(
        payload, out_dir, subject=f"score '{score}' in {path.name}", purpose_note=False
    )


# --- trained runs -------------------------------------------------------------------------------
@dataclass
class _RunData:
    dir: Path
    info: dict[str, Any]
    predictions: pd.DataFrame
    feature_spec: dict[str, Any]
    fairness: FairnessConfig | None
    eligibility: Any


def _read_run(run: str | Path | Run) -> _RunData:
    """What the audit reads from a trained run (loaded once by ``riskmodel.models.load_run``)."""
    r = load_run(run)
    return _RunData(
        dir=r.dir,
        info=r.info,
        predictions=r.predictions,
        feature_spec=r.feature_spec,
        fairness=r.experiment.fairness,
        eligibility=r.experiment.eligibility,
    )


def _places(frame: pd.DataFrame, rule: Any, info: dict[str, Any]) -> tuple[int | None, str]:
    """Programme places scaled to the audited rows, as ``riskmodel.evaluation.capacity_k`` does
    for the top-k metrics: ``capacity`` places serve one year's cohort of people."""
    from riskmodel.evaluation import capacity_k

    if rule.capacity is None:
        return None, ""
    split = (((info.get("config") or {}).get("train") or {}).get("split")) or {}
    people = frame["person_id"].nunique() if "person_id" in frame.columns else len(frame)
    years = (
        float(split.get("test_years") or 1.0)
        if split.get("method", "temporal") == "temporal"
        else 1.0
    )
    k = capacity_k(rule.capacity, n_rows=len(frame), cohort_people=people / years)
    how = (
        f"{rule.capacity:,} places a year for a cohort of {people / years:,.0f} people "
        f"({people:,} people over {years:g} test year(s)) give {k:,} places for these "
        f"{len(frame):,} index events"
    )
    return k, how


def deployed_rule(rule: Any, places: int | None) -> Any:
    """The eligibility rule with its capacities scaled to ``places`` (per-area ones pro rata)."""
    if places is None or rule.capacity is None:
        return rule
    f = places / rule.capacity
    update: dict[str, Any] = {"capacity": max(int(places), 1)}
    if rule.capacity_per_area is not None:
        update["capacity_per_area"] = {a: round(c * f) for a, c in rule.capacity_per_area.items()}
    if rule.area_capacity_default is not None:
        update["area_capacity_default"] = round(rule.area_capacity_default * f)
    return rule.model_copy(update=update)


def audited_selection(frame: pd.DataFrame, rule: Any) -> pd.DataFrame:
    """The eligibility rule applied exactly as scoring applies it (same function, same
    tie-breaks: calibrated probability, then the raw probability when present, then severe
    probability, then id): the rule's columns added to ``frame``."""
    from riskmodel.eligibility import apply_eligibility_rule

    work = frame
    if "person_id" not in work.columns:
        work = work.assign(person_id=pd.RangeIndex(len(work)).astype(str))
    tie = "p_reoffend_uncalibrated" if "p_reoffend_uncalibrated" in work.columns else None
    return apply_eligibility_rule(work, rule=rule, tie_break_col=tie)


def _selection(
    frame: pd.DataFrame, eligibility: Any, info: dict[str, Any]
) -> tuple[pd.Series, pd.Series, str, dict[str, Any]]:
    """Who the deployed rule lists on the test period (capacity scaled, severe exclusion, the
    scoring tie-breaks), who it could list at all, the rule in words, and the rule as audited."""
    places, how = _places(frame, eligibility, info)
    rule = deployed_rule(eligibility, places)
    ruled = audited_selection(frame, rule)
    thr = (
        f"a reoffending probability of at least {rule.reoffend_threshold:g} and "
        if rule.reoffend_threshold is not None
        else ""
    )
    if places is not None:
        text = (
            f"the deployed eligibility rule: the {places:,} highest reoffending probabilities "
            f"among index events with {thr}a severe-harm probability below "
            f"{rule.severe_threshold:g} ({how}); ties broken as scoring breaks them"
        )
    else:
        text = (
            f"the deployed eligibility rule (no capacity): every index event with {thr}a "
            f"severe-harm probability below {rule.severe_threshold:g}"
        )
    audited = {
        "rule": rule.model_dump(mode="json"),
        "capacity_per_year": eligibility.capacity,
        "places_in_test_period": places,
        "scaling": how,
        "n_listed": int(ruled["eligible"].sum()),
        "n_excluded_high_harm": int(ruled["excluded_high_harm"].sum()),
        "tie_break": "p_reoffend, p_reoffend_uncalibrated, p_severe (lowest first), person_id",
    }
    return (
        ruled["eligible"].astype(bool),
        ~ruled["excluded_high_harm"].astype(bool),
        text,
        audited,
    )


#: the equal-recording counterfactual columns of synthetic runs (features stage)
EQUAL_LABEL = "equal_recording_reoffend_12m"
RECORDED_INCIDENTS = "recorded_incidents_12m"
EQUAL_INCIDENTS = "equal_recording_incidents_12m"


def _audit_predictions(
    rd: _RunData, cfg: FairnessConfig, *, light: bool = False
) -> tuple[dict[str, Any], pd.DataFrame]:
    pred = rd.predictions
    missing = [c for c in ("p_reoffend", "p_severe", "reoffend_12m") if c not in pred.columns]
    if missing:
        raise ValueError(ERR_RUN_COLUMNS.format(dir=rd.dir, cols=", ".join(missing)))
    attrs = [a for a in cfg.attributes if a in pred.columns]
    if not attrs:
        raise ValueError(ERR_NO_ATTRIBUTES.format(dir=rd.dir, attrs=", ".join(cfg.attributes)))
    selected, not_excluded, rule_text, audited = _selection(pred, rd.eligibility, rd.info)
    frame = pred.assign(**{SELECTED: selected.to_numpy(), ELIGIBLE: not_excluded.to_numpy()})
    features = [f for f in rd.feature_spec.get("features", []) if f in pred.columns]
    cf = all(c in pred.columns for c in (EQUAL_LABEL, RECORDED_INCIDENTS, EQUAL_INCIDENTS))
    columns: dict[str, Any] = {
        "selected_col": SELECTED,
        "person_col": "person_id" if "person_id" in pred.columns else None,
        "eligible_col": ELIGIBLE,
        "source": f"run {rd.info.get('run_id', rd.dir.name)} (test period)",
        "rule_text": rule_text,
    }
    if not light:
        columns.update(
            features=features or None,
            equal_label_col=EQUAL_LABEL if cf else None,
            recorded_incidents_col=RECORDED_INCIDENTS if cf else None,
            equal_incidents_col=EQUAL_INCIDENTS if cf else None,
            truth_label_col=TRUE_LABEL if TRUE_LABEL in pred.columns else None,
            truth_score_col=TRUE_PROBABILITY if TRUE_PROBABILITY in pred.columns else None,
        )
    if light:
        cfg = cfg.model_copy(update={"mitigation": False, "intersections": ()})
    payload = audit_frame(
        frame,
        score_col="p_reoffend",
        label_col="reoffend_12m",
        group_cols=attrs,
        config=cfg,
        **columns,
    )
    payload["audited_rule"] = audited
    return payload, frame


#: metrics compared side by side with and without the sensitive inputs
COMPARED = ("selection_rate", "fpr", "fnr", "ppv")


def _with_without(
    payload: dict[str, Any],
    frame: pd.DataFrame,
    companion: _RunData,
    cfg: FairnessConfig,
    features: list[str],
) -> dict[str, Any]:
    """Performance and disparities of the run and of its companion trained without the
    sensitive inputs, on the same index events, each under its own deployed decision."""
    from riskmodel.evaluation import ModelScores, evaluate_head, verdict
    from riskmodel.notice import sensitive_inputs
    from riskmodel.provenance import rng

    comp_payload, comp_frame = _audit_predictions(companion, cfg, light=True)
    key = "index_event_id" if "index_event_id" in frame.columns else None
    if key is None or key not in comp_frame.columns:
        return {"available": False, "reason": "the runs' predictions have no index_event_id"}
    a = frame.set_index(key)
    b = comp_frame.set_index(key).reindex(a.index)
    if b["p_reoffend"].isna().any():
        return {
            "available": False,
            "reason": "the companion run was not scored on the same test index events",
        }
    y = a["reoffend_12m"].astype(bool).to_numpy().astype(int)
    k = int(payload["data"]["n_selected"]) or 1
    models = {
        "model": ModelScores(a["p_reoffend"].to_numpy(float), a["p_reoffend"].to_numpy(float)),
        "without": ModelScores(b["p_reoffend"].to_numpy(float), b["p_reoffend"].to_numpy(float)),
    }
    res = evaluate_head(
        y,
        models,
        k=k,
        threshold=None,
        n_boot=cfg.n_boot,
        ci_level=cfg.ci_level,
        generator=rng(cfg.seed, "fairness.with_without"),
        unit="person" if "person_id" in a.columns else "row",
        groups=a["person_id"].to_numpy() if "person_id" in a.columns else None,
        gains_vs=("without",),
    )
    from riskmodel.evaluation import HIGHER_IS_BETTER

    performance = {}
    for m in ("auc", "average_precision", "brier"):
        lo, hi = (res.get(f"{m}_gain_ci", {}).get("without") or [None, None])[:2]
        performance[m] = {
            "with": res[m]["model"],
            "with_ci": res.get(f"{m}_ci", {}).get("model"),
            "without": res[m]["without"],
            "without_ci": res.get(f"{m}_ci", {}).get("without"),
            "difference": res.get(f"{m}_gain", {}).get("without"),
            "difference_ci": [lo, hi],
            "verdict": verdict(lo, hi, higher_is_better=HIGHER_IS_BETTER[m]),
        }
    sel_a, sel_b = a[SELECTED].to_numpy(bool), b[SELECTED].to_numpy(bool)
    listed = {
        "with": {
            "n": int(sel_a.sum()),
            "precision": float(y[sel_a].mean()) if sel_a.any() else None,
        },
        "without": {
            "n": int(sel_b.sum()),
            "precision": float(y[sel_b].mean()) if sel_b.any() else None,
        },
        "both": int((sel_a & sel_b).sum()),
    }
    disp = {}
    for attr, groups in payload["groups"].items():
        if attr not in comp_payload["disparities"]:
            continue
        rows = {}
        for g in groups:
            rows[g] = {
                m: {
                    "with": payload["disparities"][attr].get(g, {}).get(m),
                    "without": comp_payload["disparities"][attr].get(g, {}).get(m),
                }
                for m in COMPARED
            }
        disp[attr] = {"reference": payload["reference_groups"][attr], "groups": rows}
    return {
        "available": True,
        "companion_run": companion.info.get("run_id", companion.dir.name),
        "companion_sensitive_inputs": sensitive_inputs(companion.feature_spec.get("features", [])),
        "performance": performance,
        "listed": listed,
        "disparities": disp,
        "note": (
            "Both models are scored on the same test index events and each is put through its "
            "own deployed decision (same rule, same places). Differences in performance are "
            "paired bootstrap intervals over people, worded by the one verdict rule."
        ),
    }


def audit_run(
    run: str | Path | Run,
    *,
    config: FairnessConfig | None = None,
    companion: str | Path | Run | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Fairness audit of a trained run's test period; writes ``fairness.html/.json`` into the run.

    Selection is the run's deployed eligibility rule (capacity scaled to the test period, severe
    exclusion, scoring's tie-breaks); audit attributes are the configured ones present in the
    predictions; people are the bootstrap unit; the proxy check uses the model's input features;
    the label-bias audit runs when the run carries the world's equal-recording counterfactual.
    ``companion`` is a run trained without the sensitive inputs (age, health flags): performance
    and disparities are then shown side by side with and without them. ``overrides`` change
    settings of the run's own fairness config (refresh's window audits: no mitigation options,
    no proxy check).
    """
    from riskmodel.notice import sensitive_input_statement, sensitive_inputs

    rd = _read_run(run)
    cfg = config or rd.fairness or FairnessConfig()
    if overrides:
        cfg = FairnessConfig.model_validate({**cfg.model_dump(), **overrides})
    payload, frame = _audit_predictions(rd, cfg)
    features = list(rd.feature_spec.get("features", []))
    payload["sensitive_inputs"] = {
        "features": features or None,
        "used": sensitive_inputs(features) if features else None,
        "statement": sensitive_input_statement(features or None),
        "comparison": (
            _with_without(payload, frame, _read_run(companion), cfg, features)
            if companion is not None
            else {
                "available": False,
                "reason": "no companion run without the sensitive inputs was given "
                "(`riskmodel audit --run R --without-sensitive R2`; `make run` trains one)",
            }
        ),
    }
    payload["provenance"]["run"] = {
        k: rd.info.get(k)
        for k in (
            "run_id",
            "experiment",
            "seed",
            "data_fingerprint",
            "git_commit",
            "bundle_manifest_sha256",
            "source",
        )
    }
    payload["provenance"]["eligibility"] = rd.eligibility.model_dump(mode="json")
    return render_fairness(
        payload, rd.dir, subject=f"run {rd.info.get('run_id', rd.dir.name)}", purpose_note=True
    )

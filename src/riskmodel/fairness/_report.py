"""Writing ``fairness.html`` and ``fairness.json``: for any scored file, and for a trained run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.fairness._audit import audit_frame
from riskmodel.fairness._config import FairnessConfig
from riskmodel.fairness._summary import METRIC_NAMES
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
    from riskmodel.reports import write_report

    band = tuple(payload["provenance"]["disparity_band"])
    attrs = list(payload["groups"])
    figures = {
        "forest": {a: figs.forest_plot(payload, a, band=band) for a in payload["disparities"]},
        "reliability": {a: figs.reliability_plot(payload, a) for a in attrs},
        "label_bias": figs.label_bias_plot(payload),
        "mitigation": figs.mitigation_plot(payload),
    }
    return write_report(
        out_dir,
        STEM,
        TEMPLATE,
        payload,
        figures=figures,
        metric_names=METRIC_NAMES,
        band=band,
        version=__version__,
        **context,
    )


def _read_scores(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file of scores.

    CSV comment lines are honoured only at the top of the file (as ``riskmodel.data.write_csv``
    writes them): a ``#`` inside a field (``Poss Firearm W/Altered ID#`` in COMPAS) is data, and
    reading it as a comment would silently truncate the row.
    """
    from riskmodel.data import read_table

    try:
        return read_table(path)
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


def _selection(frame: pd.DataFrame, eligibility: Any) -> tuple[pd.Series, pd.Series, str]:
    """Who the rule selects on the test period, and who it could select at all.

    The scoring stage's ``apply_eligibility_rule`` is applied without its capacities when a
    reoffending threshold is set: capacities ration one batch's list, while the test period spans
    many batches, so the threshold rule is what the audit can measure. With no threshold the
    capacity is the rule and is kept.
    """
    from riskmodel.eligibility import apply_eligibility_rule

    rule = eligibility
    if rule.reoffend_threshold is not None:
        rule = rule.model_copy(
            update={"capacity": None, "capacity_per_area": None, "area_capacity_default": None}
        )
        text = (
            f"on the list when the reoffending probability is at least "
            f"{rule.reoffend_threshold:g} and the severe-harm probability is below "
            f"{rule.severe_threshold:g}"
        )
    else:
        text = (
            f"on the list when among the {rule.capacity} highest reoffending probabilities with "
            f"a severe-harm probability below {rule.severe_threshold:g}"
        )
    work = frame
    if "person_id" not in work.columns:
        work = work.assign(person_id=pd.RangeIndex(len(work)).astype(str))
    ruled = apply_eligibility_rule(work, rule=rule)
    return ruled["eligible"].astype(bool), ~ruled["excluded_high_harm"].astype(bool), text


def audit_run(run: str | Path | Run, *, config: FairnessConfig | None = None) -> tuple[Path, Path]:
    """Fairness audit of a trained run's test period; writes ``fairness.html/.json`` into the run.

    Selection is the experiment's eligibility rule; audit attributes are the configured ones
    present in the predictions; the proxy check uses the model's input features from the spec;
    the label-bias audit runs when the run carries the world's truth columns.
    """
    rd = _read_run(run)
    cfg = config or rd.fairness or FairnessConfig()
    pred = rd.predictions
    missing = [c for c in ("p_reoffend", "p_severe", "reoffend_12m") if c not in pred.columns]
    if missing:
        raise ValueError(ERR_RUN_COLUMNS.format(dir=rd.dir, cols=", ".join(missing)))
    attrs = [a for a in cfg.attributes if a in pred.columns]
    if not attrs:
        raise ValueError(ERR_NO_ATTRIBUTES.format(dir=rd.dir, attrs=", ".join(cfg.attributes)))
    selected, not_excluded, rule_text = _selection(pred, rd.eligibility)
    frame = pred.assign(**{SELECTED: selected.to_numpy(), ELIGIBLE: not_excluded.to_numpy()})
    features = [f for f in rd.feature_spec.get("features", []) if f in pred.columns]
    truth = TRUE_LABEL if TRUE_LABEL in pred.columns else None
    payload = audit_frame(
        frame,
        score_col="p_reoffend",
        label_col="reoffend_12m",
        group_cols=attrs,
        selected_col=SELECTED,
        truth_label_col=truth,
        truth_score_col=TRUE_PROBABILITY if truth and TRUE_PROBABILITY in pred.columns else None,
        eligible_col=ELIGIBLE,
        features=features or None,
        config=cfg,
        source=f"run {rd.info.get('run_id', rd.dir.name)} (test period)",
        rule_text=rule_text,
    )
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

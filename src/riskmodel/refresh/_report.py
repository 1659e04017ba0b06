"""``promotion.html`` / ``promotion.json``: each gate, its threshold, the measured value with its
interval and the decision, for the panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskmodel.notice import permitted_use_notice, sensitive_input_statement, sensitive_inputs
from riskmodel.refresh._config import RefreshConfig


def sensitive_note(features: dict[str, list[str]] | None) -> str:
    """The sensitive inputs of the model that would score people (the challenger), in the
    notice's words, and the champion's when they differ."""
    if not features:
        return sensitive_input_statement(None)
    new = features.get("challenger") or []
    out = "Challenger: " + sensitive_input_statement(new)
    old = features.get("champion") or []
    if sensitive_inputs(old) != sensitive_inputs(new):
        out += " Champion: " + sensitive_input_statement(old)
    return out


def decision_sentence(res: Any) -> str:
    failed = [g.name for g in res.gates if not g.passed]
    if res.challenger_run is None:
        return (
            "No challenger was trained: the new training data failed the data contracts. The "
            "champion stays in place."
        )
    if res.promoted and res.forced:
        return (
            f"The challenger was promoted BY FORCE although gate(s) {', '.join(failed)} failed; the "
            "reason is recorded in the audit log."
        )
    if res.promoted:
        return "Every gate passed: the challenger is now the champion (the old champion is `previous`)."
    if not failed:
        return "Every gate passed, but this was a dry run: the aliases were not moved."
    return (
        f"Blocked by gate(s) {', '.join(failed)}: the champion stays in place and the challenger "
        "keeps the `challenger` alias for inspection."
    )


def promotion_payload(
    res: Any, *, measures: dict[str, Any], config: RefreshConfig, experiment: Any
) -> dict[str, Any]:
    return {
        "as_of": res.as_of.isoformat(),
        "champion_run": res.champion_run,
        "challenger_run": res.challenger_run,
        "passed": res.passed and res.challenger_run is not None,
        "promoted": res.promoted,
        "forced": res.forced,
        "decision": decision_sentence(res),
        "gates": [g.to_dict() for g in res.gates],
        "window": measures.get("window"),
        "training_rows": measures.get("training_rows"),
        "fairness_files": measures.get("fairness_files"),
        "fairness_links": measures.get("fairness_links"),
        "champion_audited_beside_training": measures.get("champion_audited_beside_training"),
        "audit_entry_hash": (res.audit_entry or {}).get("hash"),
        "thresholds": config.model_dump(mode="json"),
        "experiment": getattr(experiment, "name", None),
        "timings_s": res.timings,
        "sensitive_inputs": sensitive_note(measures.get("features")),
        # the notice names the sensitive inputs of the model that would score people
        "permitted_use": permitted_use_notice(
            (measures.get("features") or {}).get("challenger") or None
        ),
    }


def write_promotion_report(
    res: Any, *, measures: dict[str, Any], config: RefreshConfig, experiment: Any
) -> tuple[Path, Path]:
    """Write ``promotion.html`` and ``promotion.json`` into ``res.report_dir`` (and a copy into
    the challenger's run directory when there is one)."""
    import shutil

    import riskmodel
    from riskmodel.paths import reports_dir
    from riskmodel.reports import write_report

    payload = promotion_payload(res, measures=measures, config=config, experiment=experiment)
    html, js = write_report(
        res.report_dir,
        "promotion",
        "promotion.html.j2",
        payload,
        version=riskmodel.__version__,
        notice=payload["permitted_use"],
    )
    if res.challenger_run:
        run_dir = reports_dir() / res.challenger_run
        if run_dir.exists():
            shutil.copy2(html, run_dir / "promotion.html")
            shutil.copy2(js, run_dir / "promotion.json")
    return html, js


__all__ = ["decision_sentence", "promotion_payload", "write_promotion_report"]

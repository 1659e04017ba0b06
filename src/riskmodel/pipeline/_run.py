"""Run every stage in order on one experiment file."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from riskmodel.notice import PERMITTED_PURPOSE

STEPS = (
    "train (world, features, both heads, baselines, MLflow)",
    "promote the run to champion",
    "fairness audit",
    "explanations and model card",
    "score the latest cohort into an eligibility list",
    "index of the run's reports and the panel pack (PDF)",
)


@dataclass
class PipelineResult:
    run_id: str
    run_dir: Path
    eligibility_dir: Path | None
    outputs: dict[str, Path] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _latest_scoring_date(world_dir: Path) -> date:
    """The world's last day: the cohort a coordinator would be handed today."""
    import json

    manifest = json.loads((world_dir / "manifest.json").read_text())
    return date.fromisoformat(str(manifest["end_date"]))


def run_pipeline(
    experiment_path: str | Path,
    *,
    out_root: Path | None = None,
    step: Callable[[str], None] | None = None,
    user: str | None = None,
) -> PipelineResult:
    """Run the whole default job for one experiment; returns where everything landed."""
    from riskmodel.explain import explain_run
    from riskmodel.fairness import audit_run
    from riskmodel.models import load_run, promote, train_experiment
    from riskmodel.paths import reports_dir
    from riskmodel.scoring import score_cohort

    say = step or (lambda _msg: None)
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        say(name)
        t0 = time.perf_counter()
        out = fn()
        timings[name] = round(time.perf_counter() - t0, 1)
        return out

    trained = timed(STEPS[0], lambda: train_experiment(experiment_path))
    run_id = trained.run_id
    timed(STEPS[1], lambda: promote(run_id))
    fairness_html, fairness_json = timed(STEPS[2], lambda: audit_run(run_id))
    explained = timed(STEPS[3], lambda: explain_run(run_id))

    run = load_run(run_id)
    outputs: dict[str, Path] = {
        "training report": trained.run_dir / "report.html",
        "metrics": trained.run_dir / "metrics.json",
        "fairness report": Path(fairness_html),
        **{k: Path(v) for k, v in explained.items()},
    }
    eligibility_dir = None
    world_dir = run.info.get("world_dir")
    if world_dir:
        as_of = _latest_scoring_date(Path(world_dir))
        eligibility_dir = (
            (out_root or reports_dir()) / "eligibility" / f"{run_id}_{as_of.isoformat()}"
        )
        scored = timed(
            STEPS[4],
            lambda: score_cohort(
                model="models:/riskmodel-reoffend@champion",
                cohort=Path(world_dir),
                purpose=PERMITTED_PURPOSE,
                capacity=run.experiment.eligibility.capacity,
                out_dir=eligibility_dir,
                as_of=as_of,
                rule=run.experiment.eligibility,
                user=user,
            ),
        )
        outputs["eligibility list"] = eligibility_dir / "eligibility_list.csv"
        outputs["eligibility summary"] = eligibility_dir / "summary.html"
        headline_counts = getattr(scored, "counts", None)
    else:
        headline_counts = None

    from riskmodel.reports._pack import write_run_index

    front = timed(
        STEPS[5],
        lambda: write_run_index(
            trained.run_dir,
            summary_html=outputs.get("eligibility summary"),
            pdf=True,
        ),
    )
    outputs["index"] = front.index
    if front.pack_pdf is not None:
        outputs["panel pack"] = front.pack_pdf

    m = trained.metrics
    headline = {
        k: m.get(k)
        for k in (
            "test.reoffend.auc.model",
            "test.reoffend.auc.rfg",
            "test.reoffend.auc.logistic",
            "test.reoffend.auc.oracle",
            "test.reoffend.ece.model",
            "test.severe.auc.model",
        )
        if k in m
    }
    if headline_counts:
        headline["eligibility.counts"] = headline_counts
    if front.warnings:  # e.g. no Chromium: the PDF was skipped, said here rather than hidden
        headline["warnings"] = " ".join(front.warnings)
    return PipelineResult(run_id, trained.run_dir, eligibility_dir, outputs, headline, timings)

"""Run every stage in order on one experiment file."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from riskmodel.experiment import load_experiment
from riskmodel.explain import explain_run
from riskmodel.fairness import audit_run
from riskmodel.models import (
    CHAMPION,
    REGISTERED_NAMES,
    ensure_world,
    load_run,
    prepare_data,
    promote,
    train_experiment,
    train_table,
)
from riskmodel.notice import PERMITTED_PURPOSE
from riskmodel.paths import reports_dir
from riskmodel.scoring import score_cohort
from riskmodel.synth import verify_world

STEPS = (
    "world and features",
    "train (both heads, baselines, MLflow); the companion without the sensitive inputs "
    "(age, health flags) trains beside it in a second process",
    "promote the run to champion",
    "fairness audit",
    "explanations and model card",
    "score the latest cohort into an eligibility list",
    "index of the run's reports and the panel pack (PDF)",
)
STEPS_COUNT = len(STEPS)

#: the figures the pipeline prints at the end (keys of metrics.json)
HEADLINE = (
    "test.reoffend.auc.model",
    "test.reoffend.auc.rfg",
    "test.reoffend.auc.logistic",
    "test.reoffend.auc.oracle",
    "test.reoffend.ece.model",
    "test.severe.auc.model",
)


#: an experiment ``X.yaml`` with a sibling ``X_no_sensitive.yaml`` also trains that companion, so
#: the fairness report shows performance and disparities with and without the sensitive inputs
COMPANION_SUFFIX = "_no_sensitive"


def companion_experiment(experiment_path: str | Path) -> Path | None:
    """The experiment's companion without sensitive inputs, when one sits beside it."""
    p = Path(experiment_path)
    cand = p.with_name(f"{p.stem}{COMPANION_SUFFIX}{p.suffix}")
    return cand if cand.exists() and not p.stem.endswith(COMPANION_SUFFIX) else None


@dataclass
class PipelineResult:
    run_id: str
    run_dir: Path
    eligibility_dir: Path | None
    outputs: dict[str, Path] = field(default_factory=dict)
    headline: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def _latest_scoring_date(world_dir: Path) -> date:
    """The world's last day: the cohort a coordinator would be handed today. The world is read
    through its door: every file is checked against the manifest before it is scored."""
    manifest = verify_world(world_dir)
    return date.fromisoformat(str(manifest["end_date"]))


def _train_companion(path: str) -> str:
    """The companion's run id (run in a child process: LightGBM uses one thread per model, so
    the two trainings fill the two cores; MLflow's SQLite store waits for the other's writes)."""
    return train_experiment(path).run_id


def _companion_pool(comp_path: Path | None) -> Any:
    """A one-process pool for the companion (a null context when there is none)."""
    if comp_path is None:
        return contextlib.nullcontext()
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))


def run_pipeline(
    experiment_path: str | Path,
    *,
    out_root: Path | None = None,
    step: Callable[[str], None] | None = None,
    user: str | None = None,
) -> PipelineResult:
    """Run the whole default job for one experiment; returns where everything landed.

    The trained run is loaded once (bundle verified, experiment validated) and handed to every
    later step, so each reads its settings (``fairness``, ``explain.sample``, ``eligibility``)
    from the experiment the run was trained with.
    """
    say = step or (lambda _msg: None)
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        say(name)
        t0 = time.perf_counter()
        out = fn()
        timings[name] = round(time.perf_counter() - t0, 1)
        return out

    experiment = load_experiment(experiment_path)
    comp_path = companion_experiment(experiment_path)
    with _companion_pool(comp_path) as pool:

        def world_and_features() -> tuple[Any, Any]:
            # the world first (its blocks on every core), then the companion starts in its own
            # process: it reuses this world and builds its own features while this run builds
            # its features and trains. Neither run's figures depend on the other.
            ensure_world(experiment, workers=os.cpu_count() or 1)
            pending = pool.submit(_train_companion, str(comp_path)) if comp_path else None
            return prepare_data(experiment), pending

        data, pending = timed(STEPS[0], world_and_features)

        def train_both() -> tuple[Any, str | None]:
            trained = train_table(data, experiment, experiment_file=experiment_path)
            return trained, (pending.result() if pending is not None else None)

        trained, companion = timed(STEPS[1], train_both)
    run = load_run(trained.run_dir)
    timed(STEPS[2], lambda: promote(run))
    fairness_html, fairness_json = timed(STEPS[3], lambda: audit_run(run, companion=companion))
    explained = timed(STEPS[4], lambda: explain_run(run, sample=run.experiment.explain.sample))

    outputs: dict[str, Path] = {
        "training report": run.dir / "report.html",
        "metrics": run.dir / "metrics.json",
        "fairness report": Path(fairness_html),
        **{k: Path(v) for k, v in explained.items()},
    }
    eligibility_dir = None
    headline_counts = None
    if run.world_dir is not None:
        world_dir = run.world_dir
        as_of = _latest_scoring_date(world_dir)
        eligibility_dir = (
            (out_root or reports_dir()) / "eligibility" / f"{run.id}_{as_of.isoformat()}"
        )
        scored = timed(
            STEPS[5],
            lambda: score_cohort(
                model=f"models:/{REGISTERED_NAMES['reoffend']}@{CHAMPION}",
                cohort=world_dir,
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

    from riskmodel.pipeline._pack import write_run_index

    front = timed(
        STEPS[6],
        lambda: write_run_index(
            run.dir,
            summary_html=outputs.get("eligibility summary"),
            pdf=True,
        ),
    )
    outputs["index"] = front.index
    if front.pack_pdf is not None:
        outputs["panel pack"] = front.pack_pdf

    m = trained.metrics
    headline = {k: m[k] for k in HEADLINE if k in m}
    if headline_counts:
        headline["eligibility.counts"] = headline_counts
    if front.warnings:  # e.g. no Chromium: the PDF was skipped, said here rather than hidden
        headline["warnings"] = " ".join(front.warnings)
    return PipelineResult(run.id, run.dir, eligibility_dir, outputs, headline, timings)

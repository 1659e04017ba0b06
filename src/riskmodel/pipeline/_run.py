"""Run every stage in order on one experiment file."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from riskmodel.experiment import load_experiment
from riskmodel.explain import explain_run, write_run_card
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
    "fairness audit; the explanations and the eligibility list are made beside it in a second "
    "process",
    "model card, transparency record and datasheet (they quote the audit)",
    "index of the run's reports and the panel pack (PDF)",
)
#: what the second process does while the audit runs (timed there, reported with the steps)
SIDE_STEPS = (
    "beside the audit: explanations",
    "beside the audit: score the latest cohort into an eligibility list",
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
    #: inside the steps: where their time went (world vs features, training vs waiting for the
    #: companion), for whoever tunes the run
    detail_seconds: dict[str, float] = field(default_factory=dict)


def _latest_scoring_date(world_dir: Path) -> date:
    """The world's last day: the cohort a coordinator would be handed today. The world is read
    through its door: every file is checked against the manifest before it is scored."""
    manifest = verify_world(world_dir)
    return date.fromisoformat(str(manifest["end_date"]))


def _train_companion(path: str) -> str:
    """The companion's run id (run in a child process: LightGBM uses one thread per model, so
    the two trainings fill the two cores; MLflow's SQLite store waits for the other's writes)."""
    return train_experiment(path).run_id


def _second_process() -> Any:
    """One spawned worker process: it trains the companion beside this run's training, then
    explains the run and scores the eligibility list beside the fairness audit. A process, not a
    thread: each of these holds the GIL for much of its work, and pyplot is not thread-safe."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))


@dataclass(frozen=True)
class _SideJob:
    """What the second process needs to explain and score a run (plain values: it is pickled)."""

    run_dir: str
    sample: int
    eligibility_dir: str | None
    as_of: date | None
    user: str | None


def _explain_and_score(job: _SideJob) -> dict[str, Any]:
    """Explain the run (without the card, which waits for the audit) and score its world's
    latest cohort; paths, the list's counts and each part's seconds."""
    run = load_run(Path(job.run_dir))
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    explained = explain_run(run, sample=job.sample, model_card=False)
    seconds[SIDE_STEPS[0]] = round(time.perf_counter() - t0, 1)
    counts = None
    if job.eligibility_dir is not None and run.world_dir is not None:
        t0 = time.perf_counter()
        scored = score_cohort(
            model=f"models:/{REGISTERED_NAMES['reoffend']}@{CHAMPION}",
            cohort=run.world_dir,
            purpose=PERMITTED_PURPOSE,
            capacity=run.experiment.eligibility.capacity,
            out_dir=job.eligibility_dir,
            as_of=job.as_of,
            rule=run.experiment.eligibility,
            user=job.user,
        )
        counts = getattr(scored, "counts", None)
        seconds[SIDE_STEPS[1]] = round(time.perf_counter() - t0, 1)
    return {
        "explained": {k: str(v) for k, v in explained.items()},
        "counts": counts,
        "seconds": seconds,
    }


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
    detail: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        now = time.perf_counter()
        detail[name] = round(now - t0, 1)
        return now

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        say(name)
        t0 = time.perf_counter()
        out = fn()
        timings[name] = round(time.perf_counter() - t0, 1)
        return out

    experiment = load_experiment(experiment_path)
    comp_path = companion_experiment(experiment_path)
    with _second_process() as pool:

        def world_and_features() -> tuple[Any, Any]:
            # the world first (its blocks on every core), then the companion starts in the
            # second process: it reuses this world and builds its own features while this run
            # builds its features and trains. Neither run's figures depend on the other.
            t0 = time.perf_counter()
            ensure_world(experiment, workers=os.cpu_count() or 1)
            t0 = lap("world", t0)
            pending = pool.submit(_train_companion, str(comp_path)) if comp_path else None
            prepared = prepare_data(experiment)
            lap("features", t0)
            return prepared, pending

        data, pending = timed(STEPS[0], world_and_features)

        def train_both() -> tuple[Any, str | None]:
            t0 = time.perf_counter()
            trained = train_table(data, experiment, experiment_file=experiment_path)
            t0 = lap("training", t0)
            comp = pending.result() if pending is not None else None
            lap("then waiting for the companion", t0)
            return trained, comp

        trained, companion = timed(STEPS[1], train_both)
        run = load_run(trained.run_dir)
        timed(STEPS[2], lambda: promote(run))

        eligibility_dir = as_of = None
        if run.world_dir is not None:
            as_of = _latest_scoring_date(run.world_dir)
            eligibility_dir = (
                (out_root or reports_dir()) / "eligibility" / f"{run.id}_{as_of.isoformat()}"
            )
        # the explanations and the list only read the trained, promoted run: they are made in
        # the second process while this one audits (the audit is the longest step)
        side = pool.submit(
            _explain_and_score,
            _SideJob(
                run_dir=str(run.dir),
                sample=run.experiment.explain.sample,
                eligibility_dir=None if eligibility_dir is None else str(eligibility_dir),
                as_of=as_of,
                user=user,
            ),
        )

        def audit_beside() -> tuple[Any, dict[str, Any]]:
            t0 = time.perf_counter()
            audited = audit_run(run, companion=companion)
            t0 = lap("fairness audit", t0)
            made = side.result()
            lap("then waiting for the explanations and the list", t0)
            return audited, made

        (fairness_html, _), made = timed(STEPS[3], audit_beside)
    timings.update(made["seconds"])
    card = timed(STEPS[4], lambda: write_run_card(run))

    outputs: dict[str, Path] = {
        "training report": run.dir / "report.html",
        "metrics": run.dir / "metrics.json",
        "fairness report": Path(fairness_html),
        **{k: Path(v) for k, v in made["explained"].items()},
        **card,
    }
    headline_counts = made["counts"]
    if eligibility_dir is not None:
        outputs["eligibility list"] = eligibility_dir / "eligibility_list.csv"
        outputs["eligibility summary"] = eligibility_dir / "summary.html"

    from riskmodel.pipeline._pack import write_run_index

    front = timed(
        STEPS[5],
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
    return PipelineResult(run.id, run.dir, eligibility_dir, outputs, headline, timings, detail)

"""What limits a trained run: the ceiling of the records, learning curves and (optionally) tuning.

``run_limits(run)`` is the library face of ``riskmodel limits --run ID``. It writes
``reports/<run>/limits.html`` and its JSON twin ``limits.json``, and returns the result with the
stable ``metrics.json`` keys it proposes (``result["metrics"]``: ``test.<head>.auc.ceiling``,
``test.<head>.information_gap``, ``test.<head>.learning_gap``, ... each with ``_ci``), which the
pipeline can merge into the run's ``metrics.json`` (``merge_limits_metrics``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.models._bundle import HEADS
from riskmodel.models._ceiling import ceiling_gaps, fit_ceiling, gap_metrics
from riskmodel.models._heads import HEAD_TRUTH

DEFAULT_SCALE_FACTOR = 2.0
DEFAULT_WINDOW_YEARS = 3.0
WORLD_SEED_OFFSET = (
    1  # the ceiling's world: the experiment world's seed + 1 (never the same people)
)
HEAD_WORDS = {
    "reoffend": "a new recorded DA offence within 12 months",
    "severe": "a severe recorded DA offence within 12 months",
}

ERR_EXTERNAL = (
    "run {run}: trained on an external table ({source}); the ceiling of the records needs a "
    "synthetic world that knows each person's true probability"
)

Progress = Callable[[str], None]


def ceiling_experiment(experiment: Any, *, scale_factor: float, world_seed: int | None = None):
    """The experiment's world config with more people and another seed (the ceiling's world)."""
    from riskmodel.synth import load_world_config

    if world_seed is None:
        base = experiment.world_seed
        if base is None:
            base = load_world_config(experiment.world).seed
        world_seed = int(base) + WORLD_SEED_OFFSET
    return experiment.model_copy(
        update={"scale": experiment.scale * scale_factor, "world_seed": world_seed}
    )


def _window(frame: pd.DataFrame, end: str, years: float) -> pd.DataFrame:
    d = pd.to_datetime(frame["index_date"])
    stop = pd.Timestamp(end)
    start = stop - pd.Timedelta(days=round(years * 365.25))
    return frame[(d > start) & (d <= stop)]


def _baseline_col(name: str, head: str) -> str:
    return f"score_{name}" if head == "reoffend" else f"score_{name}_severe"


def run_ceiling(
    run: Any,
    *,
    scale_factor: float = DEFAULT_SCALE_FACTOR,
    window_years: float = DEFAULT_WINDOW_YEARS,
    world_seed: int | None = None,
    n_boot: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Model, ceiling (all features and age + priors only) and oracle on the run's test rows."""
    from threadpoolctl import threadpool_limits

    from riskmodel.models._data import prepare_data

    say = progress or (lambda _msg: None)
    exp = run.experiment
    if exp.world is None:
        raise ValueError(ERR_EXTERNAL.format(run=run.id, source=run.info.get("source")))
    big_exp = ceiling_experiment(exp, scale_factor=scale_factor, world_seed=world_seed)
    t0 = time.perf_counter()
    big = prepare_data(big_exp, progress=say)
    t_world = time.perf_counter() - t0
    end = run.metrics.get("split.test_end") or str(pd.to_datetime(big.frame["index_date"]).max())
    rows = _window(big.frame, end, window_years).reset_index(drop=True)
    test = run.predictions
    features = list(run.bundle.feature_names)
    levels = dict(run.bundle.categorical_levels)
    two = list(exp.train.baselines.age_priors_features)
    n_boot = exp.evaluation.n_boot if n_boot is None else n_boot
    heads: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    t0 = time.perf_counter()
    with threadpool_limits(limits=exp.train.num_threads):
        for head in HEADS:
            target = HEAD_TRUTH[head]
            say(f"ceiling: fitting E[{target} | all {len(features)} features]")
            full = fit_ceiling(
                rows, features, levels, target, seed=exp.seed, num_threads=exp.train.num_threads
            )
            say(f"ceiling: fitting E[{target} | {', '.join(two)}]")
            small = fit_ceiling(
                rows, two, {}, target, seed=exp.seed, num_threads=exp.train.num_threads
            )
            baselines = {
                name: test[_baseline_col(name, head)].to_numpy(dtype=float)
                for name in ("logistic", "logistic_age_priors", "rfg")
                if _baseline_col(name, head) in test.columns
            }
            say(f"ceiling: {head} head, {n_boot} person-level bootstrap replicates")
            res = ceiling_gaps(
                test,
                head=head,
                model=test[f"p_{head}"].to_numpy(dtype=float),
                ceiling=full.predict(test),
                ceiling_two=small.predict(test),
                baselines=baselines,
                n_boot=n_boot,
                ci_level=exp.evaluation.ci_level,
                seed=exp.seed,
            )
            res["ceiling_fit"] = {
                "best_iteration": full.best_iteration,
                "best_iteration_two_features": small.best_iteration,
            }
            heads[head] = res
            metrics.update(gap_metrics(head, res))
    return {
        "heads": heads,
        "metrics": metrics,
        "world": {
            "config": str(exp.world),
            "scale": big_exp.scale,
            "world_seed": big_exp.world_seed,
            "experiment_scale": exp.scale,
            "window_years": window_years,
            "window_end": str(end),
            "n_rows": len(rows),
            "n_people": int(rows["person_id"].nunique()),
            "world_dir": str(big.world_dir),
        },
        "features": {"all": features, "two": two},
        "seconds": {
            "world_and_features": round(t_world, 1),
            "ceiling": round(time.perf_counter() - t0, 1),
        },
    }


def run_limits(
    run_ref: str | Path,
    *,
    scale_factor: float = DEFAULT_SCALE_FACTOR,
    window_years: float = DEFAULT_WINDOW_YEARS,
    world_seed: int | None = None,
    fractions: Sequence[float] | None = None,
    curve_heads: Sequence[str] = HEADS,
    n_boot: int | None = None,
    tune_trials: int = 0,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Ceiling, learning curves (``fractions``; None or empty: skipped) and tuning (trials > 0).

    Writes ``limits.html`` and ``limits.json`` into ``out_dir`` (default: the run's directory).
    """
    import riskmodel
    from riskmodel.models._run import load_run

    say = progress or (lambda _msg: None)
    run = load_run(run_ref)
    result: dict[str, Any] = {"run_id": run.id, "experiment": run.experiment.name}
    result["ceiling"] = run_ceiling(
        run,
        scale_factor=scale_factor,
        window_years=window_years,
        world_seed=world_seed,
        n_boot=n_boot,
        progress=say,
    )
    result["metrics"] = dict(result["ceiling"]["metrics"])
    result["seconds"] = dict(result["ceiling"]["seconds"])
    data = None
    if fractions or tune_trials:
        from riskmodel.models._data import prepare_data

        data = prepare_data(run.experiment, progress=say)
    if fractions:
        from riskmodel.models._learning import learning_curves

        t0 = time.perf_counter()
        result["learning"] = learning_curves(
            data.frame,
            data.spec,
            run.experiment,
            fractions=fractions,
            heads=curve_heads,
            n_boot=n_boot if n_boot is not None else min(run.experiment.evaluation.n_boot, 200),
            progress=say,
        )
        result["seconds"]["learning_curves"] = round(time.perf_counter() - t0, 1)
        for head, md in result["learning"].get("more_data", {}).items():
            result["metrics"][f"test.{head}.auc_gain_more_data"] = md["diff"]["auc"]
            result["metrics"][f"test.{head}.auc_gain_more_data_ci"] = md["ci"]["auc"]
    if tune_trials:
        from riskmodel.models._tune import TuningConfig, tune_and_compare

        t0 = time.perf_counter()
        result["tuning"] = tune_and_compare(
            data.frame,
            data.spec,
            run.experiment,
            TuningConfig(n_trials=tune_trials),
            n_boot=n_boot if n_boot is not None else run.experiment.evaluation.n_boot,
            progress=say,
        )
        result["seconds"]["tuning"] = round(time.perf_counter() - t0, 1)
        for head, cmp in result["tuning"]["compare"].items():
            result["metrics"][f"test.{head}.auc_gain_tuned"] = cmp["diff"]["auc"]
            result["metrics"][f"test.{head}.auc_gain_tuned_ci"] = cmp["ci"]["auc"]
    result["run_metrics"] = {
        k: v
        for k, v in run.metrics.items()
        if k.startswith(("test.reoffend.auc", "test.severe.auc")) and "gain" not in k
    }
    out = Path(out_dir) if out_dir else run.dir
    result["run_dir"] = str(out)
    from riskmodel.models._limits_report import write_limits_report

    say(f"writing {out / 'limits.html'}")
    write_limits_report(out, result, version=riskmodel.__version__)
    return result


def merge_limits_metrics(run_dir: str | Path, limits: dict[str, Any]) -> dict[str, Any]:
    """Add the limits keys to ``<run_dir>/metrics.json`` (for the pipeline, at merge time)."""
    import json

    from riskmodel.data import write_json

    path = Path(run_dir) / "metrics.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(limits["metrics"])
    write_json(data, path)
    return data


def headline(result: dict[str, Any], head: str = "reoffend") -> str:
    """One sentence for the model card / report: model, ceiling, oracle and both gaps."""
    h = result["ceiling"]["heads"][head]
    v, ci = h["value"]["auc"], h["ci"]["auc"]
    d, dci, w = h["diff"], h["diff_ci"], h["verdict"]

    def f(x: Any) -> str:
        return "–" if x is None else f"{x:.3f}"

    def iv(p: Any) -> str:
        return "" if not p or p[0] is None else f" ({f(p[0])} to {f(p[1])})"

    return (
        f"{head}: AUC model {f(v['model'])}{iv(ci['model'])}, ceiling of the records "
        f"{f(v['ceiling'])}{iv(ci['ceiling'])}, oracle {f(v['oracle'])}{iv(ci['oracle'])}; "
        f"information gap {f(d['information_gap']['auc'])}{iv(dci['information_gap']['auc'])} "
        f"(oracle vs ceiling: {w['information_gap']['auc']}), learning gap "
        f"{f(d['learning_gap']['auc'])}{iv(dci['learning_gap']['auc'])} "
        f"(ceiling vs model: {w['learning_gap']['auc']})."
    )

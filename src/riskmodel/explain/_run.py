"""Reading a trained run directory (``reports/<run id>/``, docs/CONTRACTS.md "A trained run").

Uses ``riskmodel.models.load_run`` when the models stage provides it; until then a small reader
of the same contract. Also reads the fairness audit's ``fairness.json`` when present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

ERR_NO_RUN = "run {run!r} not found: no run.json in {dir} (train one with `riskmodel train`)"


@dataclass
class RunView:
    """What the explain stage reads from one trained run."""

    dir: Path
    info: dict[str, Any]
    predictions: pd.DataFrame
    bundle: Any
    metrics: dict[str, Any]
    feature_spec: dict[str, Any]
    fairness: dict[str, Any] | None = None

    @property
    def run_id(self) -> str:
        return str(self.info.get("run_id") or self.dir.name)


def run_dir(run: str | Path) -> Path:
    """The directory of ``run``: a path to a run directory, or a run id under ``reports/``."""
    from riskmodel.paths import reports_dir

    p = Path(run)
    d = p if (p / "run.json").exists() else reports_dir() / str(run)
    if not (d / "run.json").exists():
        raise FileNotFoundError(ERR_NO_RUN.format(run=str(run), dir=d))
    return d


def configured_sample(run: str | Path) -> int:
    """The experiment's ``explain.sample`` recorded in ``run.json``, else the default."""
    from riskmodel.config import validate_mapping
    from riskmodel.explain._config import ExplainConfig

    d = run_dir(run)
    config = json.loads((d / "run.json").read_text(encoding="utf-8")).get("config") or {}
    block = config.get("explain")
    if block is None:
        return ExplainConfig().sample
    return validate_mapping(block, ExplainConfig, source=f"{d / 'run.json'}: config.explain").sample


def _read_json(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _private_load(d: Path) -> RunView:
    from riskmodel.models import load_bundle

    info = json.loads((d / "run.json").read_text(encoding="utf-8"))
    bundle = load_bundle(d / "model", expected_manifest_sha256=info.get("bundle_manifest_sha256"))
    return RunView(
        dir=d,
        info=info,
        predictions=pd.read_parquet(d / "predictions.parquet"),
        bundle=bundle,
        metrics=_read_json(d / "metrics.json") or {},
        feature_spec=bundle.feature_spec or {},
    )


def load_run_view(run: str | Path | RunView) -> RunView:
    """Load a trained run (verified model bundle included) plus its fairness audit if any."""
    if isinstance(run, RunView):
        return run
    d = run_dir(run)
    try:
        from riskmodel.models import load_run
    except ImportError:  # the models stage has not published load_run yet
        view = _private_load(d)
    else:
        try:
            r = load_run(run)
        except FileNotFoundError:
            if not isinstance(run, Path) and not Path(str(run)).is_dir():
                raise
            r = _private_load(d)  # a run directory outside reports/, given by path
        view = (
            r
            if isinstance(r, RunView)
            else RunView(
                dir=Path(r.dir),
                info=dict(r.info),
                predictions=r.predictions,
                bundle=r.bundle,
                metrics=dict(r.metrics or {}),
                feature_spec=dict(r.feature_spec or r.bundle.feature_spec or {}),
            )
        )
    view.fairness = _read_json(view.dir / "fairness.json")
    return view


def flat_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """``metrics.json`` as flat dotted keys, whether it was written flat or nested."""
    from riskmodel.tracking import flatten

    return flatten(metrics)


def parse_metric_key(key: str) -> tuple[str, str, str, bool] | None:
    """``test.<head>.<metric>.<model>[_ci]`` (or ``test.<head>.<metric>_ci.<model>``) ->
    ``(head, metric, model, is_ci)``; None for any other key."""
    parts = key.split(".")
    if len(parts) != 4 or parts[0] != "test":
        return None
    _, head, metric, model = parts
    if model.endswith("_ci"):
        return head, metric, model[:-3], True
    if metric.endswith("_ci"):
        return head, metric[:-3], model, True
    return head, metric, model, False


def metric_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Test-period metrics as rows ``{head, metric, model, key, value, ci}``, in file order."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for key, value in flat_metrics(metrics).items():
        parsed = parse_metric_key(key)
        if parsed is None:
            continue
        head, metric, model, is_ci = parsed
        row = rows.setdefault(
            (head, metric, model),
            {"head": head, "metric": metric, "model": model, "value": None, "ci": None},
        )
        if is_ci:
            row["ci"] = list(value) if isinstance(value, list | tuple) else None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            row["value"] = float(value)
            row["key"] = key
    return [r for r in rows.values() if r["value"] is not None]

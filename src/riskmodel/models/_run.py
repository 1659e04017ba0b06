"""Trained runs on disk and in MLflow: train, load, resolve a model reference, promote.

A run directory (``reports/<run id>/``, docs/CONTRACTS.md "A trained run") holds ``run.json``,
``model/`` (the bundle), ``predictions.parquet`` (test period), ``metrics.json`` and ``report.html``.
The run id is MLflow's. The bundle's manifest SHA-256 is written into ``run.json`` and onto the
MLflow run and registered model versions, so a model found through the registry is checked
against the hash recorded when it was trained.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import riskmodel
from riskmodel import tracking
from riskmodel.config import validate_mapping
from riskmodel.data import write_json, write_parquet
from riskmodel.experiment import ExperimentConfig, load_experiment
from riskmodel.models._bundle import HEADS, ModelBundle, load_bundle
from riskmodel.models._data import PreparedData, prepare_data
from riskmodel.models._fit import Trained, fit_and_evaluate
from riskmodel.models._report import write_training_report
from riskmodel.notice import PERMITTED_USE_NOTICE
from riskmodel.paths import cache_dir, reports_dir
from riskmodel.provenance import frame_fingerprint, package_versions

REGISTERED_NAMES = {"reoffend": "riskmodel-reoffend", "severe": "riskmodel-severe"}
CHAMPION = "champion"

ERR_NO_RUN = (
    "run {run!r} not found: no run.json in {dir} (train one with `riskmodel train`; "
    "`riskmodel runs` lists the runs)"
)
ERR_RUN_NO_PREDICTIONS = "{path}: the run has no test-period predictions; retrain it"
ERR_RUN_NO_SHA = (
    "{path}: run.json has no bundle_manifest_sha256; refusing to load an unverifiable model"
)
ERR_UNKNOWN_REF = (
    "cannot find a model for {ref!r}: give a run id, a run or bundle directory, or "
    "models:/riskmodel-reoffend@champion"
)
ERR_NOT_REGISTERED = (
    "run {run_id} has no registered version of {name}; was it trained with `riskmodel train`?"
)
ERR_BUNDLE_MISSING = (
    "{ref}: the registry points to run {run_id}, but its bundle is neither in {path} nor "
    "downloadable from MLflow ({why})"
)
ERR_HEAD_NOT_REF = "models:/{name}: only {names} are riskmodel models"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainResult:
    """What ``train_experiment`` returns: the run id, its directory and the flat metrics."""

    run_id: str
    run_dir: Path
    metrics: dict[str, Any]
    bundle_manifest_sha256: str = ""
    registered: dict[str, str] | None = None


@dataclass(frozen=True, eq=False)
class Run:
    """A trained run read back from ``reports/<run id>/``, once, by :func:`load_run`.

    Attributes
    ----------
    dir : the run directory
    info : ``run.json`` as written by :func:`train_table`
    bundle : the model bundle, verified against ``run.json``'s manifest SHA-256
    experiment : the validated :class:`riskmodel.experiment.ExperimentConfig` it was trained with
    world_dir : the synthetic world it was trained on (``None`` for an external table)

    ``predictions`` (test period) and ``metrics`` are read on first use; ``fairness`` (the audit's
    ``fairness.json``) is read each time, since the audit writes it after the run is loaded.
    """

    dir: Path
    info: dict[str, Any]
    bundle: ModelBundle
    experiment: ExperimentConfig

    @property
    def id(self) -> str:
        return str(self.info["run_id"])

    @property
    def run_id(self) -> str:
        return self.id

    @property
    def world_dir(self) -> Path | None:
        world = self.info.get("world_dir")
        return Path(world) if world else None

    @cached_property
    def predictions(self) -> pd.DataFrame:
        """Test-period rows: feature-table columns + ``p_reoffend``, ``p_severe``, ``score_*``."""
        path = self.dir / "predictions.parquet"
        if not path.exists():
            raise FileNotFoundError(ERR_RUN_NO_PREDICTIONS.format(path=path))
        return pd.read_parquet(path)

    @cached_property
    def metrics(self) -> dict[str, Any]:
        data = json.loads((self.dir / "metrics.json").read_text(encoding="utf-8"))
        data.pop("permitted_use", None)
        return data

    @property
    def feature_spec(self) -> dict[str, Any]:
        return self.bundle.feature_spec or {}

    @property
    def fairness(self) -> dict[str, Any] | None:
        """The fairness audit's ``fairness.json``, when the run has been audited."""
        path = self.dir / "fairness.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def __repr__(self) -> str:
        return f"Run({self.id!r}, dir={str(self.dir)!r})"


def run_dir(run: str | Path) -> Path:
    """The directory of ``run``: a run directory (holding ``run.json``) or a run id under
    ``reports/``."""
    p = Path(run)
    if p.is_dir() and (p / "run.json").exists():
        return p
    d = reports_dir() / str(run)
    if (d / "run.json").exists():
        return d
    raise FileNotFoundError(ERR_NO_RUN.format(run=str(run), dir=d))


def load_run(run: str | Path | Run) -> Run:
    """Read a trained run by id or directory (a :class:`Run` is returned as it is).

    The bundle must match the hash in ``run.json``; the recorded config is validated into the
    experiment's config model, so a stage reads its settings from ``run.experiment``.
    """
    if isinstance(run, Run):
        return run
    d = run_dir(run)
    info = json.loads((d / "run.json").read_text(encoding="utf-8"))
    sha = info.get("bundle_manifest_sha256")
    if not sha:
        raise ValueError(ERR_RUN_NO_SHA.format(path=d / "run.json"))
    bundle = load_bundle(d / "model", expected_manifest_sha256=sha)
    experiment = validate_mapping(
        info.get("config"), ExperimentConfig, source=str(d / "run.json"), key="config"
    )
    return Run(dir=d, info=info, bundle=bundle, experiment=experiment)


def resolve_model(ref: str) -> tuple[Path, str | None]:
    """Where a model reference's bundle is, and the manifest SHA-256 it must have.

    ``ref``: a run id, a run directory, a bundle directory, or a registry URI
    ``models:/riskmodel-reoffend@champion`` (``models:/<name>/<version>`` also works). Registry
    references return ``reports/<run id>/model`` (downloaded from the run's MLflow artifacts when
    not present locally) and the hash tagged on the model version.
    """

    ref = str(ref)
    if ref.startswith("models:/"):
        name = ref.removeprefix("models:/").split("@")[0].split("/")[0]
        if name not in REGISTERED_NAMES.values():
            raise ValueError(
                ERR_HEAD_NOT_REF.format(name=name, names=", ".join(REGISTERED_NAMES.values()))
            )
        mv = tracking.model_version(ref)
        run_id = mv["run_id"]
        sha = mv["tags"].get("bundle_manifest_sha256")
        local = reports_dir() / run_id / "model"
        if (local / "manifest.json").exists():
            return local, sha
        try:
            got = tracking.download_artifacts(
                run_id, "model_bundle", cache_dir() / "models" / run_id
            )
        except Exception as exc:  # noqa: BLE001 - any download failure means "not available"
            raise FileNotFoundError(
                ERR_BUNDLE_MISSING.format(ref=ref, run_id=run_id, path=local, why=exc)
            ) from None
        return got, sha
    p = Path(ref)
    if p.is_dir():
        if (p / "run.json").exists():
            info = json.loads((p / "run.json").read_text(encoding="utf-8"))
            return p / "model", info.get("bundle_manifest_sha256")
        if (p / "manifest.json").exists():
            parent = p.parent / "run.json"
            if parent.exists() and p.name == "model":
                info = json.loads(parent.read_text(encoding="utf-8"))
                return p, info.get("bundle_manifest_sha256")
            return p, None
    d = reports_dir() / ref
    if (d / "run.json").exists():
        info = json.loads((d / "run.json").read_text(encoding="utf-8"))
        return d / "model", info.get("bundle_manifest_sha256")
    raise FileNotFoundError(ERR_UNKNOWN_REF.format(ref=ref))


def promote(run: str | Run, *, alias: str = CHAMPION) -> None:
    """Point ``alias`` of both registered models at the versions this run registered.

    ``run``: a loaded :class:`Run`, or a run id whose bundle is verified first when its
    directory is present.
    """
    if isinstance(run, Run):
        run_id = run.id
    else:
        run_id = str(run)
        if (reports_dir() / run_id / "run.json").exists():
            load_run(run_id)  # refuses a tampered bundle
    versions: dict[str, str] = {}
    for head, name in REGISTERED_NAMES.items():
        found = tracking.versions_of_run(run_id, name)
        if not found:
            raise LookupError(ERR_NOT_REGISTERED.format(run_id=run_id, name=name))
        versions[head] = found[0]
    for head, name in REGISTERED_NAMES.items():
        tracking.set_alias(name, versions[head], alias)


def list_runs() -> list[dict[str, Any]]:
    """Trained runs in the reports directory, newest first, with headline figures."""

    rows = []
    root = reports_dir()
    if not root.exists():
        return rows
    for path in root.glob("*/run.json"):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            metrics = json.loads((path.parent / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rows.append(
            {
                "run_id": info.get("run_id"),
                "experiment": info.get("experiment"),
                "created_at": info.get("created_at", ""),
                "source": info.get("source"),
                "auc_model": metrics.get("test.reoffend.auc.model"),
                "auc_rfg": metrics.get("test.reoffend.auc.rfg"),
                "ece_model": metrics.get("test.reoffend.ece.model"),
                "auc_severe": metrics.get("test.severe.auc.model"),
                "registered": info.get("registered", {}),
            }
        )
    return sorted(rows, key=lambda r: r["created_at"], reverse=True)


# -- training ----------------------------------------------------------------------------------
def _mlflow_copy(bundle: ModelBundle, head: str, X: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    """The head as a servable MLflow model: categoricals as integer codes, all inputs float.

    MLflow serialises an input example to JSON, which turns pandas categoricals into strings the
    booster cannot read; the MLflow copy therefore takes each categorical as its code in
    ``bundle.json``'s ``categorical_levels`` (missing or unseen: NaN). Trees are identical.
    """
    import lightgbm as lgb

    booster = bundle.boosters[head]
    text = booster.model_to_string()
    marker = "\npandas_categorical:"
    cut = text.rfind(marker)
    if cut >= 0:
        text = text[:cut] + marker + "null\n"
    coded = X.copy()
    for col in bundle.categorical_levels:
        coded[col] = coded[col].cat.codes.astype(float).replace(-1.0, np.nan)
    coded = coded.astype(float)
    return lgb.Booster(model_str=text), coded


def _tracked_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    """What MLflow gets: every test-period figure with its interval, and point estimates only
    for validation and unseen people (metrics.json, logged as an artifact, has everything)."""
    out = {}
    for key, value in metrics.items():
        period = key.split(".", 1)[0]
        if period in ("validation", "person_disjoint"):
            metric = key.split(".")[2] if key.count(".") >= 3 else ""
            if metric.endswith("_ci") or "_gain" in metric:
                continue
        out[key] = value
    return out


def _registered_metadata(bundle: ModelBundle, sha: str, run_id: str) -> dict[str, Any]:
    return {
        "riskmodel_run_id": run_id,
        "bundle_manifest_sha256": sha,
        "categorical_encoding": "integer code of the level in categorical_levels; NaN if missing",
        "categorical_levels": bundle.categorical_levels,
        "calibrated": False,
        "note": "raw head; the calibrated bundle is the run's model_bundle artifact",
    }


#: what run.json says the prediction columns are
PREDICTION_COLUMNS = {
    "p_reoffend, p_severe": "calibrated model probabilities",
    "p_reoffend_uncalibrated, p_severe_uncalibrated": "raw head probabilities (tie-break)",
    "score_<baseline>": "the baseline's calibrated probability of reoffending",
    "score_<baseline>_severe": "the baseline's calibrated probability of a severe reoffence",
}


def _bundle_metadata(
    trained: Trained,
    experiment: ExperimentConfig,
    *,
    run_id: str,
    created: str,
    data: PreparedData,
    fingerprint: str,
) -> dict[str, Any]:
    """What the saved bundle says about itself (``bundle.json``'s ``metadata``)."""
    return {
        "run_id": run_id,
        "experiment": experiment.name,
        "seed": experiment.seed,
        "created_at": created,
        "data_fingerprint": fingerprint,
        "source": data.source,
        "registered_model_names": REGISTERED_NAMES,
        "calibration": {h: trained.bundle.calibrators[h].method for h in HEADS},
        "best_iteration": {h: trained.heads[h].best_iteration for h in HEADS},
        "eligibility": experiment.eligibility.model_dump(mode="json"),
        "tie_break": "rank by raw probability (p_<head>_uncalibrated) within equal calibrated values",
        "versions": package_versions(),
        "riskmodel_version": riskmodel.__version__,
    }


def _register_heads(
    trained: Trained, experiment: ExperimentConfig, *, run_id: str, sha: str
) -> dict[str, str]:
    """Log both heads as MLflow models and register them; head -> registered version."""
    X_example = trained.bundle.prepare(trained.predictions.head(5))
    registered: dict[str, str] = {}
    for head in HEADS:
        booster, coded = _mlflow_copy(trained.bundle, head, X_example)
        registered[head] = tracking.log_lightgbm_model(
            booster,
            name=head,
            registered_model_name=REGISTERED_NAMES[head],
            input_example=coded,
            version_tags={
                "run_id": run_id,
                "bundle_manifest_sha256": sha,
                "head": head,
                "experiment": experiment.name,
            },
            metadata=_registered_metadata(trained.bundle, sha, run_id),
        )
    return registered


def train_table(
    data: PreparedData,
    experiment: ExperimentConfig,
    *,
    experiment_file: str | Path | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train, evaluate, write ``reports/<run id>/`` and track everything in one MLflow run.

    ``data`` is a :class:`riskmodel.models._data.PreparedData` (a feature table and where it
    came from); ``train_experiment`` builds it from an experiment file.
    """
    say = progress or (lambda _msg: None)
    fingerprint = frame_fingerprint(data.frame)
    config_json = experiment.model_dump(mode="json")
    with tracking.start_run(
        experiment.name,
        config=config_json,
        seed=experiment.seed,
        data_fingerprint=fingerprint,
        tags={
            "source": data.source,
            "experiment_file": str(experiment_file or ""),
            "world_dir": str(data.world_dir or ""),
            "features_dir": str(data.features_dir or ""),
        },
    ) as active:
        run_id = active.info.run_id
        trained: Trained = fit_and_evaluate(data.frame, data.spec, experiment, progress=say)
        run_dir = reports_dir() / run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        say(f"writing the run to {run_dir}")
        created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        trained.bundle.metadata = _bundle_metadata(
            trained, experiment, run_id=run_id, created=created, data=data, fingerprint=fingerprint
        )
        sha = trained.bundle.save(run_dir / "model")
        write_parquet(
            trained.predictions,
            run_dir / "predictions.parquet",
            metadata={"riskmodel.run_id": run_id, "riskmodel.permitted_use": PERMITTED_USE_NOTICE},
        )
        say("logging and registering both heads in MLflow")
        registered = _register_heads(trained, experiment, run_id=run_id, sha=sha)
        # metrics after the models: MLflow copies a run's existing metrics onto each logged model
        tracking.log_metrics(_tracked_metrics(trained.metrics))
        info = {
            "permitted_use": PERMITTED_USE_NOTICE,
            "run_id": run_id,
            "experiment": experiment.name,
            "experiment_file": str(Path(experiment_file).resolve()) if experiment_file else None,
            "config": config_json,
            "seed": experiment.seed,
            "data_fingerprint": fingerprint,
            "features_dir": str(data.features_dir) if data.features_dir else None,
            "world_dir": str(data.world_dir) if data.world_dir else None,
            "source": data.source,
            "git_commit": tracking.code_commit(),
            "bundle_manifest_sha256": sha,
            "eligibility": experiment.eligibility.model_dump(mode="json"),
            "registered": registered,
            "registered_model_names": REGISTERED_NAMES,
            "created_at": created,
            "tracking_uri": tracking.configure(),
            "versions": package_versions(),
            "prediction_columns": PREDICTION_COLUMNS,
        }
        say("writing the training report")
        write_training_report(
            run_dir, trained, info=info, experiment=experiment, version=riskmodel.__version__
        )
        write_json(info, run_dir / "run.json")
        tracking.set_tags({"bundle_manifest_sha256": sha, "run_dir": str(run_dir)})
        for name in ("run.json", "metrics.json", "report.html"):
            tracking.log_artifact(run_dir / name, "report")
        tracking.log_artifacts(run_dir / "model", "model_bundle")
    return TrainResult(
        run_id=run_id,
        run_dir=run_dir,
        metrics=trained.metrics,
        bundle_manifest_sha256=sha,
        registered=registered,
    )


def train_experiment(
    experiment_path: str | Path, *, progress: Progress | None = None
) -> TrainResult:
    """``riskmodel train``: from an experiment file to a trained, reported, registered run.

    Builds (or reuses from the cache) the world and the feature table the experiment names.
    """
    experiment = load_experiment(experiment_path)
    data = prepare_data(experiment, progress=progress)
    return train_table(data, experiment, experiment_file=experiment_path, progress=progress)

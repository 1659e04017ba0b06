"""The only module that talks to MLflow.

Default store: SQLite in the project directory (``paths.tracking_uri``); ``MLFLOW_TRACKING_URI``
overrides it. With a SQLite store, artifacts go to ``mlartifacts/`` beside the database (never to
the current directory). Every run records the flattened config, the seed, the data fingerprint,
the git commit of the code and the package versions.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from riskmodel.paths import tracking_uri
from riskmodel.provenance import git_commit, package_versions

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

ERR_NO_VERSION = "no version of registered model {name!r} has {what}"
ERR_BAD_URI = "not a model URI: {uri!r}; use models:/<name>@<alias> or models:/<name>/<version>"


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping -> ``{"a.b.c": value}`` (lists kept as their string form)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def code_commit() -> str:
    """Git commit of the riskmodel source tree (the code that ran), ``+dirty`` if modified."""
    import riskmodel

    src_root = Path(riskmodel.__file__).resolve().parents[2]
    return git_commit(src_root) if (src_root / ".git").exists() else git_commit()


def _artifact_root(uri: str) -> str | None:
    if uri.startswith("sqlite:///"):
        return str(Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts")
    return None


def configure() -> str:
    """Point MLflow at the project's store; returns the URI in use."""
    import mlflow

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def client() -> Any:
    from mlflow import MlflowClient

    uri = configure()
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def experiment_id(name: str) -> str:
    """Id of the MLflow experiment ``name``, created (artifacts beside the store) if new."""
    c = client()
    exp = c.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    root = _artifact_root(tracking_uri())
    location = None if root is None else Path(root, name).as_uri()
    return c.create_experiment(name, artifact_location=location)


@contextmanager
def start_run(
    experiment: str,
    *,
    config: Mapping[str, Any],
    seed: int,
    data_fingerprint: str,
    run_name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """Open an MLflow run with the provenance every run must carry."""
    import mlflow

    eid = experiment_id(experiment)
    with mlflow.start_run(experiment_id=eid, run_name=run_name) as run:
        params = {k: str(v)[:6000] for k, v in flatten(config).items()}
        mlflow.log_params(params)
        mlflow.set_tags(
            {
                "seed": str(seed),
                "data_fingerprint": data_fingerprint,
                "git_commit": code_commit(),
                **{f"version.{k}": v for k, v in package_versions().items()},
                **(tags or {}),
            }
        )
        yield run


def _numeric_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float) and math.isfinite(value):
            out[key] = float(value)
        elif (
            isinstance(value, list | tuple)
            and len(value) == 2
            and all(isinstance(v, int | float) and math.isfinite(v) for v in value)
        ):
            out[f"{key}.lo"], out[f"{key}.hi"] = float(value[0]), float(value[1])
    return out


def log_metrics(metrics: Mapping[str, Any]) -> int:
    """Log the numeric entries (intervals as ``.lo``/``.hi``); returns how many were logged."""
    import mlflow

    numeric = _numeric_metrics(metrics)
    mlflow.log_metrics(numeric)
    return len(numeric)


def log_metric_series(key: str, values: Any) -> int:
    """Log one metric as a series (step = position), e.g. each trial of a search; returns how
    many finite values were logged."""
    import mlflow

    n = 0
    for step, value in enumerate(values):
        if value is not None and math.isfinite(float(value)):
            mlflow.log_metric(key, float(value), step=step)
            n += 1
    return n


def set_tags(tags: Mapping[str, str]) -> None:
    import mlflow

    mlflow.set_tags(dict(tags))


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> None:
    import mlflow

    mlflow.log_artifacts(str(local_dir), artifact_path=artifact_path)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> None:
    import mlflow

    mlflow.log_artifact(str(local_path), artifact_path=artifact_path)


def log_run_artifacts(
    run_id: str,
    paths: list[str | Path] | tuple[str | Path, ...],
    *,
    artifact_path: str | None = None,
) -> None:
    """Attach files to an existing (possibly finished) run, e.g. reports made after training."""
    c = client()
    c.get_run(run_id)  # a clear MlflowException if the run is unknown
    for p in paths:
        c.log_artifact(run_id, str(p), artifact_path=artifact_path)


def log_lightgbm_model(
    booster: Any,
    *,
    name: str,
    registered_model_name: str,
    input_example: Any,
    version_tags: Mapping[str, str],
    metadata: Mapping[str, Any] | None = None,
) -> str:
    """Log a LightGBM booster in MLflow's flavour, register it, tag the version; returns it."""
    import lightgbm
    import mlflow
    import mlflow.lightgbm
    from mlflow.models import infer_signature

    signature = infer_signature(input_example, booster.predict(input_example))
    info = mlflow.lightgbm.log_model(
        booster,
        name=name,
        signature=signature,
        input_example=input_example,
        # explicit requirements: inferring them starts a slow subprocess per model
        pip_requirements=[f"lightgbm=={lightgbm.__version__}", f"mlflow=={mlflow.__version__}"],
        registered_model_name=registered_model_name,
        metadata=dict(metadata or {}),
        await_registration_for=0,
    )
    version = str(info.registered_model_version)
    c = client()
    for key, value in version_tags.items():
        c.set_model_version_tag(registered_model_name, version, key, str(value))
    return version


def set_alias(name: str, version: str, alias: str) -> None:
    client().set_registered_model_alias(name, alias, str(version))


def versions_of_run(run_id: str, name: str) -> list[str]:
    """Registered versions of ``name`` logged by ``run_id`` (newest first)."""
    found = client().search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    return [str(v.version) for v in sorted(found, key=lambda v: -int(v.version))]


def model_version(uri: str) -> dict[str, Any]:
    """Resolve ``models:/<name>@<alias>`` or ``models:/<name>/<version>`` in the registry.

    Returns ``{"name", "version", "run_id", "tags", "aliases"}``.
    """
    from mlflow.exceptions import MlflowException

    if not uri.startswith("models:/"):
        raise ValueError(ERR_BAD_URI.format(uri=uri))
    rest = uri.removeprefix("models:/")
    c = client()
    try:
        if "@" in rest:
            name, alias = rest.split("@", 1)
            mv = c.get_model_version_by_alias(name, alias)
        elif "/" in rest:
            name, version = rest.split("/", 1)
            mv = c.get_model_version(name, version)
        else:
            raise ValueError(ERR_BAD_URI.format(uri=uri))
    except MlflowException as exc:
        raise LookupError(f"{uri}: {exc.message}") from None
    return {
        "name": mv.name,
        "version": str(mv.version),
        "run_id": mv.tags.get("run_id") or mv.run_id,
        "tags": dict(mv.tags),
        "aliases": list(getattr(mv, "aliases", []) or []),
    }


def aliases(name: str) -> dict[str, str]:
    """Alias -> version of a registered model ({} when it does not exist)."""
    from mlflow.exceptions import MlflowException

    try:
        rm = client().get_registered_model(name)
    except MlflowException:
        return {}
    return {a: str(v) for a, v in (rm.aliases or {}).items()}


def download_artifacts(run_id: str, artifact_path: str, dst: str | Path) -> Path:
    import mlflow

    configure()
    Path(dst).mkdir(parents=True, exist_ok=True)
    return Path(
        mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=artifact_path, dst_path=str(dst)
        )
    )


def run_info(run_id: str) -> dict[str, Any]:
    """Tags, params and metrics of a run, as plain dicts."""
    r = client().get_run(run_id)
    return {
        "run_id": r.info.run_id,
        "experiment_id": r.info.experiment_id,
        "status": r.info.status,
        "artifact_uri": r.info.artifact_uri,
        "tags": dict(r.data.tags),
        "params": dict(r.data.params),
        "metrics": dict(r.data.metrics),
    }


__all__ = [
    "aliases",
    "client",
    "code_commit",
    "configure",
    "download_artifacts",
    "experiment_id",
    "flatten",
    "log_artifact",
    "log_artifacts",
    "log_lightgbm_model",
    "log_metric_series",
    "log_metrics",
    "log_run_artifacts",
    "model_version",
    "run_info",
    "set_alias",
    "set_tags",
    "start_run",
    "versions_of_run",
]

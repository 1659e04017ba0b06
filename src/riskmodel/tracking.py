"""The only module that talks to MLflow.

Default store: SQLite in the project directory (``paths.tracking_uri``); ``MLFLOW_TRACKING_URI``
overrides it. Every run records the flattened config, the seed, the data fingerprint, the git
commit and the package versions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from riskmodel.paths import project_root, tracking_uri
from riskmodel.provenance import git_commit, package_versions

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mapping -> ``{"a.b.c": value}`` (lists kept as their string form)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def configure() -> str:
    """Point MLflow at the project's store; returns the URI in use."""
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    if uri.startswith("sqlite:") and not os.environ.get("MLFLOW_TRACKING_URI"):
        # artifacts beside the SQLite store, inside the project, not in the cwd
        os.environ.setdefault("MLFLOW_ARTIFACTS_DESTINATION", str(project_root() / "mlartifacts"))
    return uri


@contextmanager
def start_run(
    experiment: str,
    *,
    config: Mapping[str, Any],
    seed: int,
    data_fingerprint: str,
    run_name: str | None = None,
) -> Iterator[Any]:
    """Open an MLflow run with the provenance every run must carry."""
    import mlflow

    configure()
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name) as run:
        params = {k: str(v)[:6000] for k, v in flatten(config).items()}
        mlflow.log_params(params)
        mlflow.set_tags(
            {
                "seed": str(seed),
                "data_fingerprint": data_fingerprint,
                "git_commit": git_commit(),
                **{f"version.{k}": v for k, v in package_versions().items()},
            }
        )
        yield run

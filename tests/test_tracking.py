"""tracking.py: provenance on every run, the registry round trip, artifacts beside the store."""

from __future__ import annotations

import os
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from riskmodel import tracking


def test_flatten_nested_config():
    cfg = {"a": {"b": 1, "c": {"d": [1, 2]}}, "e": "x", "f": {}}
    assert tracking.flatten(cfg) == {"a.b": 1, "a.c.d": [1, 2], "e": "x", "f": {}}


def test_only_finite_numbers_and_intervals_become_mlflow_metrics():
    got = tracking._numeric_metrics(
        {
            "a": 0.5,
            "b": None,
            "c": [0.1, 0.3],
            "d": [None, None],
            "e": "text",
            "f": True,
            "g": float("nan"),
            "h": 3,
        }
    )
    assert got == {"a": 0.5, "c.lo": 0.1, "c.hi": 0.3, "h": 3.0}


def test_run_provenance_registry_and_alias_round_trip(isolated_project, monkeypatch):
    monkeypatch.chdir(isolated_project)  # anything written to the cwd would show up here
    r = np.random.default_rng(0)
    X = pd.DataFrame({"a": r.random(200), "b": r.random(200)})
    y = (X["a"] + 0.3 * r.random(200) > 0.7).astype(int)
    booster = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 5)
    with tracking.start_run(
        "tracking-test", config={"seed": 3, "train": {"lr": 0.1}}, seed=3, data_fingerprint="abc"
    ) as run:
        run_id = run.info.run_id
        assert tracking.log_metrics({"test.auc": 0.7, "test.auc_ci": [0.6, 0.8], "n": None}) == 3
        version = tracking.log_lightgbm_model(
            booster,
            name="reoffend",
            registered_model_name="tracking-test-model",
            input_example=X.head(3),
            version_tags={"run_id": run_id, "bundle_manifest_sha256": "f00"},
        )
    info = tracking.run_info(run_id)
    assert info["tags"]["seed"] == "3"
    assert info["tags"]["data_fingerprint"] == "abc"
    assert info["tags"]["git_commit"] == tracking.code_commit()
    assert info["params"] == {"seed": "3", "train.lr": "0.1"}
    assert info["metrics"] == {"test.auc": 0.7, "test.auc_ci.lo": 0.6, "test.auc_ci.hi": 0.8}
    assert tracking.versions_of_run(run_id, "tracking-test-model") == [version]
    tracking.set_alias("tracking-test-model", version, "champion")
    mv = tracking.model_version("models:/tracking-test-model@champion")
    assert mv["version"] == version and mv["run_id"] == run_id
    assert mv["tags"]["bundle_manifest_sha256"] == "f00"
    assert tracking.aliases("tracking-test-model") == {"champion": version}
    with pytest.raises(LookupError):
        tracking.model_version("models:/tracking-test-model@nobody")
    # files made after the run (explanations, audits) attach to it by id
    note = isolated_project / "late.txt"
    note.write_text("late")
    tracking.log_run_artifacts(run_id, [note], artifact_path="explain")
    note.unlink()
    # artifacts live beside the SQLite store, never in the working directory
    artifact_dir = Path(info["artifact_uri"].removeprefix("file://"))
    assert artifact_dir.is_relative_to(isolated_project / "mlartifacts")
    assert not (isolated_project / "mlruns").exists()
    assert (artifact_dir / "explain" / "late.txt").read_text() == "late"
    assert set(os.listdir(isolated_project)) <= {"mlflow.db", "mlartifacts"}

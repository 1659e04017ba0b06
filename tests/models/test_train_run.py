"""A trained run end to end: the run directory, MLflow tracking and registry, promotion, loading."""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmodel.models import (
    ModelIntegrityError,
    PreparedData,
    list_runs,
    load_bundle,
    load_run,
    promote,
    resolve_model,
    train_table,
)
from riskmodel.notice import PERMITTED_USE_NOTICE, permitted_use_notice
from riskmodel.provenance import frame_fingerprint, git_commit
from tests.models.models_fixtures import fixture_experiment

RUN_JSON_KEYS = {
    "run_id",
    "experiment",
    "experiment_file",
    "config",
    "seed",
    "data_fingerprint",
    "features_dir",
    "world_dir",
    "source",
    "git_commit",
    "bundle_manifest_sha256",
    "eligibility",
    "registered",
}


# the module fixture trains two runs: keep the module on one worker (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("train_run")


@pytest.fixture(scope="module")
def runs(project_home, feature_table):
    """Two runs of the same experiment on the same table, in a throwaway project."""
    frame, spec = feature_table
    data = PreparedData(
        frame=frame, spec=spec, source="synthetic", features_dir=None, world_dir=None
    )
    exp = fixture_experiment()
    first = train_table(data, exp, experiment_file="experiments/fixture.yaml")
    second = train_table(data, exp, experiment_file="experiments/fixture.yaml")
    return first, second


def test_run_directory_follows_the_contract(runs, project_home, feature_table):
    first, _ = runs
    d = first.run_dir
    assert d == project_home / "reports" / first.run_id
    info = json.loads((d / "run.json").read_text())
    assert set(info) >= RUN_JSON_KEYS
    assert info["run_id"] == first.run_id
    assert info["seed"] == 7 and info["config"]["seed"] == 7
    assert info["permitted_use"] == PERMITTED_USE_NOTICE
    manifest_sha = hashlib.sha256((d / "model" / "manifest.json").read_bytes()).hexdigest()
    assert info["bundle_manifest_sha256"] == manifest_sha == first.bundle_manifest_sha256
    metrics = json.loads((d / "metrics.json").read_text())
    # the training report's twin names this model's own sensitive inputs (run.json: the default)
    assert metrics["permitted_use"] == permitted_use_notice(
        json.loads((d / "model" / "bundle.json").read_text())["feature_names"]
    )
    assert metrics["test.reoffend.auc.model"] == first.metrics["test.reoffend.auc.model"]
    preds = pd.read_parquet(d / "predictions.parquet")
    frame, _ = feature_table
    assert set(frame.columns) | {"p_reoffend", "p_severe", "score_rfg"} <= set(preds.columns)
    html = (d / "report.html").read_text()
    assert html.index("Permitted use only") < html.index("In plain words")
    assert "Every metric, every model" in html and first.run_id in html


def test_second_run_of_the_same_experiment_has_the_same_metrics(runs):
    first, second = runs
    assert first.run_id != second.run_id
    assert first.metrics == second.metrics
    assert first.bundle_manifest_sha256 != ""
    a = load_run(first.run_id).predictions
    b = load_run(second.run_id).predictions
    pd.testing.assert_frame_equal(a, b)


def test_mlflow_run_records_config_seed_commit_and_data_fingerprint(runs, feature_table):
    from riskmodel import tracking

    first, _ = runs
    frame, _ = feature_table
    r = tracking.run_info(first.run_id)
    assert r["tags"]["seed"] == "7"
    assert r["tags"]["data_fingerprint"] == frame_fingerprint(frame)
    commit = r["tags"]["git_commit"]
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", commit)
    from pathlib import Path

    import riskmodel

    assert commit == git_commit(Path(riskmodel.__file__).resolve().parents[2])
    assert r["tags"]["bundle_manifest_sha256"] == first.bundle_manifest_sha256
    assert r["params"]["name"] == "fixture"
    assert r["params"]["train.split.embargo_days"] == "365"
    assert r["params"]["evaluation.n_boot"] == "60"
    assert r["metrics"]["test.reoffend.auc.model"] == pytest.approx(
        first.metrics["test.reoffend.auc.model"]
    )
    lo, hi = first.metrics["test.reoffend.auc_ci.model"]
    assert r["metrics"]["test.reoffend.auc_ci.model.lo"] == pytest.approx(lo)
    assert r["metrics"]["test.reoffend.auc_ci.model.hi"] == pytest.approx(hi)


def test_both_heads_are_registered_and_tagged(runs):
    from riskmodel import tracking

    first, second = runs
    for run in (first, second):
        for head, name in (("reoffend", "riskmodel-reoffend"), ("severe", "riskmodel-severe")):
            version = run.registered[head]
            mv = tracking.model_version(f"models:/{name}/{version}")
            assert mv["run_id"] == run.run_id
            assert mv["tags"]["bundle_manifest_sha256"] == run.bundle_manifest_sha256
            assert tracking.versions_of_run(run.run_id, name) == [version]
    assert first.registered != second.registered


def test_registered_mlflow_model_scores_like_the_bundle(runs):
    import mlflow

    from riskmodel import tracking

    first, _ = runs
    run = load_run(first.run_id)
    rows = run.predictions.head(50)
    tracking.configure()
    for head in ("reoffend", "severe"):
        model = mlflow.lightgbm.load_model(f"models:/riskmodel-{head}/{first.registered[head]}")
        X = run.bundle.prepare(rows)
        coded = X.copy()
        for col, levels in run.bundle.categorical_levels.items():
            coded[col] = [levels.index(v) if v in levels else np.nan for v in rows[col]]
        np.testing.assert_allclose(
            model.predict(coded.astype(float)),
            run.bundle.predict(rows, head, calibrated=False),
            rtol=1e-12,
        )


def test_promote_then_resolve_champion_round_trip(runs, project_home):
    first, second = runs
    promote(first.run_id)
    d, sha = resolve_model("models:/riskmodel-reoffend@champion")
    assert d == project_home / "reports" / first.run_id / "model"
    assert sha == first.bundle_manifest_sha256
    load_bundle(d, expected_manifest_sha256=sha)
    promote(second.run_id)
    for name in ("riskmodel-reoffend", "riskmodel-severe"):
        d, sha = resolve_model(f"models:/{name}@champion")
        assert d.parent.name == second.run_id
        assert sha == second.bundle_manifest_sha256


def test_resolve_run_id_run_dir_and_bundle_dir(runs):
    first, _ = runs
    by_id = resolve_model(first.run_id)
    assert by_id == (first.run_dir / "model", first.bundle_manifest_sha256)
    assert resolve_model(str(first.run_dir)) == by_id
    assert resolve_model(str(first.run_dir / "model")) == by_id
    with pytest.raises(FileNotFoundError, match="cannot find a model for 'nope'"):
        resolve_model("nope")
    with pytest.raises(ValueError, match="only riskmodel-reoffend"):
        resolve_model("models:/something-else@champion")


def test_load_run_refuses_a_tampered_bundle(runs, tmp_path):
    first, _ = runs
    copy = tmp_path / first.run_id
    shutil.copytree(first.run_dir, copy)
    assert load_run(copy).id == first.run_id
    model_file = copy / "model" / "severe.lgb.txt"
    model_file.write_text(model_file.read_text().replace("leaf_value=", "leaf_value=9", 1))
    with pytest.raises(ModelIntegrityError, match="does not match"):
        load_run(copy)
    # re-hashing the manifest makes the folder self-consistent, but run.json still disagrees
    manifest = json.loads((copy / "model" / "manifest.json").read_text())
    manifest["files"]["severe.lgb.txt"] = hashlib.sha256(model_file.read_bytes()).hexdigest()
    (copy / "model" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelIntegrityError, match="expected"):
        load_run(copy)


def test_load_run_exposes_experiment_spec_and_metrics(runs):
    first, _ = runs
    run = load_run(first.run_id)
    assert run.experiment.name == "fixture"
    assert run.experiment.eligibility.capacity == 60
    assert run.feature_spec["dictionary"]["n_da_all"]["unit"] == "count"
    assert run.metrics["test.reoffend.auc.model"] == first.metrics["test.reoffend.auc.model"]
    assert len(run.predictions) == first.metrics["n.test"]
    assert run.bundle.metadata["run_id"] == first.run_id


def test_cli_lists_runs_and_refuses_to_promote_an_unknown_run(runs):
    from riskmodel.cli import app

    first, second = runs
    ids = [r["run_id"] for r in list_runs()]
    assert set(ids) == {first.run_id, second.run_id}
    cli = CliRunner()
    out = cli.invoke(app, ["runs"], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    bad = cli.invoke(app, ["promote", "--run", "0" * 32])
    assert bad.exit_code == 2
    assert "has no registered version" in bad.output

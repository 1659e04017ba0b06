"""`riskmodel explain --run`: the report, its JSON twin, the documents, MLflow logging."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from riskmodel.cli import app
from riskmodel.explain import ERR_NO_RUN, EXPLAIN_JSON_KEYS
from riskmodel.notice import PERMITTED_USE_NOTICE, PROHIBITED_USES
from tests.explain.explain_fixtures import build_run

FILES = (
    "explain.html",
    "explain.json",
    "model_card.html",
    "model_card.md",
    "transparency_record.md",
    "datasheet.md",
)
SAMPLE = 300


@pytest.fixture(scope="module")
def explained(tmp_path_factory, bundle, test_frame):
    """One CLI run against a fake run whose run_id is a real run in a private MLflow store."""
    import mlflow

    tmp = tmp_path_factory.mktemp("explain_cli")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
        mp.setenv("RISKMODEL_AUDIT_LOG", str(tmp / "audit.jsonl"))
        mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
        # artifacts inside the temporary directory (MLflow's default is ./mlruns in the cwd)
        eid = mlflow.create_experiment("explain-test", (tmp / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=eid) as r:
            run_id = r.info.run_id
        # the sample size comes from the experiment's `explain:` block recorded in run.json
        d = build_run(
            tmp / "reports", bundle, test_frame, run_id=run_id, explain={"sample": SAMPLE}
        )
        result = CliRunner().invoke(app, ["explain", "--run", str(d)])
        artifacts = [a.path for a in mlflow.MlflowClient().list_artifacts(run_id, "explain")]
    return {"dir": d, "result": result, "artifacts": artifacts, "frame": test_frame}


def test_cli_writes_every_file_and_prints_the_paths(explained):
    res = explained["result"]
    assert res.exit_code == 0, res.output
    for name in FILES:
        path = explained["dir"] / name
        assert path.exists(), name
        assert str(path) in res.stdout


def test_files_are_logged_to_the_runs_mlflow_run(explained):
    assert sorted(a.split("/")[-1] for a in explained["artifacts"]) == sorted(FILES)


def test_explain_json_has_the_documented_keys(explained):
    data = json.loads((explained["dir"] / "explain.json").read_text())
    assert set(data) == set(EXPLAIN_JSON_KEYS)
    assert data["permitted_use"] == PERMITTED_USE_NOTICE
    assert set(data["heads"]) == {"reoffend", "severe"}
    for head in data["heads"].values():
        assert head["n_sample"] == SAMPLE
        assert head["n_rows"] == len(explained["frame"])
        assert {f["feature"] for f in head["features"]} == set(explained["frame"].columns) & {
            f["feature"] for f in head["features"]
        }
        assert head["additivity_max_abs_error"] < 1e-6
    rc = data["reason_codes"]
    assert rc["n_people"] == SAMPLE
    assert sum(rc["people_by_number_of_reasons"].values()) == SAMPLE
    assert all(1 <= len(e["reasons"]) <= rc["k"] for e in rc["examples"] if e["reasons"])
    assert all(c > 0 for e in rc["examples"] for c in e["contributions"])


def test_html_is_self_contained_and_states_the_permitted_use_first(explained):
    for name in ("explain.html", "model_card.html"):
        html = (explained["dir"] / name).read_text()
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I), name
        assert "<link" not in html and "<script" not in html
        assert html.index("Permitted use only") < html.index("<h1")
        for use in PROHIBITED_USES:
            assert use in html
    html = (explained["dir"] / "explain.html").read_text()
    assert html.count("data:image/png;base64,") >= 6  # bar, beeswarm, dependence, heatmaps


def test_invalid_explain_config_is_refused_before_any_work(tmp_path, bundle, test_frame):
    d = build_run(tmp_path, bundle, test_frame, run_id="bad-config", explain={"sample": 0})
    res = CliRunner().invoke(app, ["explain", "--run", str(d)])
    assert res.exit_code == 2
    assert "config.explain" in res.output and "sample" in res.output
    assert not (d / "explain.json").exists()


def test_unknown_run_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKMODEL_HOME", str(tmp_path))
    res = CliRunner().invoke(app, ["explain", "--run", "no-such-run"])
    assert res.exit_code == 2
    assert "run 'no-such-run' not found" in res.output
    assert ERR_NO_RUN.startswith("run {run!r} not found")

"""End to end on a tiny synthetic world: `riskmodel limits` and `riskmodel compare` on real runs.

Two runs of the same tiny world (all features; one feature group left out) are trained by the
ordinary `train` path; their own metrics.json figures are the independent reference the limits
and compare reports must reproduce.
"""

from __future__ import annotations

import json

import pytest
import yaml

from riskmodel.paths import configs_dir

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("limits")]

BASE = {
    "seed": 5,
    "world": str(configs_dir() / "world" / "tiny.yaml"),
    "scale": 3.0,
    "train": {
        "split": {"test_years": 2, "validation_years": 2, "embargo_days": 365},
        "reoffend": {"num_boost_round": 150, "early_stopping_rounds": 20},
        "severe": {"num_boost_round": 150, "early_stopping_rounds": 20},
    },
    "evaluation": {"n_boot": 40},
    "eligibility": {"capacity": 20},
}


@pytest.fixture(scope="module")
def runs(project_home):
    from riskmodel.models import train_experiment

    out = {}
    for name, extra in (("tiny_all", {}), ("tiny_no_harm", {"exclude_features": ["harm_*"]})):
        cfg = json.loads(json.dumps(BASE))
        cfg["name"] = name
        cfg["train"].update(extra)
        path = project_home / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
        out[name] = train_experiment(path)
    return out


@pytest.fixture(scope="module")
def limits(runs):
    from riskmodel.models._limits import run_limits

    return run_limits(
        runs["tiny_all"].run_id,
        scale_factor=2.0,
        fractions=[0.5, 1.0],
        curve_heads=("reoffend",),
        n_boot=40,
    )


def test_limits_writes_html_and_json_with_the_metric_keys(runs, limits):
    d = runs["tiny_all"].run_dir
    assert (d / "limits.html").exists()
    payload = json.loads((d / "limits.json").read_text(encoding="utf-8"))
    assert "permitted_use" in payload
    html = (d / "limits.html").read_text(encoding="utf-8")
    assert "PERMITTED USE" in html.upper()
    for head in ("reoffend", "severe"):
        for key in (
            f"test.{head}.auc.ceiling",
            f"test.{head}.auc_ci.ceiling",
            f"test.{head}.auc.ceiling_age_priors",
            f"test.{head}.information_gap",
            f"test.{head}.information_gap_ci",
            f"test.{head}.learning_gap",
            f"test.{head}.learning_gap_ci",
        ):
            assert key in payload["metrics"], key


def test_limits_reproduces_the_runs_own_figures(runs, limits):
    # model and oracle are re-scored from predictions.parquet: same AUCs as training computed
    m = runs["tiny_all"].metrics
    for head in ("reoffend", "severe"):
        v = limits["ceiling"]["heads"][head]["value"]["auc"]
        assert v["model"] == pytest.approx(m[f"test.{head}.auc.model"], abs=1e-9)
        assert v["oracle"] == pytest.approx(m[f"test.{head}.auc.oracle"], abs=1e-9)
        d = limits["ceiling"]["heads"][head]["diff"]
        assert d["oracle_gap"]["auc"] == pytest.approx(
            m[f"test.{head}.auc.oracle"] - m[f"test.{head}.auc.model"], abs=1e-9
        )


def test_ceiling_world_is_larger_and_another_seed(limits):
    from riskmodel.synth import load_world_config

    w = limits["ceiling"]["world"]
    assert w["scale"] == pytest.approx(2.0 * BASE["scale"])
    assert w["world_seed"] != load_world_config(BASE["world"]).seed


def test_learning_curve_points_grow_with_the_data(limits):
    points = limits["learning"]["heads"]["reoffend"]
    assert [p["fraction"] for p in points] == [0.5, 1.0]
    assert points[0]["n_people"] < points[1]["n_people"]
    assert points[0]["n_rows"] < points[1]["n_rows"]
    md = limits["learning"]["more_data"]["reoffend"]
    lo, hi = md["ci"]["auc"]
    assert lo <= md["diff"]["auc"] <= hi


def test_compare_pairs_runs_of_the_same_world(runs, tmp_path):
    from riskmodel.models._compare import compare_runs

    a, b = runs["tiny_all"], runs["tiny_no_harm"]
    r = compare_runs([a.run_id, b.run_id], out_dir=tmp_path, n_boot=40)
    assert (tmp_path / "compare.html").exists()
    assert (tmp_path / "compare.json").exists()
    d = r["differences"][0]
    assert d["paired"] is True
    for head in ("reoffend", "severe"):
        expected = b.metrics[f"test.{head}.auc.model"] - a.metrics[f"test.{head}.auc.model"]
        assert d["heads"][head]["diff"]["auc"] == pytest.approx(expected, abs=1e-9)
        lo, hi = d["heads"][head]["ci"]["auc"]
        assert lo <= d["heads"][head]["diff"]["auc"] <= hi
    assert any("no_harm" in line for line in r["headlines"])


def test_compare_cli_needs_two_runs(runs):
    from typer.testing import CliRunner

    from riskmodel.cli import app

    res = CliRunner().invoke(app, ["compare", runs["tiny_all"].run_id])
    assert res.exit_code != 0
    assert "two runs" in res.output


def test_limits_and_compare_have_help():
    from typer.testing import CliRunner

    from riskmodel.cli import app

    for cmd in ("limits", "compare"):
        res = CliRunner().invoke(app, [cmd, "--help"])
        assert res.exit_code == 0
        assert "person" in res.output


def test_merge_into_metrics_json_and_headline(runs, limits, tmp_path):
    import shutil

    from riskmodel.models._limits import headline, merge_limits_metrics

    shutil.copy(runs["tiny_all"].run_dir / "metrics.json", tmp_path / "metrics.json")
    before = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    merged = merge_limits_metrics(tmp_path, limits)
    on_disk = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert on_disk == merged
    assert all(on_disk[k] == v for k, v in before.items() if k != "permitted_use")
    assert on_disk["test.reoffend.learning_gap"] == limits["metrics"]["test.reoffend.learning_gap"]
    line = headline(limits, "reoffend")
    v = limits["ceiling"]["heads"]["reoffend"]["value"]["auc"]
    assert f"{v['ceiling']:.3f}" in line and f"{v['oracle']:.3f}" in line
    assert limits["ceiling"]["heads"]["reoffend"]["verdict"]["learning_gap"]["auc"] in line

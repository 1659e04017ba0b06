"""The whole pipeline on the tiny world: every output is written, the counts add up, and the
experiment's own settings (explain.sample, fairness.min_group_n) reach the steps that use them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from riskmodel.data import read_table
from riskmodel.models import load_run
from riskmodel.paths import configs_dir
from riskmodel.pipeline import run_pipeline

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

#: deliberately not the defaults (2000 and 50), so a step that ignores the experiment shows
SAMPLE = 150
MIN_GROUP_N = 20
CAPACITY = 12

EXPERIMENT = f"""
name: pipeline-tiny
seed: 5
world: {configs_dir() / "world" / "tiny.yaml"}
train:
  split: {{method: temporal, test_years: 1, validation_years: 1, embargo_days: 365}}
  reoffend: {{num_boost_round: 200, early_stopping_rounds: 20}}
  severe: {{num_boost_round: 200, early_stopping_rounds: 20}}
evaluation: {{n_boot: 30}}
explain: {{sample: {SAMPLE}}}
fairness: {{n_boot: 50, min_group_n: {MIN_GROUP_N}, mitigation: false, proxy_sample_n: 500}}
eligibility: {{capacity: {CAPACITY}}}
"""


# session scope: a module-scoped fixture was set up twice when xdist interleaved another
# module's tests on this worker (the pipeline is a minute of work)
@pytest.fixture(scope="session")
def piped(tmp_path_factory):
    home = tmp_path_factory.mktemp("pipeline")
    exp = home / "pipeline-tiny.yaml"
    exp.write_text(EXPERIMENT)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RISKMODEL_HOME", str(home))
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
        mp.setenv("RISKMODEL_AUDIT_LOG", str(home / "audit_log" / "scoring.jsonl"))
        steps: list[str] = []
        result = run_pipeline(exp, step=steps.append)
        run = load_run(result.run_dir)
    return {"home": home, "result": result, "steps": steps, "run": run}


def test_every_output_is_written_where_the_readme_says(piped):
    home, result = piped["home"], piped["result"]
    for name in (
        "training report",
        "metrics",
        "fairness report",
        "eligibility list",
        "eligibility summary",
    ):
        path = result.outputs[name]
        assert path.is_file() and path.stat().st_size > 0, name
    run_dir = result.run_dir
    assert run_dir.parent == home / "reports"
    for name in ("fairness.json", "explain.json", "explain.html", "model_card.html", "run.json"):
        assert (run_dir / name).is_file(), name
    assert result.eligibility_dir.parent == home / "reports" / "eligibility"
    # generated worlds live in synthetic_data/, as the README says, and pass their manifest
    worlds = [p for p in (home / "synthetic_data").iterdir() if not p.name.startswith(".")]
    assert [w.name.split("-")[0] for w in worlds] == ["tiny"]
    assert piped["run"].world_dir == worlds[0]
    # every step, in order; the tiny experiment has no *_no_sensitive sibling, so no companion
    from riskmodel.pipeline import STEPS

    assert piped["steps"] == list(STEPS)
    # the explanations and the list were made in the second process, beside the audit: both are
    # timed there, and the audit's step lasted at least as long as either (it waited for them)
    from riskmodel.pipeline._run import SIDE_STEPS

    sec = result.seconds
    assert set(sec) == set(STEPS) | set(SIDE_STEPS)
    assert sec[STEPS[3]] + 0.2 >= max(sec[s] for s in SIDE_STEPS)
    assert result.detail_seconds["world"] + result.detail_seconds["features"] <= sec[STEPS[0]] + 0.2
    fairness = json.loads((run_dir / "fairness.json").read_text())
    assert fairness["sensitive_inputs"]["comparison"]["available"] is False
    # the world was scored partition by partition: the drift check still compares the inputs
    # (from the feature rows kept for it), not only the score
    drift = json.loads((result.eligibility_dir / "summary.json").read_text())["drift"]
    assert drift["available"], drift
    assert drift["cohort_people_compared"] > 0 and drift["inputs"]
    assert drift["max_input_psi"] == max(r["psi"] for r in drift["inputs"])


def test_the_experiment_settings_reach_explain_and_fairness(piped):
    run_dir = piped["result"].run_dir
    explained = json.loads((run_dir / "explain.json").read_text())
    n_test = len(piped["run"].predictions)
    assert n_test > SAMPLE  # otherwise the sample would be everyone whatever was asked
    assert explained["sample"]["requested"] == SAMPLE
    assert {h: v["n_sample"] for h, v in explained["heads"].items()} == dict.fromkeys(
        ("reoffend", "severe"), SAMPLE
    )
    fairness = json.loads((run_dir / "fairness.json").read_text())
    assert fairness["provenance"]["min_group_n"] == MIN_GROUP_N
    # explain's differences by group use the same smallest reportable group as the audit
    found = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "min_group_n":
                    found.append(v)
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(explained["heads"])
    assert found and set(found) == {MIN_GROUP_N}


def test_eligibility_counts_add_up(piped):
    d = piped["result"].eligibility_dir
    summary = json.loads((d / "summary.json").read_text())
    c = summary["counts"]
    assert c["in"] == c["listed"] + c["not_listed"] + c["excluded_high_harm"] + c["rejected"]
    listed = read_table(d / "eligibility_list.csv", dtype={"person_id": "str"})
    assert len(listed) == c["listed"] <= CAPACITY
    assert listed["rank"].tolist() == list(range(1, len(listed) + 1))
    assert listed["person_id"].is_unique
    rejects = read_table(d / "rejects.csv") if (d / "rejects.csv").exists() else pd.DataFrame()
    assert len(rejects) == c["rejected"]
    assert piped["result"].headline["eligibility.counts"] == c

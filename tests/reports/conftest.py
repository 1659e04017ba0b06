"""A whole pipeline on the tiny world, in a throwaway project: what every reader is handed."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

TINY_EXPERIMENT = """
name: readers-tiny
description: tiny world, whole pipeline, for the reader-facing checks
seed: 11
world: {world}
scale: 2.0
train:
  split: {{method: temporal, test_years: 1, validation_years: 1, embargo_days: 365}}
  reoffend: {{num_boost_round: 200, early_stopping_rounds: 30}}
  severe: {{num_boost_round: 200, early_stopping_rounds: 30}}
  num_threads: 1
evaluation: {{n_boot: 30}}
fairness: {{n_boot: 30}}
explain: {{sample: 300}}
eligibility: {{capacity: 40}}
"""


@pytest.fixture(scope="session")
def _tiny_pipeline_built(tmp_path_factory):
    """``run_pipeline`` on the tiny world (2x its people), once, in its own project home."""
    from riskmodel.pipeline import run_pipeline

    home = tmp_path_factory.mktemp("readers-home")
    (home / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    exp = home / "experiments" / "tiny.yaml"
    exp.parent.mkdir()
    exp.write_text(TINY_EXPERIMENT.format(world=REPO / "configs" / "world" / "tiny.yaml"))
    # the environment is restored as soon as the pipeline has run: a session-long RISKMODEL_HOME
    # would leak into every later test on this worker
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RISKMODEL_HOME", str(home))
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
        result = run_pipeline(exp, user="readers-test")
    return result, home


@pytest.fixture
def tiny_pipeline(_tiny_pipeline_built, monkeypatch):
    """The tiny pipeline's result, with this test pointed at its project home."""
    result, home = _tiny_pipeline_built
    monkeypatch.setenv("RISKMODEL_HOME", str(home))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
    return result

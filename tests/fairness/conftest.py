"""Builders of small scored populations with known properties, and a trained-run directory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.fairness import FairnessConfig


def scored_population(
    n: int,
    *,
    seed: int,
    shares: dict[str, float] | None = None,
    recording: dict[str, float] | None = None,
    score_shift: dict[str, float] | None = None,
    equal_recording: float | None = None,
) -> pd.DataFrame:
    """People with a true risk, true, recorded and equal-recording outcomes, and a score.

    ``recording``: probability that a true reoffence is recorded, per group (1 = unbiased).
    ``equal_recording``: the probability every group would have under equal recording (default:
    the highest of ``recording``); the same uniform draw decides both (common random numbers),
    so ``equal`` and ``recorded`` differ only where the group's recording differs from it.
    ``score_shift``: added to the score of a group (a biased score: same risk, higher score).
    """
    shares = shares or {"a": 0.6, "b": 0.4}
    recording = recording or {}
    score_shift = score_shift or {}
    gen = np.random.default_rng(seed)
    names = list(shares)
    group = gen.choice(names, size=n, p=np.array(list(shares.values())))
    p_true = gen.beta(2, 3, size=n)
    true = gen.random(n) < p_true
    rec_p = np.array([recording.get(g, 1.0) for g in group])
    u_rec = gen.random(n)
    recorded = true & (u_rec < rec_p)
    eq_p = equal_recording if equal_recording is not None else max(recording.values(), default=1.0)
    equal = true & (u_rec < eq_p)
    shift = np.array([score_shift.get(g, 0.0) for g in group])
    score = np.clip(p_true + shift + gen.normal(0, 0.05, n), 0, 1)
    return pd.DataFrame(
        {
            "person_id": [f"p{i:06d}" for i in range(n)],
            "group": group,
            "p_true": p_true,
            "true_outcome": true,
            "recorded": recorded,
            "equal": equal,
            "recorded_incidents": recorded.astype(int),
            "equal_incidents": equal.astype(int),
            "score": score,
        }
    )


@pytest.fixture
def small_config() -> FairnessConfig:
    return FairnessConfig(
        attributes=("group",), intersections=(), n_boot=200, min_group_n=30, proxy_sample_n=2000
    )


def write_run_dir(root: Path, *, n: int = 3000, seed: int = 3) -> Path:
    """A run directory per docs/CONTRACTS.md: run.json, predictions.parquet, model/bundle.json."""
    gen = np.random.default_rng(seed)
    sex = gen.choice(["female", "male"], size=n, p=[0.2, 0.8])
    eth = gen.choice(
        ["white", "asian", "black", "mixed", "other"], size=n, p=[0.8, 0.07, 0.06, 0.04, 0.03]
    )
    age_band = gen.choice(
        ["16-24", "25-34", "35-44", "45-54", "55-64", "65+"],
        size=n,
        p=[0.2, 0.35, 0.25, 0.12, 0.06, 0.02],
    )
    area = gen.choice(["Thanet", "Medway", "Dover"], size=n)
    disability = gen.random(n) < 0.1
    priors = gen.poisson(2, size=n)
    # a feature that carries ethnicity: a proxy the audit should find
    area_code = np.where(eth == "white", gen.normal(0, 1, n), gen.normal(2, 1, n))
    p_true = 1 / (1 + np.exp(-(-1.2 + 0.35 * priors)))
    true = gen.random(n) < p_true
    # one draw per person: recorded at 0.5 for 'black', 0.9 otherwise; equal recording 0.9 for all
    u_rec = gen.random(n)
    recorded = true & (u_rec < np.where(eth == "black", 0.5, 0.9))
    equal = true & (u_rec < 0.9)
    p_re = np.clip(p_true + gen.normal(0, 0.05, n), 0.001, 0.999)
    p_sev = np.clip(gen.beta(1, 15, n), 0.001, 0.999)
    pred = pd.DataFrame(
        {
            "person_id": [f"{i:07d}" for i in range(n)],
            "index_event_id": [f"e{i:07d}" for i in range(n)],
            "index_date": pd.Timestamp("2020-01-01"),
            "priors_da": priors,
            "area_code": area_code,
            "sex": sex,
            "ethnicity": eth,
            "age_band": age_band,
            "area": area,
            "disability": disability,
            "reoffend_12m": recorded,
            "severe_12m": gen.random(n) < 0.05,
            "true_reoffend_12m": true,
            "equal_recording_reoffend_12m": equal,
            "recorded_incidents_12m": recorded.astype(int),
            "equal_recording_incidents_12m": equal.astype(int),
            "p_reoffend_true": p_true,
            "p_reoffend": p_re,
            "p_severe": p_sev,
        }
    )
    d = root / "run-test"
    (d / "model").mkdir(parents=True)
    pred.to_parquet(d / "predictions.parquet")
    info = {
        "run_id": "run-test",
        "experiment": "fixture",
        "seed": 1,
        "data_fingerprint": "x",
        "eligibility": {"reoffend_threshold": 0.35, "severe_threshold": 0.1, "capacity": 50},
        "config": {
            "fairness": {
                "n_boot": 100,
                "min_group_n": 50,
                "proxy_sample_n": 1500,
                "attributes": ["sex", "ethnicity", "age_band"],
            }
        },
    }
    (d / "run.json").write_text(json.dumps(info))
    spec = {
        "features": ["priors_da", "area_code"],
        "audit": ["sex", "ethnicity", "age_band", "area", "disability"],
    }
    (d / "model" / "bundle.json").write_text(json.dumps({"feature_spec": spec}))
    return d


def add_model_bundle(run_dir: Path) -> None:
    """Replace the fixture's stub bundle by a real, verified one (tiny LightGBM heads), and make
    run.json a full record, so ``riskmodel.models.load_run`` can read the run."""
    import lightgbm as lgb

    from riskmodel.models import Calibrator, ModelBundle

    pred = pd.read_parquet(run_dir / "predictions.parquet")
    X = pred[["priors_da", "area_code"]]
    params = {"objective": "binary", "num_leaves": 4, "verbose": -1, "num_threads": 1}
    boosters = {
        head: lgb.train(params, lgb.Dataset(X, pred[label].astype(int)), num_boost_round=5)
        for head, label in (("reoffend", "reoffend_12m"), ("severe", "severe_12m"))
    }
    for f in (run_dir / "model").iterdir():
        f.unlink()
    bundle = ModelBundle(
        boosters=boosters,
        calibrators={h: Calibrator() for h in boosters},
        feature_names=["priors_da", "area_code"],
        feature_spec={"features": ["priors_da", "area_code"]},
    )
    sha = bundle.save(run_dir / "model")
    info = json.loads((run_dir / "run.json").read_text())
    info["bundle_manifest_sha256"] = sha
    # a lighter audit than the stub run's, so the test also shows the experiment's config is used
    fairness = {
        "n_boot": 100,
        "attributes": ["sex", "ethnicity"],
        "intersections": [],
        "mitigation": False,
        "proxy_sample_n": 1000,
    }
    info["config"] = {
        "name": "fixture",
        "table": "table.csv",
        "eligibility": info["eligibility"],
        "fairness": fairness,
    }
    (run_dir / "run.json").write_text(json.dumps(info))


@pytest.fixture
def make_population():
    """The :func:`scored_population` builder."""
    return scored_population


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A small trained-run directory (see :func:`write_run_dir`)."""
    return write_run_dir(tmp_path)


@pytest.fixture
def run_dir_loadable(tmp_path) -> Path:
    """The fixture run made loadable by ``riskmodel.models.load_run`` (a verified bundle and a
    whole experiment config), keeping the fixture's own fairness settings."""
    d = write_run_dir(tmp_path)
    fairness = json.loads((d / "run.json").read_text())["config"]["fairness"]
    add_model_bundle(d)
    info = json.loads((d / "run.json").read_text())
    info["config"]["fairness"] = fairness
    (d / "run.json").write_text(json.dumps(info))
    return d


@pytest.fixture
def run_dir_with_bundle(tmp_path) -> Path:
    """A run directory with a real model bundle, readable by ``riskmodel.models.load_run``."""
    d = write_run_dir(tmp_path)
    add_model_bundle(d)
    return d

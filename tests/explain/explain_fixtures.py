"""Builders for the explain tests: a small trained bundle on synthetic DA-like features and a
fake run directory laid out as docs/CONTRACTS.md "A trained run" describes."""

from __future__ import annotations

import json
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskmodel.data import write_json, write_parquet
from riskmodel.models import Calibrator, ModelBundle

FEATURES = [
    "da_incidents_90d",
    "da_incidents_5y",
    "days_since_last_da",
    "age_at_index",
    "harm_days_5y",
    "prior_victims",
    "breach_of_order",
    "relationship",
    "rfg_score",
]
CATEGORICAL = {"relationship": ["partner", "ex_partner", "family", "adolescent_to_parent"]}
DICTIONARY = {
    "da_incidents_90d": {
        "description": "recorded DA incidents in the last 90 days",
        "reason": "{value:.0f} recorded DA incidents in the last 90 days",
        "unit": "count",
    },
    "da_incidents_5y": {
        "description": "recorded DA incidents in the last 5 years",
        "reason": "{value:.0f} recorded DA incidents in the last 5 years",
        "unit": "count",
    },
    "days_since_last_da": {
        "description": "days since the previous recorded DA incident",
        "reason": "{value:.0f} days since the previous recorded DA incident",
        "unit": "days",
    },
    "age_at_index": {
        "description": "age at the index event",
        "reason": "aged {value:.0f} at the index event",
        "unit": "years",
    },
    "harm_days_5y": {
        "description": "recorded harm in the last 5 years (Crime Harm Index days)",
        "reason": "recorded harm of {value:,.0f} harm days in the last 5 years",
        "unit": "harm_days",
    },
    "prior_victims": {
        "description": "different victims recorded",
        "reason": "{value:.0f} different victims recorded",
        "unit": "count",
    },
    "breach_of_order": {
        "description": "has breached a protective order",
        "reason": "has breached a protective order",
        "unit": "flag",
    },
    "relationship": {
        "description": "relationship to the victim at the index event",
        "reason": "relationship to the victim at the index event: {value}",
        "unit": "category",
    },
    # rfg_score deliberately has no dictionary entry: the fallback wording is tested
}
AUDIT = ["sex", "ethnicity", "age_band", "area", "disability"]
AREAS = ["Ashford", "Medway", "Thanet", "Swale"]


def make_people(n: int, seed: int) -> pd.DataFrame:
    """Feature rows with labels and audit attributes; ages drive the age bands."""
    r = np.random.default_rng(seed)
    age = np.clip(r.gamma(6, 6, n) + 16, 16, 90).round()
    propensity = r.gamma(1.5, 1.0, n)
    inc5 = r.poisson(propensity * 3)
    inc90 = r.binomial(inc5, 0.15)
    days = np.where(inc5 > 0, r.integers(1, 1800, n).astype(float), np.nan)
    df = pd.DataFrame(
        {
            "person_id": [f"P{i:06d}" for i in range(n)],
            "index_event_id": [f"E{i:07d}" for i in range(n)],
            "index_date": pd.to_datetime("2020-01-01")
            + pd.to_timedelta(r.integers(0, 700, n), unit="D"),
            "da_incidents_90d": inc90,
            "da_incidents_5y": inc5,
            "days_since_last_da": days,
            "age_at_index": age,
            "harm_days_5y": np.round(r.gamma(1.2, 40, n) * (inc5 > 0), 1),
            "prior_victims": r.poisson(0.3 + 0.3 * propensity),
            "breach_of_order": r.random(n) < 0.15,
            "relationship": pd.Series(
                r.choice(CATEGORICAL["relationship"], n, p=[0.45, 0.35, 0.15, 0.05]),
                dtype="str",
            ),
            "rfg_score": r.integers(0, 40, n).astype(float),
        }
    )
    df.loc[r.random(n) < 0.05, "relationship"] = None
    lin = (
        -1.5
        + 0.5 * df["da_incidents_90d"]
        + 0.12 * df["da_incidents_5y"]
        - 0.03 * (df["age_at_index"] - 35)
        + 0.6 * df["breach_of_order"]
        + 0.4 * (df["relationship"] == "ex_partner")
        + 0.3 * df["prior_victims"]
    )
    p = 1 / (1 + np.exp(-lin))
    df["reoffend_12m"] = r.random(n) < p
    df["severe_12m"] = r.random(n) < p * 0.25
    df["harm_days_12m"] = np.where(df["reoffend_12m"], r.gamma(1, 60, n), 0.0)
    df["sex"] = pd.Series(r.choice(["male", "female"], n, p=[0.8, 0.2]), dtype="str")
    df["ethnicity"] = pd.Series(
        r.choice(
            ["white", "asian", "black", "mixed", "other"], n, p=[0.85, 0.05, 0.04, 0.04, 0.02]
        ),
        dtype="str",
    )
    df["age_band"] = pd.cut(
        df["age_at_index"],
        [0, 24, 34, 44, 54, 64, 200],
        labels=["16-24", "25-34", "35-44", "45-54", "55-64", "65+"],
    ).astype("str")
    df["area"] = pd.Series(r.choice(AREAS, n), dtype="str")
    df["disability"] = r.random(n) < 0.12
    df["p_reoffend_true"] = p
    df["true_reoffend_12m"] = df["reoffend_12m"] | (r.random(n) < 0.1)
    return df


def train_bundle(df: pd.DataFrame, *, rounds: int = 40, leaves: int = 15) -> ModelBundle:
    b = ModelBundle(
        boosters={},
        calibrators={},
        feature_names=list(FEATURES),
        categorical_levels=dict(CATEGORICAL),
        feature_spec={
            "features": list(FEATURES),
            "categorical_features": list(CATEGORICAL),
            "audit": list(AUDIT),
            "labels": ["reoffend_12m", "severe_12m", "harm_days_12m"],
            "dictionary": DICTIONARY,
            "source": "synthetic",
        },
        metadata={"run_id": "fixture", "model_name": "riskmodel", "trained_at": "2024-05-01"},
    )
    X = b.prepare(df)
    params = {
        "objective": "binary",
        "verbose": -1,
        "num_leaves": leaves,
        "min_data_in_leaf": 20,
        "seed": 0,
        "deterministic": True,
        "num_threads": 1,
    }
    for head, label in (("reoffend", "reoffend_12m"), ("severe", "severe_12m")):
        y = df[label].astype(int).to_numpy()
        booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=rounds)
        b.boosters[head] = booster
        b.calibrators[head] = Calibrator.fit("isotonic", booster.predict(X), y)
    return b


def _metrics(rng: np.random.Generator) -> dict:
    """Flat test metrics as training writes them; both interval spellings occur."""
    out = {}
    models = ("model", "rfg", "logistic", "base_rate", "oracle")
    for head in ("reoffend", "severe"):
        for metric in ("auc", "ece", "brier", "precision_top_k", "auc_gain"):
            for model in models:
                if metric.endswith("_gain") and model == "model":
                    continue
                v = float(np.round(rng.uniform(-0.1 if "gain" in metric else 0.05, 0.9), 6))
                out[f"test.{head}.{metric}.{model}"] = v
                ci = [v - 0.0123, v + 0.0145]
                if metric == "auc":
                    out[f"test.{head}.{metric}_ci.{model}"] = ci
                else:
                    out[f"test.{head}.{metric}.{model}_ci"] = ci
    out["n.test"] = 1200
    out["top_k.k"] = 100
    return out


def _fairness(preds: pd.DataFrame, rng: np.random.Generator) -> dict:
    groups: dict = {}
    for attr in AUDIT:
        groups[attr] = {}
        for g, sub in preds.groupby(attr):
            cell = {"n": len(sub)}
            for m in ("selection_rate", "fpr", "fnr", "ppv", "tpr", "auc"):
                v = float(np.round(rng.uniform(0, 1), 6))
                cell[m] = v
                cell[f"{m}_ci"] = [max(0.0, v - 0.05), min(1.0, v + 0.04)]
            groups[attr][str(g)] = cell
    # a group too small to report, as the audit writes it
    groups["ethnicity"]["other"] = {
        "n": None,
        "n_below": 50,
        "suppressed": True,
        **{m: None for m in ("selection_rate", "fpr", "fnr", "ppv", "tpr", "auc")},
        **{f"{m}_ci": [None, None] for m in ("selection_rate", "fpr", "fnr", "ppv", "tpr", "auc")},
    }
    return {"groups": groups, "disparities": {}, "permitted_use": "x"}


def build_run(
    root: Path,
    bundle: ModelBundle,
    test_frame: pd.DataFrame,
    *,
    run_id: str = "run-fixture",
    fairness: bool = True,
    world: bool = True,
    seed: int = 7,
    explain: dict | None = None,
) -> Path:
    """A run directory as `riskmodel train` (+ `audit --run`) leaves it."""
    rng = np.random.default_rng(seed)
    d = root / run_id
    d.mkdir(parents=True)
    digest = bundle.save(d / "model")
    preds = test_frame.copy()
    preds["p_reoffend"] = bundle.predict(preds, "reoffend")
    preds["p_severe"] = bundle.predict(preds, "severe")
    preds["score_rfg"] = preds["rfg_score"]
    write_parquet(preds, d / "predictions.parquet")
    world_dir = None
    if world:
        world_dir = root / "world"
        world_dir.mkdir(exist_ok=True)
        write_json(
            {
                "world": "kent-test",
                "config": {"name": "kent-test", "areas": AREAS, "years": 15},
                "seed": 11,
                "scale": 0.01,
                "start_date": "2005-01-01",
                "end_date": "2019-12-31",
                "row_counts": {"people": 5000, "events": 20000, "truth": 9000},
                "files": {"people.parquet": "ab" * 32, "events.parquet": "cd" * 32},
                "package_version": "0.1.0",
            },
            world_dir / "manifest.json",
        )
        write_json(
            [
                {
                    "name": "share of defendants who are men",
                    "target": 0.92,
                    "generated": 0.905,
                    "tolerance": 0.03,
                    "ok": True,
                    "source": "004",
                    "note": "",
                }
            ],
            world_dir / "calibration.json",
        )
    info = {
        "run_id": run_id,
        "experiment": "baseline",
        "experiment_file": "experiments/baseline.yaml",
        "config": {
            "name": "baseline",
            "table": "table.csv",  # a Run's experiment is a validated ExperimentConfig
            "seed": seed,
            "fairness": {"min_group_n": 50},
            **({"explain": explain} if explain is not None else {}),
        },
        "seed": seed,
        "data_fingerprint": "f" * 64,
        "features_dir": str(root / "features"),
        "world_dir": str(world_dir) if world_dir else None,
        "source": "synthetic",
        "git_commit": "0123abc",
        "bundle_manifest_sha256": digest,
        "eligibility": {"capacity": 100},
        "registered": {"reoffend": "3", "severe": "3"},
    }
    write_json(info, d / "run.json")
    write_json(_metrics(rng), d / "metrics.json")
    if fairness:
        write_json(_fairness(preds, rng), d / "fairness.json")
    return d


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())

"""A small feature table (docs/CONTRACTS.md) generated from a known model, for the models tests.

Outcomes are drawn from a logistic model of the features plus a hidden per-person propensity, so
the world's true probability (the oracle) is known and beats any model of the features alone;
``rfg_score`` is a coarse, tied recency-frequency-gravity ranking.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

AREAS = ["Ashford", "Canterbury", "Dartford", "Medway", "Swale", "Thanet"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def make_feature_table(
    *,
    n_people: int = 1500,
    seed: int = 0,
    signal: float = 1.0,
    first_year: int = 2014,
    n_years: int = 8,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``signal=0`` gives outcomes independent of every feature."""
    r = np.random.default_rng(seed)
    n_events = r.poisson(1.5, n_people) + 1
    person = np.repeat(np.arange(n_people), n_events)
    n = len(person)
    hidden = r.normal(0, 1, n_people)[person]
    sex = np.where(r.random(n_people) < 0.85, "male", "female")[person]
    eth = r.choice(
        ["white", "asian", "black", "mixed", "other"], n_people, p=[0.85, 0.05, 0.04, 0.03, 0.03]
    )[person]
    area = r.choice(AREAS, n_people)[person]
    disability = (r.random(n_people) < 0.1)[person]
    birth_year = r.integers(1950, 2000, n_people)[person]
    start = pd.Timestamp(f"{first_year}-01-01")
    days = r.integers(0, 365 * n_years, n)
    index_date = (start + pd.to_timedelta(days, unit="D")).normalize()
    age = index_date.year.to_numpy() - birth_year + r.random(n)
    prior = r.poisson(np.exp(0.6 + 0.5 * hidden))
    da_90d = r.poisson(0.3 + 0.3 * (hidden > 0.5))
    harm_prior = r.gamma(1.5, 40, n) * (prior > 0) + 400 * (r.random(n) < 0.05)
    days_since = r.exponential(200, n).round()
    relationship = r.choice(["partner", "ex_partner", "family"], n, p=[0.5, 0.35, 0.15])
    breach = r.random(n) < 0.15
    lin = (
        -1.1
        + signal * (0.55 * np.log1p(prior) + 0.45 * np.minimum(da_90d, 3) - 0.04 * (age - 35))
        + signal * (0.35 * (relationship == "ex_partner") + 0.3 * breach)
        + signal * 0.6 * hidden
    )
    p_re = _sigmoid(lin)
    lin_s = -3.6 + signal * (0.004 * harm_prior + 0.5 * np.log1p(prior) + 0.4 * hidden)
    p_sev = _sigmoid(lin_s)
    reoffend = r.random(n) < p_re
    severe = r.random(n) < p_sev
    reoffend |= severe
    harm_12m = reoffend * r.gamma(1.2, 20, n) + severe * 365.0
    true_incidents = r.poisson(1 + 3 * p_re) * reoffend + r.poisson(0.5, n)
    rfg = np.round(3 * np.exp(-days_since / 180) + np.minimum(prior, 8) / 2 + harm_prior / 200)
    frame = pd.DataFrame(
        {
            "person_id": pd.array([f"P{p:06d}" for p in person], dtype="str"),
            "index_event_id": pd.array([f"E{i:07d}" for i in range(n)], dtype="str"),
            "index_date": index_date.date,
            "age_at_index": age.round(1),
            "n_da_all": prior,
            "n_da_90d": da_90d,
            "harm_da_all": harm_prior.round(1),
            "days_since_previous_da": days_since,
            "index_relationship": pd.array(relationship, dtype="str"),
            "has_breach": breach,
            "reoffend_12m": reoffend,
            "severe_12m": severe,
            "harm_days_12m": harm_12m,
            "sex": pd.array(sex, dtype="str"),
            "ethnicity": pd.array(eth, dtype="str"),
            "age_band": pd.array(
                pd.cut(
                    age,
                    [0, 25, 35, 45, 55, 65, 200],
                    right=False,
                    labels=["16-24", "25-34", "35-44", "45-54", "55-64", "65+"],
                ).astype(str),
                dtype="str",
            ),
            "area": pd.array(area, dtype="str"),
            "disability": disability,
            "p_reoffend_true": p_re,
            "p_severe_true": p_sev,
            "true_incidents_12m": true_incidents,
            "true_reoffend_12m": reoffend | (true_incidents > 0),
            "rfg_score": rfg,
        }
    )
    frame["index_date"] = pd.to_datetime(frame["index_date"])
    frame = frame.sort_values(["index_date", "index_event_id"], kind="stable").reset_index(
        drop=True
    )
    features = [
        "age_at_index",
        "n_da_all",
        "n_da_90d",
        "harm_da_all",
        "days_since_previous_da",
        "index_relationship",
        "has_breach",
    ]
    spec = {
        "keys": ["person_id", "index_event_id", "index_date"],
        "features": features,
        "categorical_features": ["index_relationship"],
        "labels": ["reoffend_12m", "severe_12m", "harm_days_12m"],
        "audit": ["sex", "ethnicity", "age_band", "area", "disability"],
        "truth": ["p_reoffend_true", "p_severe_true", "true_incidents_12m", "true_reoffend_12m"],
        "baselines": ["rfg_score"],
        "dictionary": {
            f: {"description": f.replace("_", " "), "reason": f"{f} is {{value}}", "unit": "count"}
            for f in features
        },
        "source": "synthetic",
        "n_rows": len(frame),
        "n_censored": 0,
        "config": {"fixture": True, "seed": seed},
    }
    return frame, spec


def fixture_experiment(**overrides: Any):
    """An ExperimentConfig for the fixture table: short periods, few trees, few replicates."""
    from riskmodel.experiment import ExperimentConfig

    data: dict[str, Any] = {
        "name": "fixture",
        "seed": 7,
        "table": "fixture-table.yaml",
        "train": {
            "split": {"test_years": 1, "validation_years": 1, "embargo_days": 365},
            "reoffend": {"num_boost_round": 300, "early_stopping_rounds": 30},
            "severe": {"num_boost_round": 300, "early_stopping_rounds": 30},
            "num_threads": 1,
        },
        "evaluation": {"n_boot": 60},
        "eligibility": {"capacity": 60},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return ExperimentConfig.model_validate(data)

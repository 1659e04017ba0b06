"""A small feature table from a known model whose world can change over time, for the refresh
tests (independent of the generator: outcomes come from a logistic model written here).

With ``trend=True`` the world drifts after 2016: a new kind of recorded offence (``n_cc_all``,
the controlling-or-coercive count) appears and carries risk, recent DA matters more, and the
population's age moves; with ``trend=False`` the same model holds in every year.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

AREAS = ["Ashford", "Canterbury", "Dartford", "Medway", "Swale", "Thanet"]
FEATURES = [
    "age_at_index",
    "n_da_all",
    "n_da_90d",
    "n_cc_all",
    "harm_da_all",
    "days_since_previous_da",
    "index_relationship",
    "mental_health",
]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def make_table(
    *,
    n_people: int = 3000,
    seed: int = 0,
    trend: bool = True,
    first_year: int = 2012,
    n_years: int = 12,
) -> tuple[pd.DataFrame, dict[str, Any]]:
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
    mh = (r.random(n_people) < 0.2)[person]
    start = pd.Timestamp(f"{first_year}-01-01")
    days = r.integers(0, int(365.25 * n_years), n)
    index_date = (start + pd.to_timedelta(days, unit="D")).normalize()
    t = (days / 365.25 - 4.0).clip(0, None) if trend else np.zeros(n)  # years after 2016
    birth_year = r.integers(1950, 2002, n_people)[person]
    age = np.clip(index_date.year.to_numpy() - birth_year + r.random(n), 16, 90)
    prior = r.poisson(np.exp(0.6 + 0.5 * hidden))
    da_90d = r.poisson(0.3 + 0.3 * (hidden > 0.5))
    # the new offence: recorded only after 2016 when the world changes, rising with time
    cc_rate = np.minimum(t, 4) * 0.35 * np.exp(0.4 * hidden) if trend else np.zeros(n)
    cc = r.poisson(cc_rate)
    harm_prior = r.gamma(1.5, 40, n) * (prior > 0) + 400 * (r.random(n) < 0.05)
    days_since = r.exponential(200, n).round()
    relationship = r.choice(["partner", "ex_partner", "family"], n, p=[0.5, 0.35, 0.15])
    w90 = 0.45 + (0.25 * np.minimum(t, 4) if trend else 0.0)
    w_prior = 0.55 - (0.1 * np.minimum(t, 4) if trend else 0.0)
    lin = (
        -1.1
        + w_prior * np.log1p(prior)
        + w90 * np.minimum(da_90d, 3)
        - 0.04 * (age - 35)
        + 0.35 * (relationship == "ex_partner")
        + 0.3 * mh
        + 0.6 * np.log1p(cc)
        + 0.6 * hidden
    )
    p_re = _sigmoid(lin)
    p_sev = _sigmoid(-3.6 + 0.004 * harm_prior + 0.5 * np.log1p(prior) + 0.4 * hidden)
    reoffend = r.random(n) < p_re
    severe = r.random(n) < p_sev
    reoffend |= severe
    harm_12m = reoffend * r.gamma(1.2, 20, n) + severe * 365.0
    rfg = np.round(3 * np.exp(-days_since / 180) + np.minimum(prior, 8) / 2 + harm_prior / 200)
    frame = pd.DataFrame(
        {
            "person_id": pd.array([f"P{p:06d}" for p in person], dtype="str"),
            "index_event_id": pd.array([f"E{i:07d}" for i in range(n)], dtype="str"),
            "index_date": pd.to_datetime(index_date.date),
            "age_at_index": age.round(1),
            "n_da_all": prior,
            "n_da_90d": da_90d,
            "n_cc_all": cc,
            "harm_da_all": harm_prior.round(1),
            "days_since_previous_da": days_since,
            "index_relationship": pd.array(relationship, dtype="str"),
            "mental_health": mh,
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
            "rfg_score": rfg,
        }
    )
    frame = frame.sort_values(["index_date", "index_event_id"], kind="stable").reset_index(
        drop=True
    )
    spec = {
        "keys": ["person_id", "index_event_id", "index_date"],
        "features": list(FEATURES),
        "categorical_features": ["index_relationship"],
        "labels": ["reoffend_12m", "severe_12m", "harm_days_12m"],
        "audit": ["sex", "ethnicity", "age_band", "area", "disability"],
        "truth": ["p_reoffend_true", "p_severe_true"],
        "baselines": ["rfg_score"],
        "dictionary": {
            f: {"description": f.replace("_", " "), "reason": f"{f} is {{value}}", "unit": "count"}
            for f in FEATURES
        },
        "source": "synthetic",
        "n_rows": len(frame),
        "n_censored": 0,
        "config": {"fixture": True, "seed": seed, "trend": trend},
    }
    return frame, spec


def experiment(**overrides: Any):
    """An ExperimentConfig for the fixture table: short periods, few trees, few replicates."""
    from riskmodel.experiment import ExperimentConfig

    data: dict[str, Any] = {
        "name": "refresh-fixture",
        "seed": 7,
        "table": "fixture-table.yaml",
        "train": {
            "split": {"test_years": 1, "validation_years": 1, "embargo_days": 365},
            "reoffend": {"num_boost_round": 200, "early_stopping_rounds": 20},
            "severe": {"num_boost_round": 200, "early_stopping_rounds": 20},
            "num_threads": 1,
        },
        "evaluation": {"n_boot": 30},
        "fairness": {
            "n_boot": 60,
            "attributes": ["sex", "ethnicity", "age_band"],
            "intersections": [],
            "mitigation": False,
            "proxy_sample_n": 500,
        },
        "eligibility": {"capacity": 60},
        # a window of about a thousand assessments: ECE noise is about 0.02
        "refresh": {"n_boot": 100, "max_ece": 0.05},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return ExperimentConfig.model_validate(data)


def prepared(frame: pd.DataFrame, spec: dict[str, Any]):
    from riskmodel.models import PreparedData

    return PreparedData(
        frame=frame, spec=spec, source="synthetic", features_dir=None, world_dir=None
    )

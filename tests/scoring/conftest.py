"""Fixtures for scoring: a small trained model bundle and prepared feature cohorts.

The cohort is given as a prepared feature frame (the features stage's contract), so these tests
do not depend on the world generator or the feature builder.
"""

from __future__ import annotations

import datetime as dt

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from riskmodel.models import Calibrator, ModelBundle

AS_OF = dt.date(2024, 6, 30)
AREAS = ("Thanet", "Medway", "Swale", "Dover")
FEATURES = [
    "da_incidents_365d",
    "harm_days_365d",
    "age_at_index",
    "days_since_last_da",
    "relationship",
    "breach_of_order_ever",
]
DICTIONARY = {
    "da_incidents_365d": {
        "description": "recorded DA incidents in the last 365 days",
        "reason": "{value:.0f} recorded DA incidents in the last 365 days",
        "unit": "count",
    },
    "harm_days_365d": {
        "description": "harm (Crime Harm Index days) in the last 365 days",
        "reason": "{value:.0f} harm days recorded in the last 365 days",
        "unit": "harm_days",
    },
    "age_at_index": {"description": "age at the index event", "reason": "aged {value:.0f}"},
    "days_since_last_da": {
        "description": "days since the previous DA event",
        "reason": "{value:.0f} days since the previous DA event",
    },
    "relationship": {"description": "relationship to the victim", "reason": "abuse of a {value}"},
    "breach_of_order_ever": {
        "description": "ever breached an order",
        "reason": "breached an order",
    },
}


def make_features(n: int, seed: int, *, as_of: dt.date = AS_OF) -> pd.DataFrame:
    """A prepared scoring cohort: one row per person, index event in the year to ``as_of``."""
    r = np.random.default_rng(seed)
    days_back = r.integers(0, 365, n)
    return pd.DataFrame(
        {
            "person_id": [f"P{i:07d}" for i in range(n)],
            "index_event_id": [f"E{i:08d}" for i in range(n)],
            "index_date": pd.to_datetime(as_of) - pd.to_timedelta(days_back, unit="D"),
            "da_incidents_365d": r.poisson(1.5, n),
            "harm_days_365d": r.gamma(1.5, 40, n).round(1),
            "age_at_index": r.integers(16, 70, n).astype(float),
            "days_since_last_da": r.integers(1, 900, n).astype(float),
            "relationship": pd.Series(
                r.choice(["partner", "ex_partner", "family"], n), dtype="str"
            ),
            "breach_of_order_ever": r.random(n) < 0.2,
            "sex": pd.Series(r.choice(["male", "female"], n, p=[0.8, 0.2]), dtype="str"),
            "ethnicity": pd.Series(
                r.choice(
                    ["white", "asian", "black", "mixed", "other"],
                    n,
                    p=[0.9, 0.04, 0.03, 0.02, 0.01],
                ),
                dtype="str",
            ),
            "age_band": pd.Series(r.choice(["16-24", "25-34", "35-44", "45-54"], n), dtype="str"),
            "area": pd.Series(r.choice(AREAS, n), dtype="str"),
            "disability": r.random(n) < 0.1,
        }
    )


def _train_bundle() -> ModelBundle:
    df = make_features(3000, 11)
    r = np.random.default_rng(12)
    logit_r = -1.5 + 0.6 * df["da_incidents_365d"] - 0.03 * (df["age_at_index"] - 30)
    logit_s = -4.0 + 0.02 * df["harm_days_365d"] + 0.8 * df["breach_of_order_ever"]
    y_r = (r.random(len(df)) < 1 / (1 + np.exp(-logit_r))).astype(int)
    y_s = (r.random(len(df)) < 1 / (1 + np.exp(-logit_s))).astype(int)
    b = ModelBundle(
        boosters={},
        calibrators={},
        feature_names=list(FEATURES),
        categorical_levels={"relationship": ["partner", "ex_partner", "family"]},
        feature_spec={"dictionary": DICTIONARY, "config": {}},
        metadata={"run_id": "run-test-1", "model_name": "riskmodel-reoffend", "model_version": "3"},
    )
    X = b.prepare(df)
    params = {
        "objective": "binary",
        "verbose": -1,
        "num_leaves": 7,
        "seed": 0,
        "deterministic": True,
    }
    for head, y in (("reoffend", y_r), ("severe", y_s)):
        booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=25)
        b.boosters[head] = booster
        # isotonic (as in training) maps score ranges to one value: ties that the raw score breaks
        method = "isotonic" if head == "reoffend" else "platt"
        b.calibrators[head] = Calibrator.fit(method, booster.predict(X), y)
    return b


@pytest.fixture(scope="session")
def bundle() -> ModelBundle:
    return _train_bundle()


@pytest.fixture(scope="session")
def bundle_dir(bundle, tmp_path_factory):
    d = tmp_path_factory.mktemp("model") / "bundle"
    bundle.save(d)
    return d


@pytest.fixture
def cohort_file(tmp_path):
    path = tmp_path / "cohort" / "features.parquet"
    path.parent.mkdir()
    make_features(400, 3).to_parquet(path)
    return path


# -- a tiny world in the data contract, for the people + events path ----------------------------
WORLD_AS_OF = dt.date(2023, 12, 31)
_DA_TYPES = [
    "violence_with_injury",
    "threats",
    "coercive_control",
    "breach_of_order",
    "serious_violence",
]


def make_world(n_people: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(people, events, programmes) in the contract of docs/CONTRACTS.md: two years of DA events
    up to ``WORLD_AS_OF`` plus a few non-DA ones; about a third of people have none in the last
    year."""
    r = np.random.default_rng(seed)
    ids = [f"{i:06d}" for i in range(n_people)]
    people = pd.DataFrame(
        {
            "person_id": ids,
            "birth_date": pd.to_datetime("1960-01-01")
            + pd.to_timedelta(r.integers(0, 40 * 365, n_people), unit="D"),
            "sex": r.choice(["male", "female"], n_people, p=[0.8, 0.2]),
            "ethnicity": r.choice(["white", "asian", "black"], n_people, p=[0.9, 0.05, 0.05]),
            "area": r.choice(AREAS, n_people),
            "disability": r.random(n_people) < 0.1,
            "mental_health": r.random(n_people) < 0.1,
            "substance_misuse": r.random(n_people) < 0.1,
        }
    )
    n_ev = n_people * 3
    perp = r.integers(0, n_people, n_ev)
    victim = (perp + 1 + r.integers(0, n_people - 1, n_ev)) % n_people
    days_back = r.integers(0, 730, n_ev)
    offence = r.choice([*_DA_TYPES, "nonda_other"], n_ev)
    is_da = offence != "nonda_other"
    events = pd.DataFrame(
        {
            "event_id": [f"E{i:07d}" for i in range(n_ev)],
            "date": pd.to_datetime(WORLD_AS_OF) - pd.to_timedelta(days_back, unit="D"),
            "perpetrator_id": [ids[i] for i in perp],
            "victim_id": [ids[v] if d else None for v, d in zip(victim, is_da, strict=True)],
            "offence_type": offence,
            "harm_days": r.gamma(1.5, 20, n_ev).round(1),
            "is_da": is_da,
            "relationship": [r.choice(["partner", "ex_partner"]) if d else None for d in is_da],
            "area": r.choice(AREAS, n_ev),
        }
    )
    # event ids in chronological order, as the contract requires
    events = events.sort_values("date", kind="stable").reset_index(drop=True)
    events["event_id"] = [f"E{i:07d}" for i in range(n_ev)]
    programmes = pd.DataFrame(
        {
            "person_id": ids[:3],
            "referral_date": pd.to_datetime(["2022-03-01", "2022-05-01", "2023-01-10"]),
            "start_date": pd.to_datetime(["2022-04-01", None, "2023-02-01"]),
            "completed": [True, False, False],
            "completion_date": pd.to_datetime(["2022-09-01", None, None]),
        }
    )
    return people, events, programmes


@pytest.fixture(scope="session")
def world_bundle(tmp_path_factory):
    """A bundle trained (on noise labels) on the feature builder's own scoring columns."""
    from riskmodel.features import build_scoring_features
    from riskmodel.features._config import FeatureConfig

    people, events, programmes = make_world(300, 21)
    table = build_scoring_features(
        people, events, programmes, as_of=WORLD_AS_OF, config=FeatureConfig()
    )
    X = table.frame
    names = list(table.spec["features"])
    cats = list(table.spec.get("categorical_features", []))
    b = ModelBundle(
        boosters={},
        calibrators={},
        feature_names=names,
        categorical_levels={c: sorted(map(str, X[c].dropna().unique())) for c in cats},
        feature_spec=table.spec,
        metadata={
            "run_id": "run-world",
            "registered_model_names": {"reoffend": "riskmodel-reoffend"},
        },
    )
    Xp = b.prepare(X)
    r = np.random.default_rng(5)
    params = {
        "objective": "binary",
        "verbose": -1,
        "num_leaves": 4,
        "min_data_in_leaf": 5,
        "seed": 0,
        "deterministic": True,
        "num_threads": 1,
    }
    for head, rate in (("reoffend", 0.4), ("severe", 0.1)):
        y = (r.random(len(Xp)) < rate).astype(int)
        booster = lgb.train(params, lgb.Dataset(Xp, y), num_boost_round=5)
        b.boosters[head] = booster
        b.calibrators[head] = Calibrator()
    d = tmp_path_factory.mktemp("world_model") / "bundle"
    b.save(d)
    return b, d

"""Small tables whose true probability is a known function of the features (the limits tests).

``p_true`` depends on ``x1``, ``x2`` (a count), ``x3`` (categorical) and ``key``: a model that sees
all four can reach the oracle; one without ``key`` cannot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ["x1", "x2", "x3", "key"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def true_logit(x1, x2, x3, key) -> np.ndarray:
    return -1.0 + 0.8 * x1 + 0.5 * np.log1p(x2) + 0.6 * (np.asarray(x3) == "b") + 1.2 * key


def make_table(n_people: int, *, seed: int, prefix: str = "P") -> pd.DataFrame:
    """One to three index events per person; outcomes drawn from ``p_true``."""
    r = np.random.default_rng(seed)
    n_events = r.integers(1, 4, n_people)
    person = np.repeat(np.arange(n_people), n_events)
    n = len(person)
    x1 = r.normal(0, 1, n)
    x2 = r.poisson(2.0, n)
    x3 = r.choice(["a", "b", "c"], n)
    key = r.normal(0, 1, n_people)[person]  # a fixed trait of the person
    p = _sigmoid(true_logit(x1, x2, x3, key))
    p_sev = _sigmoid(-2.5 + 0.9 * key + 0.3 * x1)
    return pd.DataFrame(
        {
            "person_id": pd.array([f"{prefix}{i:06d}" for i in person], dtype="str"),
            "x1": x1,
            "x2": x2,
            "x3": pd.array(x3, dtype="str"),
            "key": key,
            "reoffend_12m": r.random(n) < p,
            "severe_12m": r.random(n) < p_sev,
            "p_reoffend_true": p,
            "p_severe_true": p_sev,
        }
    )

"""People as the unit: with several correlated index events per person, a person-level bootstrap
gives wider intervals than a row-level one, and covers the truth at about the nominal rate."""

from __future__ import annotations

import numpy as np

from riskmodel.evaluation import ModelScores, evaluate_head
from riskmodel.fairness import bootstrap_group_metrics
from riskmodel.fairness._bootstrap import cluster_codes


def _people(gen: np.random.Generator, n_people: int):
    """People with 1-6 index events each; a person's events share one reoffending probability,
    so they are strongly correlated. Returns person ids, outcomes and a score."""
    n_events = gen.integers(1, 7, n_people)
    p = gen.beta(0.6, 0.9, n_people)
    person = np.repeat(np.arange(n_people), n_events)
    y = (gen.random(len(person)) < p[person]).astype(int)
    score = p[person] + gen.normal(0, 0.2, len(person))
    return person, y, score, n_events, p


def test_person_interval_is_wider_and_covers_at_the_nominal_rate():
    gen = np.random.default_rng(11)
    covered = {"person": 0, "row": 0}
    width = {"person": [], "row": []}
    reps = 120
    for _ in range(reps):
        person, y, score, n_events, p = _people(gen, 150)
        # the true event-level reoffending rate of the population these people come from:
        # E[n p] / E[n] with n uniform on 1..6 and p ~ Beta(0.6, 0.9) independent = E[p]
        truth = 0.6 / (0.6 + 0.9)
        for unit in ("person", "row"):
            gb = bootstrap_group_metrics(
                y,
                np.zeros_like(y),
                np.zeros(len(y), dtype=int),
                n_boot=300,
                seed=int(gen.integers(1 << 30)),
                clusters=cluster_codes(person, len(y)) if unit == "person" else None,
            )
            lo, hi = gb.interval("base_rate")
            covered[unit] += int(lo[0] <= truth <= hi[0])
            width[unit].append(hi[0] - lo[0])
    # several events per person, strongly correlated: rows overstate the information
    assert np.mean(width["person"]) > 1.4 * np.mean(width["row"])
    # nominal 95%: the person-level interval covers the truth about that often (binomial noise
    # on 120 trials is about +-4 points); the row-level one clearly less often
    assert 0.88 <= covered["person"] / reps <= 0.995
    assert covered["row"] / reps < covered["person"] / reps - 0.08


def test_evaluation_bootstrap_by_person_is_wider_than_by_row():
    gen = np.random.default_rng(5)
    person, y, score, _, _ = _people(gen, 400)
    models = {"model": ModelScores(score, np.clip(score, 0.001, 0.999))}
    width = {}
    for unit in ("person", "row"):
        res = evaluate_head(
            y,
            models,
            k=100,
            threshold=None,
            n_boot=300,
            generator=np.random.default_rng(1),
            unit=unit,
            groups=person.astype(str) if unit == "person" else None,
        )
        width[unit] = {
            m: res[f"{m}_ci"]["model"][1] - res[f"{m}_ci"]["model"][0] for m in ("auc", "brier")
        }
    for m in ("auc", "brier"):
        assert width["person"][m] > 1.2 * width["row"][m]

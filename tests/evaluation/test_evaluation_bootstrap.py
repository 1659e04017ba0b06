"""Bootstrap replicates: what they resample, and that the intervals cover the truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from riskmodel.evaluation import ModelScores, evaluate_head, replicate_weights


def test_row_replicates_are_resamples_of_n_rows_and_do_not_depend_on_chunking():
    a = np.vstack(list(replicate_weights(50, 70, np.random.default_rng(3), chunk=64)))
    b = np.vstack(list(replicate_weights(50, 70, np.random.default_rng(3), chunk=7)))
    assert a.shape == (70, 50)
    np.testing.assert_array_equal(a.sum(axis=1), 50)
    assert (a >= 0).all() and np.allclose(a, a.round())
    # chunking only bounds memory: the same seed gives the same replicates
    np.testing.assert_array_equal(a, b)
    assert not (a == a[0]).all()  # and they differ from each other


def test_person_replicates_keep_all_rows_of_a_person_together():
    groups = np.array(["a", "a", "b", "c", "c", "c"])
    for W in replicate_weights(6, 30, np.random.default_rng(0), unit="person", groups=groups):
        assert (W[:, 0] == W[:, 1]).all()
        assert (W[:, 3] == W[:, 4]).all() and (W[:, 4] == W[:, 5]).all()
        # three people drawn with replacement: person weights sum to 3
        assert ((W[:, 0] + W[:, 2] + W[:, 3]) == 3).all()


def test_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="bootstrap unit must be"):
        next(replicate_weights(5, 2, np.random.default_rng(0), unit="event"))


def test_intervals_cover_the_true_auc_and_brier_about_95_percent_of_the_time():
    """Binormal scores: AUC = Phi(d / sqrt 2). Outcomes drawn from p ~ U(0.1, 0.9): the
    expected Brier score of the true p is E[p(1-p)] = 0.5 - (0.9**3 - 0.1**3) / 2.4."""
    d = 1.0
    true_auc = norm.cdf(d / np.sqrt(2))
    true_brier = 0.5 - (0.9**3 - 0.1**3) / 2.4
    draws = np.random.default_rng(2024)
    reps, n = 120, 200
    cover_auc = cover_brier = 0
    for i in range(reps):
        y = (np.arange(n) % 2).astype(int)
        s = draws.normal(0, 1, n) + d * y
        p = draws.uniform(0.1, 0.9, n)
        yb = (draws.random(n) < p).astype(int)
        res_auc = evaluate_head(
            y,
            {"model": ModelScores(rank=s, proba=np.full(n, 0.5))},
            k=20,
            threshold=0.5,
            n_boot=200,
            generator=np.random.default_rng(i),
        )
        lo, hi = res_auc["auc_ci"]["model"]
        cover_auc += lo <= true_auc <= hi
        res_b = evaluate_head(
            yb,
            {"model": ModelScores(rank=p, proba=p)},
            k=20,
            threshold=0.5,
            n_boot=200,
            generator=np.random.default_rng(10_000 + i),
        )
        lo, hi = res_b["brier_ci"]["model"]
        cover_brier += lo <= true_brier <= hi
    # 120 intervals at 95%: a binomial sd of 2 points; percentile intervals run slightly narrow
    assert 0.87 <= cover_auc / reps <= 0.995
    assert 0.87 <= cover_brier / reps <= 0.995


def test_paired_gain_interval_is_narrower_than_the_unpaired_difference():
    r = np.random.default_rng(5)
    n = 600
    y = r.integers(0, 2, n)
    base = r.normal(0, 1, n) + 0.8 * y
    better = base + 0.3 * y + r.normal(0, 0.3, n)
    res = evaluate_head(
        y,
        {"model": ModelScores(better, np.full(n, 0.5)), "rfg": ModelScores(base, np.full(n, 0.5))},
        k=50,
        threshold=0.5,
        n_boot=300,
        generator=np.random.default_rng(0),
        gains_vs=("rfg",),
    )
    glo, ghi = res["auc_gain_ci"]["rfg"]
    assert res["auc_gain"]["rfg"] == pytest.approx(res["auc"]["model"] - res["auc"]["rfg"])
    assert glo > 0  # the correlated scores make the gain clear ...
    (mlo, mhi), (rlo, rhi) = res["auc_ci"]["model"], res["auc_ci"]["rfg"]
    assert ghi - glo < 0.5 * ((mhi - mlo) + (rhi - rlo))  # ... narrower than separate intervals

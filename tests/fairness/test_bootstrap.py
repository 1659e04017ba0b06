"""Stratified bootstrap: group sizes fixed, same distribution as resampling people, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from riskmodel.fairness import bootstrap_group_metrics


def _draw(gen, sizes, base, sel_pos, sel_neg):
    """People per group with known base rate and known selection rates given the outcome."""
    groups = np.repeat(np.arange(len(sizes)), sizes)
    y = gen.random(len(groups)) < np.asarray(base)[groups]
    p_sel = np.where(y, np.asarray(sel_pos)[groups], np.asarray(sel_neg)[groups])
    pred = gen.random(len(groups)) < p_sel
    return y, pred, groups


def test_every_replicate_keeps_each_group_size():
    gen = np.random.default_rng(1)
    y, pred, groups = _draw(gen, [500, 40, 7], [0.3, 0.5, 0.2], [0.7, 0.6, 0.5], [0.2, 0.3, 0.1])
    gb = bootstrap_group_metrics(y, pred, pd.Series(groups), n_boot=300, seed=4)
    sizes = gb.count_replicates.sum(axis=-1)
    assert sizes.shape == (300, 3)
    assert (sizes == np.array([500, 40, 7])).all()
    # the replicates do vary: it is a real resample, not a copy of the data
    assert gb.replicates["fpr"][:, 0].std() > 0


def test_replicates_match_resampling_people():
    """Multinomial cell draws have the distribution of a row-level stratified bootstrap."""
    gen = np.random.default_rng(2)
    y, pred, groups = _draw(gen, [300, 120], [0.4, 0.25], [0.7, 0.5], [0.3, 0.15])
    gb = bootstrap_group_metrics(y, pred, pd.Series(groups), n_boot=4000, seed=0)
    brute = []
    for _ in range(1500):  # brute force: resample people within each group
        idx = np.concatenate(
            [gen.choice(np.flatnonzero(groups == g), size=(groups == g).sum()) for g in (0, 1)]
        )
        yy, pp, gg = y[idx], pred[idx], groups[idx]
        brute.append(
            [
                ((pp == 1) & (yy == 0) & (gg == g)).sum() / ((yy == 0) & (gg == g)).sum()
                for g in (0, 1)
            ]
        )
    brute = np.array(brute)
    ours = gb.replicates["fpr"]
    assert ours.mean(axis=0) == pytest.approx(brute.mean(axis=0), abs=0.004)
    assert ours.std(axis=0) == pytest.approx(brute.std(axis=0), rel=0.08)


def test_intervals_cover_true_rates_about_95_percent():
    sizes, base = [400, 120], [0.35, 0.5]
    sel_pos, sel_neg = [0.7, 0.6], [0.25, 0.4]
    true = {
        "fpr": np.array(sel_neg),
        "tpr": np.array(sel_pos),
        "selection_rate": np.array(base) * sel_pos + (1 - np.array(base)) * sel_neg,
    }
    gen = np.random.default_rng(11)
    hits = {m: [] for m in true}
    for draw in range(200):
        y, pred, groups = _draw(gen, sizes, base, sel_pos, sel_neg)
        gb = bootstrap_group_metrics(y, pred, pd.Series(groups), n_boot=1000, seed=draw)
        for m, t in true.items():
            lo, hi = gb.interval(m)
            hits[m].append((lo <= t) & (t <= hi))
    for m in true:
        cover = np.mean(hits[m], axis=0)
        assert ((cover >= 0.90) & (cover <= 0.99)).all(), (m, cover)


def test_auc_interval_covers_binormal_auc():
    # scores N(0,1) for non-reoffenders and N(mu,1) for reoffenders: AUC = Phi(mu / sqrt 2)
    mu = 0.8
    true_auc = norm.cdf(mu / np.sqrt(2))
    gen = np.random.default_rng(5)
    hits = []
    for draw in range(200):
        groups = np.repeat([0, 1], [300, 150])
        y = gen.random(450) < 0.4
        s = gen.normal(mu * y, 1.0)
        gb = bootstrap_group_metrics(
            y, s > 0.5, pd.Series(groups), y_score=s, n_boot=400, seed=draw
        )
        lo, hi = gb.interval("auc")
        hits.append((lo <= true_auc) & (true_auc <= hi))
    cover = np.mean(hits, axis=0)
    assert ((cover >= 0.90) & (cover <= 0.99)).all(), cover


def test_same_seed_same_replicates_and_streams_differ():
    gen = np.random.default_rng(3)
    y, pred, groups = _draw(gen, [200, 100], [0.3, 0.3], [0.6, 0.6], [0.2, 0.2])
    a = bootstrap_group_metrics(y, pred, pd.Series(groups, name="x"), n_boot=50, seed=9)
    b = bootstrap_group_metrics(y, pred, pd.Series(groups, name="x"), n_boot=50, seed=9)
    c = bootstrap_group_metrics(y, pred, pd.Series(groups, name="x"), n_boot=50, seed=10)
    assert (a.count_replicates == b.count_replicates).all()
    assert not (a.count_replicates == c.count_replicates).all()

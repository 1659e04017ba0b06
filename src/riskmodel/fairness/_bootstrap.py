"""Bootstrap stratified by group, vectorised over replicates; people (not rows) are the unit.

When person ids are given, the unit resampled is a person: all of a person's index events in a
group are drawn together (a cluster bootstrap within each group), so people with several index
events are not counted as independent. A cluster's contribution is a vector of counts (its
confusion cells, say); clusters with the same vector are exchangeable, so drawing ``m_g``
clusters with replacement gives ``Multinomial(m_g, multiplicity / m_g)`` counts over the
*distinct* vectors, exact and at a cost independent of the number of people. Without person ids
every row is its own cluster, which is the row bootstrap described next.

A stratified bootstrap redraws each group's ``n_g`` people with replacement from that group
alone, so every group keeps its size in every replicate and small groups never vanish. A rate
such as the FPR depends on a group's rows only through its four confusion counts, and the counts
of ``n_g`` draws with replacement are exactly ``Multinomial(n_g, observed cell shares)``. So the
replicates are drawn as multinomial counts, ``(n_boot, G, 4)`` at once, never by resampling rows:
the same distribution as resampling people, at a cost independent of the number of rows.

Two statistics do not depend on the counts alone:

- ``mean_score``: a mean of ``n_g`` draws; its replicates are drawn from the normal
  distribution with the group's standard error (the bootstrap distribution of a mean is normal to
  ``O(1/sqrt(n_g))``, and groups below ``min_group_n`` are suppressed anyway).
- ``auc``: replicates drawn from a normal distribution on the logit scale with the DeLong
  variance (DeLong et al. 1988; logit keeps the interval inside (0, 1)). Exact row resampling of
  AUC would need a sort per replicate and group: too slow for a million rows.

Replicates of different groups are independent (the groups are disjoint); replicate ``b`` of a
group and of the reference group form one paired draw for the disparity ratios.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.evaluation import percentile_interval
from riskmodel.fairness._groups import Grouping
from riskmodel.fairness._metrics import (
    COUNT_METRICS,
    GROUP_METRICS,
    _inputs,
    cell_codes,
    confusion_counts,
    grouped_auc,
    grouped_mean_sd,
    metrics_from_counts,
)
from riskmodel.provenance import rng

BOOTSTRAP_STREAM = "fairness.bootstrap"
_CHUNK = 128  # replicates drawn at once (memory bound only; the draws do not depend on it)


def cluster_codes(clusters: object | None, n: int) -> np.ndarray:
    """Integer cluster (person) code of each row; every row its own cluster when ``None``."""
    if clusters is None:
        return np.arange(n, dtype=np.int64)
    codes, _ = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)).astype("string"))
    return codes.astype(np.int64)


def cluster_bootstrap(
    values: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    n_boot: int,
    generator: np.random.Generator,
    *,
    clusters: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Group sums of ``values`` and their bootstrap replicates, resampling clusters within groups.

    Parameters
    ----------
    values : ``(n, K)`` per-row quantities (e.g. one-hot confusion cells, counts, scores)
    codes : group of each row
    clusters : cluster (person) code of each row (:func:`cluster_codes`); ``None`` = rows

    Returns
    -------
    point ``(G, K)`` sums and replicates ``(n_boot, G, K)``; each replicate draws, in every group,
    as many clusters as the group has, with replacement.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim == 1:
        v = v[:, None]
    n, k = v.shape
    cl = np.arange(n, dtype=np.int64) if clusters is None else np.asarray(clusters, np.int64)
    point = np.zeros((n_groups, k))
    np.add.at(point, codes, v)
    reps = np.zeros((n_boot, n_groups, k))
    if n == 0 or n_boot == 0:
        return point, reps
    # one row per (group, cluster): the cluster's sums inside that group
    key = codes.astype(np.int64) * (int(cl.max()) + 1) + cl
    uniq, inv = np.unique(key, return_inverse=True)
    sums = np.zeros((len(uniq), k))
    np.add.at(sums, inv.ravel(), v)
    grp = uniq // (int(cl.max()) + 1)
    for g in np.unique(grp):  # a loop over groups, not people
        pats, mult = np.unique(sums[grp == g], axis=0, return_counts=True)
        m = int(mult.sum())
        done = 0
        while done < n_boot:
            b = min(_CHUNK, n_boot - done)
            draws = generator.multinomial(m, mult / m, size=b)
            reps[done : done + b, g, :] = draws @ pats
            done += b
    return point, reps


def multinomial_replicates(
    counts: np.ndarray, n_boot: int, generator: np.random.Generator
) -> np.ndarray:
    """Stratified bootstrap of cell counts: ``(n_boot, G, K)``, each group's total kept fixed."""
    counts = np.asarray(counts, dtype=np.int64)
    n = counts.sum(axis=-1)
    shares = counts / np.maximum(n, 1)[:, None]
    shares[n == 0] = 1.0 / counts.shape[-1]  # no rows: any shares, 0 draws
    return generator.multinomial(n, shares, size=(n_boot, counts.shape[0]))


def _logit(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(p / (1 - p))


def auc_replicates(
    auc: np.ndarray, var: np.ndarray, n_boot: int, generator: np.random.Generator
) -> np.ndarray:
    """``(n_boot, G)`` AUC draws, normal on the logit scale with the delta-method DeLong s.e."""
    z = generator.standard_normal((n_boot, len(auc)))
    with np.errstate(divide="ignore", invalid="ignore"):
        se_logit = np.sqrt(var) / (auc * (1 - auc))
        out = 1.0 / (1.0 + np.exp(-(_logit(auc) + z * se_logit)))
    # AUC of exactly 0 or 1: the logit is infinite and the interval collapses onto the point
    edge = (auc == 0) | (auc == 1)
    return np.where(edge, auc, out)


@dataclass(frozen=True)
class GroupBootstrap:
    """Point estimates and stratified-bootstrap replicates of the group metrics.

    Parameters
    ----------
    grouping : the groups (codes and names)
    point : :func:`group_metrics` table (index group, one column per metric)
    counts : observed confusion counts ``(G, 4)`` (TP, FP, FN, TN)
    count_replicates : bootstrap counts ``(n_boot, G, 4)``
    replicates : metric -> ``(n_boot, G)`` replicate values
    ci_level : coverage of :meth:`interval`
    """

    grouping: Grouping
    point: pd.DataFrame
    counts: np.ndarray
    count_replicates: np.ndarray
    replicates: dict[str, np.ndarray] = field(repr=False)
    ci_level: float = 0.95

    @property
    def n_boot(self) -> int:
        return int(self.count_replicates.shape[0])

    def interval(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval ``(lo, hi)`` per group for ``metric``."""
        return percentile_interval(self.replicates[metric], self.ci_level)

    def intervals(self) -> pd.DataFrame:
        """Table of ``<metric>_lo`` / ``<metric>_hi`` per group."""
        cols = {}
        for m in self.replicates:
            lo, hi = self.interval(m)
            cols[f"{m}_lo"], cols[f"{m}_hi"] = lo, hi
        return pd.DataFrame(cols, index=self.point.index)


def bootstrap_group_metrics(
    y_true: object,
    y_pred: object,
    groups: pd.Series | pd.DataFrame | np.ndarray | Grouping,
    *,
    y_score: object | None = None,
    n_boot: int = 1000,
    ci_level: float = 0.95,
    seed: int = 0,
    stream: str | None = None,
    clusters: np.ndarray | None = None,
) -> GroupBootstrap:
    """Group metrics with replicates from a bootstrap stratified by group.

    Parameters
    ----------
    y_true, y_pred, groups, y_score : as :func:`group_metrics`
    n_boot : number of replicates
    ci_level : coverage of the percentile intervals
    seed : the audit's seed; the random stream is named after the grouping, so each attribute's
        replicates are reproducible on their own
    stream : override the stream name
    clusters : person code of each row (:func:`cluster_codes`): people are resampled with all
        their index events in the group; ``None`` resamples rows
    """
    y, p, g, s = _inputs(y_true, y_pred, groups, y_score)
    gen = rng(seed, stream or f"{BOOTSTRAP_STREAM}.{g.name}")
    counts = confusion_counts(y, p, g.codes, g.n_groups)
    point = pd.DataFrame(metrics_from_counts(counts), index=pd.Index(g.labels, name=g.name))
    point.insert(0, "n", counts.sum(axis=1))
    if clusters is None:
        reps_counts = multinomial_replicates(counts, n_boot, gen)
    else:
        onehot = np.zeros((len(y), 4))
        onehot[np.arange(len(y)), cell_codes(y, p)] = 1.0
        _, reps_counts = cluster_bootstrap(
            onehot, g.codes, g.n_groups, n_boot, gen, clusters=clusters
        )
    reps = metrics_from_counts(reps_counts)
    n_f = point["n"].to_numpy(dtype=float)
    if s is not None:
        mean, sd = grouped_mean_sd(s, g.codes, g.n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.where(n_f > 1, sd / np.sqrt(n_f), 0.0)
        if clusters is not None:
            se = clustered_mean_se(s, g.codes, g.n_groups, clusters, mean)
        reps["mean_score"] = mean + gen.standard_normal((n_boot, g.n_groups)) * se
        auc, var = grouped_auc(y, s, g.codes, g.n_groups, clusters=clusters)
        reps["auc"] = auc_replicates(auc, var, n_boot, gen)
        point["mean_score"], point["auc"] = mean, auc
    else:
        point["mean_score"] = np.nan
        point["auc"] = np.nan
    point = point.loc[:, list(GROUP_METRICS)]
    ordered = {m: reps[m] for m in (*COUNT_METRICS, "mean_score", "auc") if m in reps}
    return GroupBootstrap(g, point, counts, np.asarray(reps_counts), ordered, ci_level)


def clustered_mean_se(
    values: np.ndarray, codes: np.ndarray, n_groups: int, clusters: np.ndarray, mean: np.ndarray
) -> np.ndarray:
    """Cluster-robust standard error of each group's mean (people as the unit).

    ``se^2 = m/(m-1) * sum_c (S_c - n_c * mean)^2 / N^2`` over the group's ``m`` clusters, with
    ``S_c`` a cluster's sum and ``n_c`` its rows; equals the usual ``sd/sqrt(N)`` (up to
    ``N/(N-1)``) when every cluster is one row.
    """
    v = np.asarray(values, dtype=float)
    frame = pd.DataFrame({"g": codes, "c": np.asarray(clusters), "v": v, "n": 1.0})
    agg = frame.groupby(["g", "c"], sort=False).sum()
    g = agg.index.get_level_values("g").to_numpy()
    dev = agg["v"].to_numpy() - agg["n"].to_numpy() * mean[g]
    ss = np.bincount(g, weights=dev * dev, minlength=n_groups)
    m = np.bincount(g, minlength=n_groups).astype(float)
    n = np.bincount(codes, minlength=n_groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(np.where(m > 1, m / (m - 1) * ss / (n * n), 0.0))
    return np.nan_to_num(se)

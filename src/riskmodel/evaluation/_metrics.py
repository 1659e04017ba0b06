"""Discrimination, calibration and capacity metrics, computed for many bootstrap replicates at once.

Every metric is written for a matrix of row weights ``W`` (replicates x rows): the point estimate
is the single replicate of all-ones weights, and a bootstrap replicate is a row of multinomial
counts, so a resampled data set never has to be materialised. Rows are sorted once per score and
tied scores are grouped; each metric is then a few cumulative sums over the groups.

Definitions (``y`` the 0/1 outcome, ``score`` a ranking, ``p`` a probability):

- ``auc``: probability that a random positive outranks a random negative, ties counting one half
  (equals ``sklearn.metrics.roc_auc_score``).
- ``average_precision``: sum over distinct score thresholds of (recall step) x precision
  (equals ``sklearn.metrics.average_precision_score``).
- ``brier``: mean of ``(p - y)**2``; ``log_loss``: mean of ``-[y log p + (1-y) log(1-p)]`` with ``p``
  clipped to ``[eps, 1 - eps]`` (float64 eps, as scikit-learn).
- ``ece``: expected calibration error over ``n_bins`` equal-mass bins: rows sorted by ``p`` and cut
  into ``n_bins`` groups of equal size (row ``i`` of ``n`` in ascending order goes to bin
  ``floor(n_bins * i / n)``); tied predictions stay together in the bin of their first row. Bins are
  fixed on the evaluated sample and kept for its bootstrap replicates. ECE is
  ``sum_b (n_b / n) * |mean p_b - mean y_b|``.
- ``npr`` (negative prediction rate): among those called low risk (``p < threshold``), the share
  with the outcome; with no threshold, those outside the top ``k``.
- ``precision_top_k`` / ``recall_top_k``: share of the ``k`` highest-ranked who have the outcome /
  share of all outcomes found among them. ``harm_share_top_k``: share of the total harm held by
  the top ``k``. When ties straddle the ``k``-th place, the tied group counts fractionally (the
  expected value under random tie-breaking).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

EPS = float(np.finfo(np.float64).eps)

RANK_METRICS = ("auc", "average_precision", "precision_top_k", "recall_top_k")
PROBABILITY_METRICS = ("brier", "log_loss", "ece", "npr")
HARM_METRICS = ("harm_share_top_k",)
# metrics where higher is better (used for wording in reports)
HIGHER_IS_BETTER = {
    "auc": True,
    "average_precision": True,
    "precision_top_k": True,
    "recall_top_k": True,
    "harm_share_top_k": True,
    "brier": False,
    "log_loss": False,
    "ece": False,
    "npr": False,
}

ERR_LENGTHS = "y, score and weights must describe the same rows: got lengths {lens}"
ERR_BINARY = "y must be 0/1 (or boolean); found values outside {{0, 1}}"


def _as_binary(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    yf = y.astype(float)
    if np.any((yf != 0) & (yf != 1)):
        raise ValueError(ERR_BINARY)
    return yf


def _as_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones((1, n))
    W = np.asarray(weights, dtype=float)
    if W.ndim == 1:
        W = W[None, :]
    if W.shape[1] != n:
        raise ValueError(ERR_LENGTHS.format(lens=[n, W.shape[1]]))
    return W


@dataclass(frozen=True)
class _Ranking:
    """Rows sorted by descending score, with the start of each run of tied scores."""

    order: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, score: np.ndarray) -> _Ranking:
        score = np.asarray(score, dtype=float)
        order = np.argsort(-score, kind="stable")
        s = score[order]
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if len(s) else np.array([], int)
        return cls(order, starts)

    def _sum_runs(self, Ms: np.ndarray) -> np.ndarray:
        """Sums over each run of ties of a matrix already in ranking order."""
        n = Ms.shape[1]
        if len(self.starts) == n:  # no ties: every run is one row
            return Ms
        # a cumulative sum read at the run ends is many times faster than ``np.add.reduceat``
        # along rows (the bootstrap's hot loop); sums of counts stay exact
        ends = np.r_[self.starts[1:], n] - 1
        c = np.cumsum(Ms, axis=1)[:, ends]
        c[:, 1:] -= c[:, :-1].copy()
        return c

    def group_sums(self, M: np.ndarray) -> np.ndarray:
        """Sum the (replicates x rows) matrix ``M`` within each tie group, in ranking order."""
        return self._sum_runs(M[:, self.order])

    def weighted_group_sums(self, W: np.ndarray, *columns: np.ndarray) -> list[np.ndarray]:
        """Group sums of ``W`` and of ``W * column`` for each column, sorting ``W`` only once."""
        Ws = W[:, self.order]
        out = [self._sum_runs(Ws)]
        for col in columns:
            out.append(self._sum_runs(Ws * col[self.order]))
        return out


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    out = np.full(np.broadcast(a, b).shape, np.nan)
    np.divide(a, b, out=out, where=b != 0)
    return out


def _top_k_fraction(Gw: np.ndarray, k: float) -> np.ndarray:
    """Share of each tie group that falls in the top ``k`` (by weight)."""
    cum = np.cumsum(Gw, axis=1)
    # only the groups before every replicate has reached ``k`` can be (partly) in the top k
    k_max = float(np.max(k)) if np.size(k) else 0.0
    last = cum.shape[1]
    if last and bool((cum[:, -1] >= k_max).all()):
        last = min(last, int(max(np.searchsorted(row, k_max) for row in cum)) + 1)
    frac = np.zeros_like(Gw)
    before = cum[:, :last] - Gw[:, :last]
    np.divide(k - before, Gw[:, :last], out=frac[:, :last], where=Gw[:, :last] > 0)
    np.clip(frac[:, :last], 0.0, 1.0, out=frac[:, :last])
    return frac


def equal_mass_bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index (0 = lowest) of each row: ``n_bins`` equal-size groups by ascending ``p``,
    tied values in the bin of their first row."""
    p = np.asarray(p, dtype=float)
    n = len(p)
    if n == 0:
        return np.zeros(0, dtype=int)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    pos = np.arange(n)
    first = np.maximum.accumulate(np.where(np.r_[True, ps[1:] != ps[:-1]], pos, 0))
    bins = np.empty(n, dtype=int)
    bins[order] = (n_bins * first) // n
    return bins


def rank_metrics(
    y: np.ndarray,
    score: np.ndarray,
    *,
    k: float,
    weights: np.ndarray | None = None,
    harm: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """AUC, average precision, top-``k`` precision/recall (and harm share) per weight replicate."""
    y = _as_binary(y)
    n = len(y)
    if len(score) != n or (harm is not None and len(harm) != n):
        raise ValueError(ERR_LENGTHS.format(lens=[n, len(score)]))
    W = _as_weights(weights, n)
    r = _Ranking.of(score)
    cols = (y,) if harm is None else (y, np.asarray(harm, dtype=float))
    Gw, Gp, *rest = r.weighted_group_sums(W, *cols)
    Gn = Gw - Gp
    tot_p = Gp.sum(axis=1)
    tot_n = Gn.sum(axis=1)
    cum_p = np.cumsum(Gp, axis=1)
    cum_n = np.cumsum(Gn, axis=1)
    # negatives strictly below each group, plus half the tied ones
    neg_below = tot_n[:, None] - cum_n
    auc = _div((Gp * (neg_below + 0.5 * Gn)).sum(axis=1), tot_p * tot_n)
    precision_at = _div(cum_p, cum_p + cum_n)
    ap = _div(np.nansum(Gp * precision_at, axis=1), tot_p)
    frac = _top_k_fraction(Gw, k)
    tp_k = (frac * Gp).sum(axis=1)
    out = {
        "auc": auc,
        "average_precision": ap,
        "precision_top_k": _div(tp_k, np.minimum(k, Gw.sum(axis=1))),
        "recall_top_k": _div(tp_k, tot_p),
    }
    if harm is not None:
        Gh = rest[0]
        out["harm_share_top_k"] = _div((frac * Gh).sum(axis=1), Gh.sum(axis=1))
    return out


def probability_metrics(
    y: np.ndarray,
    p: np.ndarray,
    *,
    threshold: float | None,
    n_bins: int = 10,
    weights: np.ndarray | None = None,
    k: float | None = None,
    rank_score: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Brier, log-loss, ECE and negative prediction rate per weight replicate.

    ``threshold`` None: "low risk" means outside the top ``k`` by ``rank_score`` (default ``p``).
    """
    y = _as_binary(y)
    p = np.asarray(p, dtype=float)
    n = len(y)
    if len(p) != n:
        raise ValueError(ERR_LENGTHS.format(lens=[n, len(p)]))
    W = _as_weights(weights, n)
    tot = W.sum(axis=1)
    pc = np.clip(p, EPS, 1 - EPS)
    brier = _div(W @ (p - y) ** 2, tot)
    ll = _div(W @ -(y * np.log(pc) + (1 - y) * np.log1p(-pc)), tot)
    bins = equal_mass_bins(p, n_bins)
    onehot = np.zeros((n, n_bins))
    onehot[np.arange(n), bins] = 1.0
    gap = np.abs(W @ (onehot * p[:, None]) - W @ (onehot * y[:, None]))
    ece = _div(gap.sum(axis=1), tot)
    if threshold is not None:
        low = (p < threshold).astype(float)
        npr = _div(W @ (low * y), W @ low)
    else:
        if k is None:
            raise ValueError("npr without a threshold needs k")
        r = _Ranking.of(p if rank_score is None else rank_score)
        Gw, Gy = r.weighted_group_sums(W, y)
        out_k = 1.0 - _top_k_fraction(Gw, k)
        npr = _div((out_k * Gy).sum(axis=1), (out_k * Gw).sum(axis=1))
    return {"brier": brier, "log_loss": ll, "ece": ece, "npr": npr}


# -- single-sample conveniences (the point estimate is the all-ones replicate) --------------------
def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (ties count one half)."""
    return float(rank_metrics(y, score, k=1)["auc"][0])


def average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision, as ``sklearn.metrics.average_precision_score``."""
    return float(rank_metrics(y, score, k=1)["average_precision"][0])


def brier_score(y: np.ndarray, p: np.ndarray) -> float:
    return float(probability_metrics(y, p, threshold=0.5)["brier"][0])


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(probability_metrics(y, p, threshold=0.5)["log_loss"][0])


def expected_calibration_error(y: np.ndarray, p: np.ndarray, *, n_bins: int = 10) -> float:
    """ECE over ``n_bins`` equal-mass bins (see the module docstring)."""
    return float(probability_metrics(y, p, threshold=0.5, n_bins=n_bins)["ece"][0])


def negative_prediction_rate(y: np.ndarray, p: np.ndarray, *, threshold: float) -> float:
    """Share of those called low risk (``p < threshold``) who have the outcome."""
    return float(probability_metrics(y, p, threshold=threshold)["npr"][0])


def top_k(
    y: np.ndarray, score: np.ndarray, *, k: float, harm: np.ndarray | None = None
) -> dict[str, float]:
    """Precision and recall in the top ``k`` (and the share of ``harm`` they hold)."""
    m = rank_metrics(y, score, k=k, harm=harm)
    keys = ("precision_top_k", "recall_top_k") + (("harm_share_top_k",) if harm is not None else ())
    return {key: float(m[key][0]) for key in keys}


def capacity_curve(
    y: np.ndarray, score: np.ndarray, ks: np.ndarray, *, harm: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Precision, recall (and harm share) in the top ``k`` for every ``k`` in ``ks``."""
    y = _as_binary(y)
    r = _Ranking.of(score)
    ones = np.ones((1, len(y)))
    Gw = r.group_sums(ones)[0]
    Gp = r.group_sums(ones * y)[0]
    ks = np.asarray(ks, dtype=float)
    frac = _top_k_fraction(np.broadcast_to(Gw, (len(ks), len(Gw))), ks[:, None])
    tp = frac @ Gp
    out = {"k": ks, "precision": _div(tp, np.minimum(ks, Gw.sum())), "recall": _div(tp, Gp.sum())}
    if harm is not None:
        Gh = r.group_sums(ones * np.asarray(harm, dtype=float))[0]
        out["harm_share"] = _div(frac @ Gh, Gh.sum())
    return out


def reliability_table(y: np.ndarray, p: np.ndarray, *, n_bins: int = 10) -> dict[str, np.ndarray]:
    """Per equal-mass bin: mean predicted probability, observed rate and row count."""
    y = _as_binary(y)
    p = np.asarray(p, dtype=float)
    bins = equal_mass_bins(p, n_bins)
    n_b = np.bincount(bins, minlength=n_bins).astype(float)
    keep = n_b > 0
    return {
        "mean_predicted": _div(np.bincount(bins, p, n_bins), n_b)[keep],
        "observed_rate": _div(np.bincount(bins, y, n_bins), n_b)[keep],
        "n": n_b[keep],
    }


def percentile_interval(
    replicates: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval ``(lo, hi)`` of bootstrap replicates over axis 0.

    Replicates where the statistic is undefined (NaN) are ignored; a column with none defined
    (or no replicates at all) gives NaN. For 1-D replicates ``lo`` and ``hi`` are scalars;
    :func:`interval_json` turns them into the ``[lo, hi]`` of the JSON reports.
    """
    r = np.asarray(replicates, dtype=float)
    shape = r.shape[1:]
    if r.shape[0] == 0:
        return np.full(shape, np.nan), np.full(shape, np.nan)
    alpha = 1.0 - level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN, as wanted
        lo, hi = np.nanquantile(r, [alpha / 2, 1 - alpha / 2], axis=0)
    return lo, hi


def interval_json(lo: float, hi: float) -> list[float | None]:
    """``[lo, hi]`` as JSON numbers; an undefined interval is ``[None, None]``."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return [None, None]
    return [float(lo), float(hi)]

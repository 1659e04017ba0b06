"""Group metrics from per-group confusion counts, and per-group AUC with its DeLong variance.

Everything is computed from counts made by one ``bincount`` (no per-group Python loop), so the
same formulas serve the observed data and every bootstrap replicate (arrays ``(..., G, 4)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.fairness._groups import Grouping, encode_groups

# confusion cells, in this order along the last axis
TP, FP, FN, TN = 0, 1, 2, 3
N_CELLS = 4

#: metrics that come from the confusion cells alone
COUNT_METRICS = ("base_rate", "selection_rate", "tpr", "fpr", "fnr", "ppv", "npv")
#: every metric reported per group
GROUP_METRICS = ("n", "base_rate", "mean_score", *COUNT_METRICS[1:], "auc")

ERR_LENGTHS = "y_true, y_pred and groups must have the same length (got {lengths})"
ERR_NOT_BINARY = "{what} must contain only 0/1 (or false/true) values; found {values}"


def as_binary(values: object, what: str) -> np.ndarray:
    """0/1 int8 array from bool or numeric 0/1 input; anything else is an error."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        return arr.astype(np.int8)
    try:
        num = arr.astype(float)
    except (TypeError, ValueError):
        raise ValueError(
            ERR_NOT_BINARY.format(what=what, values=sorted(map(str, pd.unique(arr.ravel())))[:5])
        ) from None
    bad = ~np.isin(num, (0.0, 1.0))
    if bad.any():
        raise ValueError(
            ERR_NOT_BINARY.format(what=what, values=sorted(set(num[bad].tolist()))[:5])
        )
    return num.astype(np.int8)


def cell_codes(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Confusion cell of each row: TP=0, FP=1, FN=2, TN=3."""
    return (2 * (1 - y_pred) + (1 - y_true)).astype(np.int64)


def confusion_counts(
    y_true: np.ndarray, y_pred: np.ndarray, codes: np.ndarray, n_groups: int
) -> np.ndarray:
    """Counts ``(G, 4)`` of TP, FP, FN, TN per group."""
    flat = codes * N_CELLS + cell_codes(y_true, y_pred)
    return np.bincount(flat, minlength=n_groups * N_CELLS).reshape(n_groups, N_CELLS)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def metrics_from_counts(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Rates from counts ``(..., 4)``; NaN where a rate's denominator is zero."""
    c = np.asarray(counts, dtype=float)
    tp, fp, fn, tn = c[..., TP], c[..., FP], c[..., FN], c[..., TN]
    n = tp + fp + fn + tn
    return {
        "base_rate": _ratio(tp + fn, n),
        "selection_rate": _ratio(tp + fp, n),
        "tpr": _ratio(tp, tp + fn),
        "fpr": _ratio(fp, fp + tn),
        "fnr": _ratio(fn, tp + fn),
        "ppv": _ratio(tp, tp + fp),
        "npv": _ratio(tn, tn + fn),
    }


def grouped_mean_sd(
    values: np.ndarray, codes: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group mean and standard deviation (ddof=1) of ``values``."""
    v = np.asarray(values, dtype=float)
    n = np.bincount(codes, minlength=n_groups).astype(float)
    s1 = np.bincount(codes, weights=v, minlength=n_groups)
    mean = _ratio(s1, n)
    # centred second pass: numerically safe for scores with a large offset
    dev = v - mean[codes]
    ss = np.bincount(codes, weights=dev * dev, minlength=n_groups)
    sd = np.sqrt(_ratio(ss, n - 1))
    return mean, sd


def grouped_auc(
    y_true: np.ndarray,
    y_score: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    *,
    clusters: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group ROC AUC (ties count one half) and its DeLong variance.

    DeLong et al. (1988): with placement values ``V10`` of positives (share of the group's
    negatives scored below, ties half) and ``V01`` of negatives, AUC is their mean and
    ``var = var(V10)/n_pos + var(V01)/n_neg``. Computed from mid-ranks within group and within
    (group, class), so one sort serves every group. NaN where a group lacks either class.

    With ``clusters`` (person codes) the variance is the clustered DeLong variance of
    Obuchowski (1997): placement values are summed per person, so a person's several index
    events are not treated as independent.
    """
    y = np.asarray(y_true, dtype=np.int64)
    frame = pd.DataFrame({"g": codes, "y": y, "s": np.asarray(y_score, dtype=float)})
    rank_all = frame.groupby("g", sort=False)["s"].rank(method="average").to_numpy()
    rank_cls = frame.groupby(["g", "y"], sort=False)["s"].rank(method="average").to_numpy()
    n_pos = np.bincount(codes, weights=y, minlength=n_groups)
    n_all = np.bincount(codes, minlength=n_groups).astype(float)
    n_neg = n_all - n_pos
    pos = y == 1
    # placement of each positive among its group's negatives, and of each negative among positives
    v = np.where(
        pos,
        _ratio(rank_all - rank_cls, n_neg[codes]),
        1.0 - _ratio(rank_all - rank_cls, n_pos[codes]),
    )
    w_pos = pos.astype(float)
    w_neg = 1.0 - w_pos
    auc = _ratio(np.bincount(codes, weights=v * w_pos, minlength=n_groups), n_pos)
    mean_neg = _ratio(np.bincount(codes, weights=v * w_neg, minlength=n_groups), n_neg)
    dev = np.where(pos, v - auc[codes], v - mean_neg[codes])
    ss_pos = np.bincount(codes, weights=dev * dev * w_pos, minlength=n_groups)
    ss_neg = np.bincount(codes, weights=dev * dev * w_neg, minlength=n_groups)
    both = (n_pos > 0) & (n_neg > 0)
    auc = np.where(both, auc, np.nan)
    # a class of one member has no sample variance; its DeLong term is taken as zero
    var_pos_term = np.where(n_pos > 1, _ratio(_ratio(ss_pos, n_pos - 1), n_pos), 0.0)
    var_neg_term = np.where(n_neg > 1, _ratio(_ratio(ss_neg, n_neg - 1), n_neg), 0.0)
    var = np.where(both, var_pos_term + var_neg_term, np.nan)
    if clusters is not None:
        var = np.where(both, _clustered_auc_var(v, pos, codes, n_groups, clusters, auc), np.nan)
    return auc, var


def _clustered_auc_var(
    v: np.ndarray,
    pos: np.ndarray,
    codes: np.ndarray,
    n_groups: int,
    clusters: np.ndarray,
    auc: np.ndarray,
) -> np.ndarray:
    """Obuchowski's clustered variance of AUC per group from per-row placement values."""
    frame = pd.DataFrame(
        {
            "g": codes,
            "c": np.asarray(clusters),
            "x": np.where(pos, v, 0.0),
            "m": pos.astype(float),
            "y": np.where(pos, 0.0, v),
            "n": (~pos).astype(float),
        }
    )
    agg = frame.groupby(["g", "c"], sort=False).sum()
    g = agg.index.get_level_values("g").to_numpy()
    a = auc[g]
    dx = agg["x"].to_numpy() - agg["m"].to_numpy() * a
    dy = agg["y"].to_numpy() - agg["n"].to_numpy() * a
    n_cl = np.bincount(g, minlength=n_groups).astype(float)
    m_tot = np.bincount(codes, weights=pos.astype(float), minlength=n_groups)
    n_tot = np.bincount(codes, minlength=n_groups) - m_tot
    with np.errstate(invalid="ignore", divide="ignore"):
        f = n_cl / (n_cl - 1)
        s10 = f * np.bincount(g, weights=dx * dx, minlength=n_groups) / m_tot
        s01 = f * np.bincount(g, weights=dy * dy, minlength=n_groups) / n_tot
        s11 = f * np.bincount(g, weights=dx * dy, minlength=n_groups)
        return s10 / m_tot + s01 / n_tot + 2 * s11 / (m_tot * n_tot)


def _inputs(
    y_true: object, y_pred: object, groups: object, y_score: object | None
) -> tuple[np.ndarray, np.ndarray, Grouping, np.ndarray | None]:
    y = as_binary(y_true, "y_true")
    p = as_binary(y_pred, "y_pred")
    g = groups if isinstance(groups, Grouping) else encode_groups(groups)  # type: ignore[arg-type]
    s = None if y_score is None else np.asarray(y_score, dtype=float)
    lengths = {len(y), len(p), len(g.codes)} | ({len(s)} if s is not None else set())
    if len(lengths) != 1:
        raise ValueError(ERR_LENGTHS.format(lengths=sorted(lengths)))
    return y, p, g, s


def group_metrics(
    y_true: object,
    y_pred: object,
    groups: pd.Series | pd.DataFrame | np.ndarray | Grouping,
    *,
    y_score: object | None = None,
) -> pd.DataFrame:
    """Per-group n, base rate, mean score, selection rate, TPR, FPR, FNR, PPV, NPV and AUC.

    Parameters
    ----------
    y_true : recorded outcome (e.g. ``reoffend_12m``), 0/1 or bool
    y_pred : selected (offered a programme place), 0/1 or bool
    groups : one audit attribute (Series) or several for their intersection (DataFrame)
    y_score : the score behind the selection (for mean score and AUC); optional

    Returns
    -------
    DataFrame indexed by group name, one column per metric (NaN where undefined).
    """
    y, p, g, s = _inputs(y_true, y_pred, groups, y_score)
    counts = confusion_counts(y, p, g.codes, g.n_groups)
    out = pd.DataFrame(metrics_from_counts(counts), index=pd.Index(g.labels, name=g.name))
    out.insert(0, "n", counts.sum(axis=1))
    if s is not None:
        out["mean_score"], _ = grouped_mean_sd(s, g.codes, g.n_groups)
        out["auc"], _ = grouped_auc(y, s, g.codes, g.n_groups)
    else:
        out["mean_score"] = np.nan
        out["auc"] = np.nan
    return out.loc[:, list(GROUP_METRICS)]

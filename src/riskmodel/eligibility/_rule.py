"""The eligibility rule: a pure function from scored people to who is listed, in which order.

Kept free of I/O so the fairness audit can apply exactly the rule the coordinator's list uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.eligibility._config import EligibilityConfig

# outcome of each person, in the words the summary uses
LISTED = "listed"
EXCLUDED_HIGH_HARM = "excluded_high_harm"
BELOW_THRESHOLD = "below_reoffend_threshold"
OVER_AREA_CAPACITY = "over_area_capacity"
OVER_CAPACITY = "over_capacity"
NOT_LISTED_OUTCOMES = (BELOW_THRESHOLD, OVER_AREA_CAPACITY, OVER_CAPACITY)
OUTCOMES = (LISTED, EXCLUDED_HIGH_HARM, *NOT_LISTED_OUTCOMES)

BANDS = ("higher", "moderate", "lower")

ERR_RULE_COLUMN = "eligibility rule: column {col!r} is missing (columns: {have})"
ERR_RULE_PROB = (
    "eligibility rule: column {col!r} must hold probabilities in [0, 1]; {n} value(s) are "
    "missing or out of range"
)

RULE_COLUMNS = ("excluded_high_harm", "eligible", "rank", "band", "outcome")


def _probabilities(frame: pd.DataFrame, col: str) -> np.ndarray:
    p = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~((p >= 0) & (p <= 1))  # NaN compares False, so it counts as bad
    if bad.any():
        raise ValueError(ERR_RULE_PROB.format(col=col, n=int(bad.sum())))
    return p


def band_of(p_reoffend: np.ndarray, rule: EligibilityConfig) -> np.ndarray:
    """Words for a reoffending probability: ``higher``, ``moderate`` or ``lower``."""
    p = np.asarray(p_reoffend, dtype=float)
    return np.where(
        p >= rule.band_higher_from,
        BANDS[0],
        np.where(p >= rule.band_moderate_from, BANDS[1], BANDS[2]),
    ).astype(object)


def apply_eligibility_rule(
    frame: pd.DataFrame,
    *,
    rule: EligibilityConfig,
    p_reoffend_col: str = "p_reoffend",
    p_severe_col: str = "p_severe",
    area_col: str = "area",
    id_col: str = "person_id",
    tie_break_col: str | None = None,
) -> pd.DataFrame:
    """Apply the eligibility rule to scored people; returns a copy with the rule's columns added.

    Parameters
    ----------
    frame : one row per scored person (or per index event, for audits), with both probabilities
    rule : thresholds, capacities and band cut-offs
    p_reoffend_col, p_severe_col : probability of a recorded DA reoffence / a severe one in 12 months
    area_col : area, needed only when the rule has per-area capacities
    id_col : pseudonymous id, the last tie-break
    tie_break_col : optional score ranked highest first among equal reoffending probabilities,
        before the severe probability (scoring passes the uncalibrated reoffending probability:
        isotonic calibration maps ranges of scores to one value, and the raw score still orders
        them)

    Returns
    -------
    DataFrame
        ``frame`` (same index and row order) plus ``excluded_high_harm`` (severe probability at or
        above the severe threshold: outside this tool's purpose, never listed), ``eligible``
        (on the list), ``rank`` (1..n among the listed, nullable integer), ``band``
        (higher / moderate / lower, from the reoffending probability) and ``outcome`` (listed,
        excluded_high_harm, below_reoffend_threshold, over_area_capacity or over_capacity).

    Notes
    -----
    Candidates are people below the severe threshold whose reoffending probability reaches the
    threshold (every such person when the threshold is ``None``). They are ordered by reoffending
    probability (highest first), then ``tie_break_col`` if given (highest first), then severe
    probability (lowest first), then id (as text, ascending), then row order. Per-area capacities are filled in that order first; the overall
    capacity then takes the first ``capacity`` of those left.
    """
    for col in (p_reoffend_col, p_severe_col, id_col, *([tie_break_col] if tie_break_col else [])):
        if col not in frame.columns:
            raise KeyError(ERR_RULE_COLUMN.format(col=col, have=", ".join(map(str, frame.columns))))
    area_caps = rule.capacity_per_area is not None or rule.area_capacity_default is not None
    if area_caps and area_col not in frame.columns:
        raise KeyError(
            ERR_RULE_COLUMN.format(col=area_col, have=", ".join(map(str, frame.columns)))
        )

    p_r = _probabilities(frame, p_reoffend_col)
    p_s = _probabilities(frame, p_severe_col)
    n = len(frame)

    excluded = p_s >= rule.severe_threshold
    candidate = ~excluded
    if rule.reoffend_threshold is not None:
        candidate &= p_r >= rule.reoffend_threshold
    outcome = np.where(excluded, EXCLUDED_HIGH_HARM, BELOW_THRESHOLD).astype(object)

    cand_pos = np.flatnonzero(candidate)
    ids = frame[id_col].astype("string").to_numpy(dtype=object, na_value=None)[cand_pos]
    keys = {"r": -p_r[cand_pos]}
    if tie_break_col:
        tb = pd.to_numeric(frame[tie_break_col], errors="coerce").to_numpy(dtype=float)
        keys["t"] = -tb[cand_pos]
    order_frame = pd.DataFrame({**keys, "s": p_s[cand_pos], "id": ids, "pos": cand_pos})
    # stable multi-key sort: the same scores always give the same order (missing ids last)
    order_frame = order_frame.sort_values(
        [*keys, "s", "id", "pos"], kind="stable", na_position="last"
    )
    ordered = order_frame["pos"].to_numpy()
    keep = np.ones(len(ordered), dtype=bool)
    ordered_outcome = np.full(len(ordered), LISTED, dtype=object)

    if area_caps:
        areas = frame[area_col].astype("string").to_numpy(dtype=object, na_value=None)[ordered]
        named = rule.capacity_per_area or {}
        default = np.inf if rule.area_capacity_default is None else rule.area_capacity_default
        codes, uniques = pd.factorize(pd.Series(areas, dtype=object), use_na_sentinel=False)
        cap_by_code = np.array(
            [named.get(a, default) if isinstance(a, str) else default for a in uniques],
            dtype=float,
        )
        seen_in_area = pd.Series(codes).groupby(codes).cumcount().to_numpy()
        over_area = seen_in_area >= cap_by_code[codes]
        keep &= ~over_area
        ordered_outcome[over_area] = OVER_AREA_CAPACITY

    if rule.capacity is not None:
        over = keep & (np.cumsum(keep) > rule.capacity)
        keep &= ~over
        ordered_outcome[over] = OVER_CAPACITY

    outcome[ordered] = ordered_outcome
    rank = np.zeros(n, dtype=np.int64)
    listed_pos = ordered[keep]
    rank[listed_pos] = np.arange(1, len(listed_pos) + 1)

    out = frame.copy()
    out["excluded_high_harm"] = excluded
    out["eligible"] = outcome == LISTED
    out["rank"] = pd.arrays.IntegerArray(rank, mask=rank == 0)
    out["band"] = pd.array(band_of(p_r, rule), dtype="str")
    out["outcome"] = pd.array(outcome, dtype="str")
    return out

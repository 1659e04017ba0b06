"""The coordinator's summary of a scoring run: counts, reasons for rejection, selection by group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmodel.eligibility import (
    EXCLUDED_HIGH_HARM,
    LISTED,
    NOT_LISTED_OUTCOMES,
)
from riskmodel.scoring._cohort import AUDIT_ATTRIBUTES

MISSING_GROUP = "(not recorded)"


def outcome_counts(scored: pd.DataFrame, *, n_rejected: int) -> dict[str, int]:
    """``counts`` of the summary; ``in`` is the cohort: everyone scored plus everyone rejected."""
    outcome = scored["outcome"].to_numpy()
    listed = int((outcome == LISTED).sum())
    excluded = int((outcome == EXCLUDED_HIGH_HARM).sum())
    not_listed = int(np.isin(outcome, NOT_LISTED_OUTCOMES).sum())
    return {
        "in": len(scored) + n_rejected,
        "listed": listed,
        "not_listed": not_listed,
        "excluded_high_harm": excluded,
        "rejected": n_rejected,
    }


def not_listed_breakdown(scored: pd.DataFrame) -> dict[str, int]:
    """Why people who could be scored were not listed (below threshold, over capacity, ...)."""
    vc = scored["outcome"].value_counts()
    return {k: int(vc.get(k, 0)) for k in NOT_LISTED_OUTCOMES}


def rejection_reasons(rejects: pd.DataFrame) -> list[dict[str, Any]]:
    """Rejected records grouped by file, column and reason, most frequent first."""
    if len(rejects) == 0:
        return []
    g = (
        rejects.assign(column=rejects["column"].fillna(""))
        .groupby(["file", "column", "reason"], dropna=False)
        .size()
        .reset_index(name="records")
        .sort_values(["records", "file", "column", "reason"], ascending=[False, True, True, True])
    )
    return [
        {
            "file": str(r.file),
            "column": str(r.column),
            "reason": str(r.reason),
            "records": int(r.records),
        }
        for r in g.itertuples(index=False)
    ]


def selection_rates(
    scored: pd.DataFrame, *, attributes: tuple[str, ...] = AUDIT_ATTRIBUTES, min_cell: int
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per audit attribute and group: people scored, listed, excluded, and the rates.

    Groups with fewer than ``min_cell`` people are suppressed (no numbers shown). When only one
    group of an attribute would be suppressed its size could be worked out from the total, so
    the next smallest group is suppressed too.
    """
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for attr in attributes:
        if attr not in scored.columns:
            continue
        values = scored[attr]
        if pd.api.types.is_bool_dtype(values):  # disability: say yes / no, not True / False
            values = values.map({True: "yes", False: "no"})
        groups = values.astype("string").fillna(MISSING_GROUP)
        table = (
            pd.DataFrame(
                {
                    "group": groups.to_numpy(dtype=object),
                    "listed": (scored["outcome"] == LISTED).to_numpy(),
                    "excluded": (scored["outcome"] == EXCLUDED_HIGH_HARM).to_numpy(),
                }
            )
            .groupby("group", sort=True)
            .agg(n=("listed", "size"), listed=("listed", "sum"), excluded=("excluded", "sum"))
        )
        small = table["n"] < min_cell
        if small.sum() == 1 and len(table) > 1:
            small[table.loc[~small, "n"].idxmin()] = True
        cells: dict[str, dict[str, Any]] = {}
        for group, row in table.iterrows():
            if small[group]:
                cells[str(group)] = {"suppressed": True}
                continue
            n = int(row["n"])
            cells[str(group)] = {
                "suppressed": False,
                "n": n,
                "listed": int(row["listed"]),
                "excluded_high_harm": int(row["excluded"]),
                "selection_rate": float(row["listed"]) / n,
                "excluded_rate": float(row["excluded"]) / n,
            }
        out[attr] = cells
    return out

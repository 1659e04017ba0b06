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
        small = table["n"].map(lambda n: _suppressed(n, min_cell)).astype(bool)
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


# --- what the coordinator needs beyond the counts ------------------------------------------------
#: the level of the interval on the expected number of reoffenders
EXPECTED_LEVEL = 0.95


def _suppressed(denominator: int, min_cell: int) -> bool:
    """A count or rate is shown only when its denominator is at least ``min_cell``: the one
    small-cell rule of every report (``riskmodel.evaluation.cell_speaks``)."""
    from riskmodel.evaluation import cell_speaks

    return not cell_speaks(denominator, int(min_cell))


def _shift_logit(p: np.ndarray, shift: float) -> np.ndarray:
    from scipy.special import expit, logit

    return expit(logit(np.clip(p, 1e-9, 1 - 1e-9)) + shift)


def _poisson_binomial_quantile(p: np.ndarray, q: float) -> int:
    """Smallest count ``c`` with P(sum of independent Bernoulli(p) <= c) >= q.

    The exact distribution by repeated convolution (scipy's ``poisson_binom`` takes at most 63
    probabilities, and a list holds hundreds of people).
    """
    pmf = np.ones(1)
    for pi in p:
        pmf = np.convolve(pmf, [1.0 - pi, pi])
    cdf = np.cumsum(pmf)
    return int(np.searchsorted(cdf, q - 1e-12))


def expected_reoffenders(
    p_listed: np.ndarray, *, intercept_ci: list[float | None] | None = None
) -> dict[str, Any]:
    """Expected number of listed people with a recorded DA reoffence within 12 months, had they
    no programme place, from their calibrated probabilities.

    The interval combines chance (the count is a sum of independent yes/no outcomes with these
    probabilities: a Poisson-binomial distribution) with the calibration uncertainty measured on
    the training run's test period (the calibration intercept's interval shifts every
    probability on the logit scale): its ends are the 2.5% quantile under the lowest shift and
    the 97.5% quantile under the highest. ``intercept_ci`` absent: chance only.
    """
    p = np.asarray(p_listed, dtype=float)
    n = len(p)
    if n == 0:
        return {"n": 0, "expected": 0.0, "interval": [0, 0], "level": EXPECTED_LEVEL}
    a = (1 - EXPECTED_LEVEL) / 2
    lo_shift, hi_shift = 0.0, 0.0
    with_calibration = bool(intercept_ci and intercept_ci[0] is not None)
    if with_calibration:
        lo_shift, hi_shift = float(intercept_ci[0]), float(intercept_ci[1])
    lo = _poisson_binomial_quantile(_shift_logit(p, lo_shift), a)
    hi = _poisson_binomial_quantile(_shift_logit(p, hi_shift), 1 - a)
    return {
        "n": n,
        "expected": float(p.sum()),
        "share": float(p.mean()),
        "interval": [lo, hi],
        "level": EXPECTED_LEVEL,
        "includes_calibration": with_calibration,
    }


def band_table(scored: pd.DataFrame, *, min_cell: int) -> dict[str, Any]:
    """People per band among the listed and among everyone scored, so a band reads against both;
    and where the list sits in the whole cohort's estimated chances."""
    from riskmodel.eligibility import BANDS

    listed = scored["outcome"].to_numpy() == LISTED
    p = scored["p_reoffend"].to_numpy(dtype=float)
    rows = []
    for band in BANDS:
        in_band = scored["band"].astype("str").to_numpy() == band
        rows.append(
            {
                "band": band,
                "listed": int((in_band & listed).sum()),
                "scored": int(in_band.sum()),
            }
        )
    n, n_listed = len(scored), int(listed.sum())
    out: dict[str, Any] = {"rows": rows, "n_scored": n, "n_listed": n_listed}
    if n_listed and not _suppressed(n, min_cell):
        out["listed_p_range"] = [float(p[listed].min()), float(p[listed].max())]
        out["scored_p_median"] = float(np.median(p))
        # share of everyone scored whose chance is at least the lowest listed person's
        out["share_at_or_above_lowest_listed"] = float((p >= p[listed].min()).mean())
    return out


def model_heads(model_info: dict[str, Any], bundle: Any) -> list[dict[str, Any]]:
    """Both heads of the model that made the list: registered name, version and the SHA-256 of
    each head's booster file (from the bundle's verified manifest)."""
    import json
    from pathlib import Path

    bundle_dir = Path(model_info["bundle_dir"])
    meta = dict(getattr(bundle, "metadata", {}) or {})
    names = meta.get("registered_model_names") or {}
    files: dict[str, str] = {}
    registered: dict[str, Any] = {}
    manifest = bundle_dir / "manifest.json"
    if manifest.exists():
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
    run_json = bundle_dir.parent / "run.json"
    if run_json.exists():
        registered = json.loads(run_json.read_text(encoding="utf-8")).get("registered") or {}
    out = []
    for head in sorted(getattr(bundle, "boosters", {}) or {}):
        version = registered.get(head)
        out.append(
            {
                "head": head,
                "name": str(names.get(head) or f"riskmodel-{head}"),
                "version": str(version) if version is not None else "unregistered",
                "sha256": files.get(f"{head}.lgb.txt"),
            }
        )
    return out


def coordinator_figures(
    scored: pd.DataFrame, *, model_info: dict[str, Any], bundle: Any, min_cell: int
) -> dict[str, Any]:
    """The summary's figures beyond the counts: expected reoffenders among the listed (with the
    training run's calibration interval when its metrics are beside the bundle), the bands
    against the list and the cohort, and both heads' versions and hashes."""
    import json
    from pathlib import Path

    intercept_ci = None
    metrics = Path(model_info["bundle_dir"]).parent / "metrics.json"
    if metrics.exists():
        m = json.loads(metrics.read_text(encoding="utf-8"))
        intercept_ci = m.get("test.reoffend.calibration_intercept_ci.model")
    listed = scored["outcome"].to_numpy() == LISTED
    return {
        "expected_reoffenders": expected_reoffenders(
            scored["p_reoffend"].to_numpy(dtype=float)[listed], intercept_ci=intercept_ci
        ),
        "bands": band_table(scored, min_cell=min_cell),
        "heads": model_heads(model_info, bundle),
    }

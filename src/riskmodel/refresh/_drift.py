"""Population stability index (PSI): how far a population has moved from a reference one.

Pure functions over frames. ``PSI = sum over bins of (a - e) ln(a / e)``, with ``e`` the
reference share and ``a`` the current share of each bin; bins are equal-mass bins of the
reference (numbers), or its levels (categories), with missing values as a bin of their own.
Conventional reading: below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a significant
shift.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

EPS = 1e-4  # share given to an empty bin (the index is undefined at 0)
MISSING = "(missing)"

ERR_NO_COLUMN = "drift: column {col!r} is in the {side} data but not in the {other} data"


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _shares(codes: np.ndarray, n_bins: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=n_bins).astype(np.float64)
    total = counts.sum()
    shares = counts / total if total else counts
    return np.maximum(shares, EPS)


def bin_reference(reference: pd.Series, *, bins: int = 10) -> dict[str, Any]:
    """The bins of a reference column: ``{"kind": "numeric", "edges": [...]}`` (inner edges of
    equal-mass bins) or ``{"kind": "category", "levels": [...]}``."""
    if _is_numeric(reference):
        x = reference.to_numpy(dtype=np.float64)
        x = x[np.isfinite(x)]
        if len(x) == 0:
            return {"kind": "numeric", "edges": []}
        qs = np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1])
        # values above the reference's largest get a bin of their own: a count that was always 0
        # and now is not has moved, however few the reference's distinct values
        top = np.nextafter(x.max(), np.inf)
        return {"kind": "numeric", "edges": [float(v) for v in np.unique(np.append(qs, top))]}
    levels = sorted({str(v) for v in reference.dropna().astype(str)})
    return {"kind": "category", "levels": levels}


def bin_codes(values: pd.Series, binning: dict[str, Any]) -> tuple[np.ndarray, int]:
    """Bin index of each value (last bin: missing, or an unseen category) and the bin count."""
    if binning["kind"] == "numeric":
        edges = np.asarray(binning["edges"], dtype=np.float64)
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        n = len(edges) + 2
        codes = np.searchsorted(edges, x, side="right")
        codes = np.where(np.isfinite(x), codes, n - 1)
        return codes.astype(np.int64), n
    levels = {v: i for i, v in enumerate(binning["levels"])}
    n = len(levels) + 1
    text = values.astype("string")
    codes = np.array([levels.get(v, n - 1) if v is not pd.NA else n - 1 for v in text], np.int64)
    return codes, n


def psi(reference: pd.Series, current: pd.Series, *, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference`` (see module docstring)."""
    binning = bin_reference(reference, bins=bins)
    ref_codes, n = bin_codes(reference, binning)
    cur_codes, _ = bin_codes(current, binning)
    e = _shares(ref_codes, n)
    a = _shares(cur_codes, n)
    return float(np.sum((a - e) * np.log(a / e)))


def level(value: float, *, threshold: float = 0.25) -> str:
    """Plain words for a PSI."""
    if value >= threshold:
        return "significant shift"
    if value >= 0.1:
        return "moderate shift"
    return "stable"


def _describe(reference: pd.Series, current: pd.Series) -> str:
    """How a column moved, in words a panel can read."""
    if _is_numeric(reference):
        r = pd.to_numeric(reference, errors="coerce")
        c = pd.to_numeric(current, errors="coerce")
        words = f"average {r.mean():.3g} -> {c.mean():.3g}"
        rm, cm = r.isna().mean(), c.isna().mean()
        if max(rm, cm) > 0.01:
            words += f"; missing {rm:.0%} -> {cm:.0%}"
        return words
    r = reference.astype("string").fillna(MISSING).value_counts(normalize=True)
    c = current.astype("string").fillna(MISSING).value_counts(normalize=True)
    diff = (
        c.reindex(r.index.union(c.index), fill_value=0)
        - r.reindex(r.index.union(c.index), fill_value=0)
    ).sort_values(key=np.abs, ascending=False)
    top = diff.index[0]
    return f"share '{top}' {r.get(top, 0.0):.1%} -> {c.get(top, 0.0):.1%}"


def feature_words(feature_spec: dict[str, Any] | None) -> dict[str, str]:
    """``feature -> its description`` from a feature table's dictionary, without a closing
    parenthesis (the tables and the warning sentence name inputs the way people read them)."""
    dictionary = (feature_spec or {}).get("dictionary") or {}
    out = {}
    for name, entry in dictionary.items():
        words = entry.get("description") if isinstance(entry, dict) else entry
        if words:
            words = re.sub(r"\s*\([^()]*\)\s*$", "", str(words)).strip()
            out[name] = words[:1].upper() + words[1:]
    return out


def drift_table(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: list[str],
    *,
    bins: int = 10,
    threshold: float = 0.25,
    labels: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """PSI of each column, largest first, with plain words for the panel.

    Returns rows ``{"column", "label", "psi", "level", "change"}``.
    """
    rows = []
    for col in columns:
        for side, frame, other in (
            ("reference", reference, "current"),
            ("current", current, "reference"),
        ):
            if col not in frame.columns:
                raise KeyError(ERR_NO_COLUMN.format(col=col, side=other, other=side))
        value = psi(reference[col], current[col], bins=bins)
        rows.append(
            {
                "column": col,
                "label": (labels or {}).get(col, col),
                "psi": value,
                "level": level(value, threshold=threshold),
                "change": _describe(reference[col], current[col]),
            }
        )
    return sorted(rows, key=lambda r: -r["psi"])


def cohort_drift(
    reference: pd.DataFrame,
    cohort: pd.DataFrame,
    *,
    features: list[str],
    reference_score: np.ndarray | None = None,
    cohort_score: np.ndarray | None = None,
    threshold: float = 0.25,
    bins: int = 10,
    top: int = 5,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What scoring puts in ``summary.json``: does the cohort still look like the model's
    training data? PSI of each input and of the score; ``warning`` is a plain sentence when any
    is at or above ``threshold``, else ``None``."""
    table = drift_table(
        reference,
        cohort,
        [f for f in features if f in cohort.columns],
        bins=bins,
        threshold=threshold,
        labels=labels,
    )
    score_psi = None
    if reference_score is not None and cohort_score is not None:
        score_psi = psi(pd.Series(reference_score), pd.Series(cohort_score), bins=bins)
    moved = [r for r in table if r["psi"] >= threshold]
    warning = None
    if moved or (score_psi is not None and score_psi >= threshold):
        names = "; ".join(r["label"][:1].lower() + r["label"][1:] for r in moved[:top])
        names = names or "the score"
        warning = (
            "The people being scored differ from the people the model was trained on "
            f"(population stability index at or above {threshold:g}: {names}). The model may no "
            "longer fit them; consider a refresh (the riskmodel refresh command)."
        )
    return {
        "threshold": threshold,
        "score_psi": score_psi,
        "max_input_psi": max((r["psi"] for r in table), default=0.0),
        "inputs": table[:top],
        "n_inputs_shifted": len(moved),
        "warning": warning,
    }


__all__ = [
    "bin_codes",
    "bin_reference",
    "cohort_drift",
    "drift_table",
    "feature_words",
    "level",
    "psi",
]

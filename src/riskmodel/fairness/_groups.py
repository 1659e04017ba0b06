"""Encoding audit attributes into integer group codes (one column, or an intersection of several)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING_GROUP = "(not recorded)"
INTERSECTION_SEP = ":"


@dataclass(frozen=True)
class Grouping:
    """People assigned to groups.

    Parameters
    ----------
    name : attribute name, or ``a:b:c`` for an intersection
    codes : group index of each row (0 .. n_groups - 1)
    labels : group names, in code order (sorted, missing last)
    n_missing : rows whose attribute value was not recorded (kept as their own group)
    """

    name: str
    codes: np.ndarray
    labels: tuple[str, ...]
    n_missing: int

    @property
    def n_groups(self) -> int:
        return len(self.labels)

    def sizes(self) -> np.ndarray:
        return np.bincount(self.codes, minlength=self.n_groups)


def _label(value: object) -> str:
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _column_codes(values: pd.Series) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Codes of one column with missing values as a group of their own, labels sorted."""
    missing = values.isna().to_numpy()
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    labels = [_label(u) for u in uniques]
    if missing.any():
        codes = np.where(missing, len(labels), codes)
        labels.append(MISSING_GROUP)
    return codes.astype(np.int64), labels, missing


def encode_groups(
    groups: pd.Series | pd.DataFrame | np.ndarray, *, name: str | None = None
) -> Grouping:
    """Group codes for one attribute (a Series) or the intersection of several (a DataFrame).

    Intersection labels join the parts with ``:`` (``male:white:25-34``); only cells that occur
    are kept, so the number of groups never exceeds the number of rows.
    """
    if isinstance(groups, np.ndarray):
        groups = pd.Series(groups)
    if isinstance(groups, pd.Series):
        codes, labels, missing = _column_codes(groups)
        return Grouping(name or str(groups.name), codes, tuple(labels), int(missing.sum()))
    cols = list(groups.columns)
    combined = np.zeros(len(groups), dtype=np.int64)
    parts: list[list[str]] = []
    any_missing = np.zeros(len(groups), dtype=bool)
    for col in cols:
        codes, labels, missing = _column_codes(groups[col])
        combined = combined * len(labels) + codes
        parts.append(labels)
        any_missing |= missing
    # keep only the cells that occur, in mixed-radix (= lexical by part) order
    cells, codes = np.unique(combined, return_inverse=True)
    labels_out = []
    radices = [len(p) for p in parts]
    for cell in cells:
        idx = []
        for r in reversed(radices):
            idx.append(cell % r)
            cell //= r
        labels_out.append(
            INTERSECTION_SEP.join(p[i] for p, i in zip(parts, reversed(idx), strict=True))
        )
    return Grouping(
        name or INTERSECTION_SEP.join(map(str, cols)),
        codes.astype(np.int64).reshape(-1),
        tuple(labels_out),
        int(any_missing.sum()),
    )

"""Bootstrap replicate weights and percentile intervals.

A replicate resamples ``n`` rows with replacement (``unit="row"``), or resamples people with
replacement and keeps all of each drawn person's rows (``unit="person"``, a cluster bootstrap for
tables with several index events per person). It is represented by its multinomial counts, one
row of a (replicates x rows) weight matrix, so every model is scored on the *same* replicates and
differences between models get paired intervals. Intervals are percentile intervals.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

ERR_UNIT = "bootstrap unit must be 'row' or 'person', got {unit!r}"
ERR_GROUPS = "a person-level bootstrap needs one person id per row"


def replicate_weights(
    n: int,
    n_boot: int,
    generator: np.random.Generator,
    *,
    unit: str = "row",
    groups: np.ndarray | None = None,
    chunk: int = 64,
) -> Iterator[np.ndarray]:
    """Yield (chunk x n) count matrices, ``n_boot`` replicates in all, from one generator.

    The chunking only bounds memory; the sequence of replicates does not depend on it.
    """
    if unit not in ("row", "person"):
        raise ValueError(ERR_UNIT.format(unit=unit))
    if unit == "person":
        if groups is None or len(groups) != n:
            raise ValueError(ERR_GROUPS)
        codes, uniques = _codes(groups)
        m = len(uniques)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        if unit == "row":
            draws = generator.integers(0, n, size=(b, n)) if n else np.zeros((b, 0), int)
            W = _counts(draws, n)
        else:
            draws = generator.integers(0, m, size=(b, m)) if m else np.zeros((b, 0), int)
            W = _counts(draws, m)[:, codes]
        done += b
        yield W


def _codes(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniques, codes = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    return codes, uniques


def _counts(draws: np.ndarray, n: int) -> np.ndarray:
    """Row-wise bincount of a (b x n) matrix of indices, vectorised."""
    b = draws.shape[0]
    flat = (draws + (np.arange(b) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)

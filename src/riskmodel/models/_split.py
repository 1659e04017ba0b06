"""Train / validation / test periods: by index date with follow-up embargoes, or by person."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.models._config import SplitConfig
from riskmodel.provenance import rng

PERIODS = ("train", "validation", "test")

ERR_EMPTY_PERIOD = (
    "the {period} period ({start} to {end}) holds no rows: the table's index dates run from "
    "{first} to {last}; shorten the periods (train.split.*_years, embargo_days) or use a "
    "longer world"
)
ERR_NO_INDEX_DATE = "a temporal split needs an index_date column; use split.method: random"
ERR_NO_PERSON = "the split needs a person_id column to keep people together and check overlap"


@dataclass(frozen=True)
class Split:
    """Row positions of each period and a description for the report.

    ``seen_in_fitting``: boolean over test rows, True when that person also has rows in the
    training or validation period (the person-disjoint check scores the others).
    """

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    seen_in_fitting: np.ndarray
    method: str
    bounds: dict[str, dict[str, Any]] = field(default_factory=dict)
    n_dropped: int = 0
    period_years: float | None = None

    def rows(self, period: str) -> np.ndarray:
        return {"train": self.train, "validation": self.validation, "test": self.test}[period]

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "n_dropped_in_gaps": self.n_dropped}
        for p, b in self.bounds.items():
            for key, value in b.items():
                out[f"{p}_{key}"] = value
        return out


def _index_dates(frame: pd.DataFrame) -> pd.Series:
    if "index_date" not in frame.columns:
        raise KeyError(ERR_NO_INDEX_DATE)
    return pd.to_datetime(frame["index_date"]).dt.normalize()


def _days(years: float) -> int:
    return round(years * 365.25)


def _seen(frame: pd.DataFrame, fit_rows: np.ndarray, test_rows: np.ndarray) -> np.ndarray:
    if "person_id" not in frame.columns:
        raise KeyError(ERR_NO_PERSON)
    people = frame["person_id"].astype("string")
    fitted = pd.Index(people.iloc[fit_rows].unique())
    return people.iloc[test_rows].isin(fitted).to_numpy(dtype=bool)


def temporal_split(frame: pd.DataFrame, config: SplitConfig) -> Split:
    """Periods by index date, newest last, separated by ``embargo_days`` (see SplitConfig)."""
    d = _index_dates(frame)
    first, last = d.min(), d.max()
    test_end = pd.Timestamp(config.test_end) if config.test_end else last
    embargo = pd.Timedelta(days=config.embargo_days)
    test_start = test_end - pd.Timedelta(days=_days(config.test_years) - 1)
    val_end_excl = test_start - embargo
    val_start = val_end_excl - pd.Timedelta(days=_days(config.validation_years))
    train_end_excl = val_start - embargo
    train_start = (
        train_end_excl - pd.Timedelta(days=_days(config.train_years))
        if config.train_years
        else first
    )
    masks = {
        "train": (d >= train_start) & (d < train_end_excl),
        "validation": (d >= val_start) & (d < val_end_excl),
        "test": (d >= test_start) & (d <= test_end),
    }
    ends = {
        "train": train_end_excl - pd.Timedelta(days=1),
        "validation": val_end_excl - pd.Timedelta(days=1),
        "test": test_end,
    }
    starts = {"train": max(train_start, first), "validation": val_start, "test": test_start}
    rows = {p: np.flatnonzero(m.to_numpy()) for p, m in masks.items()}
    bounds: dict[str, dict[str, Any]] = {}
    for p in PERIODS:
        if len(rows[p]) == 0:
            raise ValueError(
                ERR_EMPTY_PERIOD.format(
                    period=p,
                    start=starts[p].date(),
                    end=ends[p].date(),
                    first=first.date(),
                    last=last.date(),
                )
            )
        got = d.iloc[rows[p]]
        bounds[p] = {
            "start": starts[p].date().isoformat(),
            "end": ends[p].date().isoformat(),
            "first_index_date": got.min().date().isoformat(),
            "last_index_date": got.max().date().isoformat(),
        }
    fit = np.concatenate([rows["train"], rows["validation"]])
    used = sum(len(r) for r in rows.values())
    return Split(
        train=rows["train"],
        validation=rows["validation"],
        test=rows["test"],
        seen_in_fitting=_seen(frame, fit, rows["test"]),
        method="temporal",
        bounds=bounds,
        n_dropped=len(frame) - used,
        period_years=config.test_years,
    )


def random_split(frame: pd.DataFrame, config: SplitConfig, *, seed: int) -> Split:
    """People shuffled with the seed: ``test_fraction`` of them test, then validation."""
    if "person_id" not in frame.columns:
        raise KeyError(ERR_NO_PERSON)
    codes, people = pd.factorize(frame["person_id"].astype("string"), sort=True)
    m = len(people)
    perm = rng(seed, "split.random").permutation(m)
    n_test = round(config.test_fraction * m)
    n_val = round(config.validation_fraction * (m - n_test))
    role = np.empty(m, dtype=np.int8)
    role[perm[:n_test]] = 2
    role[perm[n_test : n_test + n_val]] = 1
    role[perm[n_test + n_val :]] = 0
    row_role = role[codes]
    rows = {p: np.flatnonzero(row_role == i) for i, p in enumerate(PERIODS)}
    for p in PERIODS:
        if len(rows[p]) == 0:
            raise ValueError(f"the random split left the {p} set empty ({m} people in the table)")
    bounds = {p: {"rows": int(len(rows[p]))} for p in PERIODS}
    if "index_date" in frame.columns:
        d = _index_dates(frame)
        for p in PERIODS:
            got = d.iloc[rows[p]]
            bounds[p]["first_index_date"] = got.min().date().isoformat()
            bounds[p]["last_index_date"] = got.max().date().isoformat()
    fit = np.concatenate([rows["train"], rows["validation"]])
    return Split(
        train=rows["train"],
        validation=rows["validation"],
        test=rows["test"],
        seen_in_fitting=_seen(frame, fit, rows["test"]),
        method="random",
        bounds=bounds,
        n_dropped=0,
        period_years=None,
    )


def make_split(frame: pd.DataFrame, config: SplitConfig, *, seed: int) -> Split:
    """The split the experiment asks for."""
    if config.method == "temporal":
        return temporal_split(frame, config)
    return random_split(frame, config, seed=seed)

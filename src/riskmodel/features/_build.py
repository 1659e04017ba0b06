"""Building feature tables: from a world, from any extract in the contract, and for scoring."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data import (
    ContractResult,
    empty_rejects,
    validate_events,
    validate_people,
    validate_programmes,
)
from riskmodel.features._catalog import AUDIT, BASELINES, KEYS, LABELS, TRUTH, catalogue
from riskmodel.features._config import FeatureConfig, refuse_forbidden
from riskmodel.features._history import (
    FOLLOWUP_DAYS,
    History,
    Moments,
    completed_years,
    day_numbers,
)
from riskmodel.features._table import FeatureTable, check_roles
from riskmodel.notice import PERMITTED_USE_NOTICE
from riskmodel.synth import verify_world

STEPS: tuple[str, ...] = (
    "checking the data contracts",
    "ordering the recorded histories",
    "choosing index events",
    "point-in-time features",
    "labels and audit columns",
)

ERR_WORLD_MISSING = (
    "{path}: not a world folder: expected people.parquet and events.parquet (and manifest.json "
    "with end_date); make one with `riskmodel synth`"
)
ERR_WORLD_OBJECT = (
    "world must be a world folder or an object with .people, .events, .programmes, .truth and "
    ".end_date; got {kind}"
)
ERR_NO_INDEX_EVENTS = (
    "{source}: no index event to build: {n} recorded DA event(s) with a perpetrator, none with "
    "365 days of follow-up before the end of data ({end}); give more data or a later end date"
)

#: plain-words definitions written into every spec (the datasheet and model card quote them)
DEFINITIONS: dict[str, str] = {
    "index_event": (
        "each recorded DA offence where the person is the perpetrator; the person is assessed at "
        "that moment"
    ),
    "same_day_order": (
        "events sort by (date, event_id); an event on the index date with a smaller event_id was "
        "recorded before the index event and counts, one with a larger event_id is after it"
    ),
    "point_in_time": (
        "features use only events at or before the index event in that order; the index event "
        "itself counts, because it is known when the person is assessed; programme referrals and "
        "completions count only if dated before the index date"
    ),
    "windows": (
        "a window of W days holds events dated from W-1 days before the index date up to the "
        "index date (e.g. 30 days: the index day and the 29 days before it)"
    ),
    "labels": (
        "reoffend_12m: any recorded DA offence by the same person after the index event and at "
        "most 365 days after the index date (day 365 counts, day 366 does not); severe_12m: such "
        "an offence that is severe (see config.severe); harm_days_12m: the harm of those "
        "offences in Crime Harm Index days"
    ),
    "censoring": (
        "index events with less than 365 days of data after them are excluded (n_censored)"
    ),
    "vulnerabilities": (
        "mental_health and substance_misuse are person-level flags without a date, so they "
        "cannot be placed in time: a known limit of the point-in-time guarantee"
    ),
}

Progress = Callable[[str], None] | None


@dataclass
class _Checked:
    people: pd.DataFrame
    events: pd.DataFrame
    programmes: pd.DataFrame | None
    rejects: pd.DataFrame
    counts: dict[str, int]


def _say(progress: Progress, step: str) -> None:
    if progress is not None:
        progress(step)


def _check(tables: dict[str, Any], *, as_of: Any, names: Mapping[str, str]) -> _Checked:
    """Validate the tables; events of rejected people are rejected in turn.

    Each raw table is popped from ``tables`` as it is checked, so that (when the caller keeps
    no other reference, as :func:`build_cohort` does) it is freed once its valid copy exists.
    """
    results: list[ContractResult] = []
    people = tables.pop("people")
    vp = validate_people(people, source=names.get("people", "people"), as_of=as_of)
    del people
    events = tables.pop("events")
    ve = validate_events(events, people=vp.valid, source=names.get("events", "events"), as_of=as_of)
    del events
    results += [vp, ve]
    valid_programmes = None
    programmes = tables.pop("programmes", None)
    if programmes is not None and len(programmes):
        vg = validate_programmes(
            programmes, people=vp.valid, source=names.get("programmes", "programmes"), as_of=as_of
        )
        results.append(vg)
        valid_programmes = vg.valid
    counts: dict[str, int] = {}
    for r in results:
        table = r.summary["table"]
        counts[f"{table}_in"] = r.summary["in"]
        counts[f"{table}_rejected"] = r.summary["rejected"]
    frames = [r.rejects for r in results if len(r.rejects)]
    rejects = pd.concat(frames, ignore_index=True) if frames else empty_rejects()
    return _Checked(vp.valid, ve.valid, valid_programmes, rejects, counts)


def _end_day(end_date: Any, events: pd.DataFrame) -> int:
    if end_date is not None:
        return int(day_numbers(pd.Series([pd.Timestamp(end_date)]))[0])
    if len(events) == 0:
        raise ValueError("no valid events: cannot tell where the data ends")
    return int(day_numbers(events["date"]).max())


def _take(m: Moments, keep: np.ndarray) -> Moments:
    return Moments(
        m.person[keep], m.ref_day[keep], m.cut_all[keep], m.cut_da[keep], m.programme_day[keep]
    )


def _one_per_year(h: History, m: Moments, config: FeatureConfig) -> np.ndarray:
    """Positions (into ``m``) of the one index event kept per person and calendar year."""
    year = pd.to_datetime(m.ref_day, unit="D").year.to_numpy()
    if config.index_choice == "random":
        # a keyed hash of the event id: deterministic, and a person's choice in one year does
        # not move when other people's (or other years') events are added or removed
        key = f"{config.seed:016d}"[-16:]
        ids = np.asarray(h.event_id_at(m.cut_da), dtype=object)
        rank = pd.util.hash_array(ids, hash_key=key)
    elif config.index_choice == "first":
        rank = np.arange(len(m.cut_da), dtype=np.int64)
    else:
        rank = -np.arange(len(m.cut_da), dtype=np.int64)
    order = np.lexsort((rank, year, m.person))
    first = np.r_[True, (np.diff(m.person[order]) != 0) | (np.diff(year[order]) != 0)]
    return np.sort(order[first])


def _by_person_id(h: History, m: Moments) -> np.ndarray:
    """Positions of the moments in person-id order, by Arrow's (stable) sort on the ids."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pa.array(h.person_id_at(m.person))
    return pc.array_sort_indices(ids).to_numpy().astype(np.int64)


def _age_band_text(years: np.ndarray) -> Any:
    """:func:`riskmodel.schema.age_band` as text, through category codes (no Python object
    per person)."""
    from riskmodel.schema import AGE_BAND_EDGES, AGE_BANDS, UNDER_16

    idx = np.searchsorted(np.array(AGE_BAND_EDGES), np.asarray(years), side="right")
    bands = pd.Categorical.from_codes(idx, categories=[UNDER_16, *AGE_BANDS])
    return pd.Series(bands).astype("str").array


def _frame(
    h: History,
    m: Moments,
    people: pd.DataFrame,
    *,
    config: FeatureConfig,
    with_labels: bool,
) -> tuple[pd.DataFrame, list[str]]:
    values = h.features(m)
    names = config.feature_names()
    refuse_forbidden(names)
    cols: dict[str, Any] = {
        "person_id": h.person_id_at(m.person),
        "index_event_id": h.event_id_at(m.cut_da),
        "index_date": pd.to_datetime(h.da_day[m.cut_da], unit="D").astype("datetime64[s]"),
    }
    for name in names:
        cols[name] = values[name]
    if with_labels:
        cols.update(h.labels(m))
    person = people.iloc[m.person]

    def text(col: str) -> Any:
        # taken as Arrow text, never through a Python object per person
        return person[col].astype("str").array

    cols["sex"] = text("sex")
    cols["ethnicity"] = text("ethnicity")
    years = completed_years(h.birth_day[m.person], m.ref_day)
    cols["age_band"] = _age_band_text(years)
    cols["area"] = text("area")
    cols["disability"] = person["disability"].to_numpy(dtype=bool)
    for b in BASELINES:
        cols.setdefault(b, values[b])
    # the arrays become the frame's columns as they are (no consolidating copy: a million
    # people's features are 600 MB)
    frame = pd.DataFrame(cols, copy=False)
    return frame, names


def _attach_truth(frame: pd.DataFrame, truth: pd.DataFrame | None) -> list[str]:
    """Attach the world's truth to each index event; returns the truth columns added.

    ``equal_recording_reoffend_12m`` has the definition of ``reoffend_12m`` (a DA offence after the
    index event, at most 365 days after the index date) counted on the incidents that equal
    recording would have recorded (synth: every measurement-bias multiplier 1, same draws), for
    the same index events. Worlds generated before that counterfactual existed lack it: its
    columns are then missing values (the table keeps one set of truth columns).
    """
    if truth is None or len(truth) == 0:
        return []
    t = truth.assign(event_id=truth["event_id"].astype(str)).drop_duplicates("event_id")
    t = t.set_index("event_id")
    ev = frame["index_event_id"].astype(str)
    frame["p_reoffend_true"] = ev.map(t["p_reoffend_12m"]).astype(float).to_numpy()
    frame["p_severe_true"] = ev.map(t["p_severe_12m"]).astype(float).to_numpy()
    added = ["p_reoffend_true", "p_severe_true"]

    def counts(src: str, dst: str, flag: str) -> None:
        nan = pd.Series(np.nan, index=ev.index)
        n = ev.map(t[src]).astype(float) if src in t.columns else nan
        missing = n.isna().to_numpy()
        frame[dst] = pd.array(n.to_numpy(), dtype="Int64")
        hit = pd.array((n > 0).to_numpy(), dtype="boolean")
        hit[missing] = pd.NA
        if flag:
            frame[flag] = hit if missing.any() else hit.astype(bool)
        added.extend([dst, *([flag] if flag else [])])

    counts("true_incidents_12m", "true_incidents_12m", "true_reoffend_12m")
    counts("recorded_incidents_12m", "recorded_incidents_12m", "")
    counts(
        "equal_recording_incidents_12m",
        "equal_recording_incidents_12m",
        "equal_recording_reoffend_12m",
    )
    return [c for c in TRUTH if c in added]


def _spec(
    frame: pd.DataFrame,
    *,
    names: list[str],
    config: FeatureConfig,
    labels: list[str],
    truth: list[str],
    source: str,
    n_censored: int,
    counts: dict[str, int],
    extra: dict[str, Any],
) -> dict[str, Any]:
    defs = {
        f.name: f
        for f in catalogue(
            config.windows_days,
            escalation_k=config.escalation_k,
            history_days=config.history_days,
        )
    }
    spec: dict[str, Any] = {
        "keys": list(KEYS),
        "features": names,
        "categorical_features": [n for n in names if defs[n].categorical],
        "labels": labels,
        "audit": list(AUDIT),
        "truth": truth,
        "baselines": list(BASELINES),
        "dictionary": {n: defs[n].entry() for n in [*names, *BASELINES]},
        "source": source,
        "n_rows": len(frame),
        "n_censored": int(n_censored),
        "config": config.model_dump(mode="json"),
        "counts": counts,
        "definitions": DEFINITIONS,
        "notice": PERMITTED_USE_NOTICE,
        **extra,
    }
    check_roles(spec)
    return spec


def build_features(
    people: pd.DataFrame,
    events: pd.DataFrame,
    programmes: pd.DataFrame | None = None,
    truth: pd.DataFrame | None = None,
    *,
    config: FeatureConfig,
    end_date: Any = None,
    source: str = "extract",
    validate: bool = True,
    names: Mapping[str, str] | None = None,
    progress: Progress = None,
) -> FeatureTable:
    """One row per (person, index event) with point-in-time features and 12-month labels.

    Parameters
    ----------
    people, events, programmes : tables in the contract of docs/CONTRACTS.md
    truth : the world's truth table (synthetic worlds only): adds the truth columns
    config : which features, index events and labels
    end_date : the last day of the data; index events with less than 365 days after them up to
        it are censored. Default: the latest event date
    source : ``synthetic`` or ``external:<name>`` or ``extract``, written to the spec
    validate : check the data contracts first (rejected rows go to ``rejects``)
    names : file names of the tables, for messages and the rejects' ``file`` column
    progress : called with the name of each step as it starts
    """
    tables = {"people": people, "events": events, "programmes": programmes, "truth": truth}
    del people, events, programmes, truth
    return _build(
        tables,
        config=config,
        end_date=end_date,
        source=source,
        validate=validate,
        names=dict(names or {}),
        progress=progress,
    )


def _build(
    tables: dict[str, Any],
    *,
    config: FeatureConfig,
    end_date: Any,
    source: str,
    validate: bool,
    names: dict[str, str],
    progress: Progress,
) -> FeatureTable:
    """:func:`build_features` on a dict of tables that it empties as it goes."""
    truth = tables.pop("truth", None)
    _say(progress, STEPS[0])
    if validate:
        checked = _check(tables, as_of=end_date, names=names)
    else:
        checked = _Checked(
            tables.pop("people"),
            tables.pop("events"),
            tables.pop("programmes", None),
            empty_rejects(),
            {},
        )
    end_day = _end_day(end_date, checked.events)

    _say(progress, STEPS[1])
    h = History(checked.people, checked.events, checked.programmes, config=config)

    _say(progress, STEPS[2])
    m = h.index_moments()
    n_index = len(m.person)
    censored = m.ref_day + FOLLOWUP_DAYS > end_day
    m = _take(m, ~censored)
    n_dropped = 0
    if config.one_index_per == "year" and len(m.person):
        keep = _one_per_year(h, m, config)
        n_dropped = len(m.person) - len(keep)
        m = _take(m, keep)
    if len(m.person) == 0:
        end = pd.to_datetime(end_day, unit="D").date()
        raise ValueError(ERR_NO_INDEX_EVENTS.format(source=source, end=end, n=n_index))

    _say(progress, STEPS[3])
    frame, feature_names = _frame(h, m, checked.people, config=config, with_labels=True)

    _say(progress, STEPS[4])
    truth_cols = _attach_truth(frame, truth)
    order = [*KEYS, *feature_names, *LABELS, *AUDIT, *truth_cols]
    order += [c for c in frame.columns if c not in order]
    frame = frame.loc[:, order].sort_values(["index_date", "index_event_id"], kind="stable")
    frame = frame.reset_index(drop=True)
    counts = {
        **checked.counts,
        "index_events": int(n_index),
        "censored": int(censored.sum()),
        "dropped_one_index_per": int(n_dropped),
        "rows": len(frame),
    }
    spec = _spec(
        frame,
        names=feature_names,
        config=config,
        labels=list(LABELS),
        truth=truth_cols,
        source=source,
        n_censored=int(censored.sum()),
        counts=counts,
        extra={"end_date": pd.to_datetime(end_day, unit="D").date().isoformat()},
    )
    return FeatureTable(frame=frame, spec=spec, rejects=checked.rejects)


def build_scoring_features(
    people: pd.DataFrame,
    events: pd.DataFrame,
    programmes: pd.DataFrame | None = None,
    *,
    as_of: _dt.date,
    config: FeatureConfig,
    lookback_days: int = 365,
    validate: bool = True,
) -> FeatureTable:
    """Features for batch scoring: one row per person with a recorded DA event (as perpetrator)
    in the ``lookback_days`` up to and including ``as_of``.

    The person is assessed at the end of ``as_of``: every event dated on or before it counts and
    later ones are ignored. ``index_event_id`` and ``index_date`` name the person's latest DA
    event. No labels or truth; the same feature columns and dictionary as training with
    ``config``. Rejected input rows are in ``rejects``.
    """
    if lookback_days < 1:
        raise ValueError(f"lookback_days must be at least 1, got {lookback_days}")
    as_of_ts = pd.Timestamp(as_of).normalize()
    as_of_day = int(day_numbers(pd.Series([as_of_ts]))[0])
    if validate:
        tables = {"people": people, "events": events, "programmes": programmes}
        checked = _check(tables, as_of=None, names={})
    else:
        checked = _Checked(people, events, programmes, empty_rejects(), {})
    known = day_numbers(checked.events["date"]) <= as_of_day
    # no copy of a million people's events when none is after the scoring date
    ev = checked.events if known.all() else checked.events.loc[known]
    prog = checked.programmes
    if prog is not None:
        prog = prog.loc[day_numbers(prog["referral_date"]) <= as_of_day].copy()
        late = prog["completion_date"].notna() & (
            pd.to_datetime(prog["completion_date"]) > as_of_ts
        )
        # a completion after the scoring date is not known yet
        prog.loc[late, "completed"] = False
        prog.loc[late, "completion_date"] = pd.NaT
    h = History(checked.people, ev, prog, config=config)
    m = h.latest_moments(as_of_day, lookback_days)
    # people in id order before any column is built: the wide frame is never sorted or copied
    m = _take(m, _by_person_id(h, m))
    frame, feature_names = _frame(h, m, checked.people, config=config, with_labels=False)
    order = [*KEYS, *feature_names, *AUDIT]
    order += [c for c in frame.columns if c not in order]
    if list(frame.columns) != order:
        frame = frame.loc[:, order]
    if not frame["person_id"].is_monotonic_increasing:  # pragma: no cover - sorted above
        frame = frame.sort_values("person_id", kind="stable")
    frame = frame.reset_index(drop=True)
    counts = {**checked.counts, "assessed": len(frame)}
    spec = _spec(
        frame,
        names=feature_names,
        config=config,
        labels=[],
        truth=[],
        source="scoring",
        n_censored=0,
        counts=counts,
        extra={"as_of": as_of_ts.date().isoformat(), "lookback_days": int(lookback_days)},
    )
    return FeatureTable(frame=frame, spec=spec, rejects=checked.rejects)


# -- worlds --------------------------------------------------------------------------------------
def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    # dates as datetime64, not Python date objects: 10x faster to check and order
    return pq.read_table(path).to_pandas(date_as_object=False)


def _drop_partition_copies(people: pd.DataFrame, part: np.ndarray) -> pd.DataFrame:
    """A partitioned world repeats the people row of everyone its partition's events name (a
    victim in several partitions, say): keep one copy of each. Only rows repeating a row of
    another partition are dropped, so a duplicate within a file is still the contracts' to
    reject, as in a single-file world."""
    if len(people) == 0:
        return people
    key = pd.util.hash_pandas_object(people, index=False).to_numpy()
    pairs = pd.DataFrame({"key": key, "part": part})
    copy_elsewhere = pairs["key"].duplicated(keep="first").to_numpy()
    copy_within = pairs.duplicated(keep="first").to_numpy()
    # the first row of a (key, partition) pair repeating an earlier partition's row is a copy
    drop = copy_elsewhere & ~copy_within
    return people.loc[~drop].reset_index(drop=True)


def read_world(path: str | Path) -> dict[str, Any]:
    """The tables of a world folder in either layout and its end date (``manifest.json``).

    A manifest that lists the world's files (every generated world) is checked first: each file
    must match its SHA-256, or the error names the file that does not. A partitioned world
    (``riskmodel.data.world_layout``) is read whole, its partitions concatenated in order and
    the copies of people rows that several partitions carry kept once: for worlds that fit in
    memory (scoring reads a partitioned world one partition at a time instead).
    """
    from riskmodel.data import iter_world_parts, world_layout

    path = Path(path)
    try:
        layout = world_layout(path)
    except FileNotFoundError:
        raise FileNotFoundError(ERR_WORLD_MISSING.format(path=path)) from None
    if layout == "single" and not (
        (path / "people.parquet").exists() and (path / "events.parquet").exists()
    ):
        raise FileNotFoundError(ERR_WORLD_MISSING.format(path=path))
    manifest: dict[str, Any] = {}
    if (path / "manifest.json").exists():
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        if "files" in manifest:
            verify_world(path)
    out: dict[str, Any] = {"names": {}, "end_date": manifest.get("end_date")}
    tables = ("people", "events", "programmes", "truth")
    if layout == "single":
        for table in tables:
            f = path / f"{table}.parquet"
            out[table] = _read_parquet(f) if f.exists() else None
            out["names"][table] = str(f)
        return out
    frames: dict[str, list[pd.DataFrame]] = {t: [] for t in tables}
    people_part: list[np.ndarray] = []
    for k, part in enumerate(iter_world_parts(path, tables)):
        for t in tables:
            if part[t] is not None:
                frames[t].append(part[t])
                if t == "people":
                    people_part.append(np.full(len(part[t]), k))
    for t in tables:
        out[t] = pd.concat(frames[t], ignore_index=True) if frames[t] else None
        out["names"][t] = str(path / t)
    if out["people"] is not None:
        out["people"] = _drop_partition_copies(out["people"], np.concatenate(people_part))
    return out


def build_cohort(
    world: Any,
    config: FeatureConfig | None = None,
    *,
    progress: Progress = None,
    validate: bool = True,
) -> FeatureTable:
    """The training feature table of a synthetic world.

    ``world`` is a world folder (``people/events/programmes/truth.parquet`` and
    ``manifest.json`` with ``end_date``, or the same tables partitioned: :func:`read_world`) or
    any object with ``.people``, ``.events``,
    ``.programmes``, ``.truth`` and ``.end_date``.
    """
    config = config or FeatureConfig()
    if isinstance(world, str | Path):
        w = read_world(world)
    elif all(hasattr(world, a) for a in ("people", "events")):
        w = {
            "people": world.people,
            "events": world.events,
            "programmes": getattr(world, "programmes", None),
            "truth": getattr(world, "truth", None),
            "end_date": getattr(world, "end_date", None),
            "names": {},
        }
    else:
        raise ValueError(ERR_WORLD_OBJECT.format(kind=type(world).__name__))
    end_date, names = w.pop("end_date"), w.pop("names")
    # the dict is the only reference to a world read here: the raw tables are freed as they are
    # checked (a Kent-sized world's raw tables take about half a gigabyte)
    return _build(
        w,
        config=config,
        end_date=end_date,
        source="synthetic",
        validate=validate,
        names=names,
        progress=progress,
    )


__all__ = [
    "DEFINITIONS",
    "STEPS",
    "build_cohort",
    "build_features",
    "build_scoring_features",
    "read_world",
]

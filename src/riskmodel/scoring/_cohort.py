"""Reading a scoring cohort: who is assessed as of the scoring date, and who is rejected and why.

Three kinds of input, all ending in one row per person with the model's features:

- a **prepared feature table** (``features.parquet``/``.csv``, a folder holding one, or a frame):
  checked here row by row;
- a **world folder** or **people + events (+ programmes) files**: validated by the data contracts
  (``riskmodel.data.validate_people`` / ``validate_events``), then features are built as of the
  scoring date with the configuration the model was trained with
  (``riskmodel.features.build_scoring_features``).

Whole-file problems (missing file or columns, empty table) raise a :class:`ValueError` naming the
file; row problems become rejects (file, row, person_id, column, reason). A person with any
rejected row is rejected as a whole, never scored on a partial record, and counted in
``counts.rejected``. The identity ``in = listed + not_listed + excluded_high_harm + rejected``
holds by construction and is asserted by the scorer.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data import read_table
from riskmodel.provenance import canonical_json, frame_fingerprint, sha256_bytes, sha256_file
from riskmodel.schema import AUDIT_ATTRIBUTES, REJECT_COLUMNS
from riskmodel.schema import KEYS as KEY_COLUMNS

#: a scoring rejects file: the contract's columns, then the person
COHORT_REJECT_COLUMNS = (*REJECT_COLUMNS, "person_id")

ERR_COHORT_MISSING = (
    "{path}: cohort not found (give a features file, a world folder, or people and events files)"
)
ERR_COHORT_DIR = (
    "{path}: not a cohort folder: expected features.parquet, or people.parquet and "
    "events.parquet (a world folder)"
)
ERR_EMPTY = "{file}: the cohort file has no rows; refusing to produce an empty list"
ERR_COLUMNS = "{file}: missing column(s) {cols}; the model needs {need}"
ERR_UNREADABLE = "{file}: cannot be read as a table: {error}"
ERR_MODEL_FEATURES = (
    "cannot build this model's features from people and events: {error}. The model was not "
    "trained on features built by riskmodel.features; score a prepared features file made the "
    "same way as its training features instead"
)

REASON_NO_ID = "person_id is missing"
REASON_NOT_NUMBER = "not a number"
REASON_NOT_FINITE = "not a finite number"
REASON_BAD_DATE = "not a date"
REASON_FUTURE = "the person's only index event is after the scoring date"
REASON_NO_DATE = "index_date is missing"
REASON_AFTER_TODAY = "the date is after today: it cannot have been recorded yet"
REASON_NEGATIVE = "a count cannot be negative"
#: dictionary units whose values are never below zero
NON_NEGATIVE_UNITS = ("count", "days", "years")
REASON_DUPLICATE = "duplicate row: the same {key} appears more than once"
REASON_PERSON_HAS_BAD_ROW = "another row of this person was rejected"
REASON_EVENT_REJECTED = "one or more of this person's event rows were rejected"


@dataclass
class Cohort:
    """One row per person to score, plus what was rejected and where it came from.

    Attributes
    ----------
    frame : person_id, the model's features, audit attributes (when given), index keys
    rejects : one row per rejected record (``file, row, person_id, column, reason``)
    n_rejected : people (or person records without an id) rejected
    n_no_recent_event : valid people with no recorded DA event in the lookback window
    as_of : the scoring date
    kind : ``features``, ``frame``, ``world`` or ``people_events``
    files : label -> path of every file read
    file_hashes : label -> SHA-256 of that file
    fingerprint : SHA-256 over ``file_hashes`` (or of the frame's content)
    drift_sample : feature rows of a fixed sample of the people, when ``frame`` holds no
        features (a world scored partition by partition); the drift check reads these
    """

    frame: pd.DataFrame
    rejects: pd.DataFrame
    n_rejected: int
    n_no_recent_event: int
    as_of: _dt.date
    kind: str
    files: dict[str, str] = field(default_factory=dict)
    file_hashes: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    notes: list[str] = field(default_factory=list)
    drift_sample: pd.DataFrame | None = None

    @property
    def n_in(self) -> int:
        return len(self.frame) + self.n_rejected


def _fingerprint(hashes: dict[str, str]) -> str:
    return sha256_bytes(canonical_json(hashes).encode())


#: read as text from CSV: pseudonymous ids are often zero-padded digits ("000123"), and reading
#: them as numbers would hand the coordinator different ids from the force's own
ID_COLUMNS = ("person_id", "index_event_id", "event_id", "perpetrator_id", "victim_id")


def _read(path: Path) -> pd.DataFrame:
    """A CSV or Parquet table by the data package's one reader; CSV ids as text, ``#`` lines only
    at the top are comments. Any failure names the file (and, for bad text, row and column)."""
    from riskmodel.data import not_utf8_message

    if not path.exists():
        raise FileNotFoundError(ERR_COHORT_MISSING.format(path=path))
    if path.suffix.lower() not in {".parquet", ".pq", ".csv", ".txt"}:
        raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .csv or .parquet")
    try:
        return read_table(path, dtype=dict.fromkeys(ID_COLUMNS, "str"))
    except UnicodeDecodeError as exc:
        raise ValueError(
            not_utf8_message(path) or ERR_UNREADABLE.format(file=path, error=exc)
        ) from None
    except Exception as exc:  # parser / pyarrow errors: name the file
        raise ValueError(ERR_UNREADABLE.format(file=path, error=exc)) from None


def _rejects(rows: list[pd.DataFrame]) -> pd.DataFrame:
    rows = [r for r in rows if len(r)]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COHORT_REJECT_COLUMNS})
    out = pd.concat(rows, ignore_index=True)
    out["row"] = pd.array(out["row"], dtype="Int64")
    return out.reindex(columns=list(COHORT_REJECT_COLUMNS))


def _today() -> _dt.date:
    return _dt.datetime.now(_dt.UTC).date()


# -- prepared feature tables ---------------------------------------------------------------------
def cohort_from_features(
    df: pd.DataFrame,
    *,
    source: str,
    feature_names: list[str],
    categorical: set[str],
    as_of: _dt.date | None,
    lookback_days: int,
    non_negative: set[str] | frozenset[str] = frozenset(),
) -> tuple[pd.DataFrame, pd.DataFrame, int, int, _dt.date]:
    """Check a prepared feature table and reduce it to one row per person as of ``as_of``.

    Returns ``(frame, rejects, n_rejected, n_no_recent_event, as_of)``. A person's latest index
    event on or before the scoring date is the one scored; earlier ones are superseded, later
    ones not yet known. Rejected: rows without an id, with non-numeric or infinite values in a
    numeric feature, with an unreadable index date, duplicated rows, and people whose every index
    event is after the scoring date, with a missing index date or one after today (the scoring
    date is never taken from such a row), and with a negative value in a feature named in
    ``non_negative``. Any rejected row rejects its whole person.
    """
    if len(df) == 0:
        raise ValueError(ERR_EMPTY.format(file=source))
    need = ["person_id", *feature_names]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(
            ERR_COLUMNS.format(file=source, cols=", ".join(missing), need=", ".join(need))
        )
    keep = [c for c in (*KEY_COLUMNS, *feature_names, *AUDIT_ATTRIBUTES) if c in df.columns]
    df = df.loc[:, list(dict.fromkeys(keep))].reset_index(drop=True)
    row_no = np.arange(1, len(df) + 1)
    pid = df["person_id"].astype("string").str.strip()
    pid = pid.mask(pid == "")
    df["person_id"] = pid
    found: list[pd.DataFrame] = []

    def flag(mask: np.ndarray, column: str, reason: str, values: Any = "") -> None:
        if mask.any():
            found.append(
                pd.DataFrame(
                    {
                        "file": source,
                        "row": row_no[mask],
                        "person_id": pid.to_numpy(dtype=object, na_value=None)[mask],
                        "column": column,
                        "value": values,
                        "reason": reason,
                    }
                )
            )

    flag(pid.isna().to_numpy(), "person_id", REASON_NO_ID)

    for col in feature_names:
        if col in categorical:
            continue
        s = df[col]
        converted = False
        if s.dtype == bool:
            continue
        if pd.api.types.is_numeric_dtype(s):
            num = s
        else:
            converted = True
            text = s.astype("string").str.strip()
            lowered = text.str.lower()
            text = text.mask(
                lowered.isin(["true", "false"]), lowered.map({"true": "1", "false": "0"})
            )
            num = pd.to_numeric(text, errors="coerce")
            bad = (text.notna() & (text != "") & num.isna()).to_numpy()
            flag(bad, col, REASON_NOT_NUMBER, s[bad].astype("string").to_numpy(dtype=object))
        arr = num.to_numpy(dtype=float, na_value=np.nan)
        inf = np.isinf(arr)
        if inf.any():
            flag(inf, col, REASON_NOT_FINITE, arr[inf].astype(str))
            arr = np.where(inf, np.nan, arr)
            converted = True
        if col in non_negative:
            neg = arr < 0
            flag(neg, col, REASON_NEGATIVE, arr[neg].astype(str))
            if neg.any():
                arr = np.where(neg, np.nan, arr)
                converted = True
        if converted:
            df[col] = arr

    dates = None
    today = pd.Timestamp(_today())
    limit = max(pd.Timestamp(as_of), today) if as_of is not None else today
    if "index_date" in df.columns:
        raw = df["index_date"]
        if pd.api.types.is_datetime64_any_dtype(raw):
            dates = pd.Series(raw).dt.tz_localize(None) if raw.dt.tz is not None else raw
        else:  # ISO 8601 throughout: "2024-01-01" and "2024-01-01T00:00:00" are the same day
            text = raw.astype("string").str.strip()
            dates = pd.to_datetime(text.mask(text == ""), errors="coerce", format="ISO8601")
        dates = pd.Series(dates, index=df.index).dt.normalize()
        present = raw.notna().to_numpy() & (raw.astype("string").str.strip() != "").fillna(False)
        present = np.asarray(present, dtype=bool)
        bad = present & dates.isna().to_numpy()
        flag(bad, "index_date", REASON_BAD_DATE, raw[bad].astype("string").to_numpy(dtype=object))
        flag(~present & pid.notna().to_numpy(), "index_date", REASON_NO_DATE)
        late = (dates > limit).fillna(False).to_numpy(dtype=bool)
        flag(late, "index_date", REASON_AFTER_TODAY, dates[late].dt.date.astype(str).to_numpy())
        dates = dates.mask(late)
        df["index_date"] = dates

    key = ["person_id", "index_event_id"] if "index_event_id" in df.columns else ["person_id"]
    dup = (df.duplicated(subset=key, keep=False) & pid.notna()).to_numpy()
    if dup.any():
        sizes = df.loc[dup].groupby(key, dropna=False)["person_id"].transform("size")
        what = " and ".join(key)
        flag(
            dup,
            ",".join(key),
            REASON_DUPLICATE.format(key=what),
            [f"{int(n)} copies" for n in sizes.to_numpy()],
        )

    if as_of is None:
        latest_date = dates.max() if dates is not None else pd.NaT
        as_of = latest_date.date() if pd.notna(latest_date) else _today()
    as_of_ts = pd.Timestamp(as_of)
    after = np.zeros(len(df), dtype=bool)
    if dates is not None:
        after = (dates > as_of_ts).to_numpy()
        # someone whose only index events are after the scoring date cannot be scored as of it;
        # a later index event of someone with an earlier one is simply not known yet
        has_known = (
            pd.Series(~after).groupby(pid.to_numpy(), dropna=False).transform("any").to_numpy()
        )
        only_future = after & ~has_known
        flag(
            only_future,
            "index_date",
            REASON_FUTURE,
            [f"{d.date()} (scoring date {as_of})" for d in dates[only_future]],
        )

    rejects = _rejects(found)
    bad_rows = np.zeros(len(df), dtype=bool)
    bad_rows[rejects["row"].to_numpy(dtype=int) - 1] = True
    bad_people = set(rejects["person_id"].dropna())
    no_id = pid.isna().to_numpy()
    person_bad = pid.isin(bad_people).fillna(False).to_numpy(dtype=bool) | no_id
    # rows of a rejected person that were fine themselves are rejected too, saying why
    collateral = person_bad & ~bad_rows
    if collateral.any():
        first = rejects.dropna(subset=["person_id"]).drop_duplicates("person_id")
        first_reason = dict(zip(first["person_id"], first["reason"], strict=True))
        rejects = _rejects(
            [
                rejects,
                pd.DataFrame(
                    {
                        "file": source,
                        "row": row_no[collateral],
                        "person_id": pid[collateral].to_numpy(dtype=object),
                        "column": "",
                        "value": [first_reason[p] for p in pid[collateral]],
                        "reason": REASON_PERSON_HAS_BAD_ROW,
                    }
                ),
            ]
        )
    rejects = rejects.sort_values("row", kind="stable").reset_index(drop=True)
    n_rejected = len(bad_people) + int(no_id.sum())

    usable = df.loc[~person_bad & ~after]
    order = [c for c in ("person_id", "index_date", "index_event_id") if c in usable.columns]
    latest = usable.sort_values(order, kind="stable").drop_duplicates("person_id", keep="last")
    n_people_valid = len(latest)
    if dates is not None:
        start = as_of_ts - pd.Timedelta(days=lookback_days)
        latest = latest.loc[(latest["index_date"] > start).to_numpy()]
    n_no_recent = n_people_valid - len(latest)
    frame = latest.sort_values("person_id", kind="stable").reset_index(drop=True)
    return frame, rejects, n_rejected, n_no_recent, as_of


# -- dispatch ------------------------------------------------------------------------------------
def _world_files(path: Path) -> dict[str, Path] | None:
    people, events = path / "people.parquet", path / "events.parquet"
    if people.exists() and events.exists():
        files = {"people": people, "events": events}
        if (path / "programmes.parquet").exists():
            files["programmes"] = path / "programmes.parquet"
        return files
    return None


def _features_file(path: Path) -> Path | None:
    for name in ("features.parquet", "features.csv"):
        if (path / name).exists():
            return path / name
    return None


def read_cohort(
    cohort: str | Path | dict | pd.DataFrame,
    *,
    bundle: Any,
    as_of: _dt.date | None,
    lookback_days: int,
) -> Cohort:
    """Read any supported cohort input into a :class:`Cohort` (see the module docstring).

    ``cohort`` may be a path (features file, features folder, world folder), a dict with
    ``features`` or ``people`` + ``events`` (+ ``programmes``), or a prepared feature frame.
    """
    categorical = set(getattr(bundle, "categorical_levels", {}) or {})
    feature_names = list(bundle.feature_names)
    dictionary = (getattr(bundle, "feature_spec", {}) or {}).get("dictionary") or {}
    non_negative = {
        name
        for name, info in dictionary.items()
        if isinstance(info, dict) and info.get("unit") in NON_NEGATIVE_UNITS
    }

    def from_features(df: pd.DataFrame, source: str, kind: str, hashes: dict[str, str], files):
        frame, rejects, n_rej, n_old, used_as_of = cohort_from_features(
            df,
            source=source,
            feature_names=feature_names,
            categorical=categorical,
            as_of=as_of,
            lookback_days=lookback_days,
            non_negative=non_negative,
        )
        fp = _fingerprint(hashes) if hashes else frame_fingerprint(df)
        return Cohort(frame, rejects, n_rej, n_old, used_as_of, kind, files, hashes, fp)

    if isinstance(cohort, pd.DataFrame):
        return from_features(cohort, "<frame>", "frame", {}, {})

    if isinstance(cohort, dict):
        spec = {k: Path(v) for k, v in cohort.items() if v is not None}
        unknown = set(spec) - {"features", "people", "events", "programmes"}
        if unknown:
            raise ValueError(
                f"cohort: unknown key(s) {sorted(unknown)}; use features, or people + events (+ programmes)"
            )
        if "features" in spec:
            if set(spec) != {"features"}:
                raise ValueError("cohort: give either features or people + events, not both")
            return read_cohort(
                spec["features"], bundle=bundle, as_of=as_of, lookback_days=lookback_days
            )
        if not {"people", "events"} <= set(spec):
            raise ValueError("cohort: people and events files are both required")
        files = spec
    else:
        path = Path(cohort)
        if not path.exists():
            raise FileNotFoundError(ERR_COHORT_MISSING.format(path=path))
        if path.is_dir():
            feat = _features_file(path)
            world = _world_files(path)
            if world is not None:
                files = world
            elif feat is not None:
                path = feat
            else:
                raise ValueError(ERR_COHORT_DIR.format(path=path))
        if path.is_file():
            hashes = {"features": sha256_file(path)}
            return from_features(
                _read(path), str(path), "features", hashes, {"features": str(path)}
            )

    for p in files.values():
        if not p.exists():
            raise FileNotFoundError(ERR_COHORT_MISSING.format(path=p))
    for label in ("people", "events"):
        if files[label].is_dir():
            raise ValueError(f"{files[label]}: expected a {label} file, got a folder")
    return _cohort_from_people_events(
        files, bundle=bundle, as_of=as_of, lookback_days=lookback_days
    )


# -- people + events through the contracts -------------------------------------------------------
def _read_contract_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        try:
            # dates as datetime64, not Python date objects: much faster to check and order
            return pq.read_table(path).to_pandas(date_as_object=False)
        except Exception as exc:
            raise ValueError(ERR_UNREADABLE.format(file=path, error=exc)) from None
    return _read(path)


def _release_arrow_memory() -> None:
    """Hand freed Arrow buffers back to the system: Arrow's allocator keeps them otherwise, and
    a million-person cohort's raw tables are worth a gigabyte."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _ids(values: pd.Series) -> pd.Series:
    """Ids as the contracts type them: text, stripped, whole-number floats without '.0'."""
    if pd.api.types.is_float_dtype(values):
        whole = values.notna() & (values == np.floor(values.fillna(0)))
        text = values.astype("string").mask(
            whole, values.where(whole).astype("Int64").astype("string")
        )
    else:
        text = values.astype("string")
    text = text.str.strip()
    return text.mask(text == "")


def _contract_rejects(rejects: pd.DataFrame) -> pd.DataFrame:
    """The contract's rejects in this module's shape; ``person_id`` is the row's person (the
    perpetrator, for events)."""
    if len(rejects) == 0:
        return _rejects([])
    who = next((c for c in ("person_id", "perpetrator_id") if c in rejects.columns), None)
    pid = _ids(rejects[who]) if who else pd.Series([None] * len(rejects), dtype="string")
    return pd.DataFrame(
        {
            "file": rejects["file"].astype("string"),
            "row": rejects["row"].to_numpy(),
            "person_id": pid.to_numpy(dtype=object, na_value=None),
            "column": rejects["column"].astype("string").fillna(""),
            "value": rejects["value"].astype("string").fillna(""),
            "reason": rejects["reason"].astype("string"),
        }
    )


@dataclass
class CohortPart:
    """One partition's share of a people + events cohort (the whole cohort when unpartitioned).

    Attributes
    ----------
    frame : features as of the scoring date, one row per scored person (sorted by person_id)
    rejects : rejected rows of this partition's files
    kept_ids : valid people kept for scoring (their own history complete)
    valid_ids : every valid person row's id (kept or with a rejected history row)
    rejected_ids : ids of rejected people rows
    history_bad : valid people with a rejected row in their own history
    n_no_id : rejected people rows without an id
    seconds : wall seconds of ``contracts`` and ``features``

    A partition holds one people row for every person its events name, so a victim may have a
    row in several partitions: the counts of a cohort are taken over the union of these id sets
    (:func:`combine_parts`), never by adding partitions' counts.
    """

    frame: pd.DataFrame
    rejects: pd.DataFrame
    kept_ids: Any
    valid_ids: Any
    rejected_ids: Any
    history_bad: np.ndarray
    n_no_id: int
    seconds: dict[str, float] = field(default_factory=dict)


def model_feature_config(bundle: Any) -> Any:
    """The feature configuration the model was trained with (refused if it is not one)."""
    from riskmodel.config import ConfigError, validate_mapping
    from riskmodel.features import FeatureConfig

    try:
        return validate_mapping(
            (getattr(bundle, "feature_spec", {}) or {}).get("config") or {},
            FeatureConfig,
            source="the model's feature configuration",
        )
    except ConfigError as exc:
        raise ValueError(ERR_MODEL_FEATURES.format(error=exc)) from None


def contract_limit(as_of: _dt.date | None) -> _dt.date:
    """Dates after max(scoring date, today) fail the contract as future dates (rejected rows);
    those after the scoring date but not after today are simply not known yet on it."""
    return max(as_of, _today()) if as_of is not None else _today()


def _arrow_ids(values: Any) -> Any:
    """Ids as one Arrow text array: no Python object per person (a million of them would cost
    more than the features)."""
    import pyarrow as pa

    if isinstance(values, pa.Array | pa.ChunkedArray):
        arr = values
    else:
        s = values if isinstance(values, pd.Series) else pd.Series(values, dtype="str")
        arr = pa.array(s.astype("str").array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string()).drop_null()


def cohort_part(
    raw: dict[str, pd.DataFrame | None],
    *,
    src: dict[str, str],
    as_of: _dt.date | None,
    config: Any,
    lookback_days: int,
) -> tuple[CohortPart, _dt.date]:
    """Validate one partition's people, events (and programmes) by the data contracts, reject
    every person whose own history has a rejected row, and build the features as of the
    scoring date; returns the part and the scoring date (the latest valid event date when
    ``as_of`` is ``None``). ``raw`` is emptied as it is read, to keep the peak memory down.

    The same function serves one table and each partition of a partitioned world: a person's
    whole history as perpetrator lives in one partition, so each person's features (and
    rejection) are decided inside one call.
    """
    import time

    from riskmodel.data import validate_events, validate_people, validate_programmes
    from riskmodel.features import build_scoring_features

    t0 = time.perf_counter()
    limit = contract_limit(as_of)
    people = raw.pop("people")
    vp = validate_people(people, source=src["people"], as_of=limit)
    del people
    events = raw.pop("events")
    ve = validate_events(events, people=vp.valid, source=src["events"], as_of=limit)
    del events
    vg = None
    programmes = raw.pop("programmes", None)
    if programmes is not None and len(programmes):
        vg = validate_programmes(programmes, people=vp.valid, source=src["programmes"], as_of=limit)
    del programmes
    _release_arrow_memory()
    events = ve.valid
    if as_of is None:
        as_of = pd.Timestamp(events["date"].max()).date() if len(events) else _today()

    valid_ids = vp.valid["person_id"].astype("str")
    rej_people = _contract_rejects(vp.rejects)
    # rows dated after max(scoring date, today) failed the contract as future dates: a date
    # after today cannot have been recorded yet, so they are rejects like any other bad row
    rej_events, rej_prog = ve.rejects, (vg.rejects if vg is not None else pd.DataFrame())
    # a valid person whose own history (events as perpetrator, programmes) has a rejected row
    # would be scored on a partial history: reject them as a whole. Features describe the
    # perpetrator only, so a victim named on a rejected row is unaffected. (An exact copy of a
    # row is rejected but its first copy kept: that history is complete.)
    named: list[pd.Series] = []
    for frame, col in ((rej_events, "perpetrator_id"), (rej_prog, "person_id")):
        if len(frame) == 0 or col not in frame.columns:
            continue
        partial = frame.loc[(frame["rule"].astype("string") != "duplicate_row").fillna(True)]
        named.append(_ids(partial[col]).dropna())
    history_bad = np.zeros(0, dtype=object)
    if named:
        # only the (few) named ids are matched against the valid people: no Python set of a
        # million ids
        cand = pd.unique(pd.concat(named).astype("str").to_numpy(dtype=object))
        history_bad = np.sort(cand[pd.Index(cand).isin(valid_ids)].astype(object))
    rejects = _rejects(
        [
            rej_people,
            _contract_rejects(rej_events),
            _contract_rejects(rej_prog),
            pd.DataFrame(
                {
                    "file": src["people"],
                    "row": pd.array([pd.NA] * len(history_bad), dtype="Int64"),
                    "person_id": history_bad,
                    "column": "",
                    "value": "",
                    "reason": REASON_EVENT_REJECTED,
                }
            ),
        ]
    )
    bad_people_rows = rej_people["person_id"]
    n_no_id = int(bad_people_rows.isna().sum())
    rejected_ids = _arrow_ids(bad_people_rows.dropna())

    keep_people, keep_events = vp.valid, events
    keep_prog = vg.valid if vg is not None else None
    if len(history_bad):
        keep_people = keep_people.loc[~keep_people["person_id"].astype(str).isin(history_bad)]
        keep_events = keep_events.loc[~keep_events["perpetrator_id"].astype(str).isin(history_bad)]
        if keep_prog is not None:
            keep_prog = keep_prog.loc[~keep_prog["person_id"].astype(str).isin(history_bad)]
    kept_ids = _arrow_ids(keep_people["person_id"])
    valid_ids = _arrow_ids(valid_ids)
    del vp, ve, vg, events
    _release_arrow_memory()
    t1 = time.perf_counter()
    table = build_scoring_features(
        keep_people,
        keep_events,
        keep_prog,
        as_of=as_of,
        config=config,
        lookback_days=lookback_days,
        validate=False,
    )
    del keep_people, keep_events, keep_prog
    frame = table.frame
    if not frame["person_id"].is_monotonic_increasing:  # the builder sorts by id already
        frame = frame.sort_values("person_id", kind="stable").reset_index(drop=True)
    del table
    part = CohortPart(
        frame=frame,
        rejects=rejects,
        kept_ids=kept_ids,
        valid_ids=valid_ids,
        rejected_ids=rejected_ids,
        history_bad=history_bad,
        n_no_id=n_no_id,
        seconds={"contracts": t1 - t0, "features": time.perf_counter() - t1},
    )
    return part, as_of


def _n_distinct(arrays: list[Any], minus: list[Any] = ()) -> int:
    """People in the union of ``arrays`` and not in the union of ``minus`` (Arrow hash sets)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def union(xs: list[Any]) -> pa.Array:
        chunks = [_arrow_ids(x) for x in xs if len(x)]
        if not chunks:
            return pa.array([], pa.large_string())
        return pc.unique(pa.concat_arrays(chunks))

    u = union(list(arrays))
    m = union(list(minus))
    if len(m) and len(u):
        u = u.filter(pc.invert(pc.is_in(u, value_set=m)))
    return len(u)


def combine_counts(parts: list[Any]) -> tuple[int, int]:
    """``(n_rejected, n_kept)`` over partitions, each person counted once.

    Rejected: people whose row was rejected and who have no valid row (an exact duplicate keeps
    its first copy, so that person is still scored), rows without an id, and people with a
    rejected row in their own history. Kept: every other valid person.
    """
    bad = [p.history_bad for p in parts]
    n_rejected_people = _n_distinct([p.rejected_ids for p in parts], [p.valid_ids for p in parts])
    n_history_bad = _n_distinct(bad)
    n_no_id = sum(p.n_no_id for p in parts)
    n_kept = _n_distinct([p.kept_ids for p in parts], bad)
    return n_rejected_people + n_no_id + n_history_bad, n_kept


def world_source(path: Path) -> tuple[dict[str, str], dict[str, str], int] | None:
    """``(files, file_hashes, partitions)`` of a world folder in either layout, else ``None``.

    A partitioned world's files are named by their path relative to the world folder."""
    from riskmodel.data import partition_count, world_layout

    try:
        layout = world_layout(path)
    except FileNotFoundError:
        return None
    if layout == "single":
        single = _world_files(path)
        if single is None:
            return None
        files = {k: str(v) for k, v in single.items()}
        hashes = {label: sha256_file(Path(p)) for label, p in sorted(files.items())}
        return files, hashes, 1
    from riskmodel.data import part_name

    k = partition_count(path)
    files = {t: str(path / t) for t in ("people", "events", "programmes") if (path / t).is_dir()}
    hashes = {}
    for t in sorted(files):
        for i in range(k):
            f = path / part_name(t, i)
            if f.exists():
                hashes[part_name(t, i)] = sha256_file(f)
    return files, hashes, k


def manifest_end_date(path: Path) -> _dt.date | None:
    manifest = path / "manifest.json"
    if manifest.exists():
        import json

        end = json.loads(manifest.read_text(encoding="utf-8")).get("end_date")
        return _dt.date.fromisoformat(str(end)[:10]) if end else None
    return None


def _cohort_from_people_events(
    files: dict[str, Path], *, bundle: Any, as_of: _dt.date | None, lookback_days: int
) -> Cohort:
    """Validate people, events (and programmes) by the data contracts, reject every person whose
    record has a rejected row, and build the features as of the scoring date with the feature
    configuration the model was trained with (:func:`cohort_part` on the whole table)."""
    hashes = {label: sha256_file(p) for label, p in sorted(files.items())}
    raw = {label: _read_contract_table(p) for label, p in files.items()}
    world = (
        files["people"].name == "people.parquet"
        and files["people"].parent == files["events"].parent
    )
    if as_of is None and world:
        as_of = manifest_end_date(files["people"].parent)
    config = model_feature_config(bundle)
    src = {k: str(v) for k, v in files.items()}
    part, as_of = cohort_part(raw, src=src, as_of=as_of, config=config, lookback_days=lookback_days)
    return cohort_from_parts(
        [part], as_of=as_of, kind="world" if world else "people_events", files=src, hashes=hashes
    )


def cohort_from_parts(
    parts: list[CohortPart],
    *,
    as_of: _dt.date,
    kind: str,
    files: dict[str, str],
    hashes: dict[str, str],
    frame: pd.DataFrame | None = None,
) -> Cohort:
    """One :class:`Cohort` from its partitions (features concatenated unless ``frame`` is given:
    the distributed path passes the scored people only)."""
    n_rejected, n_kept = combine_counts(parts)
    if frame is None:
        frames = [p.frame for p in parts]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        frame = frame.sort_values("person_id", kind="stable").reset_index(drop=True)
    rejects = _rejects([p.rejects for p in parts])
    return Cohort(
        frame=frame,
        rejects=rejects.sort_values(["file", "row"], kind="stable").reset_index(drop=True),
        n_rejected=n_rejected,
        n_no_recent_event=n_kept - len(frame),
        as_of=as_of,
        kind=kind,
        files=files,
        file_hashes=hashes,
        fingerprint=_fingerprint(hashes),
    )

"""Data contracts for people, events and programmes: typed, checked, every reject explained.

A validator takes a raw table (as read from a CSV or Parquet file), converts each contract column
to its type, and checks the rules of docs/CONTRACTS.md row by row. It returns a
:class:`ContractResult`: the valid rows (typed, contract columns only, in contract order), the
rejected rows (one line per rejected data row, naming every rule it broke, with the original
values), and a summary. ``in = valid + rejected`` always holds.

Whole-file problems that no row-level reject can describe raise :class:`ContractError`, whose
message names the file, the row and the column and says what to do: an empty file, missing
columns, a column none of whose values can be read as its type or is an allowed category.

Rules (the ``rule`` column of the rejects):

========================  ======================================================================
``missing_value``          a required value is empty
``bad_type``               a value cannot be read as the column's type (date, bool, number)
``unknown_category``       a value outside the allowed categories
``duplicate_row``          an exact copy of an earlier row (the first copy is kept)
``duplicate_id``           the same id on rows that differ (every copy is rejected: which is right?)
``future_date``            a date after the extract's as-of date (or today)
``implausible_date``       a birth date before 1900-01-01
``before_birth``           an event before the birth of its perpetrator or victim
``self_victim``            perpetrator and victim are the same person
``unknown_person``         an id that is not a (valid) row of the people table
``inconsistent_da``        ``is_da`` disagrees with the offence type
``negative_harm``          ``harm_days`` below zero
``date_order``             a programme start or completion before its referral
``inconsistent_completion`` ``completed`` disagrees with ``completion_date``
========================  ======================================================================
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.data._schema import (
    EVENT_COLUMNS,
    OFFENCE_TYPES,
    PEOPLE_COLUMNS,
    PROGRAMME_COLUMNS,
    Column,
)
from riskmodel.schema import REJECT_COLUMNS

ERR_EMPTY = (
    "{file}: the {table} table has no data rows; expected at least one row "
    "(check the export and the file path)"
)
ERR_MISSING_COLUMNS = (
    "{file}: header row: missing {table} column(s) {cols} (found: {found}); rename them in the "
    "extract or map them with `columns:` in the mapping config"
)
ERR_UNREADABLE_COLUMN = (
    "{file}: data row {row}, column {column!r}: {value!r} cannot be read as {kind}, and neither "
    "can any other value of the column; fix the column's type in the extract{hint}"
)
ERR_NO_ALLOWED_VALUE = (
    "{file}: data row {row}, column {column!r}: {value!r} is not an allowed value, and no other "
    "value of the column is either (allowed: {allowed}); map the extract's codes with `values:` "
    "in the mapping config"
)
ERR_NOT_A_TABLE = "{file}: expected a table (pandas DataFrame), got {kind}"

#: plain-words meaning of each rule, written to the ``reason`` column of the rejects
RULES: dict[str, str] = {
    "missing_value": "a required value is empty",
    "bad_type": "the value cannot be read as the column's type",
    "unknown_category": "the value is not one of the allowed categories",
    "duplicate_row": "an exact copy of an earlier row (the first copy is kept)",
    "duplicate_id": "the same id appears on rows that differ; every copy is rejected",
    "future_date": "the date is after the as-of date of the extract",
    "implausible_date": "a birth date before 1900-01-01",
    "before_birth": "the event is dated before the birth of its perpetrator or victim",
    "self_victim": "the perpetrator and the victim are the same person",
    "unknown_person": "the id is not a valid row of the people table (missing or rejected)",
    "inconsistent_da": "is_da disagrees with the offence type",
    "negative_harm": "harm_days is below zero",
    "date_order": "a programme start or completion date is before its referral date",
    "inconsistent_completion": "completed disagrees with completion_date",
}

_KIND_WORDS = {
    "id": "an id",
    "str": "text",
    "date": "a date (YYYY-MM-DD)",
    "bool": "true/false",
    "float": "a number",
    "int": "a whole number",
}
_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})
_EARLIEST_BIRTH = pd.Timestamp("1900-01-01")


class ContractError(ValueError):
    """A table that cannot be validated row by row: the message names file, row and column."""


@dataclass
class ContractResult:
    """What a validator returns.

    Attributes
    ----------
    valid : the rows that passed, typed (ids as text, dates as ``datetime64[s]``), contract
        columns only, original order
    rejects : one line per rejected data row: ``file, row`` (1-based data row), ``column``,
        ``rule``, ``value``, ``reason`` (several problems joined by ``"; "``), then the row's
        original columns
    summary : ``file, table, in, valid, rejected, by_rule, ignored_columns``
    """

    valid: pd.DataFrame
    rejects: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def n_in(self) -> int:
        return int(self.summary["in"])

    @property
    def n_rejected(self) -> int:
        return len(self.rejects)


# -- column parsing ------------------------------------------------------------------------------
def _as_text(s: pd.Series) -> pd.Series:
    """Text with nulls kept; whole-number floats (ids read from a CSV with gaps) lose their '.0'."""
    if pd.api.types.is_float_dtype(s):
        whole = s.notna() & (s == np.floor(s.fillna(0)))
        out = s.astype("string")
        out = out.mask(whole, s.where(whole).astype("Int64").astype("string"))
    else:
        out = s.astype("string")
    out = out.str.strip()
    return out.mask(out == "")


def arrow_dates(s: pd.Series) -> pd.Series | None:
    """Arrow-backed dates (the synthetic world's ``date32``) as ``datetime64[s]``, by an Arrow
    cast (pandas' own conversion iterates in Python); ``None`` for other columns."""
    if not (isinstance(s.dtype, pd.ArrowDtype) and pd.api.types.is_datetime64_any_dtype(s)):
        return None
    arr = pa.array(s.array)
    if pa.types.is_date(arr.type):
        arr = arr.cast(pa.timestamp("s"))
    values = arr.to_numpy(zero_copy_only=False).astype("datetime64[s]")
    return pd.Series(values, index=s.index, name=s.name)


def _parse_date(s: pd.Series, date_format: str | None) -> pd.Series:
    arrow = arrow_dates(s)
    if arrow is not None:
        out = arrow
    elif pd.api.types.is_datetime64_any_dtype(s):
        out = s
    else:
        text = s if s.dtype == object else _as_text(s).astype(object)
        out = pd.to_datetime(text, errors="coerce", format=date_format or "ISO8601")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.dt.normalize().astype("datetime64[s]")


def _parse_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(values as a nullable boolean, mask of unreadable non-null values)."""
    if s.dtype == bool:
        return s.astype("boolean"), pd.Series(False, index=s.index)
    text = _as_text(s).str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
    out[text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
    bad = text.notna() & out.isna()
    return out, bad.fillna(False)


def _parse_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        num = s.astype(float)
    else:
        num = pd.to_numeric(_as_text(s), errors="coerce").astype(float)
    bad = s.notna() & ~np.isfinite(num.fillna(0.0))
    if not pd.api.types.is_numeric_dtype(s):
        bad = bad | (_as_text(s).notna() & num.isna())
    return num.where(~bad), bad.fillna(False)


def _arrow_text(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The column as Arrow text (zero-copy for pandas' Arrow-backed strings)."""
    arr = s.array
    if hasattr(arr, "__arrow_array__") and pd.api.types.is_string_dtype(s.dtype):
        out = pa.array(arr)
    else:
        out = pa.array(s.astype(object).where(s.notna(), None).to_numpy(), from_pandas=True)
    return out.cast(pa.large_string())


def position_in(values: pd.Series, known: pd.Series) -> np.ndarray:
    """Position of each value in ``known`` (-1 if absent or null), by Arrow's hash join: the
    pandas alternatives are 10-50x slower on a million ids."""
    idx = pc.index_in(_arrow_text(values), value_set=_arrow_text(known))
    return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _match_categories(text: pd.Series, allowed: tuple[str, ...]) -> tuple[pd.Series, pd.Series]:
    """Map values to the allowed spelling, ignoring case and surrounding space."""
    exact = pc.is_in(_arrow_text(text), value_set=pa.array(allowed, pa.large_string()))
    exact = exact.to_numpy(zero_copy_only=False).astype(bool)
    mapped = text.astype("str").where(exact)
    rest = ~exact & text.notna().to_numpy()
    if rest.any():  # only the few values not spelled exactly pay for the case-folding
        lookup = {a.casefold(): a for a in allowed}
        mapped[rest] = text[rest].str.casefold().map(lookup).astype("str")
    unknown = text.notna().to_numpy() & mapped.isna().to_numpy()
    return mapped, pd.Series(unknown, index=text.index)


# -- the checker ---------------------------------------------------------------------------------
class _Checker:
    """Parses the contract columns of one table and collects row problems."""

    def __init__(
        self,
        df: Any,
        *,
        source: str,
        table: str,
        columns: tuple[Column, ...],
        categories: Mapping[str, Iterable[str]] | None = None,
        date_format: str | None = None,
        key: str | None = None,
    ) -> None:
        if not isinstance(df, pd.DataFrame):
            raise ContractError(ERR_NOT_A_TABLE.format(file=source, kind=type(df).__name__))
        self.source = source
        self.key = key
        self.table = table
        self.columns = columns
        self.raw = df.reset_index(drop=True)
        self.raw.columns = [str(c).strip() for c in self.raw.columns]
        missing = [c.name for c in columns if c.name not in self.raw.columns]
        if missing:
            found = ", ".join(map(str, self.raw.columns)) or "no columns"
            raise ContractError(
                ERR_MISSING_COLUMNS.format(
                    file=source, table=table, cols=", ".join(missing), found=found
                )
            )
        if len(self.raw) == 0:
            raise ContractError(ERR_EMPTY.format(file=source, table=table))
        self.n = len(self.raw)
        self.row_no = np.arange(1, self.n + 1)
        self.problems: list[pd.DataFrame] = []
        self.categories = {k: tuple(v) for k, v in (categories or {}).items()}
        self.date_format = date_format
        self.typed: dict[str, pd.Series] = {}
        for col in columns:
            self.typed[col.name] = self._parse(col)

    def flag(self, mask: Any, column: str, rule: str, values: Any = None) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        if values is None:
            values = (
                self.raw[column] if column in self.raw.columns else pd.Series("", range(self.n))
            )
        vals = pd.Series(values).reset_index(drop=True)
        shown = vals[mask].astype("string").fillna("").to_numpy(dtype=object)
        self.problems.append(
            pd.DataFrame({"row": self.row_no[mask], "column": column, "rule": rule, "value": shown})
        )

    def _whole_column(self, col: Column, bad: pd.Series, message: str, **fmt: Any) -> None:
        """Raise if no non-null value of the column is usable (a type or coding problem)."""
        present = self.raw[col.name].notna().to_numpy()
        bad_arr = bad.to_numpy(dtype=bool)
        if present.any() and bad_arr[present].all():
            first = int(np.flatnonzero(bad_arr)[0])
            row: int | str = first + 1
            if self.key is not None and self.key in self.raw.columns:
                row = f"{first + 1} ({self.key} {self.raw[self.key].iloc[first]!r})"
            raise ContractError(
                message.format(
                    file=self.source,
                    row=row,
                    column=col.name,
                    value=self.raw[col.name].iloc[first],
                    **fmt,
                )
            )

    def _parse(self, col: Column) -> pd.Series:
        raw = self.raw[col.name]
        kind = col.kind
        hint = ""
        if kind in ("id", "str"):
            out = _as_text(raw)
            bad = pd.Series(False, index=raw.index)
        elif kind == "date":
            out = _parse_date(raw, self.date_format)
            bad = (raw.notna() & out.isna()).fillna(False)
            if self.date_format is None:
                hint = " (or give its `date_format` in the mapping config)"
        elif kind == "bool":
            out, bad = _parse_bool(raw)
        elif kind in ("float", "int"):
            out, bad = _parse_number(raw)
        else:  # pragma: no cover - a programming error in the schema
            raise AssertionError(kind)
        self._whole_column(col, bad, ERR_UNREADABLE_COLUMN, kind=_KIND_WORDS[kind], hint=hint)
        self.flag(bad, col.name, "bad_type")
        unreadable = bad.to_numpy(dtype=bool)
        allowed = self.categories.get(col.name, col.categories)
        if allowed is not None and kind == "str":
            out, unknown = _match_categories(out, tuple(allowed))
            self._whole_column(col, unknown, ERR_NO_ALLOWED_VALUE, allowed=", ".join(allowed))
            self.flag(unknown, col.name, "unknown_category")
            unreadable = unreadable | unknown.to_numpy(dtype=bool)
        if col.required:
            self.flag(out.isna().to_numpy() & ~unreadable, col.name, "missing_value")
        return out

    def missing_if(self, condition: np.ndarray, name: str) -> None:
        """A conditionally required value (e.g. a DA event's victim) is empty."""
        self.flag(condition & self.typed[name].isna().to_numpy(), name, "missing_value")

    def duplicates(self, id_column: str) -> None:
        """Exact copies (later ones rejected) and conflicting rows sharing one id (all rejected)."""
        ids = self.typed[id_column]
        shared = (ids.duplicated(keep=False) & ids.notna()).to_numpy()
        if not shared.any():
            return  # copies of a row share its id: no shared id, no duplicates of any kind
        rows = np.flatnonzero(shared)
        typed = pd.DataFrame({k: v.iloc[rows] for k, v in self.typed.items()})
        exact = typed.duplicated(keep="first").to_numpy()
        sub_ids = typed[id_column]
        # an id carried by more than one distinct row is ambiguous: reject all its rows
        n_versions = sub_ids[~exact].value_counts()
        clash = sub_ids.map(n_versions).to_numpy() > 1
        mask = np.zeros(self.n, dtype=bool)
        mask[rows[exact]] = True
        self.flag(mask, id_column, "duplicate_row")
        mask[:] = False
        mask[rows[clash]] = True
        self.flag(mask, id_column, "duplicate_id")

    def result(self) -> ContractResult:
        keep, rejects = collect_rejects(self.problems, self.raw, self.source)
        # column by column, dropping each typed column once copied: one table in memory, not two
        rows = np.flatnonzero(keep)
        valid = pd.DataFrame(
            {c.name: self._final(c, self.typed.pop(c.name).iloc[rows]) for c in self.columns}
        )
        by_rule: dict[str, int] = {}
        for p in self.problems:
            for rule, rows in p.groupby("rule")["row"]:
                by_rule[str(rule)] = by_rule.get(str(rule), 0) + int(rows.nunique())
        contract = {c.name for c in self.columns}
        summary = {
            "file": self.source,
            "table": self.table,
            "in": self.n,
            "valid": len(valid),
            "rejected": len(rejects),
            "by_rule": dict(sorted(by_rule.items())),
            "ignored_columns": [c for c in self.raw.columns if c not in contract],
        }
        assert summary["in"] == summary["valid"] + summary["rejected"]
        return ContractResult(valid=valid, rejects=rejects, summary=summary)

    @staticmethod
    def _final(col: Column, s: pd.Series) -> pd.Series:
        """A valid column in its contract type (index reset)."""
        s = s.reset_index(drop=True)
        if col.kind == "bool":
            return s.astype(bool) if col.required else s
        if col.kind in ("id", "str"):
            return s.astype("str")  # Arrow-backed text; missing stays missing
        if col.kind == "float":
            return s.astype(float)
        return s


def collect_rejects(
    problems: list[pd.DataFrame], raw: pd.DataFrame, source: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows to keep, and one rejects line per rejected row (its problems joined by ``"; "``).

    ``problems`` are frames of ``row`` (1-based), ``column``, ``rule``, ``value``.
    """
    keep = np.ones(len(raw), dtype=bool)
    if not problems:
        head = pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})
        return keep, pd.concat([head, raw.iloc[:0].reset_index(drop=True)], axis=1)
    long = pd.concat(problems, ignore_index=True).sort_values("row", kind="stable")
    bad_rows = long["row"].unique()
    keep[bad_rows - 1] = False
    long["reason"] = long["rule"].map(RULES)
    if long["row"].duplicated().any():
        joined = long.astype({"value": str}).groupby("row", sort=True).agg("; ".join)
    else:
        joined = long.set_index("row")
    head = joined.reindex(bad_rows).reset_index()
    head.insert(0, "file", source)
    head = head.loc[:, list(REJECT_COLUMNS)]
    original = raw.iloc[bad_rows - 1].reset_index(drop=True)
    original.columns = [f"original_{c}" if c in REJECT_COLUMNS else c for c in original.columns]
    return keep, pd.concat([head, original], axis=1)


def _today() -> pd.Timestamp:
    return pd.Timestamp(_dt.datetime.now(_dt.UTC).date())


def _limit(as_of: Any) -> pd.Timestamp:
    return _today() if as_of is None else pd.Timestamp(as_of).normalize()


# -- the three tables ----------------------------------------------------------------------------
def validate_people(
    df: pd.DataFrame,
    *,
    source: str,
    as_of: Any = None,
    categories: Mapping[str, Iterable[str]] | None = None,
    date_format: str | None = None,
    key: str | None = None,
) -> ContractResult:
    """Check a people table against the contract.

    Parameters
    ----------
    df : the raw table (``person_id, birth_date, sex, ethnicity, area, disability,
        mental_health, substance_misuse``; other columns are ignored and listed in the summary)
    source : the file name used in messages and the ``file`` column of the rejects
    as_of : birth dates after it are rejected (``future_date``); default today
    categories : allowed values that replace the contract's, e.g. ``{"area": [...]}`` for a force
        outside Kent
    date_format : ``strftime`` format of text dates (default ISO 8601)
    key : a contract column whose value messages show beside the row number (a database table's
        rows have no line a reader can open)
    """
    c = _Checker(
        df,
        source=source,
        table="people",
        columns=PEOPLE_COLUMNS,
        categories=categories,
        date_format=date_format,
        key=key,
    )
    birth = c.typed["birth_date"]
    c.flag((birth > _limit(as_of)).fillna(False), "birth_date", "future_date")
    c.flag((birth < _EARLIEST_BIRTH).fillna(False), "birth_date", "implausible_date")
    c.duplicates("person_id")
    return c.result()


def validate_events(
    df: pd.DataFrame,
    *,
    people: pd.DataFrame,
    source: str,
    as_of: Any = None,
    categories: Mapping[str, Iterable[str]] | None = None,
    date_format: str | None = None,
    key: str | None = None,
) -> ContractResult:
    """Check an events table (recorded offences) against the contract and the people table.

    Parameters
    ----------
    df : the raw events (``event_id, date, perpetrator_id, victim_id, offence_type, harm_days,
        is_da, relationship, area``)
    people : the *valid* people (``validate_people(...).valid``): an event whose perpetrator or
        victim is not among them is rejected (``unknown_person``)
    source : the file name used in messages and the rejects
    as_of : events after it are rejected (``future_date``); default today
    categories, date_format, key : as in :func:`validate_people`
    """
    c = _Checker(
        df,
        source=source,
        table="events",
        columns=EVENT_COLUMNS,
        categories=categories,
        date_format=date_format,
        key=key,
    )
    t = c.typed
    is_da = t["is_da"].fillna(False).to_numpy(dtype=bool)
    c.missing_if(is_da, "victim_id")
    c.missing_if(is_da, "relationship")
    expected_da = t["offence_type"].map({k: v[1] for k, v in OFFENCE_TYPES.items()})
    c.flag(
        (expected_da.notna() & t["is_da"].notna() & (expected_da != t["is_da"])).fillna(False),
        "is_da",
        "inconsistent_da",
    )
    c.flag((t["harm_days"] < 0).fillna(False), "harm_days", "negative_harm")
    c.flag((t["date"] > _limit(as_of)).fillna(False), "date", "future_date")
    c.flag((t["perpetrator_id"] == t["victim_id"]).fillna(False), "victim_id", "self_victim")
    known = people["person_id"].astype("str")
    births = pd.to_datetime(people["birth_date"]).to_numpy(dtype="datetime64[s]")
    date = t["date"].to_numpy(dtype="datetime64[s]")
    before = np.zeros(len(date), dtype=bool)
    for column in ("perpetrator_id", "victim_id"):
        ids = t[column]
        pos = position_in(ids, known)
        c.flag(ids.notna().to_numpy() & (pos < 0), column, "unknown_person")
        birth = births[np.maximum(pos, 0)]
        before |= (pos >= 0) & ~np.isnat(date) & (date < birth)
    c.flag(before, "date", "before_birth", values=t["date"].dt.strftime("%Y-%m-%d"))
    c.duplicates("event_id")
    return c.result()


def validate_programmes(
    df: pd.DataFrame,
    *,
    people: pd.DataFrame,
    source: str,
    as_of: Any = None,
    date_format: str | None = None,
    key: str | None = None,
) -> ContractResult:
    """Check a programmes table (referrals to perpetrator programmes) against the contract.

    ``people`` are the valid people; ``as_of`` (default today) bounds every date; ``key`` as in
    :func:`validate_people`.
    """
    c = _Checker(
        df,
        source=source,
        table="programmes",
        columns=PROGRAMME_COLUMNS,
        date_format=date_format,
        key=key,
    )
    t = c.typed
    limit = _limit(as_of)
    for name in ("referral_date", "start_date", "completion_date"):
        c.flag((t[name] > limit).fillna(False), name, "future_date")
    referral = t["referral_date"]
    c.flag((t["start_date"] < referral).fillna(False), "start_date", "date_order")
    c.flag((t["completion_date"] < referral).fillna(False), "completion_date", "date_order")
    done = t["completed"]
    has_date = t["completion_date"].notna()
    c.flag(
        ((done == True) & ~has_date).fillna(False)  # noqa: E712 - nullable boolean
        | ((done == False) & has_date).fillna(False),  # noqa: E712
        "completed",
        "inconsistent_completion",
    )
    pid = t["person_id"]
    pos = position_in(pid, people["person_id"].astype("str"))
    c.flag(pid.notna().to_numpy() & (pos < 0), "person_id", "unknown_person")
    typed = pd.DataFrame(t)
    c.flag(typed.duplicated(keep="first").to_numpy(), "person_id", "duplicate_row")
    return c.result()


#: a cell a spreadsheet would read as a formula (OWASP "CSV injection"): = + - @, tab, CR
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: longest text a rejects file echoes from one cell; the rest is summarised, not copied
MAX_ECHO_CHARS = 200


def _cell_safe(value: Any, max_chars: int | None) -> Any:
    if not isinstance(value, str):
        return value
    if max_chars is not None and len(value) > max_chars:
        value = f"{value[:max_chars]}... [{len(value):,} characters, cut]"
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def spreadsheet_safe(df: pd.DataFrame, *, max_chars: int | None = None) -> pd.DataFrame:
    """A copy fit to be opened in a spreadsheet: a text cell starting with a formula prefix is
    prefixed with ``'`` (as spreadsheet guidance advises), and with ``max_chars``, a longer text
    cell is cut to that many characters and says how long it was. Numbers are left alone."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
            out[col] = s.astype(object).map(lambda v: _cell_safe(v, max_chars)).astype(s.dtype)
    safe_cols = [_cell_safe(str(c), max_chars) for c in out.columns]
    out.columns = safe_cols
    return out


ERR_NOT_UTF8 = (
    "{file}: not UTF-8 text at byte offset {offset} (line {line}{where}): byte(s) {bytes}; "
    "save the file as UTF-8 (e.g. from Excel: CSV UTF-8) and try again"
)


def not_utf8_message(path: Any) -> str | None:
    """Where a text file first stops being UTF-8, in words (file, byte offset, line, data row and
    column for a CSV with a header), or ``None`` if it is valid UTF-8. Reads the file line by
    line, so it is meant for the error path only."""
    import csv

    header: list[str] | None = None
    offset = 0
    comments = 0
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                where = ""
                if header is not None:
                    before = raw[: exc.start].decode("utf-8", errors="replace")
                    col = len(next(csv.reader([before]), [""])) - 1
                    name = header[col] if 0 <= col < len(header) else f"#{col + 1}"
                    where = f", data row {line_no - comments - 1}, column {name!r}"
                return ERR_NOT_UTF8.format(
                    file=path,
                    offset=offset + exc.start,
                    line=line_no,
                    where=where,
                    bytes=raw[exc.start : exc.end].hex(" "),
                )
            if header is None and text.startswith("#"):
                comments += 1
            elif header is None:
                header = next(csv.reader([text]), [])
            offset += len(raw)
    return None


def empty_rejects() -> pd.DataFrame:
    """A rejects frame with no rows (the columns every rejects file starts with)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECT_COLUMNS})


__all__ = [
    "FORMULA_PREFIXES",
    "MAX_ECHO_CHARS",
    "REJECT_COLUMNS",
    "arrow_dates",
    "collect_rejects",
    "position_in",
    "RULES",
    "spreadsheet_safe",
    "not_utf8_message",
    "ContractError",
    "ContractResult",
    "empty_rejects",
    "validate_events",
    "validate_people",
    "validate_programmes",
]

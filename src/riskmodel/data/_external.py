"""External data: a force's own extract mapped into the contract, and ready person-level tables.

Two paths, each driven by a YAML config in ``configs/external/``:

- :func:`read_extract`: a force's people / events / programmes files, with a mapping from their
  column names and codes to the contract's; the tables are then checked by the data contracts.
- :func:`read_person_table`: one row per person with features and outcomes already computed
  (e.g. the ProPublica COMPAS table); the config declares each column's role.

Paths in a config are relative to the config file; ``path_env`` names an environment variable
that, when set, replaces the path (data kept outside the repository). An extract may instead come
from the force's database: a ``database:`` section and, per table, ``table:`` or ``query:``
(:mod:`riskmodel.data._sql`), through the same mapping and contracts.
"""

from __future__ import annotations

import datetime as _dt
import os
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from riskmodel._base import StrictModel
from riskmodel.data._contracts import (
    ContractError,
    ContractResult,
    _as_text,
    _parse_bool,
    _parse_date,
    _parse_number,
    collect_rejects,
    empty_rejects,
    not_utf8_message,
    validate_events,
    validate_people,
    validate_programmes,
)
from riskmodel.data._io import read_table
from riskmodel.data._schema import EVENT_COLUMNS, PEOPLE_COLUMNS, PROGRAMME_COLUMNS
from riskmodel.data._sql import DatabaseSource, open_database
from riskmodel.notice import PROTECTED_CHARACTERISTICS
from riskmodel.schema import AUDIT_ATTRIBUTES as PERSON_AUDIT
from riskmodel.schema import LABELS as PERSON_LABELS
from riskmodel.schema import forbidden_reason

ERR_MAPPED_COLUMN = (
    "{file}: header row: column {source!r} (mapped to {target!r} in {config}) is not in the file "
    "(found: {found}); correct the mapping's `columns:`"
)
ERR_UNKNOWN_TARGET = (
    "{table}: {key}: {names} are not {table} contract columns (contract: {allowed})"
)
ERR_TABLE_FILE = "{file}: cannot be read as a table: {error}"
ERR_TABLE_SOURCE = (
    "give exactly one of `path:` (a file), `table:` or `query:` (in the extract's database) "
    "per table (given: {given})"
)
ERR_NO_DATABASE = (
    "{table}: `table:`/`query:` read from the extract's database, but the config has no "
    "`database:` section (url_env: an environment variable holding the SQLAlchemy URL)"
)
#: contract columns that name a row of each table (a database table's order and messages)
TABLE_KEYS = {
    "people": ("person_id",),
    "events": ("event_id",),
    "programmes": ("person_id", "referral_date"),
}
ERR_PROTECTED_FEATURE = (
    "{name!r} cannot be a feature: it is a protected characteristic (Equality Act 2010), used "
    "only to audit fairness; remove it from `features`"
)
ERR_ROLE_FEATURE = (
    "{name!r} cannot be a feature: the config also maps it as {role}; a column has one role"
)
ERR_UNDECLARED = (
    "{file}: header row: column(s) {cols} have no declared role in {config}; list each under "
    "features, baselines, labels, audit or `ignore:` (a column is never used without a role)"
)
ERR_PROXY = (
    "{file}: column {column!r} predicts the audit attribute {attr} ({group} vs the rest: AUC "
    "{auc:.2f} on {n:,} rows, at or above {limit}); it would bring a protected characteristic "
    "into the model by another name. Remove it from features, or state why it is used under "
    "`proxy_reasons:` in {config}"
)
#: AUC (either direction) at which one feature alone is taken as a proxy for an audit attribute
PROXY_AUC = 0.8
#: smallest group (and category, for categorical features) the proxy check judges
PROXY_MIN_N = 30
ERR_PERSON_TABLE_COLUMNS = (
    "{file}: header row: column(s) {cols} named in {config} are not in the file (found: {found})"
)


def _resolve(path: Path, path_env: str | None, config_path: Path) -> Path:
    from riskmodel.config import resolve_relative

    env = os.environ.get(path_env) if path_env else None
    return Path(env).expanduser().resolve() if env else resolve_relative(path, config_path)


def _read_raw(path: Path) -> pd.DataFrame:
    """Read a CSV as text (ids keep their leading zeros; the contracts parse types) or Parquet."""
    try:
        return read_table(path, dtype=str, skipinitialspace=True)
    except FileNotFoundError:
        raise
    except UnicodeDecodeError as exc:
        raise ContractError(
            not_utf8_message(path) or ERR_TABLE_FILE.format(file=path, error=exc)
        ) from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ContractError(ERR_TABLE_FILE.format(file=path, error=exc)) from None


# -- a force's extract ---------------------------------------------------------------------------
class TableMapping(StrictModel):
    """How one file of an extract maps onto a contract table.

    path : the file (CSV or Parquet), relative to the mapping config
    path_env : environment variable that, when set, replaces ``path``
    table, schema : instead of ``path``, a table of the extract's ``database:`` (optionally in a
        schema); read in the order of ``order_by`` (default: the table's key, then every other
        column), which numbers its rows in messages and rejects
    query : instead of ``path``, one read-only ``SELECT`` on the extract's ``database:`` (anything
        else is refused); its rows are numbered in the query's own order (give it ``ORDER BY``)
    columns : contract column -> the extract's column (contract columns not listed are expected
        under their own name)
    values : contract column -> {extract code: contract value}, e.g. ``sex: {M: male, F: female}``
    defaults : contract column -> a constant, for a column the extract does not have
    date_format : ``strftime`` format of this file's dates (default: the extract's, else ISO)
    """

    path: Path | None = None
    path_env: str | None = None
    table: str | None = Field(default=None, min_length=1)
    db_schema: str | None = Field(default=None, alias="schema", min_length=1)
    order_by: tuple[str, ...] = ()
    query: str | None = Field(default=None, min_length=1)
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str | bool | float | None]] = Field(default_factory=dict)
    defaults: dict[str, str | bool | float | None] = Field(default_factory=dict)
    date_format: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TableMapping:
        given = [k for k in ("path", "table", "query") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(ERR_TABLE_SOURCE.format(given=", ".join(given) or "none"))
        if self.path_env is not None and self.path is None:
            raise ValueError("path_env: goes with `path:` (a file), not with a table or query")
        if (self.db_schema is not None or self.order_by) and self.table is None:
            raise ValueError(
                "schema/order_by: go with `table:`; a `query:` names its schema and order itself"
            )
        return self


class ExtractMapping(StrictModel):
    """A force's extract: people, events and (optionally) programme referrals.

    as_of : the extract's date: later dates are rejected (``future_date``), and it is the end of
        data for follow-up (default: today for checks, the latest event for follow-up)
    categories : allowed values that replace the contract's (e.g. the force's ``area`` names)
    database : the force's database, for tables given by ``table:`` or ``query:`` (its URL in an
        environment variable: :class:`riskmodel.data._sql.DatabaseSource`)
    """

    name: str = Field(min_length=1)
    description: str = ""
    as_of: _dt.date | None = None
    date_format: str | None = None
    categories: dict[str, list[str]] = Field(default_factory=dict)
    database: DatabaseSource | None = None
    people: TableMapping
    events: TableMapping
    programmes: TableMapping | None = None

    @model_validator(mode="after")
    def _targets(self) -> ExtractMapping:
        for table in ("people", "events", "programmes"):
            m = getattr(self, table)
            if m is not None and m.path is None and self.database is None:
                raise ValueError(ERR_NO_DATABASE.format(table=table))
        for table, cols in (
            ("people", PEOPLE_COLUMNS),
            ("events", EVENT_COLUMNS),
            ("programmes", PROGRAMME_COLUMNS),
        ):
            mapping = getattr(self, table)
            if mapping is None:
                continue
            allowed = [c.name for c in cols]
            for key in ("columns", "values", "defaults"):
                bad = [k for k in getattr(mapping, key) if k not in allowed]
                if bad:
                    raise ValueError(
                        ERR_UNKNOWN_TARGET.format(
                            table=table, key=key, names=bad, allowed=", ".join(allowed)
                        )
                    )
        return self


@dataclass
class Extract:
    """A force's extract after the contracts: valid tables, rejects and counts.

    ``files`` says where each table came from: the file, or for a database the URL (password
    shown as ``***``) and the table or query.
    """

    people: pd.DataFrame
    events: pd.DataFrame
    programmes: pd.DataFrame | None
    rejects: pd.DataFrame
    counts: dict[str, int]
    files: dict[str, str]
    mapping: ExtractMapping


def _apply_mapping(
    raw: pd.DataFrame, m: TableMapping, *, file: Path | str, config: Path
) -> pd.DataFrame:
    found = ", ".join(map(str, raw.columns)) or "no columns"
    for target, source in m.columns.items():
        if source not in raw.columns:
            raise ContractError(
                ERR_MAPPED_COLUMN.format(
                    file=file, source=source, target=target, config=config, found=found
                )
            )
    out = raw.rename(columns={s: t for t, s in m.columns.items()})
    for target, value in m.defaults.items():
        if target not in out.columns:
            out[target] = value
    for target, codes in m.values.items():
        if target in out.columns:
            out[target] = _recode(_as_text(out[target]), codes)
    return out


def _recode(text: pd.Series, codes: dict[str, Any]) -> pd.Series:
    """Replace the listed codes (a vectorised dictionary lookup); other values stay as they are."""
    hit = text.isin(list(codes)).to_numpy(dtype=bool)
    if not hit.any():
        return text
    out = text.astype(object)
    out[hit] = text[hit].map(codes).astype(object)
    return out


def load_extract(config_path: str | Path) -> Extract:
    """Read a force's extract through its mapping config and check it against the contracts."""
    from riskmodel.config import load_config

    config_path = Path(config_path)
    mapping = load_config(config_path, ExtractMapping)
    cats = mapping.categories or None
    files: dict[str, str] = {}
    sources: dict[str, str] = {}
    frames: dict[str, pd.DataFrame] = {}
    with ExitStack() as stack:
        db = None
        for table in ("people", "events", "programmes"):
            tm: TableMapping | None = getattr(mapping, table)
            if tm is None:
                continue
            if tm.path is not None:
                path = _resolve(tm.path, tm.path_env, config_path)
                files[table] = sources[table] = str(path)
                frames[table] = _apply_mapping(_read_raw(path), tm, file=path, config=config_path)
                continue
            if db is None:  # one connection, one snapshot, for every table of the database
                assert mapping.database is not None
                db = stack.enter_context(open_database(mapping.database, config=str(config_path)))
            raw, sources[table], files[table] = db.read(
                table=tm.table,
                schema=tm.db_schema,
                query=tm.query,
                name=table,
                columns=tm.columns,
                key=TABLE_KEYS[table],
                order_by=tm.order_by,
            )
            frames[table] = _apply_mapping(raw, tm, file=sources[table], config=config_path)

    def fmt(table: str) -> str | None:
        return getattr(mapping, table).date_format or mapping.date_format

    def key(table: str) -> str | None:  # rows of a database have no line a reader can open
        return TABLE_KEYS[table][0] if getattr(mapping, table).path is None else None

    results: list[ContractResult] = []
    vp = validate_people(
        frames["people"],
        source=sources["people"],
        key=key("people"),
        as_of=mapping.as_of,
        categories=cats,
        date_format=fmt("people"),
    )
    ve = validate_events(
        frames["events"],
        people=vp.valid,
        source=sources["events"],
        key=key("events"),
        as_of=mapping.as_of,
        categories=cats,
        date_format=fmt("events"),
    )
    results += [vp, ve]
    programmes = None
    if "programmes" in frames:
        vg = validate_programmes(
            frames["programmes"],
            people=vp.valid,
            source=sources["programmes"],
            key=key("programmes"),
            as_of=mapping.as_of,
            date_format=fmt("programmes"),
        )
        results.append(vg)
        programmes = vg.valid
    counts: dict[str, int] = {}
    for r in results:
        counts[f"{r.summary['table']}_in"] = r.summary["in"]
        counts[f"{r.summary['table']}_rejected"] = r.summary["rejected"]
    parts = [r.rejects for r in results if len(r.rejects)]
    rejects = pd.concat(parts, ignore_index=True) if parts else empty_rejects()
    return Extract(vp.valid, ve.valid, programmes, rejects, counts, files, mapping)


def read_extract(
    mapping_config_path: str | Path,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """A force's extract via its mapping config: ``(people, events, programmes, rejects)``.

    The tables are the valid, typed rows; ``rejects`` lists every rejected row of every file with
    the rules it broke. Whole-file problems raise :class:`ContractError`.
    """
    e = load_extract(mapping_config_path)
    return e.people, e.events, e.programmes, e.rejects


# -- a ready person-level table ------------------------------------------------------------------
class DictionaryEntry(StrictModel):
    description: str
    reason: str
    unit: str = "count"


class PersonTableConfig(StrictModel):
    """A person-level table (one row per person, features and outcomes already there).

    Parameters
    ----------
    name : short name; the feature spec's source is ``external:<name>``
    path, path_env : the CSV/Parquet file (relative to this config), or an environment variable
        naming it
    person_id : the id column; ``index_date`` : the date of the assessment
    labels : contract label (``reoffend_12m``, ``severe_12m``, ``harm_days_12m``) -> column
    audit : audit attribute (``sex``, ``ethnicity``, ``age_band``, ``area``, ``disability``) ->
        column; audit columns are never features
    features : columns used as model inputs (never a protected characteristic)
    categorical_features : those of ``features`` that are categories
    baselines : existing scores kept for comparison, not features (e.g. ``decile_score``)
    recode : column -> {value: new value}, applied to labels, audit and categorical features
    dictionary : feature -> plain-words description, reason template and unit
    notes : role or column -> a caveat written into the spec (e.g. a two-year label)
    ignore : the file's other columns, declared unused (every column of the file must have a
        role: id, index date, label, audit, feature, baseline or ignored)
    proxy_reasons : feature -> why it is used although the proxy check finds it highly
        predictive of a protected audit attribute (e.g. age in years, a sensitive input used by
        design, predicts the age band); without one such a feature is refused
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    path: Path
    path_env: str | None = None
    date_format: str | None = None
    person_id: str
    index_date: str | None = None
    labels: dict[str, str]
    audit: dict[str, str] = Field(default_factory=dict)
    features: tuple[str, ...]
    categorical_features: tuple[str, ...] = ()
    baselines: tuple[str, ...] = ()
    recode: dict[str, dict[str, str]] = Field(default_factory=dict)
    dictionary: dict[str, DictionaryEntry] = Field(default_factory=dict)
    notes: dict[str, str] = Field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    proxy_reasons: dict[str, str] = Field(default_factory=dict)

    def declared_columns(self) -> set[str]:
        """Every column of the file that has a role in this config."""
        return {
            self.person_id,
            *([self.index_date] if self.index_date else []),
            *self.labels.values(),
            *self.audit.values(),
            *self.features,
            *self.baselines,
            *self.ignore,
        }

    @model_validator(mode="after")
    def _roles(self) -> PersonTableConfig:
        bad = [k for k in self.labels if k not in PERSON_LABELS]
        if bad:
            raise ValueError(f"labels: {bad} are not labels; use {', '.join(PERSON_LABELS)}")
        if "reoffend_12m" not in self.labels:
            raise ValueError("labels: reoffend_12m is required (the reoffending outcome)")
        bad = [k for k in self.audit if k not in PERSON_AUDIT]
        if bad:
            raise ValueError(
                f"audit: {bad} are not audit attributes; use {', '.join(PERSON_AUDIT)}"
            )
        if not self.features:
            raise ValueError("features: list at least one feature column")
        others = {
            **{c: f"the label {k}" for k, c in self.labels.items()},
            **{c: f"the audit attribute {k}" for k, c in self.audit.items()},
            **{c: "a baseline score" for c in self.baselines},
            self.person_id: "the person id",
        }
        if self.index_date:
            others[self.index_date] = "the index date"
        for f in self.features:
            if f in PROTECTED_CHARACTERISTICS:
                raise ValueError(ERR_PROTECTED_FEATURE.format(name=f))
            if f in others:
                raise ValueError(ERR_ROLE_FEATURE.format(name=f, role=others[f]))
            why = forbidden_reason(f)
            if why is not None:
                raise ValueError(f"{f!r} cannot be a feature: it is {why}")
        bad = [c for c in self.categorical_features if c not in self.features]
        if bad:
            raise ValueError(f"categorical_features: {bad} are not in features")
        bad = [c for c in self.dictionary if c not in (*self.features, *self.baselines)]
        if bad:
            raise ValueError(f"dictionary: {bad} are neither features nor baselines")
        bad = [c for c in self.ignore if c in self.features]
        if bad:
            raise ValueError(f"ignore: {bad} are also features; a column has one role")
        bad = [c for c, why in self.proxy_reasons.items() if c not in self.features or not why]
        if bad:
            raise ValueError(f"proxy_reasons: {bad} are not features with a stated reason")
        return self


@dataclass
class PersonTable:
    """A person-level table after its checks: the frame (contract names), rejects, roles."""

    frame: pd.DataFrame
    rejects: pd.DataFrame
    config: PersonTableConfig
    file: str
    counts: dict[str, int]


def read_person_table(config_path: str | Path) -> PersonTable:
    """Read and check a person-level table declared by ``config_path``.

    Rows with a missing or duplicated person id, an unreadable index date, a label that is not
    0/1 (or true/false; harm a number) or a non-numeric value in a numeric feature are rejected
    with the rule broken. Missing feature values stay missing (the models handle them).
    """
    from riskmodel.config import load_config

    config_path = Path(config_path)
    cfg = load_config(config_path, PersonTableConfig)
    path = _resolve(cfg.path, cfg.path_env, config_path)
    raw = _read_raw(path)
    if len(raw) == 0:
        raise ContractError(
            f"{path}: the table has no data rows; expected one row per person (check the path)"
        )
    needed = [
        cfg.person_id,
        *([cfg.index_date] if cfg.index_date else []),
        *cfg.labels.values(),
        *cfg.audit.values(),
        *cfg.features,
        *cfg.baselines,
    ]
    missing = [c for c in dict.fromkeys(needed) if c not in raw.columns]
    if missing:
        raise ContractError(
            ERR_PERSON_TABLE_COLUMNS.format(
                file=path, cols=", ".join(missing), config=config_path, found=", ".join(raw.columns)
            )
        )
    undeclared = [c for c in raw.columns if c not in cfg.declared_columns()]
    if undeclared:
        raise ContractError(
            ERR_UNDECLARED.format(
                file=path, cols=", ".join(map(repr, undeclared)), config=config_path
            )
        )
    raw = raw.reset_index(drop=True)
    n = len(raw)
    problems: list[pd.DataFrame] = []

    def flag(mask: Any, column: str, rule: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            vals = raw[column].astype("string").fillna("")[mask].to_numpy(dtype=object)
            problems.append(
                pd.DataFrame(
                    {"row": np.flatnonzero(mask) + 1, "column": column, "rule": rule, "value": vals}
                )
            )

    def recoded(col: str) -> pd.Series:
        s = _as_text(raw[col])
        codes = cfg.recode.get(col)
        return _recode(s, codes) if codes else s

    out: dict[str, Any] = {}
    pid = _as_text(raw[cfg.person_id])
    flag(pid.isna(), cfg.person_id, "missing_value")
    dup = pid.duplicated(keep=False) & pid.notna()
    flag(dup, cfg.person_id, "duplicate_id")
    out["person_id"] = pid
    out["index_event_id"] = pid
    if cfg.index_date:
        d = _parse_date(raw[cfg.index_date], cfg.date_format)
        flag(raw[cfg.index_date].notna() & d.isna(), cfg.index_date, "bad_type")
        flag(raw[cfg.index_date].isna(), cfg.index_date, "missing_value")
        out["index_date"] = d
    else:
        out["index_date"] = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[s]")
    for f in cfg.features:
        if f in cfg.categorical_features:
            out[f] = recoded(f).astype("str").astype("category")
        else:
            num, bad = _parse_number(raw[f])
            flag(bad, f, "bad_type")
            out[f] = num
    for label, col in cfg.labels.items():
        if label == "harm_days_12m":
            num, bad = _parse_number(raw[col])
            flag(bad, col, "bad_type")
            out[label] = num
        else:
            val, bad = _parse_bool(recoded(col))
            flag(bad, col, "bad_type")
            flag(raw[col].isna(), col, "missing_value")
            out[label] = val
    for attr, col in cfg.audit.items():
        out[attr] = (
            recoded(col).astype("str") if attr != "disability" else _parse_bool(recoded(col))[0]
        )
    for b in cfg.baselines:
        num, bad = _parse_number(raw[b])
        flag(bad, b, "bad_type")
        out[b] = num
    frame = pd.DataFrame(out)

    keep, rejects = collect_rejects(problems, raw, str(path))
    frame = frame.loc[keep].reset_index(drop=True)
    frame["person_id"] = frame["person_id"].astype("str")
    frame["index_event_id"] = frame["index_event_id"].astype("str")
    for label in ("reoffend_12m", "severe_12m"):
        if label in frame.columns:
            frame[label] = frame[label].astype(bool)
    counts = {"rows_in": n, "rows_rejected": len(rejects), "rows": len(frame)}
    assert counts["rows_in"] == counts["rows"] + counts["rows_rejected"]
    _refuse_proxies(frame, cfg, file=str(path), config=str(config_path))
    return PersonTable(frame, rejects, cfg, str(path), counts)


def _proxy_scores(values: pd.Series, categorical: bool) -> np.ndarray:
    """A feature as a score to rank by: numbers as they are; a category as its row count
    rank among categories (small ones pooled), refined below per group."""
    if not categorical:
        return values.to_numpy(dtype=float, na_value=np.nan)
    return values.astype("string").fillna("<missing>").to_numpy(dtype=object)


def _refuse_proxies(frame: pd.DataFrame, cfg: PersonTableConfig, *, file: str, config: str) -> None:
    """Refuse a feature that alone separates a group of a protected audit attribute from the
    rest (AUC >= ``PROXY_AUC``), unless the config states why it is used."""
    from sklearn.metrics import roc_auc_score

    for feature in cfg.features:
        if feature in cfg.proxy_reasons:
            continue
        cat = feature in cfg.categorical_features
        raw = _proxy_scores(frame[feature], cat)
        for attr in cfg.audit:
            groups = frame[attr].astype("string")
            counts = groups.value_counts(dropna=True)
            for group, n_g in counts.items():
                if n_g < PROXY_MIN_N or len(groups) - n_g < PROXY_MIN_N:
                    continue
                y = (groups == group).fillna(False).to_numpy(dtype=bool)
                if cat:  # each category scored by its share of the group (small ones pooled)
                    s = pd.Series(raw)
                    sizes = s.map(s.value_counts())
                    s = s.where(sizes >= PROXY_MIN_N, "<small>")
                    score = s.map(pd.Series(y).groupby(s.to_numpy()).mean()).to_numpy(dtype=float)
                else:
                    score = raw
                ok = ~np.isnan(score)
                if ok.sum() < 2 * PROXY_MIN_N or y[ok].all() or not y[ok].any():
                    continue
                auc = float(roc_auc_score(y[ok], score[ok]))
                auc = max(auc, 1 - auc)
                if auc >= PROXY_AUC:
                    raise ContractError(
                        ERR_PROXY.format(
                            file=file,
                            column=feature,
                            attr=attr,
                            group=group,
                            auc=auc,
                            n=int(ok.sum()),
                            limit=PROXY_AUC,
                            config=config,
                        )
                    )


__all__ = [
    "Extract",
    "ExtractMapping",
    "PersonTable",
    "PersonTableConfig",
    "TableMapping",
    "load_extract",
    "read_extract",
    "read_person_table",
]

"""A force's extract made from a small generated world, in the force's own names and codes (those
of configs/external/example_force.yaml), with known bad rows; written as CSV files, as Parquet
files and as PostgreSQL tables, with a mapping config for each, so the three paths can be
compared on the same data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import yaml

from riskmodel.paths import configs_dir

EXAMPLE = configs_dir() / "external" / "example_force.yaml"
#: the environment variable the SQL configs name for the URL (the tests set it)
URL_ENV = "RISKMODEL_TEST_EXTRACT_DB_URL"
#: table name in the force's database and file name of each contract table
NAMES = {"people": "nominals", "events": "crimes", "programmes": "referrals"}
#: the force's key column of each table (the first of its ORDER BY)
KEYS = {
    "people": ["NominalRef"],
    "events": ["CrimeRef"],
    "programmes": ["NominalRef", "ReferredOn"],
}


def _example() -> dict:
    return yaml.safe_load(EXAMPLE.read_text())


def _inverse(codes: dict) -> dict:
    """contract value -> the force's code (the first code listed for it)."""
    out: dict = {}
    for code, value in codes.items():
        out.setdefault(value, code)
    return out


def force_tables(world) -> dict[str, pd.DataFrame]:
    """The world's people, events and programmes as the force's database holds them: renamed and
    coded by the example mapping, dates as dates, harm as text, plus bad rows (see ``BAD``)."""
    example = _example()
    out: dict[str, pd.DataFrame] = {}
    for table, frame in (
        ("people", world.people),
        ("events", world.events),
        ("programmes", world.programmes),
    ):
        m = example[table]
        df = frame.copy()
        for col in df.columns:
            if isinstance(df[col].dtype, pd.ArrowDtype):  # dates: plain datetime64 like a DB read
                df[col] = pd.to_datetime(df[col].astype("datetime64[s]"))
        for target, codes in m.get("values", {}).items():
            inv = _inverse(codes)
            df[target] = df[target].map(lambda v, inv=inv: inv.get(v, v) if pd.notna(v) else None)
        if "harm_days" in df.columns:
            df["harm_days"] = df["harm_days"].map(lambda v: None if pd.isna(v) else f"{v:g}")
        df = df.rename(columns=m["columns"])
        out[table] = df.astype({c: object for c in df.columns if df[c].dtype != "datetime64[s]"})
    _add_bad_rows(out, world.end_date)
    for table, df in out.items():  # the order a database read by its key gives (ties: the rest)
        order = KEYS[table] + [c for c in df.columns if c not in KEYS[table]]
        out[table] = df.sort_values(order, kind="stable", na_position="last").reset_index(drop=True)
    return out


#: (table, key value) -> the rule that rejects it, for the bad rows ``force_tables`` adds
BAD = {
    ("people", "X01"): "unknown_category",
    ("people", "X02"): "missing_value",
    ("people", "X03"): "future_date",
    ("events", "XC1"): "unknown_person",
    ("events", "XC2"): "bad_type",
    ("events", "XC3"): "future_date",
    ("events", "XC4"): "inconsistent_da",
}


def _add_bad_rows(t: dict[str, pd.DataFrame], as_of: dt.date) -> None:
    people, events, programmes = t["people"], t["events"], t["programmes"]
    p = people.iloc[0].copy()
    bad_people = []
    for ref, change in (
        ("X01", {"Gender": "X"}),
        ("X02", {"DOB": pd.NaT}),
        ("X03", {"DOB": pd.Timestamp(as_of) + pd.Timedelta(days=30)}),
    ):
        row = p.copy()
        row["NominalRef"] = ref
        for k, v in change.items():
            row[k] = v
        bad_people.append(row)
    t["people"] = pd.concat([people, pd.DataFrame(bad_people)], ignore_index=True)
    da = events[events["DAFlag"] == "Y"].iloc[0].copy()
    bad_events = []
    for ref, change in (
        ("XC1", {"SuspectRef": "X01"}),  # a rejected person: unknown_person
        ("XC2", {"CHIDays": "twelve"}),  # not "n/a": a CSV reader takes that as empty
        ("XC3", {"CommittedDate": pd.Timestamp(as_of) + pd.Timedelta(days=1)}),
        ("XC4", {"DAFlag": "N"}),
    ):
        row = da.copy()
        row["CrimeRef"] = ref
        for k, v in change.items():
            row[k] = v
        bad_events.append(row)
    # an exact copy of a crime: the first copy is kept, the second rejected (duplicate_row)
    bad_events.append(events.iloc[5].copy())
    t["events"] = pd.concat([events, pd.DataFrame(bad_events)], ignore_index=True)
    if len(programmes):
        row = programmes.iloc[0].copy()
        row["CompletedOn"] = row["ReferredOn"] - pd.Timedelta(days=10)
        row["Completed"] = "Y"
        row["StartedOn"] = pd.NaT
        row["ReferredOn"] = row["ReferredOn"] + pd.Timedelta(days=1)
        t["programmes"] = pd.concat([programmes, pd.DataFrame([row])], ignore_index=True)


def _config(folder: Path, name: str, tables: dict[str, dict], database: dict | None) -> Path:
    cfg = _example()
    cfg["name"] = name
    cfg["as_of"] = dt.date(2024, 12, 31)
    if database is not None:
        cfg["database"] = database
    for table, source in tables.items():
        m = {k: v for k, v in cfg[table].items() if k not in ("path", "path_env")}
        cfg[table] = {**source, **m}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def write_files(tables: dict[str, pd.DataFrame], folder: Path, kind: str) -> Path:
    """The tables as ``kind`` (``csv``: dates written dd/mm/yyyy, as the example's force does;
    ``parquet``: typed) beside a mapping config naming them; returns the config."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, df in tables.items():
        path = folder / f"{NAMES[table]}.{kind}"
        if kind == "csv":
            out = df.copy()
            for col in out.columns:
                if pd.api.types.is_datetime64_any_dtype(out[col]):
                    out[col] = out[col].dt.strftime("%d/%m/%Y")
            out.to_csv(path, index=False)
        else:
            df.to_parquet(path, index=False)
    return _config(
        folder, f"force_{kind}", {t: {"path": f"{NAMES[t]}.{kind}"} for t in tables}, None
    )


def load_postgres(tables: dict[str, pd.DataFrame], server) -> None:
    """Create the force's tables (dates as DATE, the rest as TEXT), fill them by COPY, and let
    the reader role select from them."""
    import io

    from tests.data.pg_server import USER

    with server.admin() as conn:
        for table, df in tables.items():
            name = NAMES[table]
            cols = ", ".join(
                f'"{c}" DATE' if pd.api.types.is_datetime64_any_dtype(df[c]) else f'"{c}" TEXT'
                for c in df.columns
            )
            conn.execute(f"DROP TABLE IF EXISTS {name}")
            conn.execute(f"CREATE TABLE {name} ({cols})")
            buf = io.StringIO()
            df.to_csv(buf, index=False, header=False, date_format="%Y-%m-%d")
            names = ", ".join(f'"{c}"' for c in df.columns)
            with conn.cursor().copy(f"COPY {name} ({names}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(buf.getvalue())
            conn.execute(f"GRANT SELECT ON {name} TO {USER}")


def sql_config(
    folder: Path,
    name: str = "force_sql",
    *,
    sources: dict[str, dict] | None = None,
    database: dict | None = None,
) -> Path:
    """A mapping config reading the force's tables from the database (``sources`` replaces a
    table's ``table:``, e.g. with ``{"query": ...}``)."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {t: {"table": NAMES[t]} for t in NAMES}
    tables.update(sources or {})
    return _config(folder, name, tables, database or {"url_env": URL_ENV})

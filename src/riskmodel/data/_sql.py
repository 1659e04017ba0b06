"""A force's extract read from its database: a SQLAlchemy URL plus tables or read-only queries.

The mapping config (``configs/external/example_force_sql.yaml``) gives a ``database:`` section
and, per contract table, ``table:`` (optionally ``schema:``) or ``query:`` instead of ``path:``.
The rows then go through the same ``columns:``/``values:`` mapping and the same data contracts
as a file's. A row is named by its source (``table nominals``, ``query events``) and its row
number in the order read: a table is read in its key's order (then every other column, so the
numbers do not depend on how the server happens to store it); a query in its own ``ORDER BY``.

Safety:

- the password never appears in a config (``url:`` with one is refused: name an environment
  variable with ``url_env:``), in a message or in provenance (:func:`safe_url`, :func:`redact`);
- a query must be one read-only ``SELECT`` (or ``WITH ... SELECT``): anything else is refused
  before it is sent (:func:`check_select`), and on PostgreSQL every read runs in a ``READ ONLY``
  transaction, so a function with side effects is refused by the server too. A read-only
  database account remains the real guarantee;
- all tables are read in one ``REPEATABLE READ`` transaction on PostgreSQL: people, events and
  programmes are one snapshot, not three moments.

Rows arrive in chunks through a server-side cursor (``stream_results``) and are kept as Arrow
columns, so a big table is never held as Python objects whole, nor twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pandas as pd
from pydantic import Field, model_validator

from riskmodel._base import StrictModel
from riskmodel.data._contracts import ContractError

ERR_URL_PASSWORD = (
    "database.url: the URL holds a password; never write a password into a config. Put the whole "
    "URL in an environment variable and name it with `url_env:` (e.g. RISKMODEL_EXTRACT_DB_URL)"
)
ERR_URL_NONE = (
    "database: give `url_env:` (an environment variable holding the URL) or `url:` (a URL "
    "without a password)"
)
ERR_URL_ENV_UNSET = (
    "database.url_env: the environment variable {env} is not set (and the config has no `url:`); "
    "set it to the database URL, e.g. postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE"
)
ERR_URL_BAD = (
    "{where}: not a database URL ({error}); write it as dialect+driver://user@host:port/database"
)
ERR_DRIVER = (
    "{url}: no database driver for this URL ({error}); install riskmodel's `sql` extra "
    "(pip install 'riskmodel[sql]') for PostgreSQL"
)
ERR_CONNECT = (
    "{url}: cannot connect to the database: {error}. Check the host, port, user and password "
    "in {where} (the password is never shown)"
)
ERR_NO_TABLE = (
    "{source}: no such table in {url} (tables{in_schema}: {found}); correct `table:` or "
    "`schema:` in {config}"
)
ERR_NOT_SELECT = (
    "{source}: refused: {why}. A mapping's `query:` must be one read-only SELECT (or WITH ... "
    "SELECT) statement; nothing that writes, locks or creates is sent to the database"
)
ERR_QUERY_FAILED = "{source}: the database refused the read: {error}"
ERR_MAPPED_COLUMN = (
    "{source}: column {column!r} (mapped to {target!r} in {config}) is not in the {what} "
    "(found: {found}); correct the mapping's `columns:`"
)
ERR_ORDER_COLUMN = (
    "{source}: `order_by:` column {column!r} is not in the table (found: {found}); correct "
    "`order_by:` in {config}"
)

#: words that start a write, a lock or a new object inside what looks like a SELECT (a
#: data-modifying WITH, SELECT ... INTO, SELECT ... FOR UPDATE); quoted names never match
_WRITE_WORDS = frozenset(
    {
        "insert",
        "update",
        "delete",
        "merge",
        "into",
        "truncate",
        "drop",
        "create",
        "alter",
        "grant",
        "revoke",
        "copy",
        "call",
        "execute",
        "vacuum",
        "reindex",
        "cluster",
        "listen",
        "notify",
    }
)
_LOCKING = re.compile(r"\bfor\s+(no\s+key\s+update|update|key\s+share|share)\b")


class DatabaseSource(StrictModel):
    """Where a force's tables live.

    url_env : environment variable holding the SQLAlchemy URL, password included
        (``postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE``); it wins over ``url``
    url : the URL without a password (e.g. a unix-socket or Kerberos login); a URL with a password
        is refused: passwords never go into configs
    chunk_rows : rows fetched from the server at a time (a server-side cursor)
    """

    url_env: str | None = None
    url: str | None = None
    chunk_rows: int = Field(default=50_000, ge=1)

    @model_validator(mode="after")
    def _no_password(self) -> DatabaseSource:
        if self.url is None and self.url_env is None:
            raise ValueError(ERR_URL_NONE)
        if self.url is not None:
            try:
                parts = urlsplit(self.url)
                has_password = parts.password is not None or "password=" in parts.query.lower()
            except ValueError:
                userinfo = self.url.split("//")[-1].rsplit("@", 1)
                has_password = len(userinfo) == 2 and ":" in userinfo[0]
            if has_password:
                raise ValueError(ERR_URL_PASSWORD)
        return self


# -- URLs and secrets ----------------------------------------------------------------------------
def _make_url(text: str, where: str) -> Any:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except (ArgumentError, ValueError) as exc:
        # the text itself may hold a password: name where it came from, never echo it
        raise ContractError(ERR_URL_BAD.format(where=where, error=type(exc).__name__)) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3, the driver the extra installs
    return url


def _secrets(url: Any) -> list[str]:
    """The strings that must never be shown: the password, raw and URL-quoted."""
    out = []
    for key in ("password",):
        value = url.query.get(key)
        if isinstance(value, str) and value:
            out.append(value)
    if url.password:
        out.append(str(url.password))
    # every spelling a URL or a driver may use for it
    return [
        v
        for s in out
        for v in {s, quote(s, safe=""), quote(s, safe=":"), quote(s, safe="/:"), quote_plus(s)}
    ]


def safe_url(url: Any) -> str:
    """The URL as text with its password shown as ``***`` (also a ``password=`` parameter)."""
    if "password" in url.query:
        url = url.update_query_dict({"password": "***"})
    return url.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def redact(text: str, url: Any) -> str:
    """``text`` with every occurrence of the URL's password replaced by ``***``."""
    for secret in sorted(_secrets(url), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _db_error(exc: BaseException, url: Any) -> str:
    """The database's own words (first lines, without SQLAlchemy's background link), redacted."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(line.strip() for line in str(orig).strip().splitlines() if line.strip())
    text = re.sub(r"\(Background on this error at: [^)]*\)", "", text).strip()
    return redact(text[:600], url)


# -- read-only queries ---------------------------------------------------------------------------
_LEXEMES = re.compile(
    r"(?P<comment>/\*.*?\*/|--[^\n]*)"
    r"|(?P<dollar>\$(?P<tag>[A-Za-z_]\w*)?\$.*?\$(?P=tag)\$)"
    r"|(?P<literal>'(?:[^']|'')*')"
    r"|(?P<quoted>\"(?:[^\"]|\"\")*\")",
    flags=re.S,
)


def _strip_sql(sql: str) -> str:
    """The query with comments removed and literals and quoted names blanked (their words are
    data, not SQL), in one left-to-right pass: a ``--`` inside a literal is not a comment."""

    def blank(m: re.Match) -> str:
        if m.group("comment"):
            return " "
        return " _quoted_ " if m.group("quoted") else " _literal_ "

    return _LEXEMES.sub(blank, sql)


def check_select(sql: str) -> str | None:
    """Why ``sql`` is not one read-only SELECT, or ``None`` if it is one."""
    text = _strip_sql(sql).strip()
    if "/*" in text or "'" in text or '"' in text or "$$" in text:
        return "an unterminated comment, string or quoted name"
    text = text.rstrip().rstrip(";").strip()
    if not text:
        return "the query is empty"
    if ";" in text:
        return "more than one statement (a ';' inside the query)"
    words = re.findall(r"[a-z_][a-z0-9_$]*", text.lower())
    if not words or words[0] not in ("select", "with"):
        first = words[0].upper() if words else text[:10]
        return f"it starts with {first}, not SELECT or WITH"
    bad = sorted(set(words) & _WRITE_WORDS)
    if bad:
        return f"it contains {', '.join(w.upper() for w in bad)}"
    lock = _LOCKING.search(text.lower())
    if lock:
        return f"it locks rows ({lock.group(0).upper()})"
    return None


# -- reading -------------------------------------------------------------------------------------
def _arrow_column(values: tuple | list) -> Any:
    """One column of a chunk as Arrow (types inferred from the driver's Python values: dates,
    numbers, text, booleans); exact decimals become floats, unknown types text."""
    import pyarrow as pa

    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        arr = pa.array([None if v is None else str(v) for v in values], pa.string())
    if pa.types.is_decimal(arr.type):
        arr = arr.cast(pa.float64())
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    return arr


def _to_frame(chunks: list[Any], columns: list[str]) -> pd.DataFrame:
    """Arrow chunks (one table per fetch) as one pandas frame, releasing Arrow memory as it goes:
    dates as ``datetime64``, text as pandas' text dtype (as a CSV read as text gives)."""
    import pyarrow as pa

    if not chunks:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    table = pa.concat_tables(chunks, promote_options="default")  # no copy: chunks stay chunks
    chunks.clear()
    # column by column, each Arrow column freed once converted: the rows are never held twice
    frame = table.to_pandas(date_as_object=False, self_destruct=True, split_blocks=True)
    del table
    for col in frame.columns:  # a column that was empty in every row: text, as from a file
        if frame[col].dtype == object and frame[col].isna().all():
            frame[col] = frame[col].astype("str")
    return frame


class DatabaseReader:
    """An open connection (one read-only snapshot) that reads tables and queries as raw frames."""

    def __init__(self, conn: Any, url: Any, *, where: str, chunk_rows: int, config: str) -> None:
        self.conn = conn
        self.url = url
        self.where = where
        self.chunk_rows = chunk_rows
        self.config = config

    @property
    def label(self) -> str:
        return safe_url(self.url)

    def read(
        self,
        *,
        table: str | None,
        schema: str | None,
        query: str | None,
        name: str,
        columns: dict[str, str],
        key: tuple[str, ...],
        order_by: tuple[str, ...] = (),
    ) -> tuple[pd.DataFrame, str, str]:
        """``(raw frame, source label, provenance)`` of one table or query.

        ``columns`` is the mapping's contract -> source column (checked before any row is read);
        ``key`` the contract columns naming a row, whose source columns order a table's rows.
        """
        import sqlalchemy as sa
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        if table is not None:
            qualified = f"{schema}.{table}" if schema else table
            source = f"table {qualified}"
            stmt = self._table_select(table, schema, source, columns, key, order_by)
            provenance = f"{self.label} {source}"
            what = "table"
        else:
            assert query is not None
            source = f"query {name}"
            why = check_select(query)
            if why is not None:
                raise ContractError(ERR_NOT_SELECT.format(source=source, why=why))
            stmt = sa.text(query)
            provenance = f"{self.label} {source}: {' '.join(query.split())}"
            what = "query's result"
        try:
            # a server-side cursor for this statement only (a connection's options would stay)
            result = self.conn.execute(
                stmt,
                execution_options={"stream_results": True, "max_row_buffer": self.chunk_rows},
            )
            found = list(result.keys())
            if table is None:
                self._check_mapped(found, columns, source, what)
            chunks = []
            while rows := result.fetchmany(self.chunk_rows):
                cols = list(zip(*rows, strict=True))
                chunks.append(self._chunk(cols, found))
            result.close()
        except (DBAPIError, SQLAlchemyError) as exc:
            raise ContractError(
                ERR_QUERY_FAILED.format(source=source, error=_db_error(exc, self.url))
            ) from None
        return _to_frame(chunks, found), source, provenance

    @staticmethod
    def _chunk(cols: list[tuple], names: list[str]) -> Any:
        import pyarrow as pa

        return pa.table([_arrow_column(c) for c in cols], names=names)

    def _check_mapped(
        self, found: list[str], columns: dict[str, str], source: str, what: str
    ) -> None:
        for target, col in columns.items():
            if col not in found:
                raise ContractError(
                    ERR_MAPPED_COLUMN.format(
                        source=source,
                        column=col,
                        target=target,
                        config=self.config,
                        what=what,
                        found=", ".join(found) or "no columns",
                    )
                )

    def _table_select(
        self,
        table: str,
        schema: str | None,
        source: str,
        columns: dict[str, str],
        key: tuple[str, ...],
        order_by: tuple[str, ...],
    ) -> Any:
        """``SELECT * FROM table ORDER BY key, every other column``, after checking that the
        table and every mapped column exist (so a wrong name is named, not a server error)."""
        import sqlalchemy as sa
        from sqlalchemy.exc import DBAPIError, NoSuchTableError

        try:
            inspector = sa.inspect(self.conn)
            if not inspector.has_table(table, schema=schema):
                names = sorted(inspector.get_table_names(schema=schema))
                found = ", ".join(names[:30]) + (" ..." if len(names) > 30 else "")
                raise ContractError(
                    ERR_NO_TABLE.format(
                        source=source,
                        url=self.label,
                        in_schema=f" in schema {schema}" if schema else "",
                        found=found or "none",
                        config=self.config,
                    )
                )
            t = sa.Table(table, sa.MetaData(), schema=schema, autoload_with=self.conn)
        except NoSuchTableError:  # pragma: no cover - has_table said it was there
            raise ContractError(
                ERR_NO_TABLE.format(
                    source=source, url=self.label, in_schema="", found="?", config=self.config
                )
            ) from None
        except DBAPIError as exc:
            raise ContractError(
                ERR_QUERY_FAILED.format(source=source, error=_db_error(exc, self.url))
            ) from None
        found = [c.name for c in t.columns]
        self._check_mapped(found, columns, source, "table")
        for col in order_by:
            if col not in found:
                raise ContractError(
                    ERR_ORDER_COLUMN.format(
                        source=source, column=col, found=", ".join(found), config=self.config
                    )
                )
        first = list(order_by) or [columns.get(k, k) for k in key if columns.get(k, k) in found]
        rest = [c for c in found if c not in first]
        return sa.select(t).order_by(*(t.c[c] for c in [*first, *rest]))


@contextmanager
def open_database(source: DatabaseSource, *, config: str) -> Iterator[DatabaseReader]:
    """Connect (read-only, one snapshot on PostgreSQL) and yield a :class:`DatabaseReader`."""
    import os

    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError, NoSuchModuleError
    from sqlalchemy.pool import NullPool

    text = os.environ.get(source.url_env) if source.url_env else None
    if text:
        where = f"the environment variable {source.url_env}"
    elif source.url is not None:
        text, where = source.url, f"database.url in {config}"
    else:
        raise ContractError(ERR_URL_ENV_UNSET.format(env=source.url_env))
    url = _make_url(text, where)
    postgres = url.get_backend_name() == "postgresql"
    try:
        engine = sa.create_engine(
            url,
            poolclass=NullPool,
            connect_args={"connect_timeout": 15} if postgres else {},
            **({"isolation_level": "REPEATABLE READ"} if postgres else {}),
        )
    except (NoSuchModuleError, ImportError) as exc:
        raise ContractError(
            ERR_DRIVER.format(url=safe_url(url), error=redact(str(exc), url))
        ) from None
    try:
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            raise ContractError(
                ERR_CONNECT.format(url=safe_url(url), error=_db_error(exc, url), where=where)
            ) from None
        with conn:
            if postgres:
                conn = conn.execution_options(postgresql_readonly=True)
            yield DatabaseReader(
                conn, url, where=where, chunk_rows=source.chunk_rows, config=config
            )
            conn.rollback()  # read-only: nothing to keep
    finally:
        engine.dispose()


__all__ = [
    "DatabaseReader",
    "DatabaseSource",
    "check_select",
    "open_database",
    "redact",
    "safe_url",
]

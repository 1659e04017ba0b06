"""Table I/O with atomic writes: a crash never leaves a half-written file under the final name."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def current_umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it into place only if the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; give the mode a plain open() would (the user's umask decides)
        os.chmod(tmp_path, 0o666 & ~current_umask())
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _write_atomic(final: str | Path, writer: Callable[[Path], None]) -> Path:
    with atomic_path(final) as tmp:
        writer(tmp)
    return Path(final)


def write_parquet(
    df: pd.DataFrame, path: str | Path, *, metadata: dict[str, str] | None = None
) -> Path:
    """Write ``df`` to Parquet deterministically (same frame gives the same bytes)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    # pandas' own metadata embeds library versions; keep it, it is deterministic for one lock file
    for k, v in (metadata or {}).items():
        meta[k.encode()] = v.encode()
    table = table.replace_schema_metadata(meta)
    return _write_atomic(
        path, lambda tmp: pq.write_table(table, tmp, compression="zstd", write_statistics=True)
    )


def write_csv(df: pd.DataFrame, path: str | Path, *, header_lines: list[str] | None = None) -> Path:
    """Write CSV; ``header_lines`` are written first as ``# ...`` comment lines."""

    def _w(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            for line in header_lines or []:
                f.write(f"# {line}\n")
            df.to_csv(f, index=False)

    return _write_atomic(path, _w)


def write_json(obj: Any, path: str | Path) -> Path:
    text = json.dumps(obj, indent=2, sort_keys=True, default=str, allow_nan=False) + "\n"
    return _write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_text(text: str, path: str | Path) -> Path:
    return _write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _leading_comment_lines(path: Path) -> int:
    n = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("#"):
                break
            n += 1
    return n


def read_table(path: str | Path, **read_csv_kwargs: Any) -> pd.DataFrame:
    """Read a CSV or Parquet file by its extension.

    Only ``#`` lines at the top of a CSV are comments (our own permitted-use header); a ``#``
    inside a field (e.g. "Altered ID#") is data and is kept.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    if suffix in {".csv", ".txt"}:
        return pd.read_csv(path, skiprows=_leading_comment_lines(path), **read_csv_kwargs)
    raise ValueError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")

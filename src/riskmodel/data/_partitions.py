"""The two on-disk layouts of a world folder, and one way to read either a partition at a time.

A world's tables are written either as one file each (``<world>/people.parquet``, the layout of
every world small enough to hold in memory) or as a partitioned dataset
(``<world>/people/part-00000.parquet``, ``part-00001.parquet``, ... for each table). In the
partitioned layout every partition holds a disjoint set of people and, for each of them, the
whole of their history: every event in which they are the perpetrator, their programmes and
their truth rows, and one people row for every person its events name. So point-in-time features
and scores computed partition by partition equal those computed on the whole table.

The manifest says which layout (``"layout": "single"`` or ``"partitioned"``, absent means
single) and, when partitioned, how many partitions (``"partitions": K``); its ``files`` map
lists every part with its SHA-256, by path relative to the world folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

WORLD_TABLES = ("people", "events", "programmes", "truth")
Layout = Literal["single", "partitioned"]

ERR_NO_TABLES = (
    "{path}: not a world folder: expected people.parquet and events.parquet, or people/ and "
    "events/ partition folders (generate one with `riskmodel synth`)"
)
ERR_PART_MISMATCH = (
    "{path}: the partitioned tables disagree: {counts}; every table must have the same "
    "partitions (the world was changed after it was written, regenerate it)"
)


def part_name(table: str, k: int) -> str:
    """Path of partition ``k`` of ``table`` relative to the world folder."""
    return f"{table}/part-{k:05d}.parquet"


def world_layout(path: str | Path) -> Layout:
    """``"single"`` or ``"partitioned"``, from the manifest when there is one, else the files."""
    path = Path(path)
    manifest = path / "manifest.json"
    if manifest.exists():
        layout = json.loads(manifest.read_text(encoding="utf-8")).get("layout", "single")
        if layout in ("single", "partitioned"):
            return layout
    if (path / "people.parquet").exists() and (path / "events.parquet").exists():
        return "single"
    if (path / "people").is_dir() and (path / "events").is_dir():
        return "partitioned"
    raise FileNotFoundError(ERR_NO_TABLES.format(path=path))


def partition_count(path: str | Path) -> int:
    """Number of partitions of a world folder (1 for the single-file layout)."""
    path = Path(path)
    if world_layout(path) == "single":
        return 1
    counts = {t: len(sorted((path / t).glob("part-*.parquet"))) for t in WORLD_TABLES}
    present = {t: n for t, n in counts.items() if (path / t).is_dir()}
    if len(set(present.values())) != 1:
        raise ValueError(ERR_PART_MISMATCH.format(path=path, counts=present))
    return next(iter(present.values()))


def _read(f: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    # dates as datetime64, not Python date objects: 10x faster to check and order
    return pq.read_table(f).to_pandas(date_as_object=False)


def read_world_part(
    path: str | Path, k: int, tables: Sequence[str] = WORLD_TABLES
) -> dict[str, pd.DataFrame | None]:
    """Tables of partition ``k`` (the whole table in the single layout); ``None`` if absent."""
    path = Path(path)
    single = world_layout(path) == "single"
    out: dict[str, pd.DataFrame | None] = {}
    for t in tables:
        f = path / (f"{t}.parquet" if single else part_name(t, k))
        out[t] = _read(f) if f.exists() else None
    return out


def iter_world_parts(
    path: str | Path, tables: Sequence[str] = WORLD_TABLES
) -> Iterator[dict[str, pd.DataFrame | None]]:
    """Each partition's tables in order (one item for the single layout), one in memory at once."""
    for k in range(partition_count(path)):
        yield read_world_part(path, k, tables)


def read_world_tables(
    path: str | Path, tables: Sequence[str] = WORLD_TABLES
) -> dict[str, pd.DataFrame | None]:
    """Whole tables of either layout (partitions concatenated in order); for worlds that fit."""
    parts = list(iter_world_parts(path, tables))
    if len(parts) == 1:
        return parts[0]
    out: dict[str, pd.DataFrame | None] = {}
    for t in tables:
        frames = [p[t] for p in parts if p[t] is not None]
        out[t] = pd.concat(frames, ignore_index=True) if frames else None
    return out


__all__ = [
    "WORLD_TABLES",
    "iter_world_parts",
    "part_name",
    "partition_count",
    "read_world_part",
    "read_world_tables",
    "world_layout",
]

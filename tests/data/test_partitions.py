"""The world-folder layouts: a partitioned world reads back as the single-file one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskmodel.data import (
    iter_world_parts,
    part_name,
    partition_count,
    read_world_tables,
    world_layout,
    write_parquet,
)


def _tables(n: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(n)
    people = pd.DataFrame({"person_id": [f"P{i:04d}" for i in range(n)], "x": rng.random(n)})
    events = pd.DataFrame(
        {"perpetrator_id": people["person_id"].repeat(2).to_numpy(), "y": rng.random(2 * n)}
    )
    return {"people": people, "events": events}


def _write(tmp_path, tables, cuts):
    """Write ``tables`` split at person rows ``cuts`` (events follow their perpetrator)."""
    bounds = [0, *cuts, len(tables["people"])]
    for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        ids = set(tables["people"]["person_id"].iloc[lo:hi])
        write_parquet(tables["people"].iloc[lo:hi], tmp_path / part_name("people", k))
        ev = tables["events"]
        write_parquet(ev[ev["perpetrator_id"].isin(ids)], tmp_path / part_name("events", k))
    (tmp_path / "manifest.json").write_text(json.dumps({"layout": "partitioned"}))
    return len(bounds) - 1


def test_partitioned_world_reads_back_whole_and_part_by_part(tmp_path):
    tables = _tables(37)
    k = _write(tmp_path, tables, [5, 20, 21])
    assert world_layout(tmp_path) == "partitioned"
    assert partition_count(tmp_path) == k == 4
    whole = read_world_tables(tmp_path, ("people", "events"))
    pd.testing.assert_frame_equal(whole["people"], tables["people"])
    pd.testing.assert_frame_equal(whole["events"], tables["events"])
    sizes = [len(p["people"]) for p in iter_world_parts(tmp_path, ("people", "events"))]
    assert sizes == [5, 15, 1, 16]


def test_single_layout_is_one_part(tmp_path):
    tables = _tables(9)
    for t, df in tables.items():
        write_parquet(df, tmp_path / f"{t}.parquet")
    assert world_layout(tmp_path) == "single" and partition_count(tmp_path) == 1
    (part,) = list(iter_world_parts(tmp_path, ("people", "events", "truth")))
    pd.testing.assert_frame_equal(part["people"], tables["people"])
    assert part["truth"] is None


def test_partitions_that_disagree_are_refused(tmp_path):
    _write(tmp_path, _tables(10), [4])
    (tmp_path / part_name("events", 1)).unlink()
    with pytest.raises(ValueError, match="disagree"):
        partition_count(tmp_path)


def test_no_tables_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a world folder"):
        world_layout(tmp_path)

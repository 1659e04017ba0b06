"""Atomic writes and table reading."""

from __future__ import annotations

import stat

import pandas as pd
import pytest

from riskmodel.data import atomic_path, read_table, write_csv, write_parquet


def test_hash_inside_a_field_is_data_not_a_comment(tmp_path):
    df = pd.DataFrame({"id": [1, 2], "desc": ["Altered ID# card", "plain"], "y": [1, 0]})
    path = write_csv(df, tmp_path / "t.csv", header_lines=["PERMITTED USE: notice", "second"])
    back = read_table(path)
    assert back["desc"].tolist() == ["Altered ID# card", "plain"]
    assert back["y"].tolist() == [1, 0]


def test_failed_write_leaves_nothing_under_the_final_name(tmp_path):
    final = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError), atomic_path(final) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("crash mid-write")
    assert not final.exists()
    assert list(tmp_path.iterdir()) == []


def test_parquet_is_deterministic_and_readable_by_others(tmp_path):
    df = pd.DataFrame({"a": [3, 1, 2], "b": ["x", "y", "z"]})
    p1 = write_parquet(df, tmp_path / "a.parquet")
    p2 = write_parquet(df, tmp_path / "b.parquet")
    assert p1.read_bytes() == p2.read_bytes()
    assert stat.S_IMODE(p1.stat().st_mode) == 0o644
    pd.testing.assert_frame_equal(read_table(p1), df)

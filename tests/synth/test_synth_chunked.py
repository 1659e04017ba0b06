"""A world written block by block (``write_world_chunked``): the partitioned layout, its parity
with the world generated whole, byte-identity whatever the chunk size, the partition invariant,
and the calibration report from per-block aggregates.

The worlds here use small units (blocks of 1,500 perpetrators, two blocks a partition) so a
tenth-of-a-second world has seven blocks (the last one short) and four partitions.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from riskmodel.cli import app
from riskmodel.data import iter_world_parts, partition_count, read_world_tables, world_layout
from riskmodel.paths import configs_dir
from riskmodel.synth import (
    _store,
    generate_world,
    load_world,
    verify_world,
    write_world,
    write_world_chunked,
)
from riskmodel.synth._calibration import calibration_entries
from riskmodel.synth._calibration_parts import (
    block_aggregates,
    entries_from_aggregates,
    merge_aggregates,
)
from tests.synth.conftest import world_config

TABLES = ("people", "events", "programmes", "truth")
UNITS = {"block_people": 1_500, "partition_blocks": 2}
SCALE = 0.5  # tiny.yaml has 20,000 perpetrators: 10,000 here, 7 blocks, 4 partitions


@pytest.fixture(scope="module")
def whole(tiny_config):
    """The world generated whole, in memory, with the small units."""
    return generate_world(tiny_config, scale=SCALE, **UNITS)


@pytest.fixture(scope="module")
def partitioned(tiny_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("partitioned")
    manifest = write_world_chunked(
        tiny_config, out, scale=SCALE, layout="partitioned", chunk_people=1, **UNITS
    )
    return out, manifest


def test_the_units_give_several_blocks_and_a_short_last_one(whole, partitioned):
    out, manifest = partitioned
    plan = whole.plan
    assert plan.n_blocks == 7 and plan.n_perp % plan.block_people != 0
    assert manifest["layout"] == "partitioned" and manifest["partitions"] == 4
    assert world_layout(out) == "partitioned" and partition_count(out) == 4
    assert manifest["block_perpetrators"] == 1_500 and manifest["partition_blocks"] == 2


def test_partitions_concatenated_equal_the_world_generated_whole(whole, partitioned, tmp_path):
    out, manifest = partitioned
    single = write_world(whole, tmp_path / "single")
    one = read_world_tables(single)
    parts = read_world_tables(out)
    for t in TABLES:
        pd.testing.assert_frame_equal(parts[t], one[t], check_exact=True)
        assert manifest["row_counts"][t] == len(getattr(whole, t))
    assert parts["truth"]["event_id"].isin(parts["events"]["event_id"]).all()


def test_a_single_file_written_in_blocks_is_byte_identical_to_one_written_whole(
    whole, tiny_config, tmp_path
):
    write_world(whole, tmp_path / "whole")
    chunked = write_world_chunked(
        tiny_config,
        tmp_path / "chunked",
        scale=SCALE,
        layout="single",
        chunk_people=4_000,
        **UNITS,
    )
    written = json.loads((tmp_path / "whole" / "manifest.json").read_text())
    assert chunked["files"] == written["files"]
    assert "layout" not in chunked  # the single layout's manifest is the one it always was


@settings(max_examples=3, deadline=None)
@given(chunk_people=st.integers(1, 12_000))
@example(chunk_people=4_000)  # three blocks a chunk: divides neither the world nor a partition
@example(chunk_people=10_000_000)  # the whole world in one chunk
def test_files_are_byte_identical_whatever_the_chunk_size(
    partitioned, tiny_config, tmp_path_factory, chunk_people
):
    _, reference = partitioned
    out = tmp_path_factory.mktemp("chunk")
    manifest = write_world_chunked(
        tiny_config, out, scale=SCALE, layout="partitioned", chunk_people=chunk_people, **UNITS
    )
    assert manifest["files"] == reference["files"]
    assert len(manifest["files"]) == 4 * 4 + 2


@pytest.mark.parametrize("chunk_people", [None, 4_000])
def test_two_worker_processes_write_the_same_files(
    partitioned, tiny_config, tmp_path, chunk_people
):
    _, reference = partitioned
    manifest = write_world_chunked(
        tiny_config,
        tmp_path,
        scale=SCALE,
        layout="partitioned",
        workers=2,
        chunk_people=chunk_people,
        **UNITS,
    )
    assert manifest["files"] == reference["files"]


def test_each_partition_holds_whole_histories_and_its_own_people(partitioned):
    out, _ = partitioned
    seen: set[str] = set()
    for part in iter_world_parts(out):
        people = part["people"]["person_id"]
        assert people.is_unique
        ids = set(people)
        assert not ids & seen, "a person is in two partitions"
        seen |= ids
        ev = part["events"]
        named = set(ev["perpetrator_id"]) | set(ev["victim_id"].dropna())
        # exactly the people its events name: every one of them, and nobody else
        assert named == ids
        assert set(part["programmes"]["person_id"]) <= ids
        assert set(part["truth"]["person_id"]) <= ids
        assert set(part["truth"]["event_id"]) <= set(ev["event_id"])
        assert len(part["truth"]) == int(ev["is_da"].sum())
        # each person's events, in event_id order, are in time order (the contract's same-day
        # order), as perpetrator and as victim: their whole history is in one block
        by_id = ev.sort_values("event_id")
        for role in ("perpetrator_id", "victim_id"):
            assert by_id.groupby(role)["date"].is_monotonic_increasing.all()
    assert len(seen) == json.loads((out / "manifest.json").read_text())["row_counts"]["people"]


def test_the_partitioned_world_passes_its_manifest_and_a_changed_part_fails(partitioned, tmp_path):
    out, manifest = partitioned
    assert verify_world(out)["files"] == manifest["files"]
    assert "events/part-00002.parquet" in manifest["files"]
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(out, copy)
    part = copy / "truth" / "part-00001.parquet"
    df = pd.read_parquet(part)
    df.loc[0, "p_reoffend_12m"] = 0.5
    df.to_parquet(part)
    with pytest.raises(ValueError, match="part-00001.parquet does not match"):
        verify_world(copy)


def test_calibration_from_per_block_aggregates_equals_the_single_pass(whole, partitioned):
    out, _ = partitioned
    single_pass = calibration_entries(whole)
    written = json.loads((out / "calibration.json").read_text())
    assert written == json.loads(json.dumps(single_pass))
    assert any(e["ok"] is not None for e in written)


@pytest.mark.parametrize("name", ["tiny", "kent_measurement_bias", "kent"])
def test_aggregates_of_the_whole_world_give_its_calibration_entries(name):
    """Every metric of the configs, including the measurement-bias one and the changing world's
    (men's share of victims by year, the age bands that grew most), the same both ways."""
    cfg = world_config(name)
    world = generate_world(cfg, scale=0.2 if name == "tiny" else 0.01)
    merged = merge_aggregates([block_aggregates(world)])
    single_pass = calibration_entries(world)
    assert entries_from_aggregates(merged, world) == single_pass
    if name == "kent":  # the trend metrics were measured, not skipped
        measured = {e["name"] for e in single_pass if e["generated"] is not None}
        assert {"age_band_growth", "male_share_victims"} <= measured


def test_load_world_concatenates_a_small_partitioned_world_and_refuses_a_large_one(
    whole, partitioned, monkeypatch
):
    out, _ = partitioned
    loaded = load_world(out)
    assert loaded.row_counts() == whole.row_counts()
    monkeypatch.setattr(_store, "LOAD_MAX_ROWS", 100)
    with pytest.raises(ValueError, match="iter_world_parts"):
        load_world(out)


def test_cli_writes_either_layout_with_the_same_tables(tmp_path):
    runner = CliRunner()
    tiny = str(configs_dir() / "world" / "tiny.yaml")
    common = ["synth", "--config", tiny, "--scale", "0.2", "--chunk-people", "7"]
    for flag in ("--partitioned", "--single-file"):
        result = runner.invoke(app, [*common, flag, "--out", str(tmp_path / flag)])
        assert result.exit_code == 0, result.output
    parts = tmp_path / "--partitioned"
    assert (parts / "events" / "part-00000.parquet").exists()
    assert json.loads((parts / "manifest.json").read_text())["partitions"] == 1
    a, b = read_world_tables(parts), read_world_tables(tmp_path / "--single-file")
    for t in TABLES:
        pd.testing.assert_frame_equal(a[t], b[t])

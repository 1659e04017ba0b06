"""Synthetic world generation: time and peak memory of the single-table and chunked writers.

Each run happens in a fresh process (``run_measured``), so the peak memory is the generation's
own. The national world at full size is ``bench_national`` (generated, then scored):

- ``england_wales_single_table``: the single-table path (``generate_world`` then
  ``write_world``: the whole world in memory) at ``SMALL_SCALE`` of the national world, and
  ``england_wales_chunked_small`` the chunked writer, one process, on the same world (same
  files) for the memory difference at equal size.
- ``kent``: Kent and Medway, single-table path (the default world).

The machine is shared when measured: the load average before and after each run is recorded.
"""

from __future__ import annotations

import os

from benchmarks._measure import TREE_PEAK, run_measured_under_load, save_partial

SMALL_SCALE = 0.05  # 1.5 times Kent and Medway

SINGLE = """
import tempfile, time
from riskmodel.paths import configs_dir
from riskmodel.synth import generate_world, load_world_config, write_world

cfg = load_world_config(configs_dir() / "world" / "{name}.yaml")
t0 = time.perf_counter()
world = generate_world(cfg, scale={scale})
result["generate_seconds"] = round(time.perf_counter() - t0, 2)
with tempfile.TemporaryDirectory() as d:
    t1 = time.perf_counter()
    write_world(world, d)
    result["write_seconds"] = round(time.perf_counter() - t1, 2)
result["rows"] = world.row_counts()
result["rows_total"] = sum(result["rows"].values())
result["recorded_da_per_year"] = round(int(world.events["is_da"].sum()) / cfg.period.years)
result["calibration_not_ok"] = [e["name"] for e in world.calibration if e["ok"] is False]
"""

CHUNKED = (
    TREE_PEAK.replace("{", "{{").replace("}", "}}")
    + """
import json, resource, tempfile, time
from pathlib import Path
from riskmodel.paths import configs_dir
from riskmodel.synth import load_world_config, write_world_chunked

tree_peak_start()
cfg = load_world_config(configs_dir() / "world" / "{name}.yaml")
with tempfile.TemporaryDirectory() as d:
    t0 = time.perf_counter()
    manifest = write_world_chunked(
        cfg, d, scale={scale}, layout="{layout}", workers={workers}
    )
    result["generate_and_write_seconds"] = round(time.perf_counter() - t0, 2)
    result["disk_mb"] = round(
        sum(f.stat().st_size for f in Path(d).rglob("*") if f.is_file()) / 2**20, 1
    )
    calibration = json.loads((Path(d) / "calibration.json").read_text())
result["peak_rss_tree_mb"] = tree_peak_stop()
result["peak_rss_largest_worker_mb"] = round(
    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
)
result["workers"] = {workers}
result["layout"] = manifest.get("layout", "single")
result["partitions"] = manifest.get("partitions", 1)
result["rows"] = manifest["row_counts"]
result["rows_total"] = sum(result["rows"].values())
result["calibration_not_ok"] = [e["name"] for e in calibration if e["ok"] is False]
"""
)


def main() -> dict:
    figures: dict = {
        "machine": {"cpus": os.cpu_count()},
        "national": "the full national world is generated (and scored) by bench_national",
    }
    single = run_measured_under_load(SINGLE.format(name="england_wales", scale=SMALL_SCALE))
    single["scale"] = SMALL_SCALE
    single["note"] = (
        f"the single-table path (the whole world in memory) at {SMALL_SCALE} of the national "
        f"world (= {30 * SMALL_SCALE:g} x Kent)"
    )
    figures["england_wales_single_table"] = single
    save_partial(figures, "synth")
    chunked_small = run_measured_under_load(
        CHUNKED.format(name="england_wales", scale=SMALL_SCALE, layout="single", workers=1)
    )
    chunked_small["scale"] = SMALL_SCALE
    chunked_small["note"] = "the chunked writer, one process, on the same world and files"
    figures["england_wales_chunked_small"] = chunked_small
    save_partial(figures, "synth")
    kent = run_measured_under_load(SINGLE.format(name="kent", scale=1.0))
    figures["kent"] = kent
    figures["budget"] = {"kent_seconds": 120, "kent_peak_rss_mb": 4096}
    figures["kent_within_budget"] = kent["wall_seconds"] < 120 and kent["peak_rss_mb"] < 4096
    return figures

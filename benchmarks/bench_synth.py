"""Synthetic world generation: time and peak memory, the national world at full size.

Each run happens in a fresh process (``run_measured``), so the peak memory is the generation's
own:

- ``england_wales_partitioned``: the national world (england_wales.yaml, 30 times Kent and
  Medway, scale 1.0) generated a block at a time by two worker processes and written as a
  partitioned dataset (``write_world_chunked``). Its peak is sampled over the whole process tree
  (the parent writing the files plus its workers, summed) every half second.
- ``england_wales_single_table``: the single-table path (``generate_world`` then
  ``write_world``: the whole world in memory) at ``SMALL_SCALE`` of the national world, and
  ``england_wales_chunked_small`` the chunked writer, one process, on the same world (same
  files) for the memory difference at equal size.
- ``kent``: Kent and Medway, single-table path (the default world).

The machine is shared when measured: the load average before and after each run is recorded.
"""

from __future__ import annotations

import os

from benchmarks._measure import run_measured

SMALL_SCALE = 0.05  # 1.5 times Kent and Medway
#: the national run's scale (1.0: the whole world); an environment override for trial runs
NATIONAL_SCALE = float(os.environ.get("RISKMODEL_BENCH_NATIONAL_SCALE", "1.0"))
WORKERS = 2

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

CHUNKED = """
import json, os, resource, tempfile, threading, time
from pathlib import Path
from riskmodel.paths import configs_dir
from riskmodel.synth import load_world_config, write_world_chunked


def rss_tree_mb():
    # resident memory of this process and its children (the worker processes), summed
    me, total = os.getpid(), 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{{p}}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if int(p) != me and ppid != me:
                continue
            with open(f"/proc/{{p}}/status") as f:
                total += next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
        except (OSError, StopIteration, ValueError):
            pass
    return total / 1024


peak = [0.0]
stop = threading.Event()


def sample():
    while not stop.wait(0.5):
        peak[0] = max(peak[0], rss_tree_mb())


threading.Thread(target=sample, daemon=True).start()
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
stop.set()
result["peak_rss_tree_mb"] = round(max(peak[0], rss_tree_mb()), 1)
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


def _measured(code: str) -> dict:
    before = os.getloadavg()
    out = run_measured(code)
    out["load_average_before"] = [round(x, 2) for x in before]
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


def _save(figures: dict) -> None:
    """Write what is measured so far (the national run takes long on a shared machine: a later
    run that is cut short leaves its figures recorded); ``python -m benchmarks`` rewrites it."""
    from riskmodel.data import write_json
    from riskmodel.paths import reports_dir

    write_json({**figures, "partial": True}, reports_dir() / "bench" / "synth.json")


def main() -> dict:
    figures: dict = {"machine": {"cpus": os.cpu_count()}}
    national = _measured(
        CHUNKED.format(
            name="england_wales", scale=NATIONAL_SCALE, layout="partitioned", workers=WORKERS
        )
    )
    national["scale"] = NATIONAL_SCALE
    # the parent's own peak (run_measured) is the writer; the tree's is what the machine needs
    national["goal"] = {"wall_seconds": 600, "peak_rss_mb": 8192}
    national["within_goal"] = national["wall_seconds"] < 600 and national["peak_rss_tree_mb"] < 8192
    figures["england_wales_partitioned"] = national
    _save(figures)
    single = _measured(SINGLE.format(name="england_wales", scale=SMALL_SCALE))
    single["scale"] = SMALL_SCALE
    single["note"] = (
        f"the single-table path (the whole world in memory) at {SMALL_SCALE} of the national "
        f"world (= {30 * SMALL_SCALE:g} x Kent)"
    )
    figures["england_wales_single_table"] = single
    _save(figures)
    chunked_small = _measured(
        CHUNKED.format(name="england_wales", scale=SMALL_SCALE, layout="single", workers=1)
    )
    chunked_small["scale"] = SMALL_SCALE
    chunked_small["note"] = "the chunked writer, one process, on the same world and files"
    figures["england_wales_chunked_small"] = chunked_small
    _save(figures)
    kent = _measured(SINGLE.format(name="kent", scale=1.0))
    figures["kent"] = kent
    figures["budget"] = {"kent_seconds": 120, "kent_peak_rss_mb": 4096}
    figures["kent_within_budget"] = kent["wall_seconds"] < 120 and kent["peak_rss_mb"] < 4096
    return figures

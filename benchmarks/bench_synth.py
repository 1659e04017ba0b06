"""Synthetic world generation: time and peak memory for Kent and Medway and the national world.

Each world is generated and written (what ``riskmodel synth`` does) in a fresh process
(``run_measured``), so the peak memory is the generation's own.

The national world (england_wales.yaml, 30 times Kent) runs at ``NATIONAL_SCALE`` of its size:
at full size its events table alone has about 80 million rows (strings, dates), more than the
4 GB budget of one process holds. The JSON records the fraction and a linear extrapolation of the
time (generation is linear in people and events).
"""

from __future__ import annotations

from benchmarks._measure import run_measured

NATIONAL_SCALE = 0.05  # 1.5 times Kent and Medway

CODE = """
import tempfile, time
from riskmodel.synth import load_world_config
from riskmodel.paths import configs_dir
from riskmodel.synth import generate_world, write_world

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


def main() -> dict:
    kent = run_measured(CODE.format(name="kent", scale=1.0))
    national = run_measured(CODE.format(name="england_wales", scale=NATIONAL_SCALE))
    national["scale"] = NATIONAL_SCALE
    national["note"] = (
        f"run at {NATIONAL_SCALE} of the national world (= {30 * NATIONAL_SCALE:g} x Kent): the "
        "full world's tables (about 80 million events) exceed the 4 GB budget of one process"
    )
    national["extrapolated_full_wall_seconds"] = round(national["wall_seconds"] / NATIONAL_SCALE)
    return {
        "kent": kent,
        "england_wales": national,
        "budget": {"kent_seconds": 120, "kent_peak_rss_mb": 4096},
        "kent_within_budget": kent["wall_seconds"] < 120 and kent["peak_rss_mb"] < 4096,
    }

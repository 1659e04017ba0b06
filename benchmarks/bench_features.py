"""Feature building: time and peak memory for the Kent and Medway world and a national-scale one.

Inputs come from the synthetic generator (``riskmodel.synth.generate_world``): each world is
generated and written to a temporary folder by one child process, then ``build_cohort`` (what
``riskmodel features --world`` does: contract checks, ordering, features, labels, truth) runs in
a fresh child (``run_measured``), so time and peak memory are the feature stage's own.

The national world (england_wales.yaml, 30 times Kent) runs at ``NATIONAL_SCALE`` of its size:
memory grows with the rows (about 0.5 GB per million events, the contract checks' copies of the
tables included), so the full world (about 80 million events) would need tens of gigabytes in
one process; generating it would too (see bench_synth). The JSON records the fraction and a
linear extrapolation of the time (every step is a sort, prefix sums or binary searches:
O(n log n), close to linear at these sizes).
"""

from __future__ import annotations

import tempfile

from benchmarks._measure import run_measured

NATIONAL_SCALE = 0.1  # 3 times Kent and Medway
KENT_BUDGET_SECONDS = 60

GENERATE = """
from riskmodel.synth import load_world_config
from riskmodel.paths import configs_dir
from riskmodel.synth import generate_world, write_world

world = generate_world(load_world_config(configs_dir() / "world" / "{name}.yaml"), scale={scale})
write_world(world, {out!r})
result["rows"] = world.row_counts()
"""

BUILD = """
import time
from riskmodel.features import FeatureConfig, build_cohort

t0 = time.perf_counter()
table = build_cohort({world!r}, FeatureConfig())
result["build_seconds"] = round(time.perf_counter() - t0, 2)
result["counts"] = table.spec["counts"]
result["n_features"] = len(table.spec["features"])
result["rows_out"] = len(table.frame)
"""


def _world_run(name: str, scale: float) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench_features_{name}_") as d:
        made = run_measured(GENERATE.format(name=name, scale=scale, out=d))
        built = run_measured(BUILD.format(world=d))
    c = built["counts"]
    return {
        "scale": scale,
        "input_rows": made["rows"],
        "recorded_da_events": c["index_events"],
        "events_in": c["events_in"],
        "people_in": c["people_in"],
        "rejected": {k: v for k, v in c.items() if k.endswith("_rejected")},
        "censored": c["censored"],
        "rows_out": built["rows_out"],
        "n_features": built["n_features"],
        "build_seconds": built["build_seconds"],
        "wall_seconds": built["wall_seconds"],
        "peak_rss_mb": built["peak_rss_mb"],
        "generate_wall_seconds": made["wall_seconds"],
    }


def main() -> dict:
    kent = _world_run("kent", 1.0)
    national = _world_run("england_wales", NATIONAL_SCALE)
    national["note"] = (
        f"run at {NATIONAL_SCALE} of the national world (= {30 * NATIONAL_SCALE:g} x Kent): "
        "memory grows with the rows, so the full world (about 80 million events) would need "
        "tens of GB in one process; the full-size time is a linear extrapolation"
    )
    national["extrapolated_full_build_seconds"] = round(national["build_seconds"] / NATIONAL_SCALE)
    return {
        "input_generator": "riskmodel.synth.generate_world (configs/world/kent.yaml, "
        "england_wales.yaml), written with write_world",
        "command": "build_cohort(world_dir, FeatureConfig()) == riskmodel features --world DIR",
        "kent": kent,
        "england_wales": national,
        "budget": {"kent_seconds": KENT_BUDGET_SECONDS},
        "kent_within_budget": kent["wall_seconds"] < KENT_BUDGET_SECONDS,
    }

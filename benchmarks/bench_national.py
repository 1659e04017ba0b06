"""National scale end to end on one machine (issue 15): the England and Wales world generated
out of core, then its latest cohort's features and eligibility list, from the generated files.

1. ``generate``: ``england_wales.yaml`` (30 times Kent and Medway) at ``NATIONAL_SCALE`` written as
   a partitioned dataset by ``write_world_chunked`` with 2 worker processes (the same call as
   ``riskmodel synth --partitioned --workers 2``).
2. A model bundle is made from partition 0 (not measured: ``bench_score.make_bundle_from``, the
   training stage's default parameters and a trained run's tree counts).
3. ``score_<engine>``: ``score_cohort`` on the generated world folder, as of its last day: the
   contracts, point-in-time features and both heads partition by partition, the eligibility rule
   once over everyone (capacity 30 times Kent's 500), reasons for the listed, the list, summary
   and audit-log entry. ``dask`` runs the partitions on a ``distributed.LocalCluster`` of this
   machine (2 worker processes x 1 thread, started inside the measured run); ``local`` runs them
   one after another in one process.

Every step runs in a fresh child process; peaks are of the whole process tree (the child, its
worker processes and theirs, summed, sampled every half second), so they are what the machine
needed. ``end_to_end_seconds`` is generation plus the fastest scoring run.

Environment:

- ``RISKMODEL_BENCH_NATIONAL_SCALE``: world scale (default 1.0, the whole national world);
- ``RISKMODEL_BENCH_NATIONAL_ENGINES``: comma-separated, of ``dask,local`` (default ``dask``:
  the national cohort on both cores; ``bench_engine`` compares the two engines at 1M people);
- ``RISKMODEL_BENCH_NATIONAL_WORLD``: an existing generated world folder to score instead of
  generating one (generation is then not measured again).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from benchmarks._measure import TREE_PEAK, run_measured_under_load, save_partial

NATIONAL_SCALE = float(os.environ.get("RISKMODEL_BENCH_NATIONAL_SCALE", "1.0"))
ENGINES = [
    e.strip()
    for e in os.environ.get("RISKMODEL_BENCH_NATIONAL_ENGINES", "dask").split(",")
    if e.strip()
]
WORKERS = 2
#: Kent's programme places times the national world's size relative to Kent
CAPACITY = 500 * 30
GOAL = {"generate_seconds": 600, "generate_peak_rss_mb": 8192}

GENERATE = (
    TREE_PEAK
    + """
import json, time
from pathlib import Path
from riskmodel.paths import configs_dir
from riskmodel.synth import load_world_config, write_world_chunked

cfg = load_world_config(configs_dir() / "world" / "england_wales.yaml")
tree_peak_start()
t0 = time.perf_counter()
manifest = write_world_chunked(cfg, OUT, scale=SCALE, layout="partitioned", workers=WORKERS)
result["generate_seconds"] = round(time.perf_counter() - t0, 2)
result["peak_rss_tree_mb"] = tree_peak_stop()
result["partitions"] = manifest.get("partitions", 1)
result["rows"] = manifest["row_counts"]
result["rows_total"] = sum(result["rows"].values())
result["disk_mb"] = round(sum(f.stat().st_size for f in Path(OUT).rglob("*") if f.is_file()) / 2**20, 1)
calibration = json.loads((Path(OUT) / "calibration.json").read_text())
result["calibration_not_ok"] = [e["name"] for e in calibration if e["ok"] is False]
"""
)

BUNDLE = """
import datetime as dt, json
from pathlib import Path
from benchmarks.bench_score import make_bundle_from
from riskmodel.data import read_world_part

manifest = json.loads((Path(WORLD) / "manifest.json").read_text())
part = read_world_part(WORLD, 0)
result["bundle"] = make_bundle_from(
    part["people"], part["events"], part.get("programmes"), Path(OUT),
    as_of=dt.date.fromisoformat(str(manifest["end_date"])),
)
"""

SCORE = (
    TREE_PEAK
    + """
import hashlib, os, time
from pathlib import Path
os.environ["RISKMODEL_HOME"] = str(Path(OUT).parent / "home")  # the bench's own audit log
from riskmodel.eligibility import EligibilityConfig
from riskmodel.scoring import score_cohort

tree_peak_start()
t0 = time.perf_counter()
cluster = scheduler = None
if ENGINE == "dask":
    from distributed import LocalCluster
    cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                           dashboard_address=None, memory_limit="8GiB")
    scheduler = cluster.scheduler_address
res = score_cohort(
    model=MODEL, cohort=WORLD, purpose="programme_referral", capacity=CAPACITY, out_dir=OUT,
    rule=EligibilityConfig(capacity=CAPACITY), user="bench", engine=ENGINE, scheduler=scheduler,
)
result["score_seconds"] = round(time.perf_counter() - t0, 2)
if cluster is not None:
    cluster.close()
result["peak_rss_tree_mb"] = tree_peak_stop()
result["counts"] = res.counts
result["timings"] = res.timings
result["list_sha256"] = hashlib.sha256((Path(OUT) / "eligibility_list.csv").read_bytes()).hexdigest()
"""
)


def _fill(code: str, **values: object) -> str:
    for k, v in values.items():
        code = code.replace(k, repr(v) if isinstance(v, str) else str(v))
    return code


def main() -> dict:
    figures: dict = {
        "what": (
            "the England and Wales world generated as a partitioned dataset on 2 cores, then its "
            "latest cohort scored from those files: features, both heads, the eligibility list"
        ),
        "machine": {"cpus": os.cpu_count()},
        "scale": NATIONAL_SCALE,
        "capacity": CAPACITY,
    }
    reuse = os.environ.get("RISKMODEL_BENCH_NATIONAL_WORLD")
    with tempfile.TemporaryDirectory(prefix="bench_national_") as tmp:
        tmp = Path(tmp)
        world = Path(reuse) if reuse else tmp / "world"
        if reuse:
            figures["generate"] = {"reused_world": str(world)}
        else:
            print(f"  generating the national world at scale {NATIONAL_SCALE}", flush=True)
            gen = run_measured_under_load(
                _fill(GENERATE, OUT=str(world), SCALE=NATIONAL_SCALE, WORKERS=WORKERS)
            )
            gen["goal"] = GOAL
            gen["within_goal"] = (
                gen["generate_seconds"] < GOAL["generate_seconds"]
                and gen["peak_rss_tree_mb"] < GOAL["generate_peak_rss_mb"]
            )
            figures["generate"] = gen
            save_partial(figures, "national")
        print("  making a model bundle from partition 0", flush=True)
        figures["bundle"] = run_measured_under_load(
            _fill(BUNDLE, WORLD=str(world), OUT=str(tmp / "model"))
        )["bundle"]
        manifest = json.loads((world / "manifest.json").read_text())
        figures["as_of"] = str(manifest["end_date"])
        for engine in ENGINES:
            print(f"  scoring the national cohort with --engine {engine}", flush=True)
            figures[f"score_{engine}"] = run_measured_under_load(
                _fill(
                    SCORE,
                    ENGINE=engine,
                    MODEL=str(tmp / "model"),
                    WORLD=str(world),
                    OUT=str(tmp / f"out_{engine}"),
                    CAPACITY=CAPACITY,
                    WORKERS=WORKERS,
                )
            )
            save_partial(figures, "national")
    scored = [figures[f"score_{e}"] for e in ENGINES]
    if len(scored) > 1:
        figures["same_list"] = len({s["list_sha256"] for s in scored}) == 1
    gen_s = figures["generate"].get("generate_seconds")
    if gen_s is not None and scored:
        fastest = min(scored, key=lambda s: s["wall_seconds"])
        figures["end_to_end_seconds"] = round(gen_s + fastest["wall_seconds"], 1)
        figures["end_to_end_peak_rss_mb"] = max(
            figures["generate"]["peak_rss_tree_mb"], fastest["peak_rss_tree_mb"]
        )
    return figures

"""The Dask engine's overhead: the same partitioned 1,000,000-person cohort scored with
``--engine local`` and with ``--engine dask`` on a ``distributed.LocalCluster`` of this machine,
in the same run. The ratio is dask wall time / local wall time.

The world and model are ``bench_score``'s (generated here, not by the synthetic world
generator), written as a partitioned world of ``BENCH_ENGINE_PARTS`` partitions by perpetrator
(each partition: its people, their events as perpetrator, and a people row for every victim
named). Each run is a fresh child process; the cluster (2 worker processes, 1 thread each: this
machine's 2 cores) is started inside the dask child, so its start-up is counted as overhead.
``peak_rss_mb`` of the dask run is the client process only; the workers' peaks are reported
separately by the workers themselves (``worker_peak_rss_mb``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from benchmarks._measure import run_measured
from benchmarks.bench_score import CAPACITY, N_PEOPLE, make_bundle, make_world

N_PARTS = int(os.environ.get("BENCH_ENGINE_PARTS", 8))


def write_partitioned(world: Path, out: Path, k: int) -> None:
    """``world`` (single files) as ``k`` partitions by perpetrator, with the manifest's layout."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from riskmodel.data import part_name

    people = pq.read_table(world / "people.parquet")
    events = pq.read_table(world / "events.parquet")
    # the benchmark's ids are the people's row numbers, zero-padded: person i -> partition i % k
    owner = np.arange(len(people)) % k
    perp = pc.cast(events["perpetrator_id"], pa.int64()).to_numpy()
    ev_part = owner[perp]
    for i in range(k):
        ev = events.filter(pa.array(ev_part == i))
        named = pa.concat_arrays(
            [ev["perpetrator_id"].combine_chunks(), ev["victim_id"].combine_chunks()]
        ).drop_null()
        keep = pc.or_(pa.array(owner == i), pc.is_in(people["person_id"], value_set=named))
        for name, table in (("people", people.filter(keep)), ("events", ev)):
            f = out / part_name(name, i)
            f.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, f)
    manifest = json.loads((world / "manifest.json").read_text())
    manifest.update({"layout": "partitioned", "partitions": k})
    (out / "manifest.json").write_text(json.dumps(manifest))


CODE = """
import os, time
from pathlib import Path
os.environ["RISKMODEL_HOME"] = str(Path(OUT).parent / "home")  # the bench's own audit log
from riskmodel.eligibility import EligibilityConfig
from riskmodel.scoring import score_cohort
cluster = None
scheduler = None
worker_peaks = {}
if ENGINE == "dask":
    from distributed import LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, memory_limit="4GiB")
    scheduler = cluster.scheduler_address
t0 = time.perf_counter()
res = score_cohort(
    model=MODEL, cohort=WORLD, purpose="programme_referral", capacity=CAPACITY,
    out_dir=OUT, rule=EligibilityConfig(reoffend_threshold=0.35, severe_threshold=0.10,
    capacity=CAPACITY), user="bench", engine=ENGINE, scheduler=scheduler,
)
seconds = time.perf_counter() - t0
if cluster is not None:
    from distributed import Client
    def peak():
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with Client(scheduler) as c:
        worker_peaks = {str(k): round(v, 1) for k, v in c.run(peak).items()}
    cluster.close()
result = {"counts": res.counts, "timings": res.timings, "score_seconds": round(seconds, 2),
          "worker_peak_rss_mb": worker_peaks,
          "list_sha256": __import__("hashlib").sha256(
              (Path(OUT) / "eligibility_list.csv").read_bytes()).hexdigest()}
"""


def _run(engine: str, model: Path, world: Path, out: Path) -> dict:
    code = (
        CODE.replace("ENGINE", repr(engine))
        .replace("MODEL", repr(str(model)))
        .replace("WORLD", repr(str(world)))
        .replace("OUT", repr(str(out)))
        .replace("CAPACITY", str(CAPACITY))
    )
    return run_measured(code)


def main() -> dict:
    with tempfile.TemporaryDirectory(prefix="bench_engine_") as tmp:
        tmp = Path(tmp)
        single = tmp / "single"
        sizes = make_world(N_PEOPLE, single)
        make_bundle(single, tmp / "model")
        world = tmp / "world"
        write_partitioned(single, world, N_PARTS)
        load_before = os.getloadavg()[0]
        local = _run("local", tmp / "model", world, tmp / "out_local")
        dask = _run("dask", tmp / "model", world, tmp / "out_dask")
        load_after = os.getloadavg()[0]
    return {
        "what": (
            "score_cohort on the same partitioned world with --engine local and --engine dask "
            "(LocalCluster: 2 worker processes x 1 thread, started inside the measured run)"
        ),
        "cohort_people": N_PEOPLE,
        "world_rows": sizes,
        "partitions": N_PARTS,
        "cpu_count": os.cpu_count(),
        "local": local,
        "dask": dask,
        "same_list": local["list_sha256"] == dask["list_sha256"],
        "overhead_ratio_wall": round(dask["wall_seconds"] / local["wall_seconds"], 3),
        "overhead_ratio_scoring": round(dask["score_seconds"] / local["score_seconds"], 3),
        "load_average_1min_before": round(load_before, 2),
        "load_average_1min_after": round(load_after, 2),
        "note": (
            "on one 2-core machine the ratio measures Dask's overhead (cluster start, task "
            "scheduling, moving results between processes), not a speed-up; peak_rss_mb of the "
            "dask run is the client process, the workers' own peaks are worker_peak_rss_mb"
        ),
    }


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(main(), indent=2))

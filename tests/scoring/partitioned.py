"""Make a partitioned world folder from a single-file one, as docs/CONTRACTS.md lays it out.

Independent of the generator's own partitioned writer: people are dealt to partitions by a
keyed hash of their id; every event goes to its perpetrator's partition (an event without a
perpetrator to its victim's, else by its own id), with its truth row; programmes go to their
person's partition; and each partition carries one people row for every person its events name,
besides the people it owns. So a person's whole history as perpetrator lives in one partition.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from riskmodel.data import part_name
from riskmodel.provenance import sha256_file

TABLES = ("people", "events", "programmes", "truth")


def _bucket(ids: pa.Array, k: int) -> np.ndarray:
    import pandas as pd

    text = pd.Series(ids.to_pandas(), dtype=object).fillna("")
    return (pd.util.hash_array(text.to_numpy(), hash_key="partition-test00") % k).astype(np.int64)


def split_world(src: Path, out: Path, k: int) -> Path:
    """Write ``src`` (single-file layout) as ``k`` partitions under ``out``; returns ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    t = {n: pq.read_table(src / f"{n}.parquet") for n in TABLES if (src / f"{n}.parquet").exists()}
    people, events = t["people"], t["events"]
    owner = dict(zip(people["person_id"].to_pylist(), _bucket(people["person_id"], k), strict=True))

    def part_of(ids: pa.Array) -> np.ndarray:
        return np.array([owner.get(i, -1) if i is not None else -1 for i in ids.to_pylist()])

    ev_part = part_of(events["perpetrator_id"])
    no_perp = ev_part < 0
    ev_part[no_perp] = part_of(events["victim_id"])[no_perp]
    still = ev_part < 0
    ev_part[still] = _bucket(events["event_id"], k)[still]
    event_part = dict(zip(events["event_id"].to_pylist(), ev_part, strict=True))
    people_part = _bucket(people["person_id"], k)
    files: dict[str, str] = {}
    for i in range(k):
        ev = events.filter(pa.array(ev_part == i))
        named = pa.concat_arrays(
            [ev["perpetrator_id"].combine_chunks(), ev["victim_id"].combine_chunks()]
        ).drop_null()
        keep = pc.or_(pa.array(people_part == i), pc.is_in(people["person_id"], value_set=named))
        parts = {"people": people.filter(keep), "events": ev}
        if "programmes" in t:
            g = t["programmes"]
            parts["programmes"] = g.filter(pa.array(part_of(g["person_id"]) == i))
        if "truth" in t:
            tr = t["truth"]
            tp = np.array([event_part.get(e, -1) for e in tr["event_id"].to_pylist()])
            parts["truth"] = tr.filter(pa.array(tp == i))
        for name, table in parts.items():
            f = out / part_name(name, i)
            f.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, f)
            files[part_name(name, i)] = sha256_file(f)
    manifest = {}
    if (src / "manifest.json").exists():
        manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    for extra in ("calibration.json", "calibration.html"):
        if (src / extra).exists():
            shutil.copy(src / extra, out / extra)
            files[extra] = sha256_file(out / extra)
    manifest.update({"layout": "partitioned", "partitions": k, "files": files})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out

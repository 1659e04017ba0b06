"""Writing and loading a world folder (docs/CONTRACTS.md): Parquet tables, manifest, report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel import __version__
from riskmodel.config import validate_mapping
from riskmodel.data import write_json, write_parquet, write_text
from riskmodel.notice import PERMITTED_USE_NOTICE
from riskmodel.provenance import sha256_file
from riskmodel.synth._config import WorldConfig
from riskmodel.synth._report import render_calibration_html
from riskmodel.synth._world import World

TABLES = ("people", "events", "programmes", "truth")
MANIFEST = "manifest.json"
CALIBRATION_JSON = "calibration.json"
CALIBRATION_HTML = "calibration.html"

ERR_NO_MANIFEST = (
    "{dir}: not a world folder (no manifest.json); generate one with `riskmodel synth`"
)
ERR_MISSING_FILE = "{dir}: {file} is listed in the manifest but missing"
ERR_HASH = (
    "{dir}: {file} does not match its SHA-256 in the manifest (expected {expected}, found "
    "{found}); the world was changed after it was written, regenerate it"
)


def write_world(world: World, out_dir: str | Path) -> Path:
    """Write the four tables, ``calibration.json``/``.html`` and ``manifest.json`` to ``out_dir``.

    Same world gives byte-identical files: the report carries no time stamp and every file is
    written deterministically, so the manifest hashes identify the world.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"riskmodel.permitted_use": PERMITTED_USE_NOTICE, "riskmodel.world": world.name}
    for name in TABLES:
        write_parquet(getattr(world, name), out / f"{name}.parquet", metadata=meta)
    write_json(world.calibration, out / CALIBRATION_JSON)
    write_text(render_calibration_html(world), out / CALIBRATION_HTML)
    files = [f"{n}.parquet" for n in TABLES] + [CALIBRATION_JSON, CALIBRATION_HTML]
    manifest: dict[str, Any] = {
        "permitted_use": PERMITTED_USE_NOTICE,
        "world": world.name,
        "config": world.config.model_dump(mode="json"),
        "seed": world.seed,
        "scale": world.scale,
        "start_date": world.start_date.isoformat(),
        "end_date": world.end_date.isoformat(),
        "row_counts": world.row_counts(),
        "files": {f: sha256_file(out / f) for f in files},
        "package_version": __version__,
        "calibration_ok": all(e["ok"] is not False for e in world.calibration),
    }
    write_json(manifest, out / MANIFEST)
    world.manifest = manifest
    return out


def verify_world(directory: str | Path) -> dict[str, Any]:
    """Check every file of a world folder against the SHA-256 in its manifest; return it."""
    d = Path(directory)
    if not (d / MANIFEST).exists():
        raise FileNotFoundError(ERR_NO_MANIFEST.format(dir=d))
    manifest = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
    for file, expected in sorted(manifest["files"].items()):
        path = d / file
        if not path.exists():
            raise FileNotFoundError(ERR_MISSING_FILE.format(dir=d, file=file))
        found = sha256_file(path)
        if found != expected:
            raise ValueError(ERR_HASH.format(dir=d, file=file, expected=expected, found=found))
    return manifest


def load_world(directory: str | Path, *, verify: bool = True) -> World:
    """Load a world folder written by :func:`write_world`.

    ``verify`` checks the SHA-256 of every file against the manifest first. The loaded world
    has the tables, config, seed, scale, dates, calibration entries and manifest; the true
    incidents behind the records are not kept on disk.
    """
    d = Path(directory)
    if verify:
        manifest = verify_world(d)
    else:
        if not (d / MANIFEST).exists():
            raise FileNotFoundError(ERR_NO_MANIFEST.format(dir=d))
        manifest = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
    tables = {name: pd.read_parquet(d / f"{name}.parquet") for name in TABLES}
    calibration = json.loads((d / CALIBRATION_JSON).read_text(encoding="utf-8"))
    config = validate_mapping(manifest["config"], WorldConfig, source=str(d / MANIFEST))
    return World(
        **tables,
        config=config,
        seed=int(manifest["seed"]),
        scale=float(manifest["scale"]),
        start_date=dt.date.fromisoformat(manifest["start_date"]),
        end_date=dt.date.fromisoformat(manifest["end_date"]),
        calibration=calibration,
        manifest=manifest,
    )

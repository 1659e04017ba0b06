"""From an experiment file to a feature table: build the world and the features when missing.

Worlds are generated into ``synthetic_data/<world name>-<hash>/`` (the one home of generated
worlds, ``riskmodel.paths.synthetic_data_dir``) and feature tables cached under
``.cache/features/<hash>/`` (``riskmodel.paths.cache_dir``). A world found already generated is
checked against its manifest before use. The world key hashes the world config,
its seed and scale, and the source code of the ``synth`` package; the features key adds the
feature config and the ``features`` source code, so editing the generator or the feature builder
never serves a stale table. Each entry is built in a temporary folder and renamed into place, so
an interrupted build never leaves a half-written cache entry.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from riskmodel import features, synth
from riskmodel.paths import cache_dir, synthetic_data_dir
from riskmodel.provenance import config_hash

if TYPE_CHECKING:  # annotations only: the experiment sits at the top layer
    from riskmodel.experiment import ExperimentConfig
    from riskmodel.synth import WorldConfig

WORLD_DONE = "manifest.json"
FEATURES_DONE = ("features.parquet", "feature_spec.json")

Progress = Callable[[str], None]


@dataclass
class PreparedData:
    """The feature table an experiment trains on, and where it came from."""

    frame: pd.DataFrame
    spec: dict[str, Any]
    source: str
    features_dir: Path | None
    world_dir: Path | None
    world_key: str | None = None
    features_key: str | None = None


def spec_dict(spec: Any) -> dict[str, Any]:
    """The feature spec as plain JSON-able data, whatever object the features stage returns."""
    if isinstance(spec, dict):
        return dict(spec)
    for attr in ("to_dict", "model_dump", "as_dict"):
        fn = getattr(spec, attr, None)
        if callable(fn):
            return dict(fn(mode="json") if attr == "model_dump" else fn())
    import dataclasses

    if dataclasses.is_dataclass(spec):
        return dataclasses.asdict(spec)
    raise TypeError(f"cannot read a feature spec of type {type(spec).__name__}")


def _source_fingerprint(package: str) -> str:
    """Hash of a stage's Python sources: a code change invalidates what it built."""
    import importlib

    mod = importlib.import_module(package)
    root = Path(mod.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _build_into(final: Path, build: Callable[[Path], None]) -> Path:
    """Run ``build(tmp_dir)`` and rename the result to ``final`` (atomic on one filesystem)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        build(tmp)
        if final.exists():  # built meanwhile by another process, or an incomplete leftover
            shutil.rmtree(final)
        tmp.rename(final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def world_key(experiment: ExperimentConfig) -> tuple[WorldConfig, str]:
    """The world config the experiment names (seed override applied) and its cache key."""
    overrides = {"seed": experiment.world_seed} if experiment.world_seed is not None else {}
    world_cfg = synth.load_world_config(experiment.world, **overrides)
    key = config_hash(
        {
            "world": world_cfg.model_dump(mode="json"),
            "scale": experiment.scale,
            "code": _source_fingerprint("riskmodel.synth"),
        }
    )
    return world_cfg, key


def features_key(experiment: ExperimentConfig, wkey: str) -> str:
    return config_hash(
        {
            "world": wkey,
            "features": experiment.features.model_dump(mode="json"),
            "code": _source_fingerprint("riskmodel.features"),
        }
    )


def ensure_world(
    experiment: ExperimentConfig, *, progress: Progress | None = None, workers: int = 1
) -> tuple[Path, str]:
    """The cached world folder for the experiment, generated when missing.

    ``workers`` processes generate its blocks side by side; the files are the same whatever the
    number (the world's random streams and ids are fixed per block).
    """
    say = progress or (lambda _msg: None)
    world_cfg, wkey = world_key(experiment)
    wdir = synthetic_data_dir() / f"{world_cfg.name}-{wkey}"
    if not (wdir / WORLD_DONE).exists():
        say(f"generating the world {getattr(world_cfg, 'name', '')} (scale {experiment.scale})")

        def _build(tmp: Path) -> None:
            if workers > 1:
                synth.write_world_chunked(
                    world_cfg,
                    tmp,
                    seed=experiment.world_seed,
                    scale=experiment.scale,
                    layout="single",
                    workers=workers,
                )
                return
            world = synth.generate_world(
                world_cfg,
                seed=experiment.world_seed,
                scale=experiment.scale,
                progress=lambda step, fraction: say(f"world: {step} ({fraction:.0%})"),
            )
            synth.write_world(world, tmp)

        _build_into(wdir, _build)
    else:
        say(f"using the world already generated in {wdir} (checking its manifest)")
        synth.verify_world(wdir)  # a world changed after it was written is refused, file named
    return wdir, wkey


def ensure_features(
    experiment: ExperimentConfig,
    world_dir: Path,
    wkey: str,
    *,
    progress: Progress | None = None,
) -> tuple[Path, str]:
    """The cached feature table for the experiment's world and feature config."""
    say = progress or (lambda _msg: None)
    fkey = features_key(experiment, wkey)
    fdir = cache_dir() / "features" / fkey
    if not all((fdir / f).exists() for f in FEATURES_DONE):
        say("building point-in-time features")

        def _build(tmp: Path) -> None:
            table = features.build_cohort(
                world_dir, experiment.features, progress=lambda step: say(f"features: {step}")
            )
            table.save(tmp)

        _build_into(fdir, _build)
    else:
        say(f"using the cached features {fdir}")
    return fdir, fkey


def prepare_data(experiment: ExperimentConfig, *, progress: Progress | None = None) -> PreparedData:
    """Load (building when needed) the feature table the experiment trains on."""
    say = progress or (lambda _msg: None)
    if experiment.table is not None:
        say(f"loading the external table {experiment.table}")
        table = features.load_external_table(experiment.table)
        spec = spec_dict(table.spec)
        return PreparedData(
            frame=table.frame,
            spec=spec,
            source=str(spec.get("source", "external")),
            features_dir=None,
            world_dir=None,
        )
    world_dir, wkey = ensure_world(experiment, progress=say)
    fdir, fkey = ensure_features(experiment, world_dir, wkey, progress=say)
    table = features.load_feature_table(fdir)
    spec = spec_dict(table.spec)
    return PreparedData(
        frame=table.frame,
        spec=spec,
        source=str(spec.get("source", "synthetic")),
        features_dir=fdir,
        world_dir=world_dir,
        world_key=wkey,
        features_key=fkey,
    )

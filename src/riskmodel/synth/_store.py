"""Writing and loading a world folder (docs/CONTRACTS.md): Parquet tables, manifest, report."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from riskmodel import __version__
from riskmodel.config import validate_mapping
from riskmodel.data import atomic_path, part_name, write_json, write_text
from riskmodel.notice import PERMITTED_USE_NOTICE
from riskmodel.provenance import sha256_file
from riskmodel.synth._config import WorldConfig
from riskmodel.synth._report import render_calibration_html
from riskmodel.synth._world import (
    PARTITION_BLOCKS,
    RNG_BLOCK,
    World,
    WorldPlan,
    world_plan,
)

TABLES = ("people", "events", "programmes", "truth")
MANIFEST = "manifest.json"
CALIBRATION_JSON = "calibration.json"
CALIBRATION_HTML = "calibration.html"

Layout = Literal["auto", "single", "partitioned"]
#: a partitioned world is concatenated by ``load_world`` up to this many rows in all; beyond,
#: it is read a partition at a time (riskmodel.data.iter_world_parts)
LOAD_MAX_ROWS = 20_000_000

ERR_LAYOUT = "layout must be 'auto', 'single' or 'partitioned', got {layout!r}"
ERR_TOO_BIG = (
    "{dir}: a partitioned world of {rows:,} rows is too large to load whole (limit {limit:,}); "
    "read it a partition at a time with riskmodel.data.iter_world_parts (or read_world_part)"
)
ERR_CHUNK = "chunk_people and workers must be positive integers, got {chunk!r} and {workers!r}"
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
    _clear_tables(out)
    meta = _table_metadata(world.name)
    for name in TABLES:
        df = getattr(world, name)
        # one row group run per block, as write_world_chunked writes them
        sizes = world.block_rows.get(name) or [len(df)]
        with _TableWriter(out / f"{name}.parquet", meta) as w:
            start = 0
            for n in sizes:
                w.write(df.iloc[start : start + n])
                start += n
    write_json(world.calibration, out / CALIBRATION_JSON)
    write_text(render_calibration_html(world), out / CALIBRATION_HTML)
    files = [f"{n}.parquet" for n in TABLES] + [CALIBRATION_JSON, CALIBRATION_HTML]
    manifest = _manifest(
        world,
        plan=world.plan,
        row_counts=world.row_counts(),
        files={f: sha256_file(out / f) for f in files},
        partitions=None,
    )
    write_json(manifest, out / MANIFEST)
    world.manifest = manifest
    return out


def _table_metadata(name: str) -> dict[str, str]:
    return {"riskmodel.permitted_use": PERMITTED_USE_NOTICE, "riskmodel.world": name}


def _manifest(
    world: World,
    *,
    plan: WorldPlan | None,
    row_counts: dict[str, int],
    files: dict[str, str],
    partitions: int | None,
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "permitted_use": PERMITTED_USE_NOTICE,
        "world": world.name,
        "config": world.config.model_dump(mode="json"),
        "seed": world.seed,
        "scale": world.scale,
        "start_date": world.start_date.isoformat(),
        "end_date": world.end_date.isoformat(),
        "row_counts": row_counts,
        "files": files,
        "package_version": __version__,
        "calibration_ok": all(e["ok"] is not False for e in world.calibration),
    }
    if partitions is not None:
        manifest["layout"] = "partitioned"
        manifest["partitions"] = partitions
    if plan is not None and (
        partitions is not None
        or (plan.block_people, plan.partition_blocks) != (RNG_BLOCK, PARTITION_BLOCKS)
    ):
        # the world's units are part of its definition (the defaults are the package's)
        manifest["block_perpetrators"] = plan.block_people
        manifest["partition_blocks"] = plan.partition_blocks
    return manifest


def _clear_tables(out: Path) -> None:
    """Remove the tables of a world written here before (either layout), so that the folder
    never mixes two worlds (existing files are replaced, as the CLI says)."""
    for name in TABLES:
        (out / f"{name}.parquet").unlink(missing_ok=True)
        if (out / name).is_dir():
            for f in (out / name).glob("part-*.parquet"):
                f.unlink()


class _TableWriter:
    """One Parquet file written a block at a time, atomically, with the bytes ``write_parquet``
    gives a whole frame: same schema metadata and options; one row group run per block."""

    def __init__(self, path: Path, metadata: dict[str, str]) -> None:
        self.path = path
        self.metadata = metadata
        self._stack = ExitStack()
        self._writer = None
        self._tmp: Path | None = None

    def __enter__(self) -> _TableWriter:
        self._tmp = self._stack.enter_context(atomic_path(self.path))
        return self

    def write(self, df: pd.DataFrame | Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = df if isinstance(df, pa.Table) else _arrow(df, self.metadata)
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self._tmp, table.schema, compression="zstd", write_statistics=True
            )
        self._writer.write_table(table)

    def __exit__(self, *exc: object) -> None:
        if self._writer is None and exc[0] is None:
            raise ValueError(f"{self.path}: no rows written (not even an empty block)")
        if self._writer is not None:
            self._writer.close()
        self._stack.__exit__(*exc)


def _arrow(df: pd.DataFrame, metadata: dict[str, str]) -> Any:
    import pyarrow as pa

    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    for k, v in metadata.items():
        meta[k.encode()] = v.encode()
    return table.replace_schema_metadata(meta)


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
    """Load a world folder written by :func:`write_world` or :func:`write_world_chunked`.

    A partitioned world is concatenated (partitions in order) when it has at most
    ``LOAD_MAX_ROWS`` rows; a larger one is refused with a pointer to the partition reader
    (``riskmodel.data.iter_world_parts``).

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
    if manifest.get("layout", "single") == "partitioned":
        rows = sum(manifest["row_counts"].values())
        if rows > LOAD_MAX_ROWS:
            raise ValueError(ERR_TOO_BIG.format(dir=d, rows=rows, limit=LOAD_MAX_ROWS))
        tables = {
            name: pd.concat(
                [pd.read_parquet(d / part_name(name, k)) for k in range(manifest["partitions"])],
                ignore_index=True,
            )
            for name in TABLES
        }
    else:
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


# -- a world written block by block (bounded memory) -----------------------------------------
Progress = Callable[[str, float], None]

_STATE: dict[str, Any] = {}  # per process: the world's parameters and truth tables


def _init_blocks(config: WorldConfig, plan: WorldPlan, seed: int, scale: float) -> None:
    from riskmodel.synth._params import build_params
    from riskmodel.synth._simulate import truth_tables

    params = build_params(config)
    _STATE.update(params=params, tables=truth_tables(params), plan=plan, seed=seed, scale=scale)


def _block_output(b: int) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """Block ``b`` as Arrow tables and its calibration aggregates (run in a worker)."""
    from riskmodel.synth._calibration_parts import block_aggregates
    from riskmodel.synth._world import generate_block

    world = generate_block(
        _STATE["params"],
        _STATE["plan"],
        b,
        tables=_STATE["tables"],
        seed=_STATE["seed"],
        scale=_STATE["scale"],
    )
    meta = _table_metadata(world.name)
    tables = {name: _arrow(getattr(world, name), meta) for name in TABLES}
    return b, tables, block_aggregates(world)


def _blocks(
    config: WorldConfig, plan: WorldPlan, seed: int, scale: float, *, chunk: int, workers: int
) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]]]:
    """Every block's output in order, at most ``chunk`` blocks in memory at a time (generated
    or being generated), by ``workers`` processes."""
    if workers == 1:
        _init_blocks(config, plan, seed, scale)
        try:
            for lo in range(0, plan.n_blocks, chunk):
                outputs = [_block_output(b) for b in range(lo, min(plan.n_blocks, lo + chunk))]
                yield from outputs
                del outputs
        finally:
            _STATE.clear()
        return
    import multiprocessing as mp
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor
    from itertools import islice

    # spawn, not fork: the parent runs the progress bar's thread
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=mp.get_context("spawn"),
        initializer=_init_blocks,
        initargs=(config, plan, seed, scale),
    ) as pool:
        todo = iter(range(plan.n_blocks))
        # a window of ``chunk`` blocks: a new one starts as soon as the oldest is handed over
        window = deque(pool.submit(_block_output, b) for b in islice(todo, chunk))
        while window:
            out = window.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                window.append(pool.submit(_block_output, nxt))
            yield out
            del out


def write_world_chunked(
    config: WorldConfig,
    out_dir: str | Path,
    *,
    seed: int | None = None,
    scale: float = 1.0,
    layout: Layout = "auto",
    chunk_people: int | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    block_people: int = RNG_BLOCK,
    partition_blocks: int = PARTITION_BLOCKS,
) -> dict[str, Any]:
    """Generate a world and write it block by block: memory holds one chunk, never the world.

    Parameters
    ----------
    config, seed, scale : the world, as for :func:`riskmodel.synth.generate_world`
    layout : ``"single"`` (one Parquet file per table), ``"partitioned"`` (``<table>/part-*``,
        one partition per ``partition_blocks`` blocks) or ``"auto"`` (partitioned when the world
        has more than one partition, i.e. more than 2,000,000 perpetrators)
    chunk_people : perpetrators in memory at once, generated or being generated, before they
        are written (rounded up to whole blocks of 200,000, at least one per worker; default
        one block per worker); a memory knob: the files never depend on it
    workers : processes generating blocks at once (each holds one block); with more than one,
        call this from a ``__main__``-guarded script (the workers are spawned)
    progress : optional ``progress(step, fraction)`` callback, called after every block
    block_people, partition_blocks : the world's units (see :class:`WorldPlan`)

    Returns the manifest. The files are byte-identical to ``write_world(generate_world(...))``
    for the single layout, and the partitions' tables concatenated equal its tables.
    """
    from riskmodel.synth._calibration_parts import (
        entries_from_aggregates,
        merge_aggregates,
        report_inputs,
    )

    if layout not in ("auto", "single", "partitioned"):
        raise ValueError(ERR_LAYOUT.format(layout=layout))
    if not all(isinstance(v, int) and v > 0 for v in (chunk_people or 1, workers)):
        raise ValueError(ERR_CHUNK.format(chunk=chunk_people, workers=workers))
    seed = int(config.seed if seed is None else seed)
    plan = world_plan(config, scale, block_people=block_people, partition_blocks=partition_blocks)
    partitioned = layout == "partitioned" or (layout == "auto" and plan.n_partitions > 1)
    chunk = max(workers, -(-(chunk_people or workers * plan.block_people) // plan.block_people))
    say = progress or (lambda _step, _fraction: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _clear_tables(out)
    meta = _table_metadata(config.name)

    files: dict[str, str] = {}
    counts = dict.fromkeys(TABLES, 0)
    aggregates: list[dict[str, Any]] = []
    n = plan.n_blocks
    say(f"generating {n} block(s) of {plan.block_people:,} perpetrators", 0.0)
    with ExitStack() as open_part:
        writers: dict[str, _TableWriter] = {}
        current = -1

        def close_part() -> None:
            open_part.close()
            for w in writers.values():
                rel = w.path.relative_to(out).as_posix()
                files[rel] = sha256_file(w.path)
            writers.clear()

        for b, tables, agg in _blocks(config, plan, seed, scale, chunk=chunk, workers=workers):
            q = plan.partition_of(b) if partitioned else 0
            if q != current:
                close_part()
                current = q
                for name in TABLES:
                    path = out / (part_name(name, q) if partitioned else f"{name}.parquet")
                    writers[name] = open_part.enter_context(_TableWriter(path, meta))
            for name in TABLES:
                writers[name].write(tables[name])
                counts[name] += tables[name].num_rows
            aggregates.append(agg)
            del tables
            say(f"block {b + 1} of {n} written", 0.95 * (b + 1) / n)
        close_part()

    say("calibration report", 0.96)
    agg = merge_aggregates(aggregates)
    from riskmodel.synth._params import build_params

    cal = build_params(config).cal
    world = World(
        **{name: pd.DataFrame() for name in TABLES},
        config=config,
        seed=seed,
        scale=float(scale),
        start_date=cal.start,
        end_date=cal.end,
    )
    world.calibration = entries_from_aggregates(agg, world)
    write_json(world.calibration, out / CALIBRATION_JSON)
    write_text(
        render_calibration_html(world, inputs=report_inputs(agg, config)), out / CALIBRATION_HTML
    )
    for f in (CALIBRATION_JSON, CALIBRATION_HTML):
        files[f] = sha256_file(out / f)
    manifest = _manifest(
        world,
        plan=plan,
        row_counts=counts,
        files=files,
        partitions=plan.n_partitions if partitioned else None,
    )
    write_json(manifest, out / MANIFEST)
    say("done", 1.0)
    return manifest

"""``riskmodel synth``: generate a synthetic world folder (registered by riskmodel.cli)."""

from __future__ import annotations

from pathlib import Path

import typer

from riskmodel._cli_common import console, user_errors


def register(app: typer.Typer) -> None:
    """Add the synth command to the riskmodel app."""

    @app.command("synth")
    def synth(
        config: Path = typer.Option(
            None,
            "--config",
            "-c",
            help="World config (default: configs/world/kent.yaml, Kent and Medway, 15 years).",
        ),
        out: Path = typer.Option(
            None,
            "--out",
            "-o",
            help="Output folder (default: synthetic_data/<world name>). Existing files are replaced.",
        ),
        seed: int = typer.Option(
            None, "--seed", min=0, help="Seed (default: the config's). Same seed, same files."
        ),
        scale: float = typer.Option(
            1.0,
            "--scale",
            min=0.0001,
            max=100.0,
            help="Multiply the numbers of people (0.1: a tenth of the world, for quick runs).",
        ),
        partitioned: bool = typer.Option(
            None,
            "--partitioned/--single-file",
            help=(
                "Layout of the folder: a partitioned dataset (<table>/part-00000.parquet, ...; "
                "each partition holds 2,000,000 perpetrators' people and their whole histories) "
                "or one Parquet file per table. Default: partitioned only when the world has "
                "more than one partition (the national world), so Kent and Medway stays single."
            ),
        ),
        chunk_people: int = typer.Option(
            None,
            "--chunk-people",
            min=1,
            help=(
                "Perpetrators generated before they are written (rounded up to whole blocks of "
                "200,000; default: one block per worker). A memory knob only: the files are "
                "byte-identical whatever its value."
            ),
        ),
        workers: int = typer.Option(
            1,
            "--workers",
            min=1,
            max=64,
            help="Processes generating blocks at once (each holds one block in memory).",
        ),
    ) -> None:
        """Generate a synthetic world: people, recorded events (domestic abuse and other crime),
        programme referrals and the truth behind them (every incident's true probability of a
        recorded reoffence), with a manifest of SHA-256 hashes and a calibration report that
        compares the world with published figures (calibration.html)."""
        import json
        import time

        from rich.table import Table

        from riskmodel._cli_common import progress
        from riskmodel.paths import configs_dir, synthetic_data_dir
        from riskmodel.synth import load_world_config, write_world_chunked
        from riskmodel.synth._report import show

        with user_errors():
            cfg_path = config or configs_dir() / "world" / "kent.yaml"
            cfg = load_world_config(cfg_path)
            out_dir = out or synthetic_data_dir() / cfg.name
            t0 = time.perf_counter()
            with progress()() as bar:
                task = bar.add_task(f"world {cfg.name}", total=1000)

                def step(name: str, fraction: float) -> None:
                    bar.update(task, completed=int(1000 * fraction), description=name)

                # written a block at a time: memory holds a chunk, never the whole world
                manifest = write_world_chunked(
                    cfg,
                    out_dir,
                    seed=seed,
                    scale=scale,
                    layout="auto"
                    if partitioned is None
                    else ("partitioned" if partitioned else "single"),
                    chunk_people=chunk_people,
                    workers=workers,
                    progress=step,
                )
            seconds = time.perf_counter() - t0
            calibration = json.loads((out_dir / "calibration.json").read_text(encoding="utf-8"))

        layout = (
            f"{manifest['partitions']} partitions" if "partitions" in manifest else "single files"
        )
        counts = Table(
            title=f"world {cfg.name} (seed {manifest['seed']}, scale {manifest['scale']:g}, "
            f"{layout})"
        )
        counts.add_column("table")
        counts.add_column("rows", justify="right")
        for name, n in manifest["row_counts"].items():
            counts.add_row(name, f"{n:,}")
        console.print(counts)

        cal = Table(title="calibration against published figures (calibration.html explains)")
        cal.add_column("figure", overflow="fold")
        for col in ("target", "generated", "tolerance"):
            cal.add_column(col, justify="right")
        cal.add_column("result")
        for e in calibration:
            result = (
                "[dim]does not apply[/]"
                if e["ok"] is None
                else ("[green]ok[/]" if e["ok"] else "[bold red]not ok[/]")
            )
            cal.add_row(
                e["name"], show(e["target"]), show(e["generated"]), show(e["tolerance"]), result
            )
        console.print(cal)
        console.print(
            f"wrote {out_dir} in {seconds:.0f} s (report: {out_dir / 'calibration.html'})"
        )

"""Command-line entry points of the features stage (registered by riskmodel.cli)."""

from __future__ import annotations

from pathlib import Path

import typer

from riskmodel._cli_common import console, progress, user_errors

ERR_OUT_EXISTS = (
    "{path}: the output folder already exists and is not empty; features never overwrite a "
    "folder (it may hold another run's files). Choose a new --out folder"
)
ERR_OUT_LINK = "{path}: the output folder is a symbolic link; give a real new folder"
ERR_OUT_PARENT = "{path}: cannot create the output folder: {parent} is not a writable folder"
ERR_END_AFTER_TODAY = (
    "--end-date {value}: is after today ({today}); events after today cannot have been recorded, "
    "so they are rejected, and the end of data cannot be later either"
)
ERR_END_DATE = "--end-date: {value!r} is not a date; write it as YYYY-MM-DD"
ERR_SOURCES = (
    "give exactly one input: --world DIR, or --people F --events F [--programmes F], or "
    "--extract MAPPING.yaml, or --table TABLE.yaml"
)


def _counts_line(spec: dict) -> str:
    c = spec.get("counts", {})
    parts = []
    for table in ("people", "events", "programmes"):
        if f"{table}_in" in c:
            parts.append(f"{table} in {c[f'{table}_in']:,} (rejected {c[f'{table}_rejected']:,})")
    if "rows_in" in c:
        parts.append(f"rows in {c['rows_in']:,} (rejected {c['rows_rejected']:,})")
    if "index_events" in c:
        parts.append(f"index events {c['index_events']:,}")
        parts.append(f"censored {c['censored']:,}")
        if c.get("dropped_one_index_per"):
            parts.append(f"not kept (one per year) {c['dropped_one_index_per']:,}")
    parts.append(f"rows out {spec['n_rows']:,}")
    return "; ".join(parts)


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the riskmodel app."""

    @app.command("features")
    def features(
        out: Path = typer.Option(
            ...,
            "--out",
            help="New (or empty) folder for features.parquet, feature_spec.json (naming the data "
            "file's SHA-256) and rejects.csv; written whole or not at all, never over an "
            "existing folder.",
        ),
        world: Path | None = typer.Option(
            None, "--world", help="A world folder written by `riskmodel synth`."
        ),
        people: Path | None = typer.Option(
            None, "--people", help="People table (CSV or Parquet) in the data contract."
        ),
        events: Path | None = typer.Option(
            None, "--events", help="Recorded events table (CSV or Parquet) in the data contract."
        ),
        programmes: Path | None = typer.Option(
            None, "--programmes", help="Programme referrals table (optional)."
        ),
        end_date: str | None = typer.Option(
            None,
            "--end-date",
            help="Last day of the data (YYYY-MM-DD) for follow-up, not after today (events after "
            "it are rejected); default the latest event (with --people/--events) or the world's "
            "end date.",
        ),
        extract: Path | None = typer.Option(
            None,
            "--extract",
            help="A force's extract through a mapping config: files "
            "(configs/external/example_force.yaml) or tables and read-only SELECT queries in the "
            "force's database (configs/external/example_force_sql.yaml; the SQLAlchemy URL, "
            "password included, in the environment variable the config names).",
        ),
        table: Path | None = typer.Option(
            None,
            "--table",
            help="A ready person-level table through its config (configs/external/compas.yaml).",
        ),
        config: Path | None = typer.Option(
            None,
            "--config",
            help="Feature config YAML (windows, feature choice, one index per year, severe rule); "
            "default: the built-in defaults.",
        ),
    ) -> None:
        """Build point-in-time features and 12-month labels: one row per (person, index event).

        Features use only what was recorded at or before each index event; labels only the 365 days after it. Index events with less than 365 days of data after them are censored (excluded and counted).

        Invalid input rows go to rejects.csv with the rule each broke; the counts (in, rejected, index events, censored) are printed.
        """
        given = [
            world is not None,
            people is not None or events is not None,
            extract is not None,
            table is not None,
        ]
        with user_errors(FileExistsError, PermissionError):
            _check_out(out)
            from riskmodel.config import load_config
            from riskmodel.features import FeatureConfig

            if sum(given) != 1:
                raise ValueError(ERR_SOURCES)
            if (people is None) != (events is None):
                raise ValueError("--people and --events go together")
            if programmes is not None and people is None:
                raise ValueError("--programmes needs --people and --events")
            _check_end_date(end_date)
            cfg = load_config(config, FeatureConfig) if config else FeatureConfig()
            result = _build(
                cfg,
                world=world,
                people=people,
                events=events,
                programmes=programmes,
                end_date=end_date,
                extract=extract,
                table=table,
            )
            _publish(result, out)
        console.print(_counts_line(result.spec), highlight=False)
        if len(result.rejects):
            console.print(
                f"[yellow]{len(result.rejects):,} rejected row(s): see {out / 'rejects.csv'}[/]",
                highlight=False,
            )
        typer.echo(f"wrote {out / 'features.parquet'} and {out / 'feature_spec.json'}")


def _check_out(out: Path) -> None:
    """Before any work: ``--out`` is a new or empty folder (not a link) that can be created."""
    import os

    if out.is_symlink():
        raise FileExistsError(ERR_OUT_LINK.format(path=out))
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(ERR_OUT_EXISTS.format(path=out))
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(ERR_OUT_PARENT.format(path=out, parent=parent))


def _publish(result, out: Path) -> None:
    """Write every file into a hidden folder beside ``out``, then rename it into place whole,
    so no reader ever sees one run's data beside another's spec; rejects are spreadsheet-safe."""
    import os
    import shutil
    import tempfile

    from riskmodel.data import MAX_ECHO_CHARS, spreadsheet_safe

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(tmp, 0o777 & ~mask)
        if len(result.rejects):
            result.rejects = spreadsheet_safe(result.rejects, max_chars=MAX_ECHO_CHARS)
        result.save(tmp)
        if out.exists():
            out.rmdir()  # empty (checked before the work)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _check_end_date(end_date: str | None) -> None:
    import datetime as dt

    if end_date is None:
        return
    try:
        end = dt.date.fromisoformat(end_date)
    except ValueError:
        raise ValueError(ERR_END_DATE.format(value=end_date)) from None
    today = dt.datetime.now(dt.UTC).date()
    if end > today:
        raise ValueError(ERR_END_AFTER_TODAY.format(value=end, today=today))


def _build(cfg, *, world, people, events, programmes, end_date, extract, table):
    """Dispatch on the input kind, with a progress bar over the build steps."""
    from riskmodel.features import STEPS, build_cohort, build_features, load_external_table

    if table is not None:
        return load_external_table(table)
    bar = progress()()
    with bar:
        task = bar.add_task("reading", total=len(STEPS) + 1)

        def step(name: str) -> None:
            bar.update(task, advance=1, description=name)

        if world is not None:
            result = build_cohort(world, cfg, progress=step)
        elif extract is not None:
            from riskmodel.data import load_extract

            e = load_extract(extract)
            end = end_date or e.mapping.as_of
            result = build_features(
                e.people,
                e.events,
                e.programmes,
                config=cfg,
                end_date=end,
                source=f"external:{e.mapping.name}",
                validate=False,
                progress=step,
            )
            result.rejects = e.rejects
            result.spec["counts"] = {**e.counts, **result.spec["counts"]}
            # where each table came from: files, or the database URL (password as ***) and table
            result.spec["external"] = {
                "config_file": str(Path(extract).resolve()),
                "sources": dict(e.files),
            }
        else:
            from riskmodel.data import read_raw as _read_raw

            frames = {"people": people, "events": events, "programmes": programmes}
            raw = {k: _read_raw(Path(v)) if v is not None else None for k, v in frames.items()}
            result = build_features(
                raw["people"],
                raw["events"],
                raw["programmes"],
                config=cfg,
                end_date=end_date,
                source="extract",
                names={k: str(v) for k, v in frames.items() if v is not None},
                progress=step,
            )
        bar.update(task, completed=len(STEPS) + 1, description="done")
    return result


__all__ = ["register"]

"""Command-line entry points of the features stage (registered by riskmodel.cli)."""

from __future__ import annotations

from pathlib import Path

import typer

from riskmodel._cli_common import console, progress, user_errors

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
            ..., "--out", help="Folder for features.parquet, feature_spec.json and rejects.csv."
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
            help="A force's extract through a mapping config (configs/external/example_force.yaml).",
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
        with user_errors():
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
            result.save(out)
        console.print(_counts_line(result.spec), highlight=False)
        if len(result.rejects):
            console.print(
                f"[yellow]{len(result.rejects):,} rejected row(s): see {out / 'rejects.csv'}[/]",
                highlight=False,
            )
        typer.echo(f"wrote {out / 'features.parquet'} and {out / 'feature_spec.json'}")


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
            from riskmodel.data._external import load_extract

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
        else:
            from riskmodel.data._external import _read_raw

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

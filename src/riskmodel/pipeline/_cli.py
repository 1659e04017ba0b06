"""``riskmodel pipeline``: the whole default job (registered by riskmodel.cli)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from riskmodel._cli_common import console, user_errors


def register(app: typer.Typer) -> None:
    """Add the pipeline and report commands to the riskmodel app."""
    from riskmodel.pipeline._refresh_cli import register as register_refresh
    from riskmodel.pipeline._report_cli import register as register_report

    register_refresh(app)
    register_report(app)

    @app.command("pipeline")
    def pipeline(
        experiment: Path = typer.Option(
            None,
            "--experiment",
            "-e",
            help="Experiment file (default: experiments/baseline.yaml, the Kent and Medway world).",
        ),
        user: str = typer.Option(
            None,
            help="A declared (service) identity, recorded in the scoring audit log beside your "
            "operating-system user name (never instead of it).",
        ),
    ) -> None:
        """Run everything on the default configuration: synthetic world, features, training with
        baselines, fairness audit, explanations and model card, and an eligibility list scored
        from the champion model. This is what `make run` does."""
        from rich.table import Table

        from riskmodel.paths import default_experiment
        from riskmodel.pipeline import STEPS_COUNT, run_pipeline

        exp = experiment or default_experiment()
        counter = {"i": 0}

        def step(name: str) -> None:
            counter["i"] += 1
            console.rule(f"[bold]step {counter['i']}/{STEPS_COUNT}: {name}")

        with user_errors():
            result = run_pipeline(exp, step=step, user=user)

        table = Table(title=f"riskmodel pipeline: run {result.run_id}", show_lines=False)
        table.add_column("output")
        table.add_column("where")
        for name, path in result.outputs.items():
            table.add_row(name, str(path))
        console.print(table)
        figures = Table(title="headline figures (test period)")
        figures.add_column("figure")
        figures.add_column("value", justify="right")
        for k, v in result.headline.items():
            figures.add_row(k, f"{v:.3f}" if isinstance(v, float) else str(v))
        console.print(figures)
        timing = ", ".join(
            f"{re.split(r'[;(]', k)[0].strip()} {v:.0f}s" for k, v in result.seconds.items()
        )
        console.print(f"[dim]time per step: {timing}[/]")
        inside = ", ".join(f"{k} {v:.0f}s" for k, v in result.detail_seconds.items())
        if inside:
            console.print(f"[dim]inside the steps: {inside}[/]")

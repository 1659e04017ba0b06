"""``riskmodel report``: the front door of a run and the ethics panel's pack."""

from __future__ import annotations

from pathlib import Path

import typer

from riskmodel._cli_common import console, user_errors


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the riskmodel app."""

    @app.command("report")
    def report(
        run: str = typer.Option(
            ..., "--run", "-r", help="Run id (a folder under reports/) or a run directory."
        ),
        pdf: bool = typer.Option(
            False,
            "--pdf",
            help="Also print panel_pack.pdf (summary, fairness audit, explanations, model card, "
            "transparency record, sign-off page) with headless Chromium; skipped with a warning "
            "when Chromium is missing.",
        ),
        summary: Path = typer.Option(
            None,
            "--summary",
            help="The eligibility summary.html to include (default: the newest one scored with "
            "this run under reports/eligibility/).",
        ),
    ) -> None:
        """Write the run's front door, `reports/<run>/index.html`: a link to every report of the
        run with a one-paragraph summary of each, and a link back to it on every page. With
        --pdf, also the panel pack for the ethics panel, panel_pack.pdf."""
        from riskmodel.pipeline._pack import write_run_index

        with user_errors():
            result = write_run_index(run, summary_html=summary, pdf=pdf)
        for w in result.warnings:
            console.print(f"[yellow]warning:[/yellow] {w}", soft_wrap=True)
        console.print(f"index: {result.index}", highlight=False, soft_wrap=True)
        if result.pack_pdf:
            console.print(f"panel pack: {result.pack_pdf}", highlight=False, soft_wrap=True)
        typer.echo(str(result.index))

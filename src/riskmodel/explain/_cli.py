"""Command-line entry points of the explain stage (registered by riskmodel.cli)."""

from __future__ import annotations

import typer

from riskmodel._cli_common import console, user_errors

_STEPS = 9  # loading, 2 x (SHAP, figures), reasons, report, card, MLflow


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the riskmodel app."""

    @app.command("explain")
    def explain(
        run: str = typer.Option(
            ..., "--run", "-r", help="Run id (a folder under reports/) or a run directory."
        ),
        sample: int = typer.Option(
            None,
            "--sample",
            "-n",
            min=1,
            help="People sampled from the test period for the SHAP summaries (not all rows); "
            "default: the experiment's explain.sample.",
        ),
    ) -> None:
        """Explain a trained run: what drives the model (SHAP importance, beeswarm and
        dependence plots, differences by protected group), reason codes in plain words, and the
        published documents (model card in HTML and Markdown, transparency record, datasheet).
        Files are written into the run's folder and logged to its MLflow run."""
        from riskmodel._cli_common import progress
        from riskmodel.explain import explain_run
        from riskmodel.models import ModelIntegrityError, load_run

        with user_errors(ModelIntegrityError), progress()() as bar:
            loaded = load_run(run)
            if sample is None:
                sample = loaded.experiment.explain.sample
            task = bar.add_task("explaining", total=_STEPS)

            def step(name: str) -> None:
                bar.update(task, description=name, advance=0 if name == "loading the run" else 1)

            paths = explain_run(loaded, sample=sample, step=step)
            bar.update(task, description="done", completed=_STEPS)
        for name, path in paths.items():
            console.print(f"{name}: {path}", highlight=False, soft_wrap=True)
            typer.echo(str(path))

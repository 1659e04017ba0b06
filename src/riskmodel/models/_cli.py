"""Command-line entry points of the models stage (registered by riskmodel.cli)."""

from __future__ import annotations

from pathlib import Path

import typer

from riskmodel._cli_common import console, user_errors


def _fmt(v: object) -> str:
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the riskmodel app."""

    @app.command("train")
    def train(
        experiment: Path = typer.Option(
            None,
            "--experiment",
            "-e",
            help="Experiment file naming the world (or external table), seed, feature and "
            "training options. Default: experiments/baseline.yaml (Kent and Medway).",
        ),
    ) -> None:
        """Train the reoffending and severity heads and their baselines, and report them.

        Builds the world and the features first when they are not cached (.cache/), trains on
        the training period, stops early and calibrates on the validation period, and scores
        every model on the test period with bootstrap intervals. Writes reports/<run id>/
        (report.html, metrics.json, predictions.parquet, the verified model bundle), logs the
        run in MLflow and registers both heads. Prints the run id on the last line.
        """
        from rich.table import Table

        from riskmodel.models import ModelIntegrityError, train_experiment
        from riskmodel.paths import default_experiment

        exp = experiment or default_experiment()
        with user_errors(ModelIntegrityError, LookupError), console.status("training") as status:

            def say(msg: str) -> None:
                status.update(msg)
                console.log(msg)

            result = train_experiment(exp, progress=say)
        m = result.metrics
        table = Table(title=f"test period: run {result.run_id}")
        table.add_column("head")
        models = [
            n
            for n in ("model", "rfg", "decile_score", "logistic_age_priors", "logistic", "oracle")
            if f"test.reoffend.auc.{n}" in m
        ]
        for n in models:
            table.add_column(f"AUC {n}", justify="right")
        table.add_column("ECE model", justify="right")
        for head in ("reoffend", "severe"):
            table.add_row(
                head,
                *[_fmt(m.get(f"test.{head}.auc.{n}")) for n in models],
                _fmt(m.get(f"test.{head}.ece.model")),
            )
        console.print(table)
        console.print(f"report: {result.run_dir / 'report.html'}")
        typer.echo(result.run_id)

    @app.command("promote")
    def promote_cmd(
        run: str = typer.Option(..., "--run", "-r", help="Run id printed by `riskmodel train`."),
        alias: str = typer.Option(
            "champion", help="Registry alias to set (scoring uses models:/<name>@champion)."
        ),
    ) -> None:
        """Make a trained run the model scoring uses: set the alias (default `champion`) on its
        registered riskmodel-reoffend and riskmodel-severe versions, after checking its bundle."""
        from riskmodel.models import ModelIntegrityError, promote

        with user_errors(ModelIntegrityError, LookupError):
            promote(run, alias=alias)
        console.print(
            f"run {run} is now models:/riskmodel-reoffend@{alias} and "
            f"models:/riskmodel-severe@{alias}"
        )

    @app.command("runs")
    def runs(
        experiment: str = typer.Option(None, help="Only runs of this experiment name."),
        limit: int = typer.Option(20, help="Show at most this many runs (newest first)."),
    ) -> None:
        """List trained runs (newest first) with their headline test figures and which one is
        the champion."""
        from rich.table import Table

        from riskmodel.models import REGISTERED_NAMES, list_runs

        rows = [r for r in list_runs() if experiment is None or r["experiment"] == experiment]
        champion = None
        try:
            from riskmodel import tracking

            version = tracking.aliases(REGISTERED_NAMES["reoffend"]).get("champion")
            if version is not None:
                champion = version
        except Exception:  # noqa: BLE001 - the listing works without a reachable registry
            champion = None
        table = Table(title="trained runs (reports/)")
        for col in (
            "run id",
            "experiment",
            "created",
            "AUC model",
            "AUC RFG",
            "ECE",
            "AUC severe",
            "",
        ):
            table.add_column(col, justify="right" if col.startswith(("AUC", "ECE")) else "left")
        for r in rows[:limit]:
            is_champion = champion is not None and r["registered"].get("reoffend") == champion
            table.add_row(
                r["run_id"],
                str(r["experiment"]),
                r["created_at"],
                _fmt(r["auc_model"]),
                _fmt(r["auc_rfg"]),
                _fmt(r["ece_model"]),
                _fmt(r["auc_severe"]),
                "champion" if is_champion else "",
            )
        console.print(table)

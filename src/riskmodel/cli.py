"""The ``riskmodel`` command: a thin typer front over the library.

Each stage registers its own commands from ``<stage>/_cli.py`` (``register(app)``); the command
functions parse options, load configs and call the library, nothing more. Heavy libraries are
imported inside the commands so that ``--help`` stays instant.
"""

from __future__ import annotations

import importlib
import os

import typer

from riskmodel import __version__
from riskmodel.notice import PERMITTED_USE_NOTICE

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

app = typer.Typer(
    name="riskmodel",
    help=(
        "Train and audit the 12-month domestic-abuse reoffending and severity predictor on "
        "synthetic crime histories.\n\n" + PERMITTED_USE_NOTICE
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
    add_completion=False,
)

# order = order in --help, which follows the pipeline
_STAGES = ("synth", "features", "models", "fairness", "explain", "scoring", "refresh", "pipeline")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"riskmodel {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """riskmodel: programme-referral targeting only; never charging or any other CJ decision."""


for _stage in _STAGES:
    importlib.import_module(f"riskmodel.{_stage}._cli").register(app)


def main() -> None:  # pragma: no cover - entry point
    app()

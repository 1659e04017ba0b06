"""Command-line entry points of the synth stage (registered by riskmodel.cli)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the riskmodel app."""

"""``riskmodel pipeline``: the whole default job (registered by riskmodel.cli)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the pipeline command to the riskmodel app."""

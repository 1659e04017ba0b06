"""The command line: help, version, and that every user-facing output carries the notice."""

from __future__ import annotations

from typer.testing import CliRunner

import riskmodel
from riskmodel.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"riskmodel {riskmodel.__version__}"


def test_help_states_permitted_use():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "programme_referral" in result.stdout

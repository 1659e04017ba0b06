"""``riskmodel synth``: writes a world folder and prints its counts and calibration."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from riskmodel.cli import app
from riskmodel.paths import configs_dir

runner = CliRunner()


def test_synth_writes_a_world(tmp_path):
    out = tmp_path / "w"
    result = runner.invoke(
        app,
        [
            "synth",
            "--config",
            str(configs_dir() / "world" / "tiny.yaml"),
            "--out",
            str(out),
            "--seed",
            "5",
            "--scale",
            "0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["scale"] == 0.5
    for f in manifest["files"]:
        assert (out / f).exists()
    assert "calibration" in result.output and "truth" in result.output


def test_synth_refuses_a_bad_config_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (
        (configs_dir() / "world" / "tiny.yaml")
        .read_text()
        .replace("branching_ratio: 0.6", "branching_ratio: 1.5")
    )
    bad.write_text(text)
    result = runner.invoke(app, ["synth", "--config", str(bad), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "self_excitation.branching_ratio" in result.output
    assert not (tmp_path / "x").exists()


def test_synth_help():
    result = runner.invoke(app, ["synth", "--help"])
    assert result.exit_code == 0
    assert "--scale" in result.output and "--seed" in result.output

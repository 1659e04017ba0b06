"""The layers are enforced: `make lint` (lint-imports, contracts in pyproject.toml) passes on the
tree and fails on a deliberate violation of each kind of contract."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import riskmodel

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(riskmodel.__file__).resolve().parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def lint(src: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(REPO / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_tree_keeps_every_contract(tmp_path):
    out = lint(PACKAGE.parent, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout


def test_a_violation_of_each_kind_fails_and_is_named(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "riskmodel", ignore=shutil.ignore_patterns("__pycache__"))

    def inject(module: str, line: str) -> None:
        path = src / "riskmodel" / module
        path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")

    inject("data/_io.py", "from riskmodel.scoring import score_cohort  # noqa")  # upward
    inject("explain/_global.py", "import mlflow  # noqa")  # MLflow outside tracking.py
    inject("synth/_cli.py", "from riskmodel.data._io import write_json  # noqa")  # private
    out = lint(src, tmp_path)
    assert out.returncode != 0
    report = out.stdout
    assert "layers, top to bottom (README: Layout) BROKEN" in report
    assert "riskmodel.data._io -> riskmodel.scoring" in report
    assert "tracking.py is the only module that talks to MLflow BROKEN" in report
    assert "riskmodel.explain._global -> mlflow" in report
    assert "riskmodel.data: other packages use its public face only BROKEN" in report
    assert "riskmodel.synth._cli -> riskmodel.data._io" in report
    import tomllib

    n = len(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    )
    assert f"Contracts: {n - 3} kept, 3 broken." in report  # every other contract still holds


def test_every_private_module_is_protected_by_its_package_contract():
    # a private module missing from its package's "protected" list could be imported from outside
    import tomllib

    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    protected = {
        c["id"].removeprefix("public-"): set(c["protected_modules"])
        for c in contracts
        if c["type"] == "protected"
    }
    for pkg_dir in sorted(p for p in PACKAGE.iterdir() if (p / "__init__.py").exists()):
        private = {
            f"riskmodel.{pkg_dir.name}.{f.stem}"
            for f in pkg_dir.glob("_*.py")
            if f.stem != "__init__"
        }
        if not private:
            continue
        assert pkg_dir.name in protected, f"no public-face contract for riskmodel.{pkg_dir.name}"
        missing = private - protected[pkg_dir.name]
        assert not missing, f"add to pyproject.toml's public-{pkg_dir.name} contract: {missing}"

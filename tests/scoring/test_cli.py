"""``riskmodel score`` end to end through the command line."""

from __future__ import annotations

import json
import os
import pwd

import pandas as pd
from typer.testing import CliRunner

from riskmodel.cli import app

runner = CliRunner()


def test_score_command_writes_the_list_and_logs_it(isolated_project, bundle_dir, cohort_file):
    out = isolated_project / "lists" / "2024-06"
    res = runner.invoke(
        app,
        [
            "score",
            "--model", str(bundle_dir),
            "--cohort", str(cohort_file),
            "--purpose", "programme_referral",
            "--capacity", "12",
            "--out", str(out),
            "--as-of", "2024-06-30",
            "--severe-threshold", "0.2",
            "--reoffend-threshold", "0.25",
            "--area-capacity", "Thanet=2",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "listed" in res.output and "not decisions" in res.output
    listed = pd.read_csv(out / "eligibility_list.csv", comment="#")
    assert len(listed) == 12
    assert (listed["p_severe"] < 0.2).all() and (listed["p_reoffend"] >= 0.25).all()
    assert (listed["area"] == "Thanet").sum() <= 2
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rule"]["severe_threshold"] == 0.2
    assert summary["rule"]["capacity_per_area"] == {"Thanet": 2}
    entry = json.loads((isolated_project / "audit_log" / "scoring.jsonl").read_text())
    assert entry["user"] == pwd.getpwuid(os.geteuid()).pw_name
    assert entry["counts"]["listed"] == 12
    verify = runner.invoke(app, ["audit-log", "verify", "--expect", entry["hash"]])
    assert verify.exit_code == 0


def test_bad_options_are_one_clear_line(isolated_project, bundle_dir, cohort_file):
    base = [
        "score",
        "--model",
        str(bundle_dir),
        "--cohort",
        str(cohort_file),
        "--purpose",
        "programme_referral",
        "--capacity",
        "5",
    ]
    res = runner.invoke(
        app, [*base, "--out", str(isolated_project / "o1"), "--as-of", "30/06/2024"]
    )
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output
    res = runner.invoke(
        app, [*base, "--out", str(isolated_project / "o2"), "--area-capacity", "Thanet"]
    )
    assert res.exit_code == 2 and "AREA=PLACES" in res.output
    res = runner.invoke(
        app,
        [
            *base,
            "--out",
            str(isolated_project / "o3"),
            "--model",
            str(isolated_project / "nothing"),
        ],
    )
    assert res.exit_code == 2
    assert not any((isolated_project / d).exists() for d in ("o1", "o2", "o3"))

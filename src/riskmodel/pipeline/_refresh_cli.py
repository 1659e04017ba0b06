"""``riskmodel refresh`` and ``riskmodel rollback`` (registered by riskmodel.cli).

A command module (layer 8 in spirit): it wires the refresh library to the fairness audit and the
audit log, which sit above the refresh gates, by passing them in as callables.
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path

import typer

from riskmodel._cli_common import console, user_errors


def _audit_fairness_json(run_dir: Path) -> Path:
    """The fairness audit of a model on the refresh window; the path of its ``fairness.json``.

    The gate reads the deployed decision's disparities, so the window audits leave out what
    it does not read: the mitigation options and the proxy check (the policy gate checks the
    challenger's inputs for proxies itself). Each audit's report says both were switched off.
    """
    from riskmodel.fairness import audit_run
    from riskmodel.refresh import WINDOW_AUDIT

    return audit_run(run_dir, overrides=WINDOW_AUDIT)[1]


def _fairness_auditor():
    return _audit_fairness_json


def _audit_logger():
    """Appends to the installation's audit log (deliberately not settable per command: a forced
    promotion or a rollback cannot be recorded in a throwaway file)."""

    def log(entry: dict) -> dict:
        from riskmodel.paths import audit_log_path
        from riskmodel.scoring import AuditLog

        return AuditLog(audit_log_path()).append(entry)

    return log


def register(app: typer.Typer) -> None:
    """Add the refresh commands to the riskmodel app."""

    @app.command("refresh")
    def refresh_cmd(
        as_of: str = typer.Option(
            ...,
            "--as-of",
            help="The date the refresh happens (YYYY-MM-DD): only assessments "
            "whose 12-month outcome is complete by then are used.",
        ),
        experiment: Path = typer.Option(
            None,
            "--experiment",
            "-e",
            help="Experiment file for the challenger. Default: the champion's own experiment.",
        ),
        champion: str = typer.Option(
            None,
            "--champion",
            help="Champion run id. Default: models:/riskmodel-reoffend@champion.",
        ),
        force: bool = typer.Option(
            False, "--force", help="Promote even when a gate fails (needs --reason; logged)."
        ),
        reason: str = typer.Option("", "--reason", help="Why a forced promotion is justified."),
        dry_run: bool = typer.Option(
            False, "--dry-run", help="Train and gate, write the report, move no alias."
        ),
    ) -> None:
        """Train a challenger on everything known at a date and promote it only if it passes
        every gate.

        The challenger is trained with the champion's experiment (or --experiment) on every
        assessment whose 12-month outcome is complete on --as-of; its test period is the most
        recent such window. Champion and challenger are compared on that same window: the
        discrimination gate (paired bootstrap by person: the lower bound of the AUC gain must be
        above -margin, both heads), calibration (slope, intercept, ECE), fairness of the deployed
        decision (no disparity newly flagged or worsened), data (contracts; drift by population
        stability index, reported as the reason to refresh) and the sensitive-input policy.
        Thresholds come from the experiment's `refresh:` block.

        Promotion moves the MLflow aliases: previous <- champion, champion <- challenger. The
        challenger alias always points to the newest challenger. `--force --reason TEXT`
        promotes a blocked challenger and writes the reason to the hash-chained audit log.
        Writes reports/refresh/DATE_TIME/promotion.html and promotion.json.
        """
        from riskmodel.experiment import load_experiment
        from riskmodel.models import ModelIntegrityError
        from riskmodel.refresh import refresh

        with user_errors(ModelIntegrityError, LookupError), console.status("refresh") as status:
            date = dt.date.fromisoformat(as_of)
            exp = load_experiment(experiment) if experiment else None

            def say(msg: str) -> None:
                status.update(msg)
                console.log(msg)

            res = refresh(
                as_of=date,
                experiment=exp,
                experiment_file=experiment,
                champion_run=champion,
                force=force,
                reason=reason,
                who=getpass.getuser(),
                audit_fairness=_fairness_auditor(),
                log_event=_audit_logger(),
                promote=not dry_run,
                progress=say,
            )
        from rich.table import Table

        table = Table(title=f"refresh as of {date}: challenger {res.challenger_run or '(none)'}")
        for col in ("gate", "result", "why"):
            table.add_column(col)
        for g in res.gates:
            table.add_row(g.name, "pass" if g.passed else "[red]FAIL[/]", g.reason)
        console.print(table)
        verdict = (
            "promoted by force (logged)"
            if res.forced
            else "promoted"
            if res.promoted
            else "not promoted: the champion stays"
        )
        console.print(f"{verdict}; report: {res.report_dir / 'promotion.html'}")
        typer.echo("promoted" if res.promoted else "blocked")

    @app.command("rollback")
    def rollback_cmd(
        reason: str = typer.Option(..., "--reason", help="Why the champion is rolled back."),
    ) -> None:
        """Move the `champion` alias back to the `previous` model (and `previous` to the model
        rolled back, so a second rollback undoes the first). Written to the audit log."""
        from riskmodel.refresh import rollback

        with user_errors(LookupError):
            entry = rollback(log_event=_audit_logger(), who=getpass.getuser(), reason=reason)
        console.print(
            f"champion is now run {entry['to_run']} (was {entry['from_run']}); audit log entry "
            f"{entry.get('hash', '')}"
        )

    @app.command("backtest")
    def backtest_cmd(
        experiment: Path = typer.Option(
            None,
            "--experiment",
            "-e",
            help="Experiment file (world or table, training options, refresh thresholds). "
            "Default: experiments/backtest.yaml (the Kent world with a three-year look-back and "
            "a two-year training window and no embargo, so that a refresh brings newer data, not more; its "
            "twin without change is experiments/backtest_no_trends.yaml).",
        ),
        start: str = typer.Option(
            "2018-01-01",
            "--from",
            help="First refresh date: the frozen model is trained on what was known then "
            "(2018 is the first whose training years have a full look-back in the Kent world).",
        ),
        every: str = typer.Option(
            "12m", "--every", help="Refresh interval in months, e.g. 6m or 12m."
        ),
        out: Path = typer.Option(
            None, "--out", help="Output directory (default: reports/backtest/<experiment>)."
        ),
    ) -> None:
        """Replay the years: a model frozen at --from, scheduled refresh with gates, and refresh
        without gates, each scoring the people assessed in the following period.

        Compares the three policies on the same people and outcomes (AUC, calibration slope,
        share of harm in the top 5%, largest selection-rate ratio between sex and ethnicity
        groups, each with a bootstrap interval by person), lists which refreshes passed the
        gates and why, and writes backtest.html and backtest.json. Nothing is registered in
        MLflow and the champion is not touched.
        """
        from riskmodel.experiment import load_experiment
        from riskmodel.models import prepare_data
        from riskmodel.paths import experiments_dir, reports_dir
        from riskmodel.refresh import run_backtest, write_backtest_report

        with user_errors(), console.status("backtest") as status:

            def say(msg: str) -> None:
                status.update(msg)
                console.log(msg)

            months = int(every.lower().removesuffix("m"))
            path = experiment or experiments_dir() / "backtest.yaml"
            exp = load_experiment(path)
            data = prepare_data(exp, progress=say)
            bt = run_backtest(
                data.frame,
                data.spec,
                exp,
                start=dt.date.fromisoformat(start),
                every_months=months,
                progress=say,
            )
            html, _ = write_backtest_report(
                bt, out or reports_dir() / "backtest" / exp.name, title=exp.name
            )
        from riskmodel.refresh import backtest_summary

        for line in backtest_summary(bt):
            console.print(line)
        console.print(f"report: {html}")

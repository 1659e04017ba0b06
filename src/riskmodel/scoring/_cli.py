"""``riskmodel score`` and ``riskmodel audit-log`` (registered by riskmodel.cli)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from riskmodel._cli_common import console, user_errors

ERR_AS_OF = "--as-of: {value!r} is not a date; write it as YYYY-MM-DD"
ERR_AREA_CAPACITY = "--area-capacity: {value!r} should be AREA=PLACES, e.g. Thanet=20"


def _error_kinds() -> tuple[type[BaseException], ...]:
    from riskmodel.models import ModelIntegrityError
    from riskmodel.scoring import AuditLogError

    # ConnectionError: a Dask scheduler that cannot be reached (--engine dask)
    return (ModelIntegrityError, AuditLogError, FileExistsError, PermissionError, ConnectionError)


def _area_capacities(values: list[str] | None) -> dict[str, int] | None:
    if not values:
        return None
    out: dict[str, int] = {}
    for v in values:
        area, sep, places = v.rpartition("=")
        if not sep or not area.strip() or not places.strip().isdigit():
            raise ValueError(ERR_AREA_CAPACITY.format(value=v))
        out[area.strip()] = int(places)
    return out


def register(app: typer.Typer) -> None:
    """Add ``score`` and the ``audit-log`` group to the riskmodel app."""
    audit_log_app = typer.Typer(
        name="audit-log",
        help="Check or read the tamper-evident log of scoring runs (refused runs included).",
        no_args_is_help=True,
        rich_markup_mode="rich",
    )

    @app.command("score")
    def score(
        model: str = typer.Option(
            ...,
            "--model",
            help="Run id, models:/riskmodel-reoffend@champion, or a model bundle folder. Its "
            "SHA-256 manifest is checked before loading.",
        ),
        cohort: Path = typer.Option(
            ...,
            "--cohort",
            help="A world folder, a features file (features.parquet/.csv) or folder, or a "
            "people file (then give --events).",
        ),
        events: Path = typer.Option(None, "--events", help="Events file, with a people --cohort."),
        programmes: Path = typer.Option(
            None, "--programmes", help="Programmes file (optional), with a people --cohort."
        ),
        purpose: str = typer.Option(
            None,
            "--purpose",
            help="Required. Only 'programme_referral' is accepted; any other purpose "
            "(charging, bail, sentencing, ...) is refused and the refusal logged.",
        ),
        capacity: int = typer.Option(
            ...,
            "--capacity",
            min=0,
            help="Programme places overall: at most this many people are listed (0 = no overall "
            "limit; the reoffend threshold decides).",
        ),
        out: Path = typer.Option(
            ...,
            "--out",
            help="New (or empty) folder for the list and its summary, not a symbolic link; "
            "published whole or not at all.",
        ),
        as_of: str = typer.Option(
            None,
            "--as-of",
            help="Scoring date YYYY-MM-DD (default: the world's end date, or the latest valid "
            "date in the input; dates after today are rejected rows, never the scoring date).",
        ),
        reoffend_threshold: float = typer.Option(
            None,
            "--reoffend-threshold",
            min=0.0,
            max=1.0,
            help="List people whose 12-month reoffending probability is at least this.",
        ),
        no_reoffend_threshold: bool = typer.Option(
            False,
            "--top-by-capacity",
            help="No reoffend threshold: list the top --capacity people below the severe "
            "threshold.",
        ),
        severe_threshold: float = typer.Option(
            None,
            "--severe-threshold",
            min=0.0,
            max=1.0,
            help="Exclude (never list) people whose severe-reoffence probability is at least this.",
        ),
        area_capacity: list[str] = typer.Option(
            None,
            "--area-capacity",
            help="Places in one area, AREA=PLACES (repeat for each area).",
        ),
        engine: str = typer.Option(
            "local",
            "--engine",
            help="Where a world folder's partitions are scored: 'local' (this process, one "
            "partition at a time) or 'dask' (features and predictions on the Dask cluster at "
            "--scheduler, each worker reading its partition's files at the same path; the "
            "eligibility rule and the reasons run here). Same list either way. See "
            "docs/ENGINE.md.",
        ),
        scheduler: str = typer.Option(
            None,
            "--scheduler",
            help="Address of the Dask scheduler, e.g. tcp://10.0.0.5:8786 (what `dask "
            "scheduler` prints); with --engine dask only. Recorded in the audit log.",
        ),
        rule_file: Path = typer.Option(
            None,
            "--rule",
            help="YAML file with the eligibility rule (EligibilityConfig); default: the rule "
            "recorded with the model's run. Options above override it.",
        ),
    ) -> None:
        """Score a cohort into an eligibility list for perpetrator-programme referrals.

        Writes eligibility_list.csv/.parquet (people recommended for a programme place, in rank order, with three reasons each), rejects.csv, and summary.html/.json for the programme coordinator.

        The list is a set of recommendations for a human to review, never decisions. Every run, refused ones included, is appended to the installation's tamper-evident audit log (audit_log/scoring.jsonl under RISKMODEL_HOME), with your operating-system user name; no option changes either.

        A world folder (single files or partitioned) is scored partition by partition: --engine dask runs that work on a Dask cluster, and the list is the same as on this machine.

        Checked before any work: the purpose, that the log can be written, that --out is a new or empty folder (not a link) you can create, and that the model resolves and matches its manifest (and the registry's record of its version).
        """  # noqa: E501
        import datetime as dt

        from riskmodel.scoring._score import guard_purpose

        with user_errors(*_error_kinds()):
            # the purpose first: nothing is parsed, read or written before it passes
            guard_purpose(purpose, model=model, out_dir=out)

            from riskmodel.config import load_config
            from riskmodel.eligibility import EligibilityConfig
            from riskmodel.scoring import STEPS, score_cohort

            when = None
            if as_of is not None:
                try:
                    when = dt.date.fromisoformat(as_of)
                except ValueError:
                    raise ValueError(ERR_AS_OF.format(value=as_of)) from None
            rule = load_config(rule_file, EligibilityConfig) if rule_file else None
            overrides: dict = {}
            if reoffend_threshold is not None:
                overrides["reoffend_threshold"] = reoffend_threshold
            if no_reoffend_threshold:
                overrides["reoffend_threshold"] = None
            if severe_threshold is not None:
                overrides["severe_threshold"] = severe_threshold
            areas = _area_capacities(area_capacity)
            if areas is not None:
                overrides["capacity_per_area"] = areas
            if events is not None or programmes is not None:
                if events is None:
                    raise ValueError("--programmes needs --events (and a people --cohort)")
                source: object = {"people": cohort, "events": events, "programmes": programmes}
            else:
                source = cohort

            from riskmodel._cli_common import progress

            with progress()() as bar:
                task = bar.add_task(STEPS[0], total=len(STEPS))
                parts: list = []

                def tick(i: int, n: int, what: str) -> None:
                    bar.update(task, completed=i - 1, description=what)

                def part_tick(done: int, n: int) -> None:
                    # a bar of its own for a world's partitions (one for a single-file world)
                    if not parts:
                        parts.append(bar.add_task(f"partitions ({engine})", total=n))
                    bar.update(parts[0], completed=done)

                result = score_cohort(
                    model=model,
                    cohort=source,
                    purpose=purpose,
                    capacity=capacity or None,
                    out_dir=out,
                    as_of=when,
                    rule=rule,
                    progress=tick,
                    rule_overrides=overrides or None,
                    engine=engine,
                    scheduler=scheduler,
                    part_progress=part_tick,
                )
                bar.update(task, completed=len(STEPS), description="done")

        from rich.table import Table

        c = result.counts
        t = Table(title=f"eligibility list as of {result.scoring_date}")
        t.add_column("people")
        t.add_column("count", justify="right")
        for key in ("in", "listed", "not_listed", "excluded_high_harm", "rejected"):
            t.add_row(key, str(c[key]))
        console.print(t)
        m = result.model
        console.print(f"model {m['name']} version {m['version']} (run {m['run_id']})")
        console.print(f"list:    {result.eligibility_list_csv}")
        console.print(f"summary: {result.summary_html}")
        if c["rejected"]:
            console.print(f"rejected records: {result.rejects_csv}")
        for w in result.warnings:
            console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
        console.print(
            f"audit log entry {result.audit_entry['seq']}: {result.audit_entry['hash']}",
            highlight=False,
        )
        console.print(
            "[bold]These are recommendations for a coordinator to review, not decisions.[/]"
        )

    @audit_log_app.command("verify")
    def verify(
        path: Path = typer.Option(
            None,
            "--path",
            help="Log file to check (default: the installation's, audit_log/scoring.jsonl under "
            "RISKMODEL_HOME); e.g. a copy kept elsewhere.",
        ),
        expect: list[str] = typer.Option(
            None,
            "--expect",
            help="An entry hash that must be in the log (e.g. from a summary.json); repeatable.",
        ),
        anchors: list[Path] = typer.Option(
            None,
            "--anchors",
            help="A folder to search for scoring summaries (summary.json) whose recorded entry "
            "must still be in the log at its place; repeatable. Always searched: the output "
            "folders the log names and the installation's reports folder.",
        ),
    ) -> None:
        """Check that no line was edited, deleted, inserted or reordered, against every anchor found.

        Each line must be the canonical form of its entry; the chain must match its head file; and every scoring summary found (in the folders the log names, the installation's reports folder, and --anchors) must find its entry at its place. Exits 0 only when all hold; otherwise names the first problem and exits 1. What this can and cannot prove: docs/THREAT_MODEL.md.
        """  # noqa: E501
        from riskmodel.paths import audit_log_path, reports_dir
        from riskmodel.scoring import AuditLog
        from riskmodel.scoring._audit_log import find_anchors

        log = AuditLog(path or audit_log_path())
        try:
            entries = list(log.entries())
        except ValueError:
            entries = []  # verify names the bad line
        found = find_anchors(entries, [reports_dir(), *(anchors or [])], log_path=log.path)
        report = log.verify(expected_hashes=expect or (), anchors=found)
        if report.ok:
            if report.n_entries == 0:
                console.print(f"{report.path}: no entries yet (nothing to check)")
            else:
                console.print(
                    f"[green]intact:[/] {escape(report.path)}: {report.n_entries} entries, last "
                    f"hash {report.last_hash}; {len(found)} summaries checked as anchors",
                    highlight=False,
                )
            return
        where = f" (first bad line: {report.first_bad_line})" if report.first_bad_line else ""
        console.print(
            f"[bold red]NOT INTACT:[/] {escape(report.path)}{where}: {escape(report.problem)}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(code=1)

    @audit_log_app.command("recover")
    def recover() -> None:
        """Repair what a killed scoring run left in the log, and record that it did.

        Two states are repaired: a last line written but not yet counted in the head file, and a half-written last line. Scoring runs killed before publishing are recorded as failed and their partial folders removed. Anything else is refused as tampering. Every scoring run does this first anyway.
        """  # noqa: E501
        from riskmodel.paths import audit_log_path
        from riskmodel.scoring import AuditLog
        from riskmodel.scoring._transaction import recover_interrupted

        log = AuditLog(audit_log_path())
        with user_errors(*_error_kinds()):
            log.recover()
            notes = recover_interrupted(log)
        for n in notes:
            console.print(escape(n), highlight=False, soft_wrap=True)
        console.print(f"{escape(str(log.path))}: nothing left to recover", highlight=False)

    @audit_log_app.command("show")
    def show(
        path: Path = typer.Option(None, "--path", help="Log file (default: the installation's)."),
        last: int = typer.Option(20, "--last", min=1, help="How many of the latest entries."),
    ) -> None:
        """List the latest scoring runs (unverified: run `verify` to trust them)."""
        from collections import deque

        from rich.table import Table
        from rich.text import Text

        from riskmodel.paths import audit_log_path
        from riskmodel.scoring import AuditLog

        log = AuditLog(path or audit_log_path())
        with user_errors():
            entries = deque(log.entries(), maxlen=last)
        # everything shown came from users (purpose, names, paths): print it literally
        t = Table(title=escape(str(log.path)))
        for col in ("seq", "time (UTC)", "user", "purpose", "outcome", "model", "listed"):
            t.add_column(col)
        for e in entries:
            m = e.get("model") or {}
            user = str(e.get("user"))
            if e.get("declared_identity"):
                user += f" (as {e['declared_identity']})"
            cells = (
                str(e.get("seq")),
                str(e.get("time", ""))[:19],
                user,
                str(e.get("purpose")),
                str(e.get("outcome")),
                f"{m.get('name', m.get('ref', ''))} {m.get('version') or ''}".strip(),
                str((e.get("counts") or {}).get("listed", "")),
            )
            t.add_row(*(Text(c) for c in cells))
        console.print(t)

    app.add_typer(audit_log_app, name="audit-log")

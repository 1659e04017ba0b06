"""``riskmodel limits`` and ``riskmodel compare`` (registered by riskmodel.cli)."""

from __future__ import annotations

from pathlib import Path

import typer

from riskmodel._cli_common import console, user_errors


def _parse_fractions(text: str) -> list[float]:
    if not text or text.strip().lower() in ("none", "0", "off"):
        return []
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(f"not a comma-separated list of fractions: {text!r}") from None


class _Steps:
    """A rich progress bar over the named steps of a long job (advances on each message)."""

    def __init__(self, total: int) -> None:
        from riskmodel._cli_common import progress

        self.bar = progress()()
        self.total = total

    def __enter__(self):
        self.bar.__enter__()
        self.task = self.bar.add_task("starting", total=self.total)
        return self

    def __exit__(self, *exc):
        self.bar.update(self.task, completed=self.total)
        return self.bar.__exit__(*exc)

    def __call__(self, msg: str) -> None:
        from rich.markup import escape

        self.bar.update(self.task, description=escape(msg[:70]), advance=1)
        self.bar.console.log(escape(msg))


def register(app: typer.Typer) -> None:
    """Add the limits and compare commands to the riskmodel app."""

    @app.command("limits")
    def limits(
        run: str = typer.Option(..., "--run", "-r", help="Run id printed by `riskmodel train`."),
        scale_factor: float = typer.Option(
            2.0,
            help="The ceiling's world has this many times the experiment's people (same world "
            "config, another seed). Larger estimates the ceiling better and costs more.",
        ),
        window_years: float = typer.Option(
            3.0, help="The ceiling is fitted on the index events of the last N years of its world."
        ),
        fractions: str = typer.Option(
            "0.1,0.25,0.5,1",
            help="Learning curves: shares of the training period's people ('none' to skip).",
        ),
        curve_heads: str = typer.Option(
            "reoffend,severe", help="Heads for the learning curves (comma-separated)."
        ),
        tune: int = typer.Option(
            0,
            help="Also tune the heads with this many Optuna trials and compare with the fixed "
            "settings (0: no tuning).",
        ),
        n_boot: int = typer.Option(
            None, help="Person-level bootstrap replicates (default: the experiment's n_boot)."
        ),
        out: Path = typer.Option(None, help="Output folder (default: the run's reports folder)."),
    ) -> None:
        """What limits a trained run: the ceiling of the records, learning curves, tuning.

        **Ceiling of the records**: fits the world's true probability E[p_true | features] on a
        larger world of the same design (another seed) and scores model, ceiling and oracle on
        the run's test people, splitting the oracle gap into an *information gap* (oracle -
        ceiling: the records lack it) and a *learning gap* (ceiling - model: learning could
        close it), with paired person-level bootstrap intervals. Also the ceiling of age + prior
        DA count alone.

        **Learning curves**: retrains on growing shares of the training people.

        **Tuning** (--tune N): Optuna on the validation period, compared with fixed settings.

        Writes limits.html and limits.json (with the proposed metrics.json keys) into the run's
        folder. Synthetic worlds only.
        """
        from rich.table import Table

        from riskmodel.models import ModelIntegrityError
        from riskmodel.models._limits import run_limits

        fr = _parse_fractions(fractions)
        heads = tuple(h.strip() for h in curve_heads.split(",") if h.strip())
        steps = 8 + len(fr) * len(heads) + (tune * 2 + 4 if tune else 0)
        with user_errors(ModelIntegrityError, LookupError), _Steps(steps) as say:
            result = run_limits(
                run,
                scale_factor=scale_factor,
                window_years=window_years,
                fractions=fr,
                curve_heads=heads,
                n_boot=n_boot,
                tune_trials=tune,
                out_dir=out,
                progress=say,
            )
        table = Table(title=f"what limits run {run} (AUC, test period)")
        for col in ("head", "model", "ceiling", "oracle", "information gap", "learning gap"):
            table.add_column(col, justify="left" if col == "head" else "right")
        for head, h in result["ceiling"]["heads"].items():
            v, d, ci = h["value"]["auc"], h["diff"], h["diff_ci"]
            table.add_row(
                head,
                f"{v['model']:.3f}",
                f"{v['ceiling']:.3f}",
                f"{v['oracle']:.3f}",
                f"{d['information_gap']['auc']:.3f} [{ci['information_gap']['auc'][0]:.3f}, "
                f"{ci['information_gap']['auc'][1]:.3f}]",
                f"{d['learning_gap']['auc']:.3f} [{ci['learning_gap']['auc'][0]:.3f}, "
                f"{ci['learning_gap']['auc'][1]:.3f}]",
            )
        console.print(table)
        console.print(f"report: {(out or Path(result.get('run_dir', '.'))) / 'limits.html'}")
        if out is None and result.get("run_dir"):
            from riskmodel.models._limits import merge_limits_metrics

            merge_limits_metrics(result["run_dir"], result)
            console.print(
                "metrics.json: the limits keys were added; `riskmodel report --run "
                f"{run}` puts limits.html on the run's front door"
            )

    @app.command("compare")
    def compare(
        runs: list[str] = typer.Argument(
            ..., help="Two or more run ids (or run folders); the first is the reference."
        ),
        out: Path = typer.Option(
            None, help="Output folder (default: reports/compare-<first>-<last>/)."
        ),
        n_boot: int = typer.Option(500, help="Person-level bootstrap replicates."),
        seed: int = typer.Option(0, help="Seed of the bootstrap."),
    ) -> None:
        """Compare trained runs side by side: the same metrics with intervals, and differences.

        Each run's test period is re-scored from its predictions with a person-level bootstrap
        (all of a person's index events together). Where two runs share test rows (same world,
        same index events: e.g. a feature ablation) their difference is **paired** (same
        resampled people); otherwise (e.g. a measurement-bias world) the runs are resampled
        independently and the difference interval is wider. Every difference is worded by one
        rule: better / worse / no clear difference, from its interval. Also compares the
        fairness audits when both runs have one (`riskmodel audit --run`). Writes compare.html
        and compare.json.
        """
        from riskmodel.models import ModelIntegrityError
        from riskmodel.models._compare import compare_runs

        if len(runs) < 2:
            raise typer.BadParameter("give at least two runs to compare")
        with user_errors(ModelIntegrityError, LookupError), _Steps(len(runs) * 3 + 2) as say:
            result = compare_runs(runs, out_dir=out, n_boot=n_boot, seed=seed, progress=say)
        for line in result["headlines"]:
            console.print("• " + line)
        console.print(f"report: {result['out_dir']}/compare.html")

"""Command-line entry points of the fairness stage (registered by riskmodel.cli)."""

from __future__ import annotations

from pathlib import Path

import typer

ERR_REFERENCE_FORMAT = (
    "--reference must look like attribute=group (e.g. race=Caucasian), got {value!r}"
)


def _parse_references(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values or []:
        attr, sep, group = v.partition("=")
        if not sep or not attr.strip() or not group.strip():
            raise ValueError(ERR_REFERENCE_FORMAT.format(value=v))
        out[attr.strip()] = group.strip()
    return out


def register(app: typer.Typer) -> None:
    """Add this stage's commands to the riskmodel app."""

    @app.command("audit")
    def audit(
        run: str = typer.Option(
            ..., "--run", help="Run id (a folder under reports/) or a run directory."
        ),
        n_boot: int | None = typer.Option(
            None,
            "--n-boot",
            help="Bootstrap replicates (default: the experiment's fairness config).",
        ),
        min_group_n: int | None = typer.Option(
            None, "--min-group-n", help="Suppress groups smaller than this."
        ),
        without_sensitive: str | None = typer.Option(
            None,
            "--without-sensitive",
            help="Run id of a companion trained without age and the health flags (e.g. "
            "experiments/baseline_no_sensitive.yaml): shown side by side.",
        ),
    ) -> None:
        """Fairness audit of a trained run: writes fairness.html and fairness.json into the run.

        Selection is the run's deployed eligibility rule on the test period (capacity scaled to
        the test period, the severe-harm exclusion, scoring's tie-breaks); groups are the
        configured audit attributes (sex, ethnicity, age band, area, disability) and their
        intersection; people are the bootstrap unit; synthetic runs also get the label-bias audit
        against the world's equal-recording counterfactual.
        """
        from riskmodel._cli_common import console, user_errors

        with user_errors():
            from riskmodel.fairness import audit_run
            from riskmodel.models import load_run

            loaded = load_run(run)
            cfg = None
            if n_boot is not None or min_group_n is not None:
                from riskmodel.fairness import FairnessConfig

                base = loaded.experiment.fairness
                upd = {
                    k: v
                    for k, v in {"n_boot": n_boot, "min_group_n": min_group_n}.items()
                    if v is not None
                }
                cfg = FairnessConfig.model_validate({**base.model_dump(), **upd})
            with console.status("auditing the run (bootstrap, proxies, mitigation)..."):
                html, js = audit_run(loaded, config=cfg, companion=without_sensitive)
        typer.echo(f"wrote {html}\nwrote {js}")

    @app.command("audit-scores")
    def audit_scores_cmd(
        data: Path = typer.Option(..., "--data", help="CSV or Parquet file, one row per person."),
        score: str = typer.Option(
            ..., "--score", help="Column holding the score (higher = higher risk)."
        ),
        label: str = typer.Option(
            ..., "--label", help="Column holding the outcome (0/1 or true/false)."
        ),
        group: list[str] = typer.Option(
            ..., "--group", help="Audit attribute column; repeat for several."
        ),
        threshold: float = typer.Option(
            ..., "--threshold", help="A case is selected when score >= threshold."
        ),
        out: Path = typer.Option(
            ..., "--out", help="Directory for fairness.html and fairness.json."
        ),
        reference: list[str] | None = typer.Option(
            None,
            "--reference",
            help="Reference group as attribute=group (default: the largest group); repeatable.",
        ),
        n_boot: int = typer.Option(
            1000, "--n-boot", help="Bootstrap replicates for the intervals."
        ),
        min_group_n: int = typer.Option(
            50, "--min-group-n", help="Suppress groups smaller than this."
        ),
        seed: int = typer.Option(
            0, "--seed", help="Seed of the bootstrap and the mitigation draws."
        ),
    ) -> None:
        """Fairness audit of any existing score in a file (e.g. COMPAS decile scores).

        Writes fairness.html (for the panel) and fairness.json (for scripts) into --out.
        """
        from riskmodel._cli_common import console, user_errors

        with user_errors():
            from pydantic import ValidationError

            from riskmodel.fairness import FairnessConfig, audit_scores

            try:
                cfg = FairnessConfig(
                    attributes=tuple(group),
                    reference_groups=_parse_references(reference),
                    n_boot=n_boot,
                    min_group_n=min_group_n,
                    seed=seed,
                )
            except ValidationError as exc:
                raise ValueError(f"invalid option: {exc.errors()[0]['msg']}") from None
            with console.status(f"auditing {data.name}..."):
                html, js = audit_scores(
                    data,
                    score=score,
                    label=label,
                    groups=group,
                    threshold=threshold,
                    out_dir=out,
                    config=cfg,
                )
        typer.echo(f"wrote {html}\nwrote {js}")

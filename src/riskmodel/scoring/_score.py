"""Batch scoring of a cohort into an eligibility list, a summary, and an audit-log entry.

:func:`score` is the pure part (bundle, cohort, rule -> who is listed, and why);
:func:`score_cohort` wraps it in a :class:`~riskmodel.scoring._transaction.ScoringTransaction`.
Order of work, and why:

1. the purpose guard, before anything is read (a refused run is logged, nothing else written);
2. the audit log is checked to be appendable (after recovering what a killed run left), and
   ``out_dir`` to be new, empty, not a link and creatable, so a run that cannot be recorded or
   published fails before doing any work;
3. the model is resolved and its manifest verified before loading (nothing unpickled); a
   registry version it claims is checked against the hash the registry recorded;
4. the cohort goes through the contracts, features are built as of the scoring date;
5. both heads are scored, the eligibility rule applied, reasons worded for the listed only;
6. every output is written into a hidden temporary folder beside ``out_dir``, the run is
   appended to the audit log (with the list files' fingerprints), the summary records that
   entry's hash, and the folder is renamed into place in one step. A crash at any point leaves
   nothing under the final names; a failure is logged as ``failed``, and a killed run is
   recorded as failed by the next run.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import pwd
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.eligibility import EligibilityConfig
from riskmodel.notice import PERMITTED_PURPOSE, PERMITTED_USE_NOTICE, permitted_use_notice
from riskmodel.provenance import canonical_json, sha256_bytes, sha256_file
from riskmodel.scoring._audit_log import AuditLog, AuditLogError
from riskmodel.scoring._cohort import Cohort
from riskmodel.scoring._purpose import PurposeRefused, check_purpose
from riskmodel.scoring._transaction import ERR_NOT_LOGGED, ScoringTransaction

STEPS = (
    "check the purpose",
    "verify and load the model",
    "read the cohort and build features",
    "score both heads",
    "apply the eligibility rule",
    "word the reasons for the listed",
    "write the list and record the run",
)

LIST_PARQUET = "eligibility_list.parquet"
LIST_CSV = "eligibility_list.csv"
REJECTS_CSV = "rejects.csv"
SUMMARY = "summary"
LIST_COLUMNS = (
    "person_id",
    "rank",
    "p_reoffend",
    "p_severe",
    "band",
    "area",
    "reason_1",
    "reason_2",
    "reason_3",
    "model_name",
    "model_version",
    "run_id",
    "scoring_date",
)

REVIEW_NOTE = (
    "This is a list of recommendations for a programme coordinator to review, not decisions: "
    "each person listed may be offered a place on a voluntary perpetrator programme, after a "
    "human has checked the case."
)

ERR_MODEL_REF = (
    "{ref}: cannot resolve the model ({why}); give a run id, models:/<name>@<alias> (after "
    "`riskmodel promote`), or a model bundle folder"
)
ERR_REGISTRY_MISMATCH = (
    "{ref}: the model claims to be {name} version {version} (run {run_id}), but the registry "
    "recorded manifest SHA-256 {want} for that version and this bundle's manifest is {got}; "
    "refusing a model that is not the registered one"
)
ERR_COUNTS = (
    "internal error: counts do not add up (in={in_} but listed + not_listed + excluded_high_harm "
    "+ rejected = {total}); no list was written"
)
WARN_AREA = (
    "capacity_per_area names {area!r} but nobody in the cohort lives there: is the name misspelt?"
)
WARN_REJECTED = (
    "{n} people were rejected and are not on the list; see rejects.csv, fix the records and "
    "score again"
)
WARN_NOBODY = (
    "nobody could be scored: every person was rejected or had no recorded DA event in the "
    "{days} days before the scoring date"
)

Progress = Callable[[int, int, str], None]


@dataclass
class ScoringResult:
    """Where a scoring run's outputs landed and what it counted.

    Attributes
    ----------
    out_dir : the folder holding every output
    eligibility_list_csv, eligibility_list_parquet, summary_html, summary_json, rejects_csv : paths
    counts : ``in``, ``listed``, ``not_listed``, ``excluded_high_harm``, ``rejected``
    scoring_date : the date the cohort was assessed as of
    rule : the eligibility rule applied (after overrides)
    model : ref, name, version, run id, manifest SHA-256
    audit_entry : the audit-log entry as written (with its ``hash``)
    eligibility_list : the list itself, in rank order
    warnings : things the coordinator should check (e.g. a per-area capacity naming nobody)
    timings : seconds per step when a world was scored partition by partition
    """

    out_dir: Path
    eligibility_list_csv: Path
    eligibility_list_parquet: Path
    summary_html: Path
    summary_json: Path
    rejects_csv: Path
    counts: dict[str, int]
    scoring_date: _dt.date
    rule: EligibilityConfig
    model: dict[str, Any]
    audit_entry: dict[str, Any]
    eligibility_list: pd.DataFrame = field(repr=False)
    warnings: list[str] = field(default_factory=list)
    #: seconds per step of a world scored partition by partition (``scoring._engine``)
    timings: dict[str, float] = field(default_factory=dict)


def os_user() -> str:
    """The operating-system account running this process (effective uid): what the audit log
    records as ``user``, whatever the run declares about itself."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a passwd entry (some containers)
        return f"uid:{uid}"


def _shown_purpose(purpose: object) -> str | None:
    if purpose is None:
        return None
    text = str(purpose)
    return text if len(text) <= 200 else text[:200] + "..."


def _resolve_model(model: str | Path) -> tuple[Path, str | None]:
    from riskmodel.models import resolve_model

    try:
        bundle_dir, expected = resolve_model(str(model))
    except FileNotFoundError:
        p = Path(model)
        if p.is_dir() and (p / "bundle.json").exists():
            return p, None  # a bundle without its manifest: load_bundle refuses it, saying why
        raise
    except LookupError as exc:  # e.g. an alias not promoted yet, an unknown version
        raise ValueError(ERR_MODEL_REF.format(ref=model, why=exc)) from None
    return Path(bundle_dir), expected


def _registry_exists() -> bool:
    """Whether a registry could hold any version (an absent SQLite store cannot)."""
    from riskmodel.paths import tracking_uri

    uri = tracking_uri()
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///")).exists()
    return True


def _claimed_version(ref: str, bundle: Any, bundle_dir: Path) -> tuple[str, str | None]:
    """``(registered name, version)`` the model claims: a ``models:/`` reference's, else the
    run record's beside the bundle, else the bundle's metadata."""
    meta = dict(getattr(bundle, "metadata", {}) or {})
    names = meta.get("registered_model_names") or {}
    name = str(meta.get("model_name") or names.get("reoffend") or "riskmodel")
    if ref.startswith("models:/"):
        from riskmodel import tracking

        mv = tracking.model_version(ref)
        return mv["name"], mv["version"]
    run_json = bundle_dir.parent / "run.json"
    if bundle_dir.name == "model" and run_json.exists():
        registered = json.loads(run_json.read_text(encoding="utf-8")).get("registered") or {}
        if registered.get("reoffend") is not None:
            return name, str(registered["reoffend"])
    version = meta.get("model_version")
    return name, None if version is None else str(version)


def _checked_version(
    ref: str, name: str, version: str | None, run_id: str | None, manifest_sha: str
) -> str | None:
    """The claimed version if the registry recorded this very bundle for it; refused if the
    registry recorded another; ``None`` (not claimed) when no registry knows of it."""
    if version is None or not _registry_exists():
        return None
    from riskmodel import tracking

    try:
        mv = tracking.model_version(f"models:/{name}/{version}")
    except (LookupError, ValueError):
        return None
    want = mv["tags"].get("bundle_manifest_sha256")
    if want != manifest_sha or (run_id is not None and mv["run_id"] not in (None, run_id)):
        from riskmodel.models import ModelIntegrityError

        raise ModelIntegrityError(
            ERR_REGISTRY_MISMATCH.format(
                ref=ref, name=name, version=version, run_id=run_id, want=want, got=manifest_sha
            )
        )
    return version


def _model_info(ref: str, bundle: Any, bundle_dir: Path, manifest_sha: str) -> dict[str, Any]:
    meta = dict(getattr(bundle, "metadata", {}) or {})
    run_id = None if meta.get("run_id") is None else str(meta["run_id"])
    name, claimed = _claimed_version(ref, bundle, bundle_dir)
    version = _checked_version(ref, name, claimed, run_id, manifest_sha)
    return {
        "ref": ref,
        "name": name,
        "version": version if version is not None else f"unregistered-{manifest_sha[:12]}",
        "run_id": run_id,
        "experiment": meta.get("experiment"),
        "manifest_sha256": manifest_sha,
        "bundle_dir": str(bundle_dir),
    }


def _effective_rule(
    rule: EligibilityConfig | None,
    bundle: Any,
    capacity: int | None,
    overrides: dict[str, Any] | None = None,
) -> EligibilityConfig:
    """The rule given, else the one recorded with the model, else the defaults; then the
    capacity and any overrides on top (validated together, so a bad combination is refused)."""
    from riskmodel.config import validate_mapping

    if rule is None:
        recorded = (getattr(bundle, "metadata", {}) or {}).get("eligibility")
        rule = EligibilityConfig.model_validate(recorded) if recorded else EligibilityConfig()
    data = {**rule.model_dump(), "capacity": capacity, **(overrides or {})}
    return validate_mapping(data, EligibilityConfig, source="eligibility rule")


@dataclass
class Scored:
    """What :func:`score` decides: per person (``scored``), the reasons of the listed, counts."""

    scored: pd.DataFrame
    reasons: pd.DataFrame
    reasons_source: str
    counts: dict[str, int]


def score(bundle: Any, cohort: Cohort, rule: EligibilityConfig) -> Scored:
    """Score a read cohort with a loaded model under an eligibility rule; no I/O, no log.

    Raises ``RuntimeError`` if the counts do not add up (in = listed + not_listed +
    excluded_high_harm + rejected), which would be a bug.
    """
    from riskmodel.scoring._engine import decide, predict_part

    # the same two steps as each partition of a world (scoring._engine), on one table
    slim, candidates = predict_part(bundle, cohort.frame, rule)
    return decide(bundle, slim, candidates, rule, n_rejected=cohort.n_rejected, n_in=cohort.n_in)


def _files_fingerprint(directory: Path, names: tuple[str, ...]) -> tuple[dict[str, str], str]:
    files = {n: sha256_file(directory / n) for n in names}
    return files, sha256_bytes(canonical_json(files).encode())


def _list_frame(
    scored: pd.DataFrame, reasons: pd.DataFrame, model: dict[str, Any], as_of: _dt.date
) -> pd.DataFrame:
    listed = scored.loc[scored["eligible"].to_numpy()].copy()
    listed = listed.join(reasons)
    listed = listed.sort_values("rank", kind="stable").reset_index(drop=True)
    n = len(listed)
    out = pd.DataFrame(
        {
            "person_id": listed["person_id"].astype("str"),
            "rank": listed["rank"].astype("int64"),
            "p_reoffend": listed["p_reoffend"].astype(float).round(4),
            "p_severe": listed["p_severe"].astype(float).round(4),
            "band": listed["band"].astype("str"),
            "area": (
                listed["area"].astype("str")
                if "area" in listed.columns
                else pd.Series([None] * n, dtype="str")
            ),
        }
    )
    for col in ("reason_1", "reason_2", "reason_3"):
        out[col] = listed[col].astype("str") if col in listed.columns else ""
    out["model_name"] = pd.Series([model["name"]] * n, dtype="str")
    out["model_version"] = pd.Series([model["version"]] * n, dtype="str")
    out["run_id"] = pd.Series([model["run_id"]] * n, dtype="str")
    out["scoring_date"] = pd.Series([as_of] * n, dtype="date32[pyarrow]")
    return out.loc[:, list(LIST_COLUMNS)]


def _csv_header(
    model: dict[str, Any],
    as_of: _dt.date,
    rule: EligibilityConfig,
    n: int,
    notice: str = PERMITTED_USE_NOTICE,
) -> list[str]:
    cap = "no overall limit" if rule.capacity is None else f"{rule.capacity} places"
    thr = "none (top by capacity)" if rule.reoffend_threshold is None else rule.reoffend_threshold
    return [
        notice,
        f"Purpose: {PERMITTED_PURPOSE}. {REVIEW_NOTE}",
        f"Scoring date {as_of}; model {model['name']} version {model['version']} "
        f"(run {model['run_id']}); {n} people listed in rank order.",
        f"Rule: reoffend threshold {thr}; people with a severe-reoffence probability at or above "
        f"{rule.severe_threshold} are excluded and never listed; capacity {cap}.",
        "Ids are pseudonymous. p_reoffend / p_severe: the model's estimated chance of a recorded "
        "domestic-abuse reoffence / a severe one within 12 months.",
    ]


def _log() -> AuditLog:
    """The installation's log: never chosen per run (see ``riskmodel.paths.audit_log_path``)."""
    from riskmodel.paths import audit_log_path

    return AuditLog(audit_log_path())


def _base_entry(
    purpose: object, *, model: object, out_dir: object, declared: str | None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "user": os_user(),
        "purpose": _shown_purpose(purpose),
        "model": {"ref": str(model)},
        "output": {"dir": str(out_dir)},
    }
    if declared and str(declared).strip():
        entry["declared_identity"] = str(declared).strip()[:200]
    return entry


def guard_purpose(
    purpose: str | None,
    *,
    model: object = None,
    out_dir: object = None,
    user: str | None = None,
) -> str:
    """The purpose guard with its audit trail: return ``programme_referral`` or log the refusal
    (outcome ``refused``) and raise :class:`PurposeRefused`. Reads no data, writes nothing else.
    ``user`` is a declared identity, recorded beside the operating-system user."""
    try:
        return check_purpose(purpose)
    except PurposeRefused as exc:
        entry = _base_entry(purpose, model=model, out_dir=out_dir, declared=user)
        try:
            _log().append({**entry, "outcome": "refused", "error": str(exc)})
        except (AuditLogError, OSError) as log_exc:
            raise PurposeRefused(
                str(exc) + ERR_NOT_LOGGED.format(error=log_exc), purpose=purpose
            ) from exc
        raise


def _load_model(model: str | Path) -> tuple[Any, dict[str, Any]]:
    """Resolve, verify and load the model; its identity as the log and the list record it."""
    from riskmodel.models import load_bundle

    bundle_dir, expected = _resolve_model(model)
    # pin the manifest we hash for the log to the one we load, even for a bare folder
    manifest = bundle_dir / "manifest.json"
    manifest_sha = expected or (sha256_file(manifest) if manifest.exists() else None)
    bundle = load_bundle(bundle_dir, expected_manifest_sha256=manifest_sha)  # refuses no manifest
    return bundle, _model_info(str(model), bundle, bundle_dir, manifest_sha)


def score_cohort(
    *,
    model: str | Path,
    cohort: str | Path | dict | pd.DataFrame,
    purpose: str | None,
    capacity: int | None,
    out_dir: str | Path,
    as_of: _dt.date | None = None,
    rule: EligibilityConfig | None = None,
    user: str | None = None,
    progress: Progress | None = None,
    rule_overrides: dict[str, Any] | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    part_progress: Callable[[int, int], None] | None = None,
) -> ScoringResult:
    """Score a cohort into an eligibility list for perpetrator-programme referrals.

    Parameters
    ----------
    model : run id, ``models:/riskmodel-reoffend@champion``, or a model bundle folder
    cohort : features file or folder, world folder, ``{"people": F, "events": F[, "programmes":
        F]}``, ``{"features": F}``, or a prepared feature frame
    purpose : must be ``programme_referral``; anything else is refused before any data is read
    capacity : programme places overall (``None``: no overall limit, the threshold decides);
        replaces the rule's capacity
    out_dir : new (or empty) folder for the outputs
    as_of : scoring date (default: the world's end date, or the latest date in the input)
    rule : eligibility rule (default: the one recorded with the model, else the defaults)
    user : a declared (service) identity, recorded beside the operating-system user, never
        instead of it. The run goes to the installation's audit log
        (``riskmodel.paths.audit_log_path()``), which no argument can change.
    progress : called as ``progress(step, n_steps, description)`` before each step
    rule_overrides : fields replacing the rule's (e.g. command-line thresholds), applied last
    engine : ``local`` (this process) or ``dask`` (the partitions of a world folder run on the
        Dask scheduler at ``scheduler``); recorded in the audit log. See docs/ENGINE.md
    scheduler : the Dask scheduler's address, with ``engine="dask"`` only
    part_progress : called as ``part_progress(done, n_partitions)`` as a world's partitions finish

    Raises
    ------
    PurposeRefused
        for any purpose but ``programme_referral`` (logged as ``refused``)
    riskmodel.models.ModelIntegrityError
        when the model's files do not match their manifest, or a registered version it claims
        does not match the registry's record
    ValueError, FileNotFoundError, FileExistsError, PermissionError, AuditLogError
        bad cohort files, an unusable output folder, a broken or unwritable audit log
    """

    def step(i: int) -> None:
        if progress is not None:
            progress(i + 1, len(STEPS), STEPS[i])

    step(0)
    guard_purpose(purpose, model=model, out_dir=out_dir, user=user)
    from riskmodel.scoring._engine import check_engine, engine_entry, world_folder

    check_engine(engine, scheduler)
    out_dir = Path(out_dir)
    entry = _base_entry(purpose, model=model, out_dir=out_dir, declared=user)
    entry["engine"] = engine_entry(engine, scheduler)
    timings: dict[str, float] = {}
    tx = ScoringTransaction(_log(), out_dir, entry)
    try:
        tx.begin()
        step(1)
        bundle, model_info = _load_model(model)
        entry["model"] = model_info
        eff_rule = _effective_rule(rule, bundle, capacity, rule_overrides)
        entry["rule"] = eff_rule.model_dump(mode="json")

        step(2)
        world = world_folder(cohort, engine)
        if world is not None:
            # features and prediction partition by partition, the rule and reasons here
            from riskmodel.scoring._engine import score_world

            cohort_in, result, timings = score_world(
                bundle,
                world,
                eff_rule,
                as_of=as_of,
                engine=engine,
                scheduler=scheduler,
                progress=part_progress,
            )
            entry["engine"]["partitions"] = int(timings.pop("partitions"))
        else:
            from riskmodel.scoring._cohort import read_cohort

            cohort_in = read_cohort(
                cohort, bundle=bundle, as_of=as_of, lookback_days=eff_rule.lookback_days
            )
        entry["input"] = {
            "kind": cohort_in.kind,
            "files": cohort_in.files,
            "file_hashes": cohort_in.file_hashes,
            "fingerprint": cohort_in.fingerprint,
        }
        entry["scoring_date"] = cohort_in.as_of.isoformat()

        step(3)
        if world is None:
            result = score(bundle, cohort_in, eff_rule)
        step(4)
        step(5)
        entry["counts"] = result.counts

        step(6)
        elig = _list_frame(result.scored, result.reasons, model_info, cohort_in.as_of)
        assert tx.tmp is not None
        notice = permitted_use_notice(list(bundle.feature_names))
        _write_outputs(tx.tmp, elig, cohort_in, model_info, eff_rule, notice=notice)
        out_files, out_fp = _files_fingerprint(tx.tmp, (LIST_PARQUET, LIST_CSV, REJECTS_CSV))
        entry["output"] = {"dir": str(out_dir), "files": out_files, "fingerprint": out_fp}

        logged = tx.record_completed()
        warnings = [*tx.recovered, *_warnings(result, cohort_in, eff_rule)]
        payload = _summary_payload(
            result, cohort_in, eff_rule, model_info, entry, warnings, bundle=bundle
        )
        payload["audit"] = {
            "log": str(tx.log.path),
            "seq": logged["seq"],
            "entry_hash": logged["hash"],
        }
        from riskmodel.refresh import scoring_drift

        # has the cohort moved away from the model's training data? (PSI; a warning above it)
        sampled = cohort_in.drift_sample is not None
        payload["drift"] = scoring_drift(
            Path(model_info["bundle_dir"]),
            bundle,
            cohort_in.drift_sample if sampled else cohort_in.frame,
            result.scored["p_reoffend"].to_numpy(),
        )
        if payload["drift"].get("available"):
            rows = len(cohort_in.drift_sample if sampled else cohort_in.frame)
            payload["drift"]["cohort_people_compared"] = rows
            payload["drift"]["cohort_inputs_sampled"] = sampled and rows < len(cohort_in.frame)
        if payload["drift"].get("warning"):
            warnings.append(payload["drift"]["warning"])
        from riskmodel.reports import write_report

        payload["permitted_use"] = notice
        write_report(
            tx.tmp,
            SUMMARY,
            "summary.html.j2",
            payload,
            listed_preview=_preview(elig),
            notice=notice,
        )
        tx.publish()
    except BaseException as exc:
        tx.fail(exc)
        raise

    return ScoringResult(
        out_dir=out_dir,
        eligibility_list_csv=out_dir / LIST_CSV,
        eligibility_list_parquet=out_dir / LIST_PARQUET,
        summary_html=out_dir / f"{SUMMARY}.html",
        summary_json=out_dir / f"{SUMMARY}.json",
        rejects_csv=out_dir / REJECTS_CSV,
        counts=result.counts,
        scoring_date=cohort_in.as_of,
        rule=eff_rule,
        model=model_info,
        audit_entry=logged,
        eligibility_list=elig,
        warnings=warnings,
        timings=timings,
    )


def _warnings(result: Scored, cohort_in: Cohort, rule: EligibilityConfig) -> list[str]:
    areas = _area_notes(result.scored, rule)
    warnings = [WARN_AREA.format(area=a) for a in areas["capacity_per_area_unmatched"]]
    warnings += cohort_in.notes
    if result.counts["rejected"]:
        warnings.append(WARN_REJECTED.format(n=result.counts["rejected"]))
    if len(cohort_in.frame) == 0:
        warnings.append(WARN_NOBODY.format(days=rule.lookback_days))
    return warnings


def _summary_payload(
    result: Scored,
    cohort_in: Cohort,
    rule: EligibilityConfig,
    model_info: dict[str, Any],
    entry: dict[str, Any],
    warnings: list[str],
    *,
    bundle: Any,
) -> dict[str, Any]:
    from riskmodel.scoring._summary import (
        coordinator_figures,
        not_listed_breakdown,
        rejection_reasons,
        selection_rates,
    )

    return {
        "purpose": PERMITTED_PURPOSE,
        "review_note": REVIEW_NOTE,
        "scoring_date": cohort_in.as_of.isoformat(),
        "counts": result.counts,
        "counts_outside_cohort": {
            "no_recent_da_event": cohort_in.n_no_recent_event,
            "lookback_days": rule.lookback_days,
        },
        "not_listed_breakdown": not_listed_breakdown(result.scored),
        "rejection_reasons": rejection_reasons(cohort_in.rejects),
        "selection_rates": selection_rates(result.scored, min_cell=rule.min_cell),
        "coordinator": coordinator_figures(
            result.scored, model_info=model_info, bundle=bundle, min_cell=rule.min_cell
        ),
        "rule": rule.model_dump(mode="json"),
        "areas": _area_notes(result.scored, rule),
        "warnings": warnings,
        "model": model_info,
        "input": entry["input"],
        "output": entry["output"],
        "reasons_source": result.reasons_source,
        "user": entry["user"],
        **(
            {"declared_identity": entry["declared_identity"]}
            if "declared_identity" in entry
            else {}
        ),
    }


def _area_notes(scored: pd.DataFrame, rule: EligibilityConfig) -> dict[str, Any]:
    """Per-area capacities that name no one in the cohort are probably misspelt: say so."""
    named = sorted((rule.capacity_per_area or {}).keys())
    if not named or "area" not in scored.columns:
        return {"capacity_per_area_unmatched": [], "areas_without_named_capacity": []}
    present = set(scored["area"].dropna().astype(str))
    return {
        "capacity_per_area_unmatched": [a for a in named if a not in present],
        "areas_without_named_capacity": sorted(present - set(named)),
    }


def _preview(elig: pd.DataFrame, n: int = 25) -> list[dict[str, Any]]:
    head = elig.head(n)
    return json.loads(head.to_json(orient="records", date_format="iso"))


def _write_outputs(
    directory: Path,
    elig: pd.DataFrame,
    cohort_in: Any,
    model: dict[str, Any],
    rule: EligibilityConfig,
    *,
    notice: str = PERMITTED_USE_NOTICE,
) -> None:
    """The list (Parquet and CSV) and the rejects file; each carries the model's own notice
    (it names the sensitive inputs this model uses)."""
    from riskmodel.data import MAX_ECHO_CHARS, spreadsheet_safe, write_csv, write_parquet

    meta = {
        "riskmodel.permitted_use": notice,
        "riskmodel.purpose": PERMITTED_PURPOSE,
        "riskmodel.review_note": REVIEW_NOTE,
        "riskmodel.scoring_date": cohort_in.as_of.isoformat(),
        "riskmodel.model": canonical_json(model),
        "riskmodel.rule": canonical_json(rule.model_dump(mode="json")),
        "riskmodel.input_fingerprint": cohort_in.fingerprint,
    }
    write_parquet(elig, directory / LIST_PARQUET, metadata=meta)
    header = _csv_header(model, cohort_in.as_of, rule, len(elig), notice)
    csv = spreadsheet_safe(elig.assign(scoring_date=cohort_in.as_of.isoformat()))
    write_csv(csv, directory / LIST_CSV, header_lines=header)
    write_csv(
        spreadsheet_safe(cohort_in.rejects, max_chars=MAX_ECHO_CHARS),
        directory / REJECTS_CSV,
        header_lines=[
            notice,
            "Records that could not be scored, and why. A rejected person is never listed: fix "
            "the record and score again. Row numbers count data rows from 1 (the header and # "
            "lines are not counted).",
        ],
    )

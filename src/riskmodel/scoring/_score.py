"""Batch scoring of a cohort into an eligibility list, a summary, and an audit-log entry.

Order of work, and why:

1. the purpose guard, before anything is read (a refused run is logged, nothing else written);
2. the audit log is checked to be appendable and ``out_dir`` to be new or empty, so a run that
   cannot be recorded or published fails before doing any work;
3. the model's manifest is verified before loading (nothing unpickled);
4. the cohort goes through the contracts, features are built as of the scoring date;
5. both heads are scored, the eligibility rule applied, reasons worded for the listed only;
6. every output is written into a hidden temporary folder beside ``out_dir``, the run is
   appended to the audit log (with the list files' fingerprints), the summary records that
   entry's hash, and the folder is renamed into place in one step. A crash at any point leaves
   nothing under the final names; a failure is logged as ``failed``.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.eligibility import EligibilityConfig
from riskmodel.notice import PERMITTED_PURPOSE, PERMITTED_USE_NOTICE
from riskmodel.provenance import canonical_json, sha256_bytes, sha256_file
from riskmodel.scoring._audit_log import AuditLog, AuditLogError
from riskmodel.scoring._cohort import AUDIT_ATTRIBUTES
from riskmodel.scoring._purpose import PurposeRefused, check_purpose

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

ERR_OUT_EXISTS = (
    "{path}: the output folder already exists and is not empty; scoring never overwrites a list "
    "a coordinator may already hold. Choose a new --out folder"
)
ERR_MODEL_REF = (
    "{ref}: cannot resolve the model (give a run id, models:/<name>@<alias>, or a model bundle "
    "folder)"
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
ERR_NOT_LOGGED = "; and the failure could not be recorded in the audit log: {error}"

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


def _user(user: str | None) -> str:
    if user and user.strip():
        return user.strip()
    env = os.environ.get("RISKMODEL_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


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
    return Path(bundle_dir), expected


def _registered_version(ref: str, bundle_dir: Path) -> str | None:
    """The registry version of the reoffending head: from the run record beside the bundle, or
    from the registry for a ``models:/`` reference."""
    run_json = bundle_dir.parent / "run.json"
    if bundle_dir.name == "model" and run_json.exists():
        registered = json.loads(run_json.read_text(encoding="utf-8")).get("registered") or {}
        if registered.get("reoffend") is not None:
            return str(registered["reoffend"])
    if ref.startswith("models:/"):
        from riskmodel import tracking

        return str(tracking.model_version(ref)["version"])
    return None


def _model_info(ref: str, bundle: Any, bundle_dir: Path, manifest_sha: str) -> dict[str, Any]:
    meta = dict(getattr(bundle, "metadata", {}) or {})
    names = meta.get("registered_model_names") or {}
    version = meta.get("model_version") or _registered_version(ref, bundle_dir)
    return {
        "ref": ref,
        "name": str(meta.get("model_name") or names.get("reoffend") or "riskmodel"),
        "version": str(version) if version is not None else f"unregistered-{manifest_sha[:12]}",
        "run_id": None if meta.get("run_id") is None else str(meta["run_id"]),
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


def _predict_both(bundle: Any, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(calibrated reoffending, uncalibrated reoffending, calibrated severe) probabilities.

    The same arithmetic as ``bundle.predict`` for each head, with the inputs prepared once
    rather than once per head (a million-row copy saved).
    """
    if len(frame) == 0:
        z = np.zeros(0)
        return z, z, z
    X = bundle.prepare(frame)
    raw_r = bundle.boosters["reoffend"].predict(X)
    raw_s = bundle.boosters["severe"].predict(X)
    del X
    return (
        bundle.calibrators["reoffend"].apply(raw_r),
        raw_r,
        bundle.calibrators["severe"].apply(raw_s),
    )


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(ERR_OUT_EXISTS.format(path=out_dir))


def _files_fingerprint(directory: Path, names: tuple[str, ...]) -> tuple[dict[str, str], str]:
    files = {n: sha256_file(directory / n) for n in names}
    return files, sha256_bytes(canonical_json(files).encode())


def _publish(tmp: Path, out_dir: Path) -> None:
    """Rename the finished folder into place in one step (over an empty folder if present)."""
    if out_dir.exists():
        out_dir.rmdir()  # empty (checked); rename(2) would also replace it, but say so plainly
    os.rename(tmp, out_dir)
    fd = os.open(out_dir.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
    model: dict[str, Any], as_of: _dt.date, rule: EligibilityConfig, n: int
) -> list[str]:
    cap = "no overall limit" if rule.capacity is None else f"{rule.capacity} places"
    thr = "none (top by capacity)" if rule.reoffend_threshold is None else rule.reoffend_threshold
    return [
        PERMITTED_USE_NOTICE,
        f"Purpose: {PERMITTED_PURPOSE}. {REVIEW_NOTE}",
        f"Scoring date {as_of}; model {model['name']} version {model['version']} "
        f"(run {model['run_id']}); {n} people listed in rank order.",
        f"Rule: reoffend threshold {thr}; people with a severe-reoffence probability at or above "
        f"{rule.severe_threshold} are excluded and never listed; capacity {cap}.",
        "Ids are pseudonymous. p_reoffend / p_severe: the model's estimated chance of a recorded "
        "domestic-abuse reoffence / a severe one within 12 months.",
    ]


def _log(audit_log: Path | None) -> AuditLog:
    from riskmodel.paths import audit_log_path

    return AuditLog(audit_log if audit_log is not None else audit_log_path())


def _base_entry(purpose: object, *, model: object, out_dir: object, user: str) -> dict[str, Any]:
    return {
        "user": user,
        "purpose": _shown_purpose(purpose),
        "model": {"ref": str(model)},
        "output": {"dir": str(out_dir)},
    }


def guard_purpose(
    purpose: str | None,
    *,
    model: object = None,
    out_dir: object = None,
    user: str | None = None,
    audit_log: Path | None = None,
) -> str:
    """The purpose guard with its audit trail: return ``programme_referral`` or log the refusal
    (outcome ``refused``) and raise :class:`PurposeRefused`. Reads no data, writes nothing else."""
    try:
        return check_purpose(purpose)
    except PurposeRefused as exc:
        entry = _base_entry(purpose, model=model, out_dir=out_dir, user=_user(user))
        try:
            _log(audit_log).append({**entry, "outcome": "refused", "error": str(exc)})
        except (AuditLogError, OSError) as log_exc:
            raise PurposeRefused(
                str(exc) + ERR_NOT_LOGGED.format(error=log_exc), purpose=purpose
            ) from exc
        raise


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
    audit_log: Path | None = None,
    progress: Progress | None = None,
    rule_overrides: dict[str, Any] | None = None,
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
    user : who ran it, for the audit log (default: ``RISKMODEL_USER`` or the login name)
    audit_log : log file (default: ``riskmodel.paths.audit_log_path()``)
    progress : called as ``progress(step, n_steps, description)`` before each step
    rule_overrides : fields replacing the rule's (e.g. command-line thresholds), applied last

    Raises
    ------
    PurposeRefused
        for any purpose but ``programme_referral`` (logged as ``refused``)
    riskmodel.models.ModelIntegrityError
        when the model's files do not match their manifest
    ValueError, FileNotFoundError, FileExistsError, AuditLogError
        bad cohort files, an existing output folder, a broken audit log
    """

    def step(i: int) -> None:
        if progress is not None:
            progress(i + 1, len(STEPS), STEPS[i])

    step(0)
    guard_purpose(purpose, model=model, out_dir=out_dir, user=user, audit_log=audit_log)
    log = _log(audit_log)
    who = _user(user)
    entry = _base_entry(purpose, model=model, out_dir=out_dir, user=who)
    log.check_appendable()
    out_dir = Path(out_dir)

    tmp: Path | None = None
    logged: dict[str, Any] | None = None
    try:
        _check_out_dir(out_dir)
        from riskmodel.eligibility import apply_eligibility_rule
        from riskmodel.models import load_bundle
        from riskmodel.scoring._cohort import read_cohort
        from riskmodel.scoring._reasons import listed_reasons

        step(1)
        bundle_dir, expected = _resolve_model(model)
        # pin the manifest we hash for the log to the one we load, even for a bare folder
        manifest = bundle_dir / "manifest.json"
        manifest_sha = expected or (sha256_file(manifest) if manifest.exists() else None)
        bundle = load_bundle(
            bundle_dir, expected_manifest_sha256=manifest_sha
        )  # refuses no manifest
        model_info = _model_info(str(model), bundle, bundle_dir, manifest_sha)
        entry["model"] = model_info
        eff_rule = _effective_rule(rule, bundle, capacity, rule_overrides)
        entry["rule"] = eff_rule.model_dump(mode="json")

        step(2)
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
        features = cohort_in.frame
        empty = len(features) == 0
        p_r, raw_r, p_s = _predict_both(bundle, features)
        # the rule and the summary need only ids, probabilities and audit attributes: a slim
        # frame keeps a million-person cohort from being copied whole
        slim_cols = ["person_id", *[c for c in AUDIT_ATTRIBUTES if c in features.columns]]
        slim = features.loc[:, slim_cols].assign(
            p_reoffend=p_r, p_reoffend_uncalibrated=raw_r, p_severe=p_s
        )

        step(4)
        scored = apply_eligibility_rule(
            slim, rule=eff_rule, tie_break_col="p_reoffend_uncalibrated"
        )

        step(5)
        listed_rows = features.loc[scored["eligible"].to_numpy()]
        reasons, reasons_source = listed_reasons(bundle, listed_rows, k=3)

        step(6)
        from riskmodel.scoring._summary import (
            not_listed_breakdown,
            outcome_counts,
            rejection_reasons,
            selection_rates,
        )

        counts = outcome_counts(scored, n_rejected=cohort_in.n_rejected)
        total = (
            counts["listed"]
            + counts["not_listed"]
            + counts["excluded_high_harm"]
            + counts["rejected"]
        )
        if counts["in"] != total or counts["in"] != cohort_in.n_in:
            raise RuntimeError(ERR_COUNTS.format(in_=counts["in"], total=total))
        entry["counts"] = counts

        elig = _list_frame(scored, reasons, model_info, cohort_in.as_of)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
        os.chmod(tmp, 0o750)
        _write_outputs(tmp, elig, cohort_in, model_info, eff_rule)
        out_files, out_fp = _files_fingerprint(tmp, (LIST_PARQUET, LIST_CSV, REJECTS_CSV))
        entry["output"] = {"dir": str(out_dir), "files": out_files, "fingerprint": out_fp}

        logged = log.append({**entry, "outcome": "completed"})

        areas = _area_notes(scored, eff_rule)
        warnings = [WARN_AREA.format(area=a) for a in areas["capacity_per_area_unmatched"]]
        warnings += cohort_in.notes
        if counts["rejected"]:
            warnings.append(WARN_REJECTED.format(n=counts["rejected"]))
        if empty:
            warnings.append(WARN_NOBODY.format(days=eff_rule.lookback_days))

        payload = {
            "purpose": PERMITTED_PURPOSE,
            "review_note": REVIEW_NOTE,
            "scoring_date": cohort_in.as_of.isoformat(),
            "counts": counts,
            "counts_outside_cohort": {
                "no_recent_da_event": cohort_in.n_no_recent_event,
                "lookback_days": eff_rule.lookback_days,
            },
            "not_listed_breakdown": not_listed_breakdown(scored),
            "rejection_reasons": rejection_reasons(cohort_in.rejects),
            "selection_rates": selection_rates(scored, min_cell=eff_rule.min_cell),
            "rule": eff_rule.model_dump(mode="json"),
            "areas": areas,
            "warnings": warnings,
            "model": model_info,
            "input": entry["input"],
            "output": entry["output"],
            "reasons_source": reasons_source,
            "audit": {"log": str(log.path), "seq": logged["seq"], "entry_hash": logged["hash"]},
            "user": who,
        }
        from riskmodel.refresh import scoring_drift  # refresh helper (issue 13): drift warning

        payload["drift"] = scoring_drift(bundle_dir, bundle, features, p_r)
        if payload["drift"].get("warning"):
            warnings.append(payload["drift"]["warning"])
        from riskmodel.reports import write_report

        write_report(tmp, SUMMARY, "summary.html.j2", payload, listed_preview=_preview(elig))
        _publish(tmp, out_dir)
        tmp = None
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        what = (
            "failed after it was recorded as completed; outputs were not published"
            if logged
            else "failed"
        )
        try:
            log.append(
                {
                    **entry,
                    "outcome": "failed",
                    "error": f"{what}: {type(exc).__name__}: {exc}"[:1000],
                    **({"completed_entry_hash": logged["hash"]} if logged else {}),
                }
            )
        except Exception as log_exc:  # the original error matters more; say both
            if isinstance(exc, Exception) and exc.args:
                exc.args = (str(exc.args[0]) + ERR_NOT_LOGGED.format(error=log_exc), *exc.args[1:])
        raise

    return ScoringResult(
        out_dir=out_dir,
        eligibility_list_csv=out_dir / LIST_CSV,
        eligibility_list_parquet=out_dir / LIST_PARQUET,
        summary_html=out_dir / f"{SUMMARY}.html",
        summary_json=out_dir / f"{SUMMARY}.json",
        rejects_csv=out_dir / REJECTS_CSV,
        counts=counts,
        scoring_date=cohort_in.as_of,
        rule=eff_rule,
        model=model_info,
        audit_entry=logged,
        eligibility_list=elig,
        warnings=warnings,
    )


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
) -> None:
    from riskmodel.data import write_csv, write_parquet

    meta = {
        "riskmodel.permitted_use": PERMITTED_USE_NOTICE,
        "riskmodel.purpose": PERMITTED_PURPOSE,
        "riskmodel.review_note": REVIEW_NOTE,
        "riskmodel.scoring_date": cohort_in.as_of.isoformat(),
        "riskmodel.model": canonical_json(model),
        "riskmodel.rule": canonical_json(rule.model_dump(mode="json")),
        "riskmodel.input_fingerprint": cohort_in.fingerprint,
    }
    write_parquet(elig, directory / LIST_PARQUET, metadata=meta)
    header = _csv_header(model, cohort_in.as_of, rule, len(elig))
    csv = elig.assign(scoring_date=cohort_in.as_of.isoformat())
    write_csv(csv, directory / LIST_CSV, header_lines=header)
    write_csv(
        cohort_in.rejects,
        directory / REJECTS_CSV,
        header_lines=[
            PERMITTED_USE_NOTICE,
            "Records that could not be scored, and why. A rejected person is never listed: fix "
            "the record and score again. Row numbers count data rows from 1 (the header and # "
            "lines are not counted).",
        ],
    )

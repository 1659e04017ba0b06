"""Refresh: train a challenger on everything known at a date, compare it with the champion on
the same out-of-time window, gate the promotion, keep the aliases, roll back.

``refresh(as_of=...)`` is the library face of ``riskmodel refresh``. The fairness audit and the
audit log live in higher layers (fairness, scoring), so they come in as callables
(``audit_fairness``, ``log_event``): this module reads the ``fairness.json`` files they write
and never imports their internals.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.refresh._config import RefreshConfig
from riskmodel.refresh._drift import drift_table, feature_words, psi
from riskmodel.refresh._gates import (
    Gate,
    calibration_gate,
    calibration_measures,
    data_gate,
    discrimination_gate,
    fairness_gate,
    paired_auc_gain,
    policy_gate,
    proxy_strength,
)

FOLLOWUP_DAYS = 365
HEADS = ("reoffend", "severe")
ALIASES = ("champion", "challenger", "previous")

ERR_NO_CHAMPION = (
    "there is no champion to compare with: train a run and `riskmodel promote --run <id>` first "
    "(or give --champion RUN)"
)
ERR_NO_PREVIOUS = "there is no `previous` model to roll back to (no promotion has happened yet)"
ERR_FORCE_REASON = "--force needs --reason TEXT: a forced promotion is written to the audit log"
ERR_AS_OF = "--as-of {as_of}: no index event has a complete 12-month outcome by then"

Progress = Callable[[str], None]
AuditFairness = Callable[[Path], Path]  # run directory -> its fairness.json
#: what the window audits leave out (the fairness gate reads neither; the policy gate checks
#: the challenger's inputs for proxies itself)
WINDOW_AUDIT = {"mitigation": False, "proxy_check": False}
LogEvent = Callable[[dict[str, Any]], dict[str, Any]]  # entry -> entry as written (with hash)


@dataclass
class RefreshResult:
    """What a refresh decided and where the report is."""

    as_of: dt.date
    champion_run: str
    challenger_run: str | None
    promoted: bool
    forced: bool
    gates: list[Gate]
    report_dir: Path
    audit_entry: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


# -- the data known at a date -----------------------------------------------------------------
def known_at(frame: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Rows whose 12-month outcome is complete when ``as_of`` begins (the follow-up ends with
    the day index date + 365, which must be before ``as_of``): everything a force could train on
    at that date. Features are point-in-time already."""
    d = pd.to_datetime(frame["index_date"])
    return frame.loc[d <= pd.Timestamp(window_end(as_of))].reset_index(drop=True)


def window_end(as_of: dt.date) -> dt.date:
    """Last index date whose 12-month outcome is complete when ``as_of`` begins."""
    return as_of - dt.timedelta(days=FOLLOWUP_DAYS + 1)


def check_training_table(frame: pd.DataFrame, spec: dict[str, Any], as_of: dt.date) -> list[str]:
    """The feature-table contract the new training data must pass, as plain problems (empty:
    passes): every named column present, labels complete and 0/1, no outcome still open at the
    as-of date, counts and ages in range. Problems name the column and the first bad row."""
    problems: list[str] = []
    labels = list(spec.get("labels", []))
    needed = ["person_id", "index_date", *spec.get("features", []), *labels]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        return [f"missing column(s): {', '.join(missing)}"]
    if len(frame) == 0:
        return ["no rows"]

    def first_bad(mask: pd.Series) -> str:
        pos = int(np.flatnonzero(mask.to_numpy())[0])
        return f"{int(mask.sum())} row(s), first row {pos}"

    for col in labels:
        s = frame[col]
        if col.endswith(("reoffend_12m", "severe_12m")):
            bad = s.isna() | ~s.isin([0, 1, True, False])
            if bad.any():
                problems.append(f"{col}: missing or not 0/1 in {first_bad(bad)}")
        elif pd.api.types.is_numeric_dtype(s):
            bad = s.isna() | (s < 0)
            if bad.any():
                problems.append(f"{col}: missing or negative in {first_bad(bad)}")
    open_ = pd.to_datetime(frame["index_date"]) > pd.Timestamp(window_end(as_of))
    if open_.any():
        problems.append(f"index_date: outcome not yet complete on {as_of} in {first_bad(open_)}")
    for col in spec.get("features", []):
        s = frame[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        x = pd.to_numeric(s, errors="coerce")
        if col.startswith(("n_", "days_since")) or col.endswith("_days"):
            bad = x < 0
            if bad.any():
                problems.append(f"{col}: negative count in {first_bad(bad)}")
        if col.startswith("age_"):
            bad = (x < 10) | (x > 110)
            if bad.any():
                problems.append(f"{col}: age outside 10-110 in {first_bad(bad)}")
        inf = np.isinf(x.to_numpy(dtype=np.float64))
        if inf.any():
            problems.append(f"{col}: infinite value in {first_bad(pd.Series(inf))}")
    key = ["index_event_id"] if "index_event_id" in frame.columns else ["person_id", "index_date"]
    dup = frame.duplicated(key)
    if dup.any():
        problems.append(f"{', '.join(key)}: duplicated in {first_bad(dup)}")
    return problems


# -- aliases (through riskmodel.tracking, the only MLflow user) -----------------------------------
def current_aliases() -> dict[str, dict[str, str]]:
    """``{alias: {head: version}}`` of the registered heads."""
    from riskmodel import tracking
    from riskmodel.models import REGISTERED_NAMES

    out: dict[str, dict[str, str]] = {}
    for head, name in REGISTERED_NAMES.items():
        for alias, version in tracking.aliases(name).items():
            out.setdefault(alias, {})[head] = version
    return out


def run_of_alias(alias: str) -> str | None:
    """Run id behind ``models:/riskmodel-reoffend@<alias>`` (None when the alias is unset)."""
    from riskmodel import tracking
    from riskmodel.models import REGISTERED_NAMES

    try:
        return tracking.model_version(f"models:/{REGISTERED_NAMES['reoffend']}@{alias}")["run_id"]
    except LookupError:
        return None


def _set_alias_to_run(run_id: str, alias: str) -> None:
    from riskmodel.models import promote

    promote(run_id, alias=alias)


def _set_alias_versions(versions: dict[str, str], alias: str) -> None:
    from riskmodel import tracking
    from riskmodel.models import REGISTERED_NAMES

    for head, version in versions.items():
        tracking.set_alias(REGISTERED_NAMES[head], version, alias)


def promote_challenger(challenger_run: str) -> dict[str, dict[str, str]]:
    """``previous`` <- the current champion, ``champion`` <- the challenger. Returns the aliases
    before the move."""
    before = current_aliases()
    if "champion" in before:
        _set_alias_versions(before["champion"], "previous")
    _set_alias_to_run(challenger_run, "champion")
    return before


def rollback(*, log_event: LogEvent | None = None, who: str = "", reason: str = "") -> dict:
    """Move ``champion`` back to ``previous`` (and ``previous`` to the model rolled back, so a
    second rollback undoes the first). Written to the audit log through ``log_event``."""
    before = current_aliases()
    if "previous" not in before:
        raise LookupError(ERR_NO_PREVIOUS)
    old_champion_run, back_to_run = run_of_alias("champion"), run_of_alias("previous")
    _set_alias_versions(before["previous"], "champion")
    if "champion" in before:
        _set_alias_versions(before["champion"], "previous")
    entry = {
        "event": "rollback",
        "who": who,
        "reason": reason,
        "from_run": old_champion_run,
        "to_run": back_to_run,
        "versions_before": before,
    }
    written = log_event(entry) if log_event else entry
    return written


# -- scoring a run's model on a window -------------------------------------------------------------
def _predict(run: Any, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {h: run.bundle.predict(frame, h) for h in HEADS}


def _on_window(run: Any, window: pd.DataFrame, out: Path, name: str) -> Path:
    """A run directory holding a run's model and its predictions on the window, so the fairness
    audit (which reads run directories) audits both models' decisions on the same people."""
    from riskmodel.data import write_json, write_parquet

    d = out / f"{name}_on_window"
    if d.exists():
        shutil.rmtree(d)
    shutil.copytree(run.dir / "model", d / "model")
    pred = window.drop(
        columns=[
            c
            for c in window.columns
            if c.startswith(("p_", "score_")) and c not in ("p_reoffend_true", "p_severe_true")
        ]
    )
    for h in HEADS:
        pred[f"p_{h}"] = run.bundle.predict(window, h)
        pred[f"p_{h}_uncalibrated"] = run.bundle.predict(window, h, calibrated=False)
    write_parquet(pred, d / "predictions.parquet")
    info = dict(run.info)
    info["note"] = f"the {name}'s model scored on the refresh window (a like-for-like audit)"
    write_json(info, d / "run.json")
    return d


def _window_of(frame: pd.DataFrame, lo: Any, hi: Any) -> pd.DataFrame:
    d = pd.to_datetime(frame["index_date"])
    return frame.loc[(d >= lo) & (d <= hi)].reset_index(drop=True)


@dataclass
class _EarlyAudit:
    """The champion's fairness audit on the window, started before the challenger is trained."""

    lo: Any
    hi: Any
    pool: Any
    future: Any
    seconds: float | None = None

    def covers(self, lo: Any, hi: Any) -> bool:
        """The window the challenger's split gave is the one audited early."""
        return bool(self.lo == lo and self.hi == hi)

    def result(self) -> Path:
        path, self.seconds = self.future.result()
        return path

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _champion_audit_beside(
    champion: Any,
    known: pd.DataFrame,
    trusted: Any,
    ch_exp: Any,
    out_dir: Path,
    audit_fairness: AuditFairness,
    say: Progress,
) -> _EarlyAudit | None:
    """Start the champion's window audit in a spawned process; ``None`` (the audit then runs
    after training, as before) when the window cannot be known yet or the auditor cannot be
    sent to another process."""
    import multiprocessing as mp
    import pickle
    from concurrent.futures import ProcessPoolExecutor

    from riskmodel.models import make_split

    try:
        pickle.dumps(audit_fairness)
        split = make_split(known, ch_exp.train.split, seed=ch_exp.seed)
    except (pickle.PicklingError, AttributeError, TypeError, ValueError):
        return None
    test = pd.to_datetime(known["index_date"].iloc[split.rows("test")])
    if test.empty:
        return None
    lo, hi = test.min(), test.max()
    say("fairness audit of the champion on the window, beside the challenger's training")
    directory = _on_window(champion, _window_of(trusted.frame, lo, hi), out_dir, "champion")
    pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
    return _EarlyAudit(lo, hi, pool, pool.submit(_on_one_core, audit_fairness, directory))


def _on_one_core(audit_fairness: AuditFairness, directory: Path) -> tuple[Path, float]:
    """Run in the spawned process: one thread for every native pool (the challenger trains on the
    other core), and the seconds it took, for promotion.json."""
    import time

    from threadpoolctl import threadpool_limits

    start = time.perf_counter()
    with threadpool_limits(limits=1):
        path = audit_fairness(directory)
    return Path(path), round(time.perf_counter() - start, 1)


def _reference_rows(champion: Any, fallback: pd.DataFrame) -> pd.DataFrame | None:
    """The champion's training rows (rebuilt from its feature table, or the current table when
    that is not on disk, and its split): the reference for drift."""
    from riskmodel.models import make_split

    fdir = champion.info.get("features_dir")
    if fdir and Path(fdir).exists():
        from riskmodel.features import load_feature_table

        frame = load_feature_table(fdir).frame
    else:
        frame = fallback
    frame = frame.reset_index(drop=True)
    meta = champion.dir / "refresh.json"
    if meta.exists():  # a champion that was itself a refresh saw only what was known then
        as_of = dt.date.fromisoformat(json.loads(meta.read_text(encoding="utf-8"))["as_of"])
        frame = known_at(frame, as_of)
    exp = champion.experiment
    try:
        split = make_split(frame, exp.train.split, seed=exp.seed)
    except ValueError:
        return None
    rows = frame.iloc[split.rows("train")].reset_index(drop=True)
    return rows if len(rows) else None


def challenger_experiment(experiment: Any, as_of: dt.date, cfg: RefreshConfig) -> Any:
    """The experiment with its test period moved to the most recent complete window."""
    split = experiment.train.split.model_copy(
        update={"test_end": window_end(as_of), "test_years": cfg.window_years}
    )
    train = experiment.train.model_copy(update={"split": split})
    return experiment.model_copy(update={"train": train})


def refresh(
    *,
    as_of: dt.date,
    experiment: Any | None = None,
    experiment_file: str | Path | None = None,
    champion_run: str | None = None,
    data: Any | None = None,
    window_data: Any | None = None,
    force: bool = False,
    reason: str = "",
    who: str = "",
    audit_fairness: AuditFairness | None = None,
    log_event: LogEvent | None = None,
    promote: bool = True,
    progress: Progress | None = None,
) -> RefreshResult:
    """Train a challenger on everything known at ``as_of``, gate it against the champion on
    the same most recent complete window, and promote it when every gate passes (or ``force``).

    Parameters
    ----------
    experiment : the challenger's :class:`~riskmodel.experiment.ExperimentConfig` (default: the
        champion's)
    champion_run : the champion's run id (default: ``models:/riskmodel-reoffend@champion``)
    data : a :class:`riskmodel.models.PreparedData` to train on instead of the experiment's
        (tests: a smaller, corrupted or proxy-laden extract); rows not known at ``as_of`` are
        dropped all the same
    window_data : the data the comparison window is taken from (default: ``data``, else the
        experiment's): a trusted table, so a bad extract is judged on good people
    audit_fairness : run directory -> path of its ``fairness.json`` (the fairness gate is
        reported as not run when missing)
    log_event : appends an entry to the audit log and returns it (forced promotions)
    promote : move the aliases when the gates pass (False: a dry run that only reports)
    """
    import time

    from riskmodel.data import write_json
    from riskmodel.models import PreparedData, load_run, prepare_data, train_table
    from riskmodel.paths import reports_dir
    from riskmodel.refresh._report import write_promotion_report

    if force and not reason.strip():
        raise ValueError(ERR_FORCE_REASON)
    say = progress or (lambda _m: None)
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    champion_id = champion_run or run_of_alias("champion")
    if champion_id is None:
        raise LookupError(ERR_NO_CHAMPION)
    champion = load_run(champion_id)
    exp = experiment if experiment is not None else champion.experiment
    cfg: RefreshConfig = getattr(exp, "refresh", None) or RefreshConfig()
    ch_exp = challenger_experiment(exp, as_of, cfg)

    say("loading the data known at the as-of date")
    prepared = data if data is not None else prepare_data(exp, progress=say)
    known = known_at(prepared.frame, as_of)
    if len(known) == 0:
        raise ValueError(ERR_AS_OF.format(as_of=as_of))
    problems = check_training_table(known, prepared.spec, as_of)
    gates: list[Gate] = []
    out_dir = (
        reports_dir() / "refresh" / f"{as_of.isoformat()}_{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    challenger_id: str | None = None
    if problems:
        say("the new training data fail the contracts: no challenger is trained")
        gates.append(data_gate(problems, [], None, cfg))
        measures: dict[str, Any] = {}
    else:
        trusted = window_data if window_data is not None else prepared
        # the champion's window audit does not wait for the challenger: it runs in a second
        # process while the challenger trains (training uses one core)
        early = (
            _champion_audit_beside(champion, known, trusted, ch_exp, out_dir, audit_fairness, say)
            if audit_fairness is not None
            else None
        )
        try:
            say(f"training the challenger on {len(known):,} rows known at {as_of}")
            t0 = time.perf_counter()
            result = train_table(
                PreparedData(
                    frame=known,
                    spec=prepared.spec,
                    source=prepared.source,
                    features_dir=prepared.features_dir,
                    world_dir=prepared.world_dir,
                ),
                ch_exp,
                experiment_file=experiment_file,
                progress=say,
            )
            timings["train_challenger_s"] = time.perf_counter() - t0
            challenger_id = result.run_id
            write_json(
                {"as_of": as_of.isoformat(), "champion": champion.id},
                result.run_dir / "refresh.json",
            )
            challenger = load_run(challenger_id)
            t0 = time.perf_counter()
            w_lo, w_hi = pd.to_datetime(challenger.predictions["index_date"]).agg(["min", "max"])
            window = _window_of(trusted.frame, w_lo, w_hi)
            if early is not None and not early.covers(w_lo, w_hi):
                early.close()  # not the challenger's window: audit again once it has stopped
                early = None
            gates, measures = _evaluate(
                champion,
                challenger,
                cfg,
                window=window,
                known=known,
                problems=problems,
                out_dir=out_dir,
                audit_fairness=audit_fairness,
                say=say,
                seed=exp.seed,
                early=early,
            )
        finally:
            if early is not None:
                early.close()
                if early.seconds is not None:  # in its own process, so not in evaluate_s
                    timings["champion_audit_beside_training_s"] = early.seconds
        timings["evaluate_s"] = time.perf_counter() - t0
        _set_alias_to_run(challenger_id, "challenger")

    passed = all(g.passed for g in gates) and challenger_id is not None
    promoted = False
    entry = None
    if challenger_id is not None and promote and (passed or force):
        say("promoting the challenger")
        before = promote_challenger(challenger_id)
        promoted = True
        if force and not passed:
            event = {
                "event": "forced_promotion",
                "who": who,
                "reason": reason,
                "as_of": as_of.isoformat(),
                "champion_run": champion.id,
                "challenger_run": challenger_id,
                "failed_gates": [g.name for g in gates if not g.passed],
                "versions_before": before,
            }
            entry = log_event(event) if log_event else event
    timings["total_s"] = time.perf_counter() - t_start
    res = RefreshResult(
        as_of=as_of,
        champion_run=champion.id,
        challenger_run=challenger_id,
        promoted=promoted,
        forced=force and not passed and promoted,
        gates=gates,
        report_dir=out_dir,
        audit_entry=entry,
        timings=timings,
    )
    say("writing promotion.html and promotion.json")
    write_promotion_report(res, measures=measures, config=cfg, experiment=ch_exp)
    return res


def _evaluate(
    champion: Any,
    challenger: Any,
    cfg: RefreshConfig,
    *,
    window: pd.DataFrame,
    known: pd.DataFrame,
    problems: list[str],
    out_dir: Path,
    audit_fairness: AuditFairness | None,
    say: Progress,
    seed: int,
    early: _EarlyAudit | None = None,
) -> tuple[list[Gate], dict[str, Any]]:
    from riskmodel.models import HEAD_LABELS

    person = window["person_id"].to_numpy()
    champ_p = _predict(champion, window)
    new_p = _predict(challenger, window)
    say("discrimination: paired bootstrap by person")
    gains = {
        h: paired_auc_gain(
            window[HEAD_LABELS[h]].to_numpy(dtype=int),
            champ_p[h],
            new_p[h],
            person,
            n_boot=cfg.n_boot,
            ci_level=cfg.ci_level,
            seed=seed,
        )
        for h in HEADS
    }
    say("calibration on the window")
    y = window[HEAD_LABELS["reoffend"]].to_numpy(dtype=int)
    cal = {
        "challenger": calibration_measures(y, new_p["reoffend"], person, cfg, seed=seed),
        "champion": calibration_measures(y, champ_p["reoffend"], person, cfg, seed=seed),
    }
    say("drift: population stability index against the champion's training data")
    reference = _reference_rows(champion, known)
    features = list(challenger.bundle.feature_names)
    labels = feature_words(challenger.feature_spec)
    drift_inputs: list[dict[str, Any]] = []
    score_psi = None
    if reference is not None:
        common = [f for f in features if f in reference.columns and f in window.columns]
        drift_inputs = drift_table(
            reference, window, common, bins=cfg.psi_bins, threshold=cfg.max_input_psi, labels=labels
        )
        score_psi = psi(
            pd.Series(champion.bundle.predict(reference, "reoffend")),
            pd.Series(champ_p["reoffend"]),
            bins=cfg.psi_bins,
        )
    say("sensitive-input policy")
    audit_cols = [c for c in ("sex", "ethnicity", "age_band", "disability") if c in window.columns]
    new_inputs = [f for f in features if f not in champion.bundle.feature_names]
    proxies = proxy_strength(window, new_inputs, audit_cols)
    gates = [
        data_gate(problems, drift_inputs, score_psi, cfg),
        policy_gate(list(champion.bundle.feature_names), features, proxies, cfg),
        discrimination_gate(gains, cfg),
        calibration_gate(cal, cfg),
    ]
    fair: dict[str, Any] = {}
    if audit_fairness is not None:
        say("fairness audit of both models on the window (the deployed decision)")
        paths = {
            "challenger": Path(
                audit_fairness(_on_window(challenger, window, out_dir, "challenger"))
            )
        }
        paths["champion"] = (
            early.result()
            if early is not None
            else Path(audit_fairness(_on_window(champion, window, out_dir, "champion")))
        )
        payloads = {k: json.loads(p.read_text(encoding="utf-8")) for k, p in paths.items()}
        gates.append(fairness_gate(payloads["champion"], payloads["challenger"], cfg))
        fair = {k: str(p) for k, p in paths.items()}
    else:
        gates.append(
            Gate(
                name="fairness",
                passed=False,
                threshold="fairness audit of both models",
                reason="not run (no fairness audit was supplied): cannot promote",
            )
        )
    window_dates = pd.to_datetime(window["index_date"])
    measures = {
        "window": {
            "start": str(window_dates.min().date()),
            "end": str(window_dates.max().date()),
            "n_rows": len(window),
            "n_people": int(pd.Series(person).nunique()),
        },
        "training_rows": len(known),
        "fairness_files": fair,
        "champion_audited_beside_training": early is not None,
        "fairness_links": {k: Path(v).relative_to(out_dir).as_posix() for k, v in fair.items()},
        "features": {"champion": list(champion.bundle.feature_names), "challenger": features},
    }
    return gates, measures


__all__ = [
    "WINDOW_AUDIT",
    "RefreshResult",
    "check_training_table",
    "challenger_experiment",
    "current_aliases",
    "known_at",
    "promote_challenger",
    "refresh",
    "rollback",
    "run_of_alias",
    "window_end",
]

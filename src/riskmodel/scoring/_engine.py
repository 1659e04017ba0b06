"""Scoring a world partition by partition, on this machine or on a Dask cluster.

Every partition goes through the same two functions, wherever it runs:

1. :func:`riskmodel.scoring._cohort.cohort_part`: the data contracts, whole-person rejection and
   the point-in-time features as of the scoring date;
2. :func:`predict_part`: both heads, then the eligibility rule applied to the partition alone,
   keeping the feature rows of the people that rule lists.

The client then applies the eligibility rule once to everyone (capacity is global:
:func:`decide`), and words the reasons for the listed only. A person listed by the global rule is
always listed by the same rule applied to their partition alone (ordering is the same within a
partition, and a partition's share of every area and of the overall capacity is never more
than the whole's), so the rows kept in step 2 hold every listed person's features: reasons are
computed on exactly the rows the single-table path uses.

Engines
-------
``local`` runs the partitions one after another in this process. ``dask`` sends them to a Dask
scheduler (``distributed``), through ``dask.bag``'s ``map_partitions``: each task reads its
partition's files itself (the world folder must be visible to the workers at the same path),
so only results travel. The model goes to the workers as text: the LightGBM model text of each
head and the bundle's JSON, verified against its SHA-256 manifest on the client first. Dask
pickles its own task graph and results (functions of this package, frames it built); no user
file is ever unpickled.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.eligibility import EligibilityConfig
from riskmodel.scoring._cohort import AUDIT_ATTRIBUTES, Cohort, CohortPart

ENGINES = ("local", "dask")

ERR_ENGINE = "engine must be one of {engines}; got {engine!r}"
ERR_SCHEDULER = (
    "--engine dask needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786, the address `dask "
    "scheduler` prints); without a cluster use --engine local"
)
ERR_SCHEDULER_LOCAL = "--scheduler is only for --engine dask"
ERR_NO_DASK = (
    "--engine dask needs the optional dependency dask[distributed]: pip install 'riskmodel[dask]'"
)
ERR_CONNECT = "cannot reach the Dask scheduler at {address}: {error}"
ERR_ENGINE_INPUT = (
    "{what}: --engine dask scores world folders (single or partitioned); score a features file "
    "or a frame with --engine local"
)

#: rows prepared and predicted at once
PREDICT_ROWS = 100_000
#: a partition's share of the work, as the bench reports it
PART_STEPS = ("read", "contracts", "features", "prediction")

PartProgress = Callable[[int, int], None]


# -- the model as text ---------------------------------------------------------------------------
def bundle_text(bundle: Any) -> str:
    """The loaded bundle as one JSON text: each head's LightGBM model text, the calibrators and
    the bundle's description. What the workers receive (never a pickle of the model files)."""
    return json.dumps(
        {
            "boosters": {h: b.model_to_string() for h, b in sorted(bundle.boosters.items())},
            "calibrators": {h: c.to_dict() for h, c in sorted(bundle.calibrators.items())},
            "feature_names": list(bundle.feature_names),
            "categorical_levels": dict(bundle.categorical_levels),
            "feature_spec": bundle.feature_spec,
            "metadata": bundle.metadata,
        },
        sort_keys=True,
        default=str,
    )


_BUNDLES: dict[str, Any] = {}


def bundle_from_text(text: str) -> Any:
    """A :class:`~riskmodel.models.ModelBundle` from :func:`bundle_text` (parsed once per
    process: a worker scoring many partitions reads the trees once)."""
    key = hashlib.sha256(text.encode()).hexdigest()
    if key not in _BUNDLES:
        import lightgbm as lgb

        from riskmodel.models import Calibrator, ModelBundle

        d = json.loads(text)
        _BUNDLES.clear()  # one model at a time
        _BUNDLES[key] = ModelBundle(
            boosters={h: lgb.Booster(model_str=t) for h, t in d["boosters"].items()},
            calibrators={h: Calibrator.from_dict(c) for h, c in d["calibrators"].items()},
            feature_names=list(d["feature_names"]),
            categorical_levels={k: list(v) for k, v in d["categorical_levels"].items()},
            feature_spec=d["feature_spec"],
            metadata=d["metadata"],
        )
    return _BUNDLES[key]


# -- per partition -------------------------------------------------------------------------------
@dataclass
class PartScored:
    """One partition after features and prediction.

    Attributes
    ----------
    scored : person_id, audit attributes, ``p_reoffend``, ``p_reoffend_uncalibrated``,
        ``p_severe`` (one row per scored person, sorted by person_id)
    candidates : the feature rows of the people the rule lists within this partition alone (a
        superset of this partition's share of the global list)
    part : the cohort part without its feature frame (rejects, id sets for the counts)
    as_of : the scoring date used
    seconds : wall seconds per step (:data:`PART_STEPS`)
    """

    scored: pd.DataFrame
    candidates: pd.DataFrame
    part: CohortPart
    as_of: _dt.date
    seconds: dict[str, float] = field(default_factory=dict)
    drift_sample: pd.DataFrame | None = None


#: people whose feature rows are kept for the drift check of a partitioned cohort (summary.json)
DRIFT_SAMPLE = 50_000


def drift_sample(features: pd.DataFrame, size: int = DRIFT_SAMPLE) -> pd.DataFrame:
    """The ``size`` feature rows with the smallest hash of their person id (all when fewer).

    The smallest hashes overall are among each partition's own smallest, so keeping these in
    every partition and again on the client gives the same people however the cohort was split:
    a fixed, unbiased sample for the stability index, without sending every feature row back.
    """
    if len(features) <= size:
        return features
    h = pd.util.hash_pandas_object(features["person_id"], index=False).to_numpy()
    keep = np.argpartition(h, size - 1)[:size]
    return features.iloc[np.sort(keep)]


def combine_drift_samples(samples: list[pd.DataFrame], size: int = DRIFT_SAMPLE) -> pd.DataFrame:
    """One :func:`drift_sample` of the partitions' samples, in person-id order."""
    frames = [s for s in samples if s is not None and len(s)]
    if not frames:
        return samples[0] if samples else pd.DataFrame()
    both = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return drift_sample(both, size).sort_values("person_id", kind="stable").reset_index(drop=True)


def _predict_both(bundle: Any, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(calibrated reoffending, uncalibrated reoffending, calibrated severe) probabilities.

    What :meth:`ModelBundle.predict` computes for each (the booster's probability on the
    prepared frame, then the head's calibrator), with the frame prepared once and the
    reoffending trees walked once: preparing and predicting a million rows three times was a
    third of the scoring time.
    """
    if len(frame) == 0:
        z = np.zeros(0)
        return z, z, z
    raw_r, raw_s = [], []
    # in blocks of rows: each row's prediction is its own, and the prepared copy and
    # LightGBM's float matrix of a whole million-person frame would double the peak memory
    for start in range(0, len(frame), PREDICT_ROWS):
        X = bundle.prepare(frame.iloc[start : start + PREDICT_ROWS])
        raw_r.append(bundle.boosters["reoffend"].predict(X))
        raw_s.append(bundle.boosters["severe"].predict(X))
        del X
    r, sv = np.concatenate(raw_r), np.concatenate(raw_s)
    return bundle.calibrators["reoffend"].apply(r), r, bundle.calibrators["severe"].apply(sv)


def predict_part(
    bundle: Any, features: pd.DataFrame, rule: EligibilityConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(scored, candidates)`` of one partition's feature rows (see :class:`PartScored`)."""
    from riskmodel.eligibility import apply_eligibility_rule

    p_r, raw_r, p_s = _predict_both(bundle, features)
    # the rule and the summary need only ids, probabilities and audit attributes: a slim
    # frame keeps a million-person cohort from being copied whole
    slim_cols = ["person_id", *[c for c in AUDIT_ATTRIBUTES if c in features.columns]]
    slim = features.loc[:, slim_cols].assign(
        p_reoffend=p_r, p_reoffend_uncalibrated=raw_r, p_severe=p_s
    )
    local = apply_eligibility_rule(slim, rule=rule, tie_break_col="p_reoffend_uncalibrated")
    candidates = features.loc[local["eligible"].to_numpy()]
    return slim, candidates


def score_part(
    raw: dict[str, pd.DataFrame | None],
    *,
    model: str,
    src: dict[str, str],
    as_of: _dt.date | None,
    lookback_days: int,
    rule: dict[str, Any],
) -> PartScored:
    """Features and prediction for one partition's raw tables (``model``: :func:`bundle_text`)."""
    from riskmodel.scoring._cohort import cohort_part, model_feature_config

    bundle = bundle_from_text(model)
    config = model_feature_config(bundle)
    part, used_as_of = cohort_part(
        raw, src=src, as_of=as_of, config=config, lookback_days=lookback_days
    )
    t0 = time.perf_counter()
    slim, candidates = predict_part(bundle, part.frame, EligibilityConfig.model_validate(rule))
    seconds = {**part.seconds, "prediction": time.perf_counter() - t0}
    sample = drift_sample(part.frame)
    part.frame = part.frame.iloc[:0]  # the features stay here; only the scored people travel
    return PartScored(slim, candidates, part, used_as_of, seconds, sample)


def read_part(world: str, k: int) -> tuple[dict[str, pd.DataFrame | None], dict[str, str]]:
    """Partition ``k`` of a world folder's people, events and programmes, and their file names."""
    from riskmodel.data import part_name, read_world_part, world_layout

    path = Path(world)
    tables = ("people", "events", "programmes")
    raw = read_world_part(path, k, tables)
    single = world_layout(path) == "single"
    src = {t: str(path / (f"{t}.parquet" if single else part_name(t, k))) for t in tables}
    return {t: v for t, v in raw.items() if v is not None}, src


def score_world_part(
    k: int,
    *,
    world: str,
    model: str,
    as_of: _dt.date | None,
    lookback_days: int,
    rule: dict[str, Any],
) -> PartScored:
    """Read partition ``k`` of ``world``, then :func:`score_part`: the task each engine runs."""
    t0 = time.perf_counter()
    raw, src = read_part(world, k)
    t_read = time.perf_counter() - t0
    out = score_part(raw, model=model, src=src, as_of=as_of, lookback_days=lookback_days, rule=rule)
    out.seconds = {"read": t_read, **out.seconds}
    return out


# -- the engines ---------------------------------------------------------------------------------
def check_engine(engine: str, scheduler: str | None) -> None:
    """Refuse an unknown engine, dask without a scheduler, or a scheduler without dask."""
    if engine not in ENGINES:
        raise ValueError(ERR_ENGINE.format(engines=", ".join(ENGINES), engine=engine))
    if engine == "dask" and not scheduler:
        raise ValueError(ERR_SCHEDULER)
    if engine == "local" and scheduler:
        raise ValueError(ERR_SCHEDULER_LOCAL)


def engine_entry(engine: str, scheduler: str | None) -> dict[str, Any]:
    """What the audit log records about where the work ran."""
    out: dict[str, Any] = {"name": engine}
    if engine == "dask":
        out["scheduler"] = str(scheduler)
    return out


def world_folder(cohort: Any, engine: str) -> Path | None:
    """The world folder (either layout) ``cohort`` names, else ``None``; refused for
    ``engine="dask"`` (it scores world folders only)."""
    from riskmodel.data import world_layout

    path = Path(cohort) if isinstance(cohort, str | Path) else None
    if path is not None and path.is_dir():
        try:
            world_layout(path)
            return path
        except FileNotFoundError:
            pass
    if engine != "local":
        what = str(cohort) if path is not None else type(cohort).__name__
        raise ValueError(ERR_ENGINE_INPUT.format(what=what))
    return None


def run_parts(
    task: Callable[..., PartScored],
    n_parts: int,
    *,
    engine: str,
    scheduler: str | None,
    progress: PartProgress | None,
    **kwargs: Any,
) -> list[PartScored]:
    """``task(k, **kwargs)`` for every partition ``k``, in partition order, on ``engine``."""
    check_engine(engine, scheduler)
    if engine == "local":
        out = []
        for k in range(n_parts):
            out.append(task(k, **kwargs))
            if progress is not None:
                progress(k + 1, n_parts)
        return out
    return _run_dask(task, n_parts, scheduler=str(scheduler), progress=progress, **kwargs)


def _run_dask(
    task: Callable[..., PartScored],
    n_parts: int,
    *,
    scheduler: str,
    progress: PartProgress | None,
    **kwargs: Any,
) -> list[PartScored]:
    try:
        import dask.bag as db
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - the locked set installs it
        raise ValueError(ERR_NO_DASK) from None
    try:
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(ERR_CONNECT.format(address=scheduler, error=exc)) from None
    try:
        bag = db.from_sequence(range(n_parts), npartitions=max(n_parts, 1))

        def run(ks: list[int]) -> list[PartScored]:
            return [task(k, **kwargs) for k in ks]

        # one Dask partition per world partition: the same function the local engine calls
        delayed = bag.map_partitions(run).to_delayed()
        futures = client.compute(delayed)
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[list[PartScored] | None] = [None] * len(futures)
        for done, fut in enumerate(as_completed(futures, loop=client.loop), start=1):
            results[index[fut.key]] = fut.result()
            if progress is not None:
                progress(done, n_parts)
        return [r for chunk in results for r in (chunk or [])]
    finally:
        client.close()


# -- on the client -------------------------------------------------------------------------------
def combine(parts: list[PartScored]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Everyone scored (sorted by person_id, as the single-table path orders them) and the
    candidates' feature rows indexed by their row in it."""
    scored = [p.scored for p in parts]
    slim = scored[0] if len(scored) == 1 else pd.concat(scored, ignore_index=True)
    slim = slim.sort_values("person_id", kind="stable").reset_index(drop=True)
    cands = [p.candidates for p in parts]
    candidates = cands[0] if len(cands) == 1 else pd.concat(cands, ignore_index=True)
    from riskmodel.data import position_in

    candidates.index = position_in(candidates["person_id"], slim["person_id"])
    return slim, candidates


def decide(
    bundle: Any,
    slim: pd.DataFrame,
    candidates: pd.DataFrame,
    rule: EligibilityConfig,
    *,
    n_rejected: int,
    n_in: int,
    seconds: dict[str, float] | None = None,
) -> Any:
    """The global eligibility rule over everyone, reasons for the listed, counts (checked);
    ``seconds`` (if given) receives the wall seconds of ``rule`` and ``reasons``."""
    from riskmodel.eligibility import apply_eligibility_rule
    from riskmodel.scoring._reasons import listed_reasons
    from riskmodel.scoring._score import ERR_COUNTS, Scored
    from riskmodel.scoring._summary import outcome_counts

    t0 = time.perf_counter()
    scored = apply_eligibility_rule(slim, rule=rule, tie_break_col="p_reoffend_uncalibrated")
    t1 = time.perf_counter()
    listed_pos = np.flatnonzero(scored["eligible"].to_numpy())
    missing = np.setdiff1d(listed_pos, candidates.index.to_numpy())
    if len(missing):  # cannot happen (module docstring); never word reasons from other rows
        raise RuntimeError(f"internal error: {len(missing)} listed people have no feature rows")
    listed_rows = candidates.loc[listed_pos]
    reasons, reasons_source = listed_reasons(bundle, listed_rows, k=3)
    if seconds is not None:
        seconds.update(rule=round(t1 - t0, 3), reasons=round(time.perf_counter() - t1, 3))
    counts = outcome_counts(scored, n_rejected=n_rejected)
    total = (
        counts["listed"] + counts["not_listed"] + counts["excluded_high_harm"] + counts["rejected"]
    )
    if counts["in"] != total or counts["in"] != n_in:
        raise RuntimeError(ERR_COUNTS.format(in_=counts["in"], total=total))
    return Scored(scored, reasons, reasons_source, counts)


def score_world(
    bundle: Any,
    world: Path,
    rule: EligibilityConfig,
    *,
    as_of: _dt.date | None,
    engine: str = "local",
    scheduler: str | None = None,
    progress: PartProgress | None = None,
) -> tuple[Cohort, Any, dict[str, float]]:
    """Score a world folder (either layout) partition by partition on ``engine``.

    Returns ``(cohort, scored, seconds)``: the cohort as read (its ``frame`` holds the scored
    people without features), what :func:`riskmodel.scoring._score.score` returns, and the
    seconds spent per step summed over partitions (:data:`PART_STEPS`) plus, on the client,
    ``combine``, ``rule`` and ``reasons`` (and ``partitions``, their number).
    """
    from riskmodel.scoring._cohort import cohort_from_parts, manifest_end_date, world_source

    found = world_source(world)
    if found is None:
        from riskmodel.scoring._cohort import ERR_COHORT_DIR

        raise ValueError(ERR_COHORT_DIR.format(path=world))
    files, hashes, n_parts = found
    if as_of is None:
        as_of = manifest_end_date(world)
    if as_of is None and n_parts > 1:
        as_of = _latest_valid_date(world, n_parts, engine=engine, scheduler=scheduler)
    parts = run_parts(
        score_world_part,
        n_parts,
        engine=engine,
        scheduler=scheduler,
        progress=progress,
        world=str(world),
        model=bundle_text(bundle),
        as_of=as_of,
        lookback_days=rule.lookback_days,
        rule=rule.model_dump(mode="json"),
    )
    seconds = {s: round(sum(p.seconds.get(s, 0.0) for p in parts), 3) for s in PART_STEPS}
    t0 = time.perf_counter()
    slim, candidates = combine(parts)
    cohort = cohort_from_parts(
        [p.part for p in parts],
        as_of=parts[0].as_of,
        kind="world",
        files=files,
        hashes=hashes,
        frame=slim,
    )
    cohort.drift_sample = combine_drift_samples([p.drift_sample for p in parts])
    seconds["combine"] = round(time.perf_counter() - t0, 3)
    result = decide(
        bundle,
        slim,
        candidates,
        rule,
        n_rejected=cohort.n_rejected,
        n_in=cohort.n_in,
        seconds=seconds,
    )
    seconds["partitions"] = n_parts
    return cohort, result, seconds


def _latest_date_part(k: int, *, world: str) -> Any:
    """The latest valid event date of partition ``k`` (for a world without an end date)."""
    from riskmodel.data import validate_events, validate_people
    from riskmodel.scoring._cohort import contract_limit

    raw, src = read_part(world, k)
    limit = contract_limit(None)
    vp = validate_people(raw["people"], source=src["people"], as_of=limit)
    ve = validate_events(raw["events"], people=vp.valid, source=src["events"], as_of=limit)
    return ve.valid["date"].max() if len(ve.valid) else None


def _latest_valid_date(world: Path, n_parts: int, *, engine: str, scheduler: str | None) -> Any:
    dates = run_parts(
        _latest_date_part, n_parts, engine=engine, scheduler=scheduler, progress=None,
        world=str(world),
    )  # fmt: skip
    dates = [d for d in dates if d is not None and pd.notna(d)]
    from riskmodel.scoring._cohort import _today

    return pd.Timestamp(max(dates)).date() if dates else _today()


__all__ = [
    "ENGINES",
    "PART_STEPS",
    "PartScored",
    "bundle_from_text",
    "bundle_text",
    "check_engine",
    "combine",
    "decide",
    "predict_part",
    "run_parts",
    "score_part",
    "score_world",
    "score_world_part",
]

"""Drift at scoring time: does the cohort still look like the model's training data?

``scoring_drift`` is what ``riskmodel score`` puts in ``summary.json`` (key ``drift``). It never
fails a scoring run: when the training data cannot be found it says so instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.refresh._config import RefreshConfig
from riskmodel.refresh._drift import cohort_drift, feature_words

REFERENCE_MAX_ROWS = 50_000  # a deterministic sample of the training rows is plenty for PSI
#: inputs counting the last weeks before the assessment: a cohort scored on a date differs from
#: training rows taken at a recorded DA event by construction, so they are shown, not warned on
SHORT_WINDOW_SUFFIXES = ("_30d", "_90d")
NOTE_SHORT = (
    "Scoring rows are assessed on the scoring date, training rows on the day of a recorded DA "
    "incident: inputs counting the last 30 or 90 days differ by construction, so they are left "
    "out of this comparison."
)


def training_reference(bundle_dir: str | Path) -> pd.DataFrame | None:
    """The training rows of the run that holds ``bundle_dir`` (``reports/<run>/model``), from
    its feature table and its experiment's split; None when they cannot be rebuilt."""
    from riskmodel.models import TrainConfig, make_split

    run_json = Path(bundle_dir).parent / "run.json"
    if not run_json.exists():
        return None
    info = json.loads(run_json.read_text(encoding="utf-8"))
    fdir = info.get("features_dir")
    if not fdir or not Path(fdir).exists():
        return None
    from riskmodel.features import load_feature_table
    from riskmodel.refresh._refresh import known_at

    frame = load_feature_table(fdir).frame.reset_index(drop=True)
    meta = run_json.parent / "refresh.json"
    if meta.exists():
        import datetime as dt

        as_of = json.loads(meta.read_text(encoding="utf-8"))["as_of"]
        frame = known_at(frame, dt.date.fromisoformat(as_of))
    # the run's training split (the experiment's train block and seed; the experiment class
    # itself sits in the top layer, above this package)
    config = info["config"]
    split = TrainConfig.model_validate(config.get("train") or {}).split
    rows = frame.iloc[make_split(frame, split, seed=config["seed"]).rows("train")]
    if len(rows) > REFERENCE_MAX_ROWS:
        rows = rows.sample(REFERENCE_MAX_ROWS, random_state=0)
    return rows.reset_index(drop=True)


def scoring_drift(
    bundle_dir: str | Path,
    bundle: Any,
    cohort: pd.DataFrame,
    cohort_score: np.ndarray,
    *,
    config: RefreshConfig | None = None,
) -> dict[str, Any]:
    """Population stability index of the cohort's inputs and score against the model's training
    data, with a plain warning above the threshold (see :func:`cohort_drift`)."""
    cfg = config or RefreshConfig()
    try:
        reference = training_reference(bundle_dir)
    except (OSError, ValueError, KeyError) as exc:
        return {"available": False, "reason": f"the training data could not be read ({exc})"}
    if reference is None:
        return {
            "available": False,
            "reason": "the model's training data are not on this machine (no run.json with a "
            "feature table beside the model), so drift was not measured",
        }
    if len(cohort) == 0:
        return {"available": False, "reason": "nobody to compare: the cohort is empty"}
    steady = [f for f in bundle.feature_names if not f.endswith(SHORT_WINDOW_SUFFIXES)]
    out = cohort_drift(
        reference,
        cohort,
        features=steady,
        reference_score=bundle.predict(reference, "reoffend"),
        cohort_score=np.asarray(cohort_score),
        threshold=cfg.max_input_psi,
        bins=cfg.psi_bins,
        labels=feature_words(bundle.feature_spec),
    )
    return {"available": True, "reference_rows": len(reference), "note": NOTE_SHORT, **out}


__all__ = ["scoring_drift", "training_reference"]

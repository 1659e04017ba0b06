"""Feature tables from ready person-level tables (e.g. COMPAS), by their table config."""

from __future__ import annotations

from pathlib import Path

from riskmodel.data import read_person_table
from riskmodel.features._catalog import KEYS
from riskmodel.features._config import refuse_forbidden
from riskmodel.features._table import FeatureTable, check_roles
from riskmodel.notice import PERMITTED_USE_NOTICE


def load_external_table(config_path: str | Path) -> FeatureTable:
    """A person-level table (one row per person, features and outcomes already computed) as a
    :class:`FeatureTable`, with roles declared by its config (e.g. ``configs/external/compas.yaml``).

    Row-level problems go to ``rejects``; rows in = rows out + rejected. Baseline scores (e.g.
    COMPAS ``decile_score``) are kept for comparison and are not features. ``index_event_id`` is
    the person id (one assessment per person).
    """
    t = read_person_table(config_path)
    cfg = t.config
    features = list(cfg.features)
    refuse_forbidden(features)
    dictionary = {}
    for col in [*features, *cfg.baselines]:
        entry = cfg.dictionary.get(col)
        dictionary[col] = (
            entry.model_dump()
            if entry is not None
            else {
                "description": f"{col} (a column of the {cfg.name} table)",
                "reason": f"{col}: {{value}}",
                "unit": "category" if col in cfg.categorical_features else "count",
            }
        )
    labels, audit, baselines = list(cfg.labels), list(cfg.audit), list(cfg.baselines)
    frame = t.frame.loc[:, [*KEYS, *features, *labels, *audit, *baselines]]
    spec = {
        "keys": list(KEYS),
        "features": features,
        "categorical_features": list(cfg.categorical_features),
        "labels": labels,
        "audit": audit,
        "truth": [],
        "baselines": baselines,
        "dictionary": dictionary,
        "source": f"external:{cfg.name}",
        "n_rows": len(frame),
        "n_censored": 0,
        # no feature-building config: the table arrived with its features
        "config": {},
        "external": {
            "config_file": str(Path(config_path).resolve()),
            "file": t.file,
            "description": cfg.description,
            "mapping": cfg.model_dump(mode="json"),
            "notes": dict(cfg.notes),
        },
        "counts": t.counts,
        "notice": PERMITTED_USE_NOTICE,
    }
    check_roles(spec)
    return FeatureTable(frame=frame.reset_index(drop=True), spec=spec, rejects=t.rejects)


__all__ = ["load_external_table"]

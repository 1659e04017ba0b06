"""Point-in-time features, labels and the feature dictionary.

- :func:`build_cohort`: the training table of a synthetic world (one row per index event)
- :func:`build_features`: the same from any people/events(/programmes) extract in the contract
- :func:`build_scoring_features`: one row per person for batch scoring as of a date
- :func:`load_external_table`: a ready person-level table (e.g. COMPAS) by its config
- :class:`FeatureTable` (``.frame``, ``.spec``, ``.save(dir)``) and :func:`load_feature_table`
- :class:`FeatureConfig`: windows, feature choice, index events, labels, RFG weights

Names are imported on first use, so ``riskmodel --help`` (which loads every stage's config)
does not pay for pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "DEFINITIONS": "_build",
    "STEPS": "_build",
    "build_cohort": "_build",
    "build_features": "_build",
    "build_scoring_features": "_build",
    "read_world": "_build",
    "AUDIT": "_catalog",
    "BASELINES": "_catalog",
    "FeatureDef": "_catalog",
    "GROUPS": "_catalog",
    "KEYS": "_catalog",
    "LABELS": "_catalog",
    "TRUTH": "_catalog",
    "catalogue": "_catalog",
    "FeatureConfig": "_config",
    "RFGConfig": "_config",
    "SevereConfig": "_config",
    "forbidden_reason": "_config",
    "load_external_table": "_external",
    "AGE_BANDS": "_history",
    "FOLLOWUP_DAYS": "_history",
    "FeatureTable": "_table",
    "check_roles": "_table",
    "load_feature_table": "_table",
}

__all__ = [
    "AGE_BANDS",
    "AUDIT",
    "BASELINES",
    "DEFINITIONS",
    "FOLLOWUP_DAYS",
    "FeatureConfig",
    "FeatureDef",
    "FeatureTable",
    "GROUPS",
    "KEYS",
    "LABELS",
    "RFGConfig",
    "STEPS",
    "SevereConfig",
    "TRUTH",
    "build_cohort",
    "build_features",
    "build_scoring_features",
    "catalogue",
    "check_roles",
    "forbidden_reason",
    "load_external_table",
    "load_feature_table",
    "read_world",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.features._build import (
        DEFINITIONS,
        STEPS,
        build_cohort,
        build_features,
        build_scoring_features,
        read_world,
    )
    from riskmodel.features._catalog import (
        AUDIT,
        BASELINES,
        GROUPS,
        KEYS,
        LABELS,
        TRUTH,
        FeatureDef,
        catalogue,
    )
    from riskmodel.features._config import FeatureConfig, RFGConfig, SevereConfig, forbidden_reason
    from riskmodel.features._external import load_external_table
    from riskmodel.features._history import AGE_BANDS, FOLLOWUP_DAYS
    from riskmodel.features._table import FeatureTable, check_roles, load_feature_table

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

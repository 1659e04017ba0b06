"""The eligibility rule: who goes on a programme-referral list, in which order.

One rule, used by scoring (the coordinator's list) and by the fairness audit (the decision the
panel audits), so the audited decision is the deployed one. Pure functions, no I/O.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "EligibilityConfig": "_config",
    "BANDS": "_rule",
    "BELOW_THRESHOLD": "_rule",
    "ERR_RULE_COLUMN": "_rule",
    "ERR_RULE_PROB": "_rule",
    "EXCLUDED_HIGH_HARM": "_rule",
    "LISTED": "_rule",
    "NOT_LISTED_OUTCOMES": "_rule",
    "OUTCOMES": "_rule",
    "OVER_AREA_CAPACITY": "_rule",
    "OVER_CAPACITY": "_rule",
    "RULE_COLUMNS": "_rule",
    "apply_eligibility_rule": "_rule",
    "band_of": "_rule",
}

__all__ = [
    "BANDS",
    "BELOW_THRESHOLD",
    "ERR_RULE_COLUMN",
    "ERR_RULE_PROB",
    "EXCLUDED_HIGH_HARM",
    "EligibilityConfig",
    "LISTED",
    "NOT_LISTED_OUTCOMES",
    "OUTCOMES",
    "OVER_AREA_CAPACITY",
    "OVER_CAPACITY",
    "RULE_COLUMNS",
    "apply_eligibility_rule",
    "band_of",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.eligibility._config import EligibilityConfig
    from riskmodel.eligibility._rule import (
        BANDS,
        BELOW_THRESHOLD,
        ERR_RULE_COLUMN,
        ERR_RULE_PROB,
        EXCLUDED_HIGH_HARM,
        LISTED,
        NOT_LISTED_OUTCOMES,
        OUTCOMES,
        OVER_AREA_CAPACITY,
        OVER_CAPACITY,
        RULE_COLUMNS,
        apply_eligibility_rule,
        band_of,
    )

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

"""Purpose-limited batch scoring: the purpose guard, eligibility lists (through the rule in
:mod:`riskmodel.eligibility`) and the tamper-evident audit log of scoring runs.

Scores may be used only to target offers of a perpetrator-programme place
(purpose ``programme_referral``); :func:`check_purpose` refuses anything else, and
:func:`score_cohort` checks it before reading any data.

Names are imported on first use, so ``riskmodel --help`` (which loads every stage's config)
does not pay for pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "AuditLog": "_audit_log",
    "AuditLogError": "_audit_log",
    "VerifyReport": "_audit_log",
    "entry_hash": "_audit_log",
    "PurposeRefused": "_purpose",
    "check_purpose": "_purpose",
    "LIST_COLUMNS": "_score",
    "STEPS": "_score",
    "ScoringResult": "_score",
    "score_cohort": "_score",
}

__all__ = [
    "LIST_COLUMNS",
    "STEPS",
    "AuditLog",
    "AuditLogError",
    "PurposeRefused",
    "ScoringResult",
    "VerifyReport",
    "check_purpose",
    "entry_hash",
    "score_cohort",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.scoring._audit_log import AuditLog, AuditLogError, VerifyReport, entry_hash
    from riskmodel.scoring._purpose import PurposeRefused, check_purpose
    from riskmodel.scoring._score import LIST_COLUMNS, STEPS, ScoringResult, score_cohort


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"riskmodel.scoring.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'riskmodel.scoring' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])

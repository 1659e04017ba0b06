"""Purpose-limited batch scoring: the purpose guard, eligibility lists (through the rule in
:mod:`riskmodel.eligibility`) and the tamper-evident audit log of scoring runs.

Scores may be used only to target offers of a perpetrator-programme place
(purpose ``programme_referral``); :func:`check_purpose` refuses anything else, and
:func:`score_cohort` checks it before reading any data.

Names are imported on first use, so ``riskmodel --help`` (which loads every stage's config)
does not pay for pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
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
    "AuditLog",
    "AuditLogError",
    "LIST_COLUMNS",
    "PurposeRefused",
    "STEPS",
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

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

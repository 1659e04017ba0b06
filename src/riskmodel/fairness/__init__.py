"""Fairness audit of the decision actually made: group and intersectional metrics with
person-level bootstrap intervals, disparities against a reference group, calibration by group
(and among the listed), the label-bias audit against the equal-recording counterfactual, the proxy
check and mitigation trade-offs at the same number of places; written as ``fairness.html`` and
``fairness.json``. Cut at its seams: ``validate_audit`` -> ``compute_audit`` -> ``audit_payload``
-> ``render_fairness``.

Names load on first use, so importing the config (and ``riskmodel --help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "AuditInput": "_audit",
    "AuditResult": "_audit",
    "audit_frame": "_audit",
    "audit_payload": "_audit",
    "compute_audit": "_audit",
    "validate_audit": "_audit",
    "GroupBootstrap": "_bootstrap",
    "bootstrap_group_metrics": "_bootstrap",
    "FairnessConfig": "_config",
    "classify_disparity": "_disparity:classify",
    "MISSING_GROUP": "_groups",
    "encode_groups": "_groups",
    "group_metrics": "_metrics",
    "audit_run": "_report",
    "audit_scores": "_report",
    "render_fairness": "_report",
    "audited_selection": "_report",
    "deployed_rule": "_report",
}

__all__ = [
    "AuditInput",
    "AuditResult",
    "FairnessConfig",
    "GroupBootstrap",
    "MISSING_GROUP",
    "audit_frame",
    "audit_payload",
    "audit_run",
    "audit_scores",
    "audited_selection",
    "bootstrap_group_metrics",
    "classify_disparity",
    "compute_audit",
    "deployed_rule",
    "encode_groups",
    "group_metrics",
    "render_fairness",
    "validate_audit",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.fairness._audit import (
        AuditInput,
        AuditResult,
        audit_frame,
        audit_payload,
        compute_audit,
        validate_audit,
    )
    from riskmodel.fairness._bootstrap import GroupBootstrap, bootstrap_group_metrics
    from riskmodel.fairness._config import FairnessConfig
    from riskmodel.fairness._disparity import classify as classify_disparity
    from riskmodel.fairness._groups import MISSING_GROUP, encode_groups
    from riskmodel.fairness._metrics import group_metrics
    from riskmodel.fairness._report import (
        audit_run,
        audit_scores,
        audited_selection,
        deployed_rule,
        render_fairness,
    )

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

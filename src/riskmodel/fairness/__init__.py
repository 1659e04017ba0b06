"""Fairness audit of the decision actually made: group and intersectional metrics with
person-level bootstrap intervals, disparities against a reference group, calibration by group
(and among the listed), the label-bias audit against the equal-recording counterfactual, the proxy
check and mitigation trade-offs at the same number of places; written as ``fairness.html`` and
``fairness.json``. Cut at its seams: ``validate_audit`` -> ``compute_audit`` -> ``audit_payload``
-> ``render_fairness``.

Names load on first use, so importing the config (and ``riskmodel --help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from riskmodel.fairness._config import FairnessConfig

_LAZY = {
    "AuditInput": ("_audit", "AuditInput"),
    "AuditResult": ("_audit", "AuditResult"),
    "audit_frame": ("_audit", "audit_frame"),
    "audit_payload": ("_audit", "audit_payload"),
    "compute_audit": ("_audit", "compute_audit"),
    "validate_audit": ("_audit", "validate_audit"),
    "audited_selection": ("_report", "audited_selection"),
    "deployed_rule": ("_report", "deployed_rule"),
    "GroupBootstrap": ("_bootstrap", "GroupBootstrap"),
    "bootstrap_group_metrics": ("_bootstrap", "bootstrap_group_metrics"),
    "classify_disparity": ("_disparity", "classify"),
    "MISSING_GROUP": ("_groups", "MISSING_GROUP"),
    "encode_groups": ("_groups", "encode_groups"),
    "group_metrics": ("_metrics", "group_metrics"),
    "audit_run": ("_report", "audit_run"),
    "audit_scores": ("_report", "audit_scores"),
    "render_fairness": ("_report", "render_fairness"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f"riskmodel.fairness.{module}"), attr)
    raise AttributeError(f"module 'riskmodel.fairness' has no attribute {name!r}")


__all__ = ["FairnessConfig", *sorted(_LAZY)]

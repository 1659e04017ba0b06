"""Fairness audit: group and intersectional metrics with stratified-bootstrap intervals,
disparities against a reference group, calibration by group, the label-bias audit, the proxy
check and mitigation trade-offs; written as ``fairness.html`` and ``fairness.json``.

Names load on first use, so importing the config (and ``riskmodel --help``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from riskmodel.fairness._config import FairnessConfig

_LAZY = {
    "audit_frame": ("_audit", "audit_frame"),
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

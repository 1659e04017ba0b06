"""Fairness audit: group and intersectional metrics with stratified-bootstrap intervals,
disparities against a reference group, calibration by group, the label-bias audit, the proxy
check and mitigation trade-offs; written as ``fairness.html`` and ``fairness.json``.

Names load on first use, so importing the config (and ``riskmodel --help``) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "audit_frame": "_audit",
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
}

__all__ = [
    "FairnessConfig",
    "GroupBootstrap",
    "MISSING_GROUP",
    "audit_frame",
    "audit_run",
    "audit_scores",
    "bootstrap_group_metrics",
    "classify_disparity",
    "encode_groups",
    "group_metrics",
    "render_fairness",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.fairness._audit import audit_frame
    from riskmodel.fairness._bootstrap import GroupBootstrap, bootstrap_group_metrics
    from riskmodel.fairness._config import FairnessConfig
    from riskmodel.fairness._disparity import classify as classify_disparity
    from riskmodel.fairness._groups import MISSING_GROUP, encode_groups
    from riskmodel.fairness._metrics import group_metrics
    from riskmodel.fairness._report import audit_run, audit_scores, render_fairness

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

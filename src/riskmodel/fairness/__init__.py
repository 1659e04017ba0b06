"""Fairness audit: group and intersectional metrics with stratified-bootstrap intervals,
disparities against a reference group, calibration by group, the label-bias audit, the proxy
check and mitigation trade-offs; written as ``fairness.html`` and ``fairness.json``.
"""

from riskmodel.fairness._audit import audit_frame
from riskmodel.fairness._bootstrap import GroupBootstrap, bootstrap_group_metrics
from riskmodel.fairness._config import FairnessConfig
from riskmodel.fairness._disparity import classify as classify_disparity
from riskmodel.fairness._groups import MISSING_GROUP, encode_groups
from riskmodel.fairness._metrics import group_metrics
from riskmodel.fairness._report import audit_run, audit_scores, render_fairness

__all__ = [
    "MISSING_GROUP",
    "FairnessConfig",
    "GroupBootstrap",
    "audit_frame",
    "audit_run",
    "audit_scores",
    "bootstrap_group_metrics",
    "classify_disparity",
    "encode_groups",
    "group_metrics",
    "render_fairness",
]

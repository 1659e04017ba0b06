"""SHAP global summaries, per-person reason codes in plain words, and the model card.

- :func:`reason_codes`: the top factors that raise each person's estimated risk, as sentences
- :func:`global_importance`: what drives a head overall, and whether it differs by group
- :func:`explain_run`: ``explain.html/.json`` plus the model card, transparency record and
  datasheet of a trained run, logged to MLflow
- :func:`write_model_card`: the model card (HTML, Markdown), transparency record and datasheet
"""

from __future__ import annotations

import importlib
from typing import Any

# Names load on first use so that ``riskmodel --help`` does not import shap and LightGBM.
_LAZY = {
    "NOT_AUDITED": "_card",
    "write_model_card": "_card",
    "ERR_EMPTY": "_global",
    "ERR_SAMPLE": "_global",
    "FLAG_MIN_SHARE": "_global",
    "FLAG_RATIO": "_global",
    "global_importance": "_global",
    "ERR_HEAD": "_reasons",
    "ERR_K": "_reasons",
    "ERR_TEMPLATE": "_reasons",
    "NOT_RECORDED": "_reasons",
    "reason_codes": "_reasons",
    "EXPLAIN_JSON_KEYS": "_report",
    "explain_run": "_report",
    "ERR_NO_RUN": "_run",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"riskmodel.explain.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'riskmodel.explain' has no attribute {name!r}")


__all__ = sorted(_LAZY)

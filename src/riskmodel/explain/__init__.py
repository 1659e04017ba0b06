"""SHAP global summaries, per-person reason codes in plain words, and the model card.

- :func:`reason_codes`: the top factors that raise each person's estimated risk, as sentences
- :func:`global_importance`: what drives a head overall, and whether it differs by group
- :func:`explain_run`: ``explain.html/.json`` plus the model card, transparency record and
  datasheet of a trained run, logged to MLflow
- :func:`write_model_card`: the model card (HTML, Markdown), transparency record and datasheet
- :func:`write_run_card`: the same, logged to the run's MLflow run (after the fairness audit)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "NOT_AUDITED": "_card",
    "write_model_card": "_card",
    "ExplainConfig": "_config",
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
    "write_run_card": "_report",
    "ERR_NO_RUN": "_run",
}

__all__ = [
    "ERR_EMPTY",
    "ERR_HEAD",
    "ERR_K",
    "ERR_NO_RUN",
    "ERR_SAMPLE",
    "ERR_TEMPLATE",
    "EXPLAIN_JSON_KEYS",
    "ExplainConfig",
    "FLAG_MIN_SHARE",
    "FLAG_RATIO",
    "NOT_AUDITED",
    "NOT_RECORDED",
    "explain_run",
    "global_importance",
    "reason_codes",
    "write_model_card",
    "write_run_card",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.explain._card import NOT_AUDITED, write_model_card
    from riskmodel.explain._config import ExplainConfig
    from riskmodel.explain._global import (
        ERR_EMPTY,
        ERR_SAMPLE,
        FLAG_MIN_SHARE,
        FLAG_RATIO,
        global_importance,
    )
    from riskmodel.explain._reasons import ERR_HEAD, ERR_K, ERR_TEMPLATE, NOT_RECORDED, reason_codes
    from riskmodel.explain._report import EXPLAIN_JSON_KEYS, explain_run, write_run_card
    from riskmodel.explain._run import ERR_NO_RUN

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

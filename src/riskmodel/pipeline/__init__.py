"""The default end-to-end job behind ``make run``.

world -> features -> train (both heads, baselines, MLflow) -> promote to champion -> fairness
audit -> explanations and model card -> an eligibility list scored from the champion model on the
world's latest cohort. Each step is the same library call its own command makes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "PipelineResult": "_run",
    "STEPS": "_run",
    "STEPS_COUNT": "_run",
    "run_pipeline": "_run",
}

__all__ = [
    "PipelineResult",
    "STEPS",
    "STEPS_COUNT",
    "run_pipeline",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.pipeline._run import STEPS, STEPS_COUNT, PipelineResult, run_pipeline

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

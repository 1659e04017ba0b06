"""The default end-to-end job behind ``make run``.

world -> features -> train (both heads, baselines, MLflow) -> promote to champion -> fairness
audit -> explanations and model card -> an eligibility list scored from the champion model on the
world's latest cohort. Each step is the same library call its own command makes.
"""

from riskmodel.pipeline._run import STEPS, PipelineResult, run_pipeline

STEPS_COUNT = len(STEPS)

__all__ = ["STEPS", "STEPS_COUNT", "PipelineResult", "run_pipeline"]

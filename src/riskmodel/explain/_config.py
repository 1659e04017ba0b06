"""Explanation settings (owned by the explain stage); an experiment's optional ``explain:`` block."""

from __future__ import annotations

from pydantic import Field

from riskmodel._base import StrictModel


class ExplainConfig(StrictModel):
    """How ``riskmodel explain`` summarises a run.

    Parameters
    ----------
    sample : test-period rows sampled for the SHAP summaries (never all rows of a large run)
    """

    sample: int = Field(default=2000, ge=1, le=1_000_000)

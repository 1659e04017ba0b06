"""Evaluation configuration (owned by the models/evaluation stage)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from riskmodel._base import StrictModel


class EvaluationConfig(StrictModel):
    """How test-period metrics and their intervals are computed.

    Parameters
    ----------
    n_boot : bootstrap replicates per interval (0: point estimates only)
    ci_level : coverage of the percentile intervals
    bootstrap_unit : ``person`` (default) resamples people and keeps all of a drawn person's index
        events together (honest intervals when people recur); ``row`` resamples index events as if
        they were independent (narrower than the data warrant when people recur)
    ece_bins : equal-mass bins of the expected calibration error
    top_k : evaluate precision/recall/harm share in the top ``top_k`` rows instead of the
        programme capacity scaled to the test period (see ``riskmodel.evaluation.capacity_k``)
    curve_points : points on the capacity and harm-captured curves of the report
    """

    n_boot: int = Field(default=500, ge=0, le=20_000)
    ci_level: float = Field(default=0.95, gt=0.5, lt=1.0)
    bootstrap_unit: Literal["row", "person"] = "person"
    ece_bins: int = Field(default=10, ge=2, le=100)
    top_k: int | None = Field(default=None, ge=1)
    curve_points: int = Field(default=60, ge=5, le=500)

"""Fairness-audit configuration (owned by the fairness stage)."""

from __future__ import annotations

from pydantic import Field

from riskmodel._base import StrictModel


class FairnessConfig(StrictModel):
    attributes: tuple[str, ...] = ("sex", "ethnicity", "age_band", "area", "disability")
    intersections: tuple[tuple[str, ...], ...] = (("sex", "ethnicity", "age_band"),)
    reference_groups: dict[str, str] = Field(default_factory=dict, description="attribute -> group; default largest")
    min_group_n: int = Field(default=50, ge=1)
    n_boot: int = Field(default=1000, ge=0)
    ci_level: float = Field(default=0.95, gt=0.5, lt=1.0)
    disparity_band: tuple[float, float] = (0.8, 1.25)
    seed: int = Field(default=0, ge=0)

"""Eligibility rule configuration (owned by the scoring stage)."""

from __future__ import annotations

from pydantic import Field

from riskmodel._base import StrictModel


class EligibilityConfig(StrictModel):
    """Likely to reoffend (probability >= threshold, or top ``capacity``) and not likely to be
    dangerously violent (severe probability < ``severe_threshold``)."""

    reoffend_threshold: float | None = Field(default=0.35, ge=0, le=1)
    severe_threshold: float = Field(default=0.10, gt=0, le=1)
    capacity: int | None = Field(default=500, ge=1)
    capacity_per_area: dict[str, int] | None = None

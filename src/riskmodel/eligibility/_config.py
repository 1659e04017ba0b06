"""Eligibility rule configuration: who goes on a programme-referral list (shared by scoring and the fairness audit)."""

from __future__ import annotations

from pydantic import Field, model_validator

from riskmodel._base import StrictModel


class EligibilityConfig(StrictModel):
    """Who goes on a programme-referral list.

    Likely to reoffend (probability >= ``reoffend_threshold``, or the top ``capacity``) and not
    likely to be dangerously violent (severe probability < ``severe_threshold``). People at or
    above the severe threshold are excluded as outside this tool's purpose (multi-agency risk
    processes handle them) and are never listed.

    Parameters
    ----------
    reoffend_threshold : minimum probability of a recorded DA reoffence within 12 months; ``None``
        lists the top ``capacity`` people regardless of their probability
    severe_threshold : people whose probability of a severe reoffence is at or above this are
        excluded (``excluded_high_harm``)
    capacity : programme places overall; ``None`` means no overall limit (the threshold decides)
    capacity_per_area : places per area (area name -> places; 0 = no programme there)
    area_capacity_default : places in each area not named in ``capacity_per_area``; ``None`` means
        no per-area limit for those areas (the overall capacity still applies)
    band_higher_from, band_moderate_from : the words of the ``band`` column: ``higher`` when the
        reoffending probability is at or above ``band_higher_from``, ``moderate`` when at or above
        ``band_moderate_from``, ``lower`` otherwise
    min_cell : groups with fewer people are suppressed in the summary's selection rates
    lookback_days : the cohort is everyone with a recorded DA event in this many days up to the
        scoring date
    """

    reoffend_threshold: float | None = Field(default=0.35, ge=0, le=1)
    severe_threshold: float = Field(default=0.10, gt=0, le=1)
    capacity: int | None = Field(default=500, ge=1)
    capacity_per_area: dict[str, int] | None = None
    area_capacity_default: int | None = Field(default=None, ge=0)
    band_higher_from: float = Field(default=0.5, gt=0, le=1)
    band_moderate_from: float = Field(default=0.25, gt=0, le=1)
    min_cell: int = Field(default=10, ge=1)
    lookback_days: int = Field(default=365, ge=1)

    @model_validator(mode="after")
    def _coherent(self) -> EligibilityConfig:
        if self.reoffend_threshold is None and self.capacity is None:
            raise ValueError(
                "give a reoffend_threshold, a capacity, or both: without either everyone below "
                "the severe threshold would be listed"
            )
        if self.band_moderate_from >= self.band_higher_from:
            raise ValueError("band_moderate_from must be below band_higher_from")
        for area, places in (self.capacity_per_area or {}).items():
            if not str(area).strip():
                raise ValueError("capacity_per_area: area names must not be empty")
            if places < 0:
                raise ValueError(f"capacity_per_area: {area}: places must be >= 0, got {places}")
        return self

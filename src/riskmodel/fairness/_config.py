"""Fairness-audit configuration (owned by the fairness stage)."""

from __future__ import annotations

from pydantic import Field, model_validator

from riskmodel._base import StrictModel
from riskmodel.schema import AUDIT_ATTRIBUTES


class FairnessConfig(StrictModel):
    """How the fairness audit groups people, resamples, and decides what to flag.

    Parameters
    ----------
    attributes : audit attributes (protected characteristics) reported one at a time
    intersections : combinations reported cell by cell (e.g. sex x ethnicity x age band)
    reference_groups : attribute -> group that disparities are measured against; the largest
        group when not given
    min_group_n : groups with fewer people are shown as suppressed, never as a number
    n_boot : bootstrap replicates (stratified by group) for every interval
    ci_level : coverage of the percentile intervals
    disparity_band : ratios inside this band count as no material disparity; a disparity is
        flagged only when its whole interval lies outside the band
    recording_band : a group's recorded incidents per equal-recording incident, relative to the
        reference group, inside this band is no material recording difference; under- or
        over-recording is reported only when the whole interval lies outside it
    seed : seed of every random stream of the audit (bootstrap, proxy folds, mitigation)
    proxy_auc_threshold : a protected attribute predictable from the model's inputs with a
        cross-validated AUC above this is flagged as having proxies
    proxy_sample_n : rows sampled for the proxy check (it trains small models)
    proxy_top_features : features listed as most responsible for a proxy
    proxy_check : run the proxy check (refresh's window audits switch it off: its policy gate
        checks the challenger's inputs for proxies itself)
    mitigation_attribute : sensitive attribute the mitigation options equalise; default the
        audited attribute whose reportable groups differ most in TPR or FPR under the rule
    mitigation : compute the mitigation trade-off table
    calibration_bins : bins of the reliability curves
    """

    attributes: tuple[str, ...] = AUDIT_ATTRIBUTES
    intersections: tuple[tuple[str, ...], ...] = (("sex", "ethnicity", "age_band"),)
    reference_groups: dict[str, str] = Field(
        default_factory=dict, description="attribute -> group; default largest"
    )
    min_group_n: int = Field(default=50, ge=1)
    n_boot: int = Field(default=1000, ge=0)
    ci_level: float = Field(default=0.95, gt=0.5, lt=1.0)
    disparity_band: tuple[float, float] = (0.8, 1.25)
    recording_band: tuple[float, float] = (0.9, 1.1)
    seed: int = Field(default=0, ge=0)
    proxy_auc_threshold: float = Field(default=0.65, gt=0.5, le=1.0)
    proxy_sample_n: int = Field(default=20_000, ge=100)
    proxy_top_features: int = Field(default=5, ge=1)
    proxy_check: bool = True
    mitigation_attribute: str | None = None
    mitigation: bool = True
    calibration_bins: int = Field(default=10, ge=2, le=50)

    @model_validator(mode="after")
    def _band(self) -> FairnessConfig:
        lo, hi = self.disparity_band
        if not 0 < lo < 1 < hi:
            raise ValueError(
                "disparity_band must be (lo, hi) with 0 < lo < 1 < hi, e.g. (0.8, 1.25)"
            )
        lo, hi = self.recording_band
        if not 0 < lo < 1 < hi:
            raise ValueError(
                "recording_band must be (lo, hi) with 0 < lo < 1 < hi, e.g. (0.9, 1.1)"
            )
        return self

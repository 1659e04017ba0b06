"""Refresh and promotion configuration (the ``refresh:`` block of an experiment file).

Every gate's threshold lives here, so the panel can read what a challenger must meet, and a
change of threshold is a change of config (tracked with the run like every other setting).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from riskmodel._base import StrictModel


class RefreshConfig(StrictModel):
    """Thresholds of the promotion gates.

    Parameters
    ----------
    auc_margin : discrimination gate: the lower bound of the challenger's AUC gain over the
        champion (paired bootstrap by person, same window) must be above ``-auc_margin``, for
        both heads
    n_boot : bootstrap replicates of the paired AUC gain
    ci_level : level of every interval in the promotion report
    calibration_slope : calibration gate: the challenger's calibration slope (logistic
        recalibration on the window) must lie in this range
    calibration_intercept : and its calibration intercept (calibration-in-the-large, log-odds)
    max_ece : and its expected calibration error (evaluation's ECE over ``ece_bins``
        equal-mass bins) at most this
    ece_bins : equal-mass bins of the ECE (as the experiment's ``evaluation.ece_bins``)
    fairness_margin : fairness gate: no disparity of the deployed decision newly flagged, and
        none further from parity than the champion's by more than this factor (a ratio 1.3 ->
        1.3 x (1 + margin))
    fairness_exempt : audit attributes whose disparities are reported but do not gate, because
        the model uses them by design (age at index is an input, so decisions differ by age band;
        intersections containing them are exempt too)
    max_input_psi : data gate: the population stability index of every model input between the
        champion's training data and the new window must stay below this (0.25: the usual
        "significant shift" line), else the shift is reported as the reason to refresh
    max_score_psi : the same for the champion's score
    drift_blocks : a drift above the thresholds blocks promotion (True) or is only reported as
        the reason to refresh (False, the default: a drifting world is why one refreshes)
    psi_bins : equal-mass bins of the reference data for the index
    allow_sensitive_change : the challenger may use a different set of sensitive-by-design inputs
        (age, health flags) than the champion; off unless the experiment says so
    window_years : length of the out-of-time comparison window (the most recent years whose
        12-month outcomes are complete at the as-of date)
    """

    auc_margin: float = Field(default=0.01, ge=0, le=0.5)
    n_boot: int = Field(default=300, ge=50, le=100_000)
    ci_level: float = Field(default=0.95, gt=0.5, lt=1)
    calibration_slope: tuple[float, float] = (0.8, 1.25)
    calibration_intercept: tuple[float, float] = (-0.25, 0.25)
    max_ece: float = Field(default=0.03, gt=0, le=0.5)
    ece_bins: int = Field(default=10, ge=2, le=100)
    fairness_margin: float = Field(default=0.1, ge=0, le=2)
    fairness_exempt: tuple[str, ...] = ("age_band",)
    max_input_psi: float = Field(default=0.25, gt=0)
    max_score_psi: float = Field(default=0.25, gt=0)
    drift_blocks: bool = False
    psi_bins: int = Field(default=10, ge=2, le=100)
    allow_sensitive_change: bool = False
    window_years: float = Field(default=1.0, gt=0, le=5)

    @model_validator(mode="after")
    def _ranges(self) -> RefreshConfig:
        for name in ("calibration_slope", "calibration_intercept"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ValueError(f"{name}: need (low, high) with low < high, got ({lo}, {hi})")
        return self


__all__ = ["RefreshConfig"]

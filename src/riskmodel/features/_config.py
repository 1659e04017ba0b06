"""Feature-building configuration (owned by the features stage). Placeholder."""

from __future__ import annotations

from riskmodel._base import StrictModel


class FeatureConfig(StrictModel):
    pass

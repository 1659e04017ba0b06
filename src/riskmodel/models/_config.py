"""Training configuration (owned by the models stage). Placeholder."""

from __future__ import annotations

from riskmodel._base import StrictModel


class TrainConfig(StrictModel):
    pass

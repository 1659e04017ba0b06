"""World configuration (owned by the synth stage). Placeholder until the synth issue lands."""

from __future__ import annotations

from pydantic import Field

from riskmodel._base import StrictModel


class WorldConfig(StrictModel):
    name: str = "world"
    seed: int = Field(default=20240101, ge=0)

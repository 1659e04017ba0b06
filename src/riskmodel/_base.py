"""Base class for every validated configuration model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Frozen, unknown keys refused: a typo in a config is an error, never a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

"""``train.tuning``: the optional request to tune the heads (config only; see ``_tune``)."""

from __future__ import annotations

from pydantic import Field, field_validator

from riskmodel._base import StrictModel

ERR_UNKNOWN_HEAD = "tuning.heads: unknown head(s) {bad}; the heads are reoffend and severe"


class TuningConfig(StrictModel):
    """``train.tuning``: choose the heads' settings on the validation period before training.

    Parameters
    ----------
    n_trials : the fixed budget (trials per head)
    seed : seed of the TPE sampler (same seed, same chosen parameters)
    heads : which heads to tune
    """

    n_trials: int = Field(default=20, ge=1, le=1000)
    seed: int = Field(default=0, ge=0)
    heads: tuple[str, ...] = ("reoffend", "severe")

    @field_validator("heads")
    @classmethod
    def _known_heads(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = sorted(set(v) - {"reoffend", "severe"})
        if bad:
            raise ValueError(ERR_UNKNOWN_HEAD.format(bad=", ".join(bad)))
        return v

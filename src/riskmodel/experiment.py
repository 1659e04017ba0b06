"""One experiment: the composed, validated config of every stage (layer 8, the top).

Each stage owns its config model in its own package; this module ties them together into
:class:`ExperimentConfig` and loads experiment files (``experiments/*.yaml``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from riskmodel._base import StrictModel
from riskmodel.config import ConfigError, load_config, resolve_relative
from riskmodel.eligibility import EligibilityConfig
from riskmodel.evaluation import EvaluationConfig
from riskmodel.explain import ExplainConfig
from riskmodel.fairness import FairnessConfig
from riskmodel.features import FeatureConfig
from riskmodel.models import TrainConfig
from riskmodel.refresh import RefreshConfig


class ExperimentConfig(StrictModel):
    """One experiment: which data, which features, how to split and train, with one seed.

    ``world`` (a world YAML) and ``table`` (an external person-level table config) are
    alternatives; paths are relative to the experiment file.
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: int = Field(default=42, ge=0)
    world: Path | None = None
    world_seed: int | None = Field(
        default=None, ge=0, description="overrides the world file's seed"
    )
    scale: float = Field(default=1.0, gt=0, le=100)
    table: Path | None = None
    features: FeatureConfig = FeatureConfig()
    train: TrainConfig = TrainConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    explain: ExplainConfig = ExplainConfig()
    fairness: FairnessConfig = FairnessConfig()
    eligibility: EligibilityConfig = EligibilityConfig()
    refresh: RefreshConfig = RefreshConfig()

    @model_validator(mode="after")
    def _one_source(self) -> ExperimentConfig:
        if (self.world is None) == (self.table is None):
            raise ValueError("give exactly one data source: `world` (a world config) or `table`")
        return self


def load_experiment(path: str | Path) -> ExperimentConfig:
    """Load an experiment file and make its data-source paths absolute."""
    exp = load_config(path, ExperimentConfig)
    updates: dict[str, Any] = {}
    for key in ("world", "table"):
        value = getattr(exp, key)
        if value is not None:
            resolved = resolve_relative(value, path)
            if not resolved.exists():
                raise ConfigError(f"{path}: {key}: file not found: {resolved}")
            updates[key] = resolved
    return exp.model_copy(update=updates)


__all__ = ["ExperimentConfig", "load_experiment"]

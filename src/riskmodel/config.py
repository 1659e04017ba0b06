"""Validated configuration: the only module that reads YAML.

Each stage owns its config model (``synth._config.WorldConfig``, ``features._config.FeatureConfig``,
...); this module loads files into them with errors that name the file, the key and what is
allowed, and composes them into an :class:`ExperimentConfig`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from riskmodel._base import StrictModel

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the faulty keys."""


def _describe(err: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"  - {loc}: unknown key (check the spelling; allowed keys are the model's fields)"
    if kind == "missing":
        return f"  - {loc}: required key is missing"
    got = err.get("input")
    got_s = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    return f"  - {loc}: {err['msg']} (got {got_s})"


def validate_mapping(data: Any, model: type[M], *, source: str = "<config>") -> M:
    """Validate already-parsed data into ``model``, with a readable error naming ``source``."""
    if data is None:
        raise ConfigError(
            f"{source}: the file is empty; expected a mapping of {model.__name__} keys"
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = "\n".join(_describe(e) for e in exc.errors())
        raise ConfigError(f"{source}: invalid {model.__name__}:\n{lines}") from None


def read_yaml(path: str | Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def load_config(path: str | Path, model: type[M], **overrides: Any) -> M:
    """Load a YAML file into ``model``; ``overrides`` (non-None) replace top-level keys."""
    data = read_yaml(path)
    if isinstance(data, dict):
        data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    return validate_mapping(data, model, source=str(path))


def resolve_relative(path: str | Path, base_file: str | Path) -> Path:
    """Resolve a path written in a config file against that file's directory."""
    p = Path(path)
    return p if p.is_absolute() else (Path(base_file).resolve().parent / p).resolve()


# --- composition -------------------------------------------------------------------------------
# Imported here (not at the top of the stage modules) so that each stage's config stays in its
# own package and this module is the single place that ties them together.
from riskmodel.eligibility import EligibilityConfig  # noqa: E402
from riskmodel.evaluation._config import EvaluationConfig  # noqa: E402
from riskmodel.explain._config import ExplainConfig  # noqa: E402
from riskmodel.fairness._config import FairnessConfig  # noqa: E402
from riskmodel.features._config import FeatureConfig  # noqa: E402
from riskmodel.models._config import TrainConfig  # noqa: E402
from riskmodel.refresh._config import RefreshConfig  # noqa: E402
from riskmodel.synth._config import WorldConfig  # noqa: E402


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


def load_world_config(path: str | Path, **overrides: Any) -> WorldConfig:
    return load_config(path, WorldConfig, **overrides)


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


__all__ = [
    "ConfigError",
    "EligibilityConfig",
    "EvaluationConfig",
    "ExperimentConfig",
    "FairnessConfig",
    "FeatureConfig",
    "StrictModel",
    "TrainConfig",
    "WorldConfig",
    "load_config",
    "load_experiment",
    "load_world_config",
    "read_yaml",
    "resolve_relative",
    "validate_mapping",
]

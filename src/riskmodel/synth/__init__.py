"""The synthetic world: people, recorded crime, programmes, and the exact truth behind them.

- :func:`generate_world` simulates a world from a :class:`WorldConfig` (``configs/world/*.yaml``)
- :func:`write_world` / :func:`load_world` write and read a world folder (docs/CONTRACTS.md)
- :func:`calibration_report` compares the world with the published figures of its config
"""

from riskmodel.synth._calibration import (
    age_band,
    calibration_report,
    expected_calibration_error,
)
from riskmodel.synth._config import CalibrationTarget, WorldConfig
from riskmodel.synth._store import load_world, verify_world, write_world
from riskmodel.synth._world import World, generate_world

__all__ = [
    "CalibrationTarget",
    "World",
    "WorldConfig",
    "age_band",
    "calibration_report",
    "expected_calibration_error",
    "generate_world",
    "load_world",
    "verify_world",
    "write_world",
]

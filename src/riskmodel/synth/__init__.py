"""The synthetic world: people, recorded crime, programmes, and the exact truth behind them.

- :func:`generate_world` simulates a world from a :class:`WorldConfig` (``configs/world/*.yaml``)
- :func:`write_world` / :func:`load_world` write and read a world folder (docs/CONTRACTS.md);
  :func:`verify_world` checks a folder against its manifest
- :func:`calibration_report` compares the world with the published figures of its config

Names are imported on first use, so loading a config (which imports :class:`WorldConfig`) does
not pay for numpy, pandas and pyarrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

_WHERE = {
    "CalibrationTarget": "_config",
    "WorldConfig": "_config",
    "World": "_world",
    "generate_world": "_world",
    "load_world": "_store",
    "verify_world": "_store",
    "write_world": "_store",
    "calibration_report": "_calibration",
}

__all__ = [
    "CalibrationTarget",
    "World",
    "WorldConfig",
    "calibration_report",
    "generate_world",
    "load_world",
    "verify_world",
    "write_world",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.synth._calibration import calibration_report
    from riskmodel.synth._config import CalibrationTarget, WorldConfig
    from riskmodel.synth._store import load_world, verify_world, write_world
    from riskmodel.synth._world import World, generate_world


__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

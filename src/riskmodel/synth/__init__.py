"""The synthetic world: people, recorded crime, programmes, and the exact truth behind them.

- :func:`generate_world` simulates a world from a :class:`WorldConfig` (``configs/world/*.yaml``)
- :func:`write_world` / :func:`load_world` write and read a world folder (docs/CONTRACTS.md);
  :func:`verify_world` checks a folder against its manifest
- :func:`write_world_chunked` generates and writes a world a block at a time (bounded memory),
  as one file per table or as a partitioned dataset (national worlds)
- :func:`calibration_report` compares the world with the published figures of its config

Names are imported on first use, so loading a config (which imports :class:`WorldConfig`) does
not pay for numpy, pandas and pyarrow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskmodel._lazy import lazy_exports

#: public name -> the private module defining it (``module:attr`` when exported under another
#: name); loaded on first use, so ``riskmodel --help`` and config loading stay light
_WHERE = {
    "calibration_report": "_calibration",
    "CalibrationTarget": "_config",
    "WorldConfig": "_config",
    "load_world_config": "_config",
    "load_world": "_store",
    "verify_world": "_store",
    "write_world": "_store",
    "write_world_chunked": "_store",
    "World": "_world",
    "generate_world": "_world",
}

__all__ = [
    "CalibrationTarget",
    "World",
    "WorldConfig",
    "calibration_report",
    "generate_world",
    "load_world",
    "load_world_config",
    "verify_world",
    "write_world",
    "write_world_chunked",
]

if TYPE_CHECKING:  # pragma: no cover
    from riskmodel.synth._calibration import calibration_report
    from riskmodel.synth._config import CalibrationTarget, WorldConfig, load_world_config
    from riskmodel.synth._store import (
        load_world,
        verify_world,
        write_world,
        write_world_chunked,
    )
    from riskmodel.synth._world import World, generate_world

__getattr__, __dir__ = lazy_exports(__name__, _WHERE, globals())

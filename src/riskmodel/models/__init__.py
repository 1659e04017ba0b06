"""Temporal splits, the two heads, baselines, calibration, and saving/loading with integrity checks."""

from riskmodel.models._bundle import (
    HEADS,
    Calibrator,
    ModelBundle,
    ModelIntegrityError,
    load_bundle,
    verify_bundle,
)

__all__ = [
    "HEADS",
    "Calibrator",
    "ModelBundle",
    "ModelIntegrityError",
    "load_bundle",
    "verify_bundle",
]

"""A trained model on disk: two LightGBM heads in text format, JSON calibrators and metadata,
and a SHA-256 manifest that is verified before anything is loaded. Nothing is ever unpickled.

Layout of a bundle directory::

    reoffend.lgb.txt  severe.lgb.txt        LightGBM's own text format
    calibrators.json                        isotonic knots or Platt coefficients per head
    bundle.json                             features, categorical levels, feature spec, provenance
    manifest.json                           SHA-256 of every other file
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from riskmodel.data import write_json, write_text
from riskmodel.notice import PERMITTED_USE_NOTICE
from riskmodel.provenance import sha256_bytes, sha256_file

BUNDLE_FORMAT = "riskmodel-bundle/1"
MANIFEST = "manifest.json"
HEADS = ("reoffend", "severe")

ERR_NO_MANIFEST = (
    "{dir}: no manifest.json; refusing to load a model whose integrity cannot be checked"
)
ERR_HASH = "{dir}: {file} does not match its SHA-256 in the manifest; the model was modified, refusing to load"
ERR_MISSING = "{dir}: {file} is listed in the manifest but missing"
ERR_UNKNOWN = "{dir}: {file} is not listed in the manifest; refusing to load an unknown file"
ERR_MANIFEST_HASH = "{dir}: manifest.json has SHA-256 {got}, expected {want} (from the run's record); refusing to load"
ERR_MISSING_FEATURES = "input is missing model feature column(s): {cols}"


class ModelIntegrityError(RuntimeError):
    """The bundle on disk is not the one that was saved."""


@dataclass(frozen=True)
class Calibrator:
    """Maps a head's raw probability to a calibrated one.

    ``isotonic``: piecewise-linear through knots ``(x, y)``; ``platt``: ``sigmoid(a * logit(p) + b)``.
    """

    method: Literal["isotonic", "platt", "identity"] = "identity"
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    a: float = 1.0
    b: float = 0.0

    @classmethod
    def fit(cls, method: str, p_raw: np.ndarray, y: np.ndarray) -> Calibrator:
        p_raw = np.asarray(p_raw, dtype=float)
        y = np.asarray(y, dtype=float)
        if method == "identity":
            return cls()
        if method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p_raw, y)
            return cls(
                "isotonic",
                tuple(map(float, iso.X_thresholds_)),
                tuple(map(float, iso.y_thresholds_)),
            )
        if method == "platt":
            from sklearn.linear_model import LogisticRegression

            z = _logit(p_raw).reshape(-1, 1)
            lr = LogisticRegression(C=1e6).fit(z, y)
            return cls("platt", a=float(lr.coef_[0, 0]), b=float(lr.intercept_[0]))
        raise ValueError(f"unknown calibration method {method!r}; use isotonic, platt or identity")

    def apply(self, p_raw: np.ndarray) -> np.ndarray:
        p_raw = np.asarray(p_raw, dtype=float)
        if self.method == "identity":
            return p_raw
        if self.method == "isotonic":
            return np.interp(p_raw, np.asarray(self.x), np.asarray(self.y))
        return 1.0 / (1.0 + np.exp(-(self.a * _logit(p_raw) + self.b)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "x": list(self.x),
            "y": list(self.y),
            "a": self.a,
            "b": self.b,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibrator:
        return cls(
            d["method"],
            tuple(d.get("x", ())),
            tuple(d.get("y", ())),
            d.get("a", 1.0),
            d.get("b", 0.0),
        )


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


@dataclass
class ModelBundle:
    """The two heads plus everything needed to prepare inputs and explain outputs.

    Parameters
    ----------
    boosters : head name -> trained ``lightgbm.Booster`` (``reoffend``, ``severe``)
    calibrators : head name -> :class:`Calibrator`
    feature_names : model input columns, in order
    categorical_levels : categorical feature -> its training categories (fixed order)
    feature_spec : the features stage's spec (descriptions, reason templates, ...)
    metadata : provenance: run id, model name/version, experiment, thresholds, versions
    """

    boosters: dict[str, lgb.Booster]
    calibrators: dict[str, Calibrator]
    feature_names: list[str]
    categorical_levels: dict[str, list[str]] = field(default_factory=dict)
    feature_spec: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    # -- inputs ----------------------------------------------------------------------------------
    def prepare(self, df: pd.DataFrame) -> pd.DataFrame:
        """Select the model's features in order, with categoricals fixed to the training levels
        (pandas 3 strings become ``category``; unseen levels become missing)."""
        missing = [c for c in self.feature_names if c not in df.columns]
        if missing:
            raise KeyError(ERR_MISSING_FEATURES.format(cols=", ".join(missing)))
        X = df.loc[:, self.feature_names].copy()
        for col, levels in self.categorical_levels.items():
            values = X[col].astype("object")
            X[col] = pd.Categorical(values.where(values.isin(levels)), categories=levels)
        for col in self.feature_names:
            if col not in self.categorical_levels and X[col].dtype == bool:
                X[col] = X[col].astype("int8")
        return X

    # -- predictions -----------------------------------------------------------------------------
    def raw_score(self, df: pd.DataFrame, head: str) -> np.ndarray:
        """The booster's raw margin (log-odds) before calibration."""
        return self.boosters[head].predict(self.prepare(df), raw_score=True)

    def predict(self, df: pd.DataFrame, head: str, *, calibrated: bool = True) -> np.ndarray:
        """Probability for ``head``; calibrated on the validation period unless told not to."""
        p = self.boosters[head].predict(self.prepare(df))
        return self.calibrators[head].apply(p) if calibrated else p

    def contributions(self, X_prepared: pd.DataFrame, head: str) -> np.ndarray:
        """Exact TreeSHAP contributions (n, n_features + 1); last column is the expected value."""
        return self.boosters[head].predict(X_prepared, pred_contrib=True)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, directory: str | Path) -> str:
        """Write the bundle and its manifest; returns the manifest's SHA-256."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        for head, booster in self.boosters.items():
            write_text(booster.model_to_string(), d / f"{head}.lgb.txt")
        write_json({h: c.to_dict() for h, c in self.calibrators.items()}, d / "calibrators.json")
        write_json(
            {
                "format": BUNDLE_FORMAT,
                "heads": sorted(self.boosters),
                "feature_names": self.feature_names,
                "categorical_levels": self.categorical_levels,
                "feature_spec": self.feature_spec,
                "metadata": self.metadata,
                "permitted_use": PERMITTED_USE_NOTICE,
            },
            d / "bundle.json",
        )
        files = sorted(p.name for p in d.iterdir() if p.is_file() and p.name != MANIFEST)
        manifest = {"format": BUNDLE_FORMAT, "files": {f: sha256_file(d / f) for f in files}}
        write_json(manifest, d / MANIFEST)
        return sha256_file(d / MANIFEST)


def verify_bundle(
    directory: str | Path, *, expected_manifest_sha256: str | None = None
) -> dict[str, str]:
    """Check every file against the manifest; raise :class:`ModelIntegrityError` on any mismatch."""
    d = Path(directory)
    mpath = d / MANIFEST
    if not mpath.exists():
        raise ModelIntegrityError(ERR_NO_MANIFEST.format(dir=d))
    if expected_manifest_sha256 is not None:
        got = sha256_file(mpath)
        if got != expected_manifest_sha256:
            raise ModelIntegrityError(
                ERR_MANIFEST_HASH.format(dir=d, got=got, want=expected_manifest_sha256)
            )
    files: dict[str, str] = json.loads(mpath.read_text())["files"]
    present = {p.name for p in d.iterdir() if p.is_file() and p.name != MANIFEST}
    for extra in sorted(present - set(files)):
        raise ModelIntegrityError(ERR_UNKNOWN.format(dir=d, file=extra))
    for name, digest in files.items():
        if not (d / name).exists():
            raise ModelIntegrityError(ERR_MISSING.format(dir=d, file=name))
        if sha256_file(d / name) != digest:
            raise ModelIntegrityError(ERR_HASH.format(dir=d, file=name))
    return files


def load_bundle(
    directory: str | Path, *, expected_manifest_sha256: str | None = None
) -> ModelBundle:
    """Verify, then load a bundle saved by :meth:`ModelBundle.save`."""
    d = Path(directory)
    verify_bundle(d, expected_manifest_sha256=expected_manifest_sha256)
    # read each file's bytes once and re-check them, so the file cannot change between check and use
    files = json.loads((d / MANIFEST).read_text())["files"]

    def _read(name: str) -> str:
        data = (d / name).read_bytes()
        if sha256_bytes(data) != files[name]:
            raise ModelIntegrityError(ERR_HASH.format(dir=d, file=name))
        return data.decode("utf-8")

    meta = json.loads(_read("bundle.json"))
    cal = json.loads(_read("calibrators.json"))
    boosters = {h: lgb.Booster(model_str=_read(f"{h}.lgb.txt")) for h in meta["heads"]}
    return ModelBundle(
        boosters=boosters,
        calibrators={h: Calibrator.from_dict(c) for h, c in cal.items()},
        feature_names=list(meta["feature_names"]),
        categorical_levels={k: list(v) for k, v in meta["categorical_levels"].items()},
        feature_spec=meta.get("feature_spec", {}),
        metadata=meta.get("metadata", {}),
    )

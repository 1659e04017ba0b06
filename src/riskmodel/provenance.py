"""Reproducibility plumbing: seeds, fingerprints, code version.

Every random choice in riskmodel draws from a generator made by :func:`rng` from the config's
one seed and a stable stream name, so adding a new random stage never shifts another's draws.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.paths import project_root


def stream_key(name: str) -> int:
    """A stable 64-bit integer for a stream name (Python's ``hash`` is salted per process)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def rng(seed: int, stream: str) -> np.random.Generator:
    """Independent generator for one named stream of one seeded run."""
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.default_rng(np.random.SeedSequence([seed, stream_key(stream)]))


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the form that is hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(obj: Any) -> str:
    """Short hash of a config (a pydantic model or plain data), used to key caches."""
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump(mode="json")
    return sha256_bytes(canonical_json(obj).encode())[:16]


def frame_fingerprint(df: pd.DataFrame) -> str:
    """Content hash of a frame: column names, dtypes and values, independent of memory layout."""
    h = hashlib.sha256()
    h.update(canonical_json([[str(c), str(t)] for c, t in df.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()


def git_commit(root: Path | None = None) -> str:
    """Current commit of the project repository, with ``+dirty`` if the tree has changes."""
    root = root or project_root()
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def package_versions(
    names: Iterable[str] = (
        "riskmodel",
        "numpy",
        "pandas",
        "pyarrow",
        "scikit-learn",
        "lightgbm",
        "shap",
        "fairlearn",
        "mlflow",
        "pydantic",
    ),
) -> dict[str, str]:
    out = {"python": platform.python_version()}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out

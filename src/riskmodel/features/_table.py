"""The feature table: one row per (person, index event), with a spec naming each column's role."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.notice import PERMITTED_USE_NOTICE

DATA_HASH_KEY = "data_file_sha256"
ERR_DATA_HASH = (
    "{path}: SHA-256 {got} is not the data_file_sha256 {want} that {spec} records: the data file "
    "and its spec come from different runs (or one was changed); rebuild the features"
)
ERR_NO_TABLE = "{path}: no feature table here (expected features.parquet and feature_spec.json)"
ERR_OVERLAP = "feature table roles overlap: {cols} listed as both {a} and {b}"
ERR_SPEC_COLUMNS = "{path}: feature_spec.json names column(s) {cols} that features.parquet lacks"

#: roles that must be disjoint (baselines may also be features)
DISJOINT_ROLES: tuple[str, ...] = ("keys", "features", "labels", "audit", "truth")
SPEC_LIST_KEYS: tuple[str, ...] = (*DISJOINT_ROLES, "categorical_features", "baselines")


def check_roles(spec: dict[str, Any]) -> None:
    """Raise ``ValueError`` if a column has two roles among keys/features/labels/audit/truth."""
    for i, a in enumerate(DISJOINT_ROLES):
        for b in DISJOINT_ROLES[i + 1 :]:
            both = sorted(set(spec.get(a, [])) & set(spec.get(b, [])))
            if both:
                raise ValueError(ERR_OVERLAP.format(cols=both, a=a, b=b))


@dataclass
class FeatureTable:
    """A feature table and its spec (docs/CONTRACTS.md, "Feature table").

    Attributes
    ----------
    frame : keys, features, labels, audit attributes, truth and baseline columns
    spec : ``keys, features, categorical_features, labels, audit, truth, baselines, dictionary,
        source, n_rows, n_censored, config`` plus ``counts`` and the permitted-use ``notice``
    rejects : rows of the inputs the data contracts rejected (empty if none)
    """

    frame: pd.DataFrame
    spec: dict[str, Any]
    rejects: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def features(self) -> list[str]:
        return list(self.spec["features"])

    @property
    def labels(self) -> list[str]:
        return list(self.spec["labels"])

    @property
    def audit(self) -> list[str]:
        return list(self.spec["audit"])

    def save(self, out_dir: str | Path) -> Path:
        """Write ``features.parquet``, ``feature_spec.json`` and (if any) ``rejects.csv``.

        Each file is written atomically; returns the directory.
        """
        from riskmodel.data import write_csv, write_json, write_parquet

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_parquet(
            self.frame,
            out / "features.parquet",
            metadata={"riskmodel.notice": PERMITTED_USE_NOTICE, "riskmodel.role": "features"},
        )
        from riskmodel.provenance import sha256_file

        # the spec names its data file's hash: a data file beside another run's spec is refused
        spec = {**self.spec, DATA_HASH_KEY: sha256_file(out / "features.parquet")}
        write_json(spec, out / "feature_spec.json")
        if len(self.rejects):
            write_csv(self.rejects, out / "rejects.csv", header_lines=[PERMITTED_USE_NOTICE])
        elif (out / "rejects.csv").exists():
            (out / "rejects.csv").unlink()  # a stale file from an earlier run would mislead
        return out


def load_feature_table(path: str | Path) -> FeatureTable:
    """Read a folder written by :meth:`FeatureTable.save` (rejects are read back too)."""
    path = Path(path)
    data, spec_path = path / "features.parquet", path / "feature_spec.json"
    if not (data.exists() and spec_path.exists()):
        raise FileNotFoundError(ERR_NO_TABLE.format(path=path))
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    want = spec.pop(DATA_HASH_KEY, None)
    if want is not None:
        from riskmodel.provenance import sha256_file

        got = sha256_file(data)
        if got != want:
            raise ValueError(ERR_DATA_HASH.format(path=data, got=got, want=want, spec=spec_path))
    frame = pd.read_parquet(data)
    named = [c for k in SPEC_LIST_KEYS for c in spec.get(k, [])]
    missing = sorted({c for c in named if c not in frame.columns})
    if missing:
        raise ValueError(ERR_SPEC_COLUMNS.format(path=spec_path, cols=missing))
    if "index_date" in frame.columns:
        # Parquet has no second-resolution timestamps; the builder's frames use seconds
        frame["index_date"] = frame["index_date"].astype("datetime64[s]")
    for col in spec.get("categorical_features", []):
        if not isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype("category")
    rejects = pd.DataFrame()
    if (path / "rejects.csv").exists():
        from riskmodel.data import read_table

        rejects = read_table(path / "rejects.csv", dtype=str)
    return FeatureTable(frame=frame, spec=spec, rejects=rejects)


__all__ = ["DISJOINT_ROLES", "FeatureTable", "check_roles", "load_feature_table"]

"""From an experiment file to a feature table: worlds and features are built once, then cached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import riskmodel
import riskmodel.features
import riskmodel.synth
from riskmodel.experiment import load_experiment
from riskmodel.features import FeatureTable
from riskmodel.models import prepare_data

KENT = Path(riskmodel.__file__).resolve().parents[2] / "configs" / "world" / "kent.yaml"


@pytest.fixture
def fake_stages(isolated_project, monkeypatch, feature_table):
    """Stand-ins for the synth and features stages that count their calls."""
    monkeypatch.setenv("RISKMODEL_HOME", str(isolated_project))
    calls = {"world": [], "features": []}

    def generate_world(config, *, seed=None, scale=1.0, progress=None):
        calls["world"].append((config.seed if seed is None else seed, scale))
        return {"seed": seed, "scale": scale}

    def write_world(world, out_dir):
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "manifest.json").write_text(json.dumps({**world, "files": {}}))

    def build_cohort(world_dir, config, *, progress=None):
        calls["features"].append((Path(world_dir), config))
        if getattr(config, "exclude", ()) == ("n_da_30d",):
            raise RuntimeError("builder crashed")
        frame, spec = feature_table
        return FeatureTable(frame=frame, spec=spec)

    monkeypatch.setattr(riskmodel.synth, "generate_world", generate_world, raising=False)
    monkeypatch.setattr(riskmodel.synth, "write_world", write_world, raising=False)
    monkeypatch.setattr(riskmodel.features, "build_cohort", build_cohort)
    return calls


def _experiment(tmp: Path, name: str, extra: str = "") -> Path:
    path = tmp / f"{name}.yaml"
    path.write_text(f"name: {name}\nseed: 1\nworld: {KENT}\nscale: 0.01\n{extra}")
    return load_experiment(path)


@pytest.mark.skipif(not KENT.exists(), reason="the Kent world config has not landed")
def test_world_and_features_are_built_once_then_reused(fake_stages, isolated_project):
    exp = _experiment(isolated_project, "a")
    first = prepare_data(exp)
    second = prepare_data(exp)
    assert len(fake_stages["world"]) == 1 and len(fake_stages["features"]) == 1
    assert first.world_dir == second.world_dir
    assert first.world_dir.parent == isolated_project / "synthetic_data"  # the README's home
    assert first.features_dir.parent == isolated_project / ".cache" / "features"
    assert first.source == "synthetic"
    assert len(first.frame) == len(second.frame)
    # the builder was handed the cached world folder
    assert fake_stages["features"][0][0] == first.world_dir

    # another feature config: same world, new features
    other = prepare_data(_experiment(isolated_project, "b", "features: {exclude: [n_da_90d]}\n"))
    assert len(fake_stages["world"]) == 1 and len(fake_stages["features"]) == 2
    assert other.world_dir == first.world_dir and other.features_dir != first.features_dir

    # another world seed: a new world and new features
    reseeded = prepare_data(_experiment(isolated_project, "c", "world_seed: 99\n"))
    assert fake_stages["world"][-1] == (99, 0.01)
    assert reseeded.world_dir != first.world_dir


@pytest.mark.skipif(not KENT.exists(), reason="the Kent world config has not landed")
def test_a_failed_build_leaves_no_cache_entry(fake_stages, isolated_project):
    exp = _experiment(isolated_project, "d", "features: {exclude: [n_da_30d]}\n")
    with pytest.raises(RuntimeError, match="builder crashed"):
        prepare_data(exp)
    features_root = isolated_project / ".cache" / "features"
    assert not features_root.exists() or list(features_root.iterdir()) == []

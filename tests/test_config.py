"""Config files: good ones load, bad ones are refused with the file, the key and what is allowed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from riskmodel.config import ConfigError, load_config
from riskmodel.experiment import ExperimentConfig, load_experiment


def _write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def world_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "world.yaml", "name: tiny\nseed: 3\n")


def test_experiment_loads_and_resolves_world_relative_to_the_file(tmp_path, world_file):
    sub = tmp_path / "experiments"
    sub.mkdir()
    exp_file = _write(sub / "e.yaml", "name: e1\nseed: 7\nworld: ../world.yaml\n")
    exp = load_experiment(exp_file)
    assert exp.seed == 7
    assert exp.world == world_file.resolve()


def test_unknown_key_is_refused_naming_file_and_key(tmp_path, world_file):
    f = _write(tmp_path / "e.yaml", f"name: e\nworld: {world_file}\nseeed: 3\n")
    with pytest.raises(ConfigError) as err:
        load_experiment(f)
    assert str(f) in str(err.value)
    assert "seeed" in str(err.value)
    assert "unknown key" in str(err.value)


def test_wrong_type_is_refused_with_what_was_given(tmp_path, world_file):
    f = _write(tmp_path / "e.yaml", f"name: e\nworld: {world_file}\nseed: lots\n")
    with pytest.raises(ConfigError, match=r"seed: .*integer.*got 'lots'"):
        load_experiment(f)


@pytest.mark.parametrize("line", ["seed: -1", "scale: 0", "scale: 1000"])
def test_out_of_range_values_are_refused(tmp_path, world_file, line):
    f = _write(tmp_path / "e.yaml", f"name: e\nworld: {world_file}\n{line}\n")
    key = line.split(":")[0]
    with pytest.raises(ConfigError, match=rf"{key}: Input should be"):
        load_experiment(f)


def test_exactly_one_data_source(tmp_path, world_file):
    f = _write(tmp_path / "e.yaml", "name: e\n")
    with pytest.raises(ConfigError, match="exactly one data source"):
        load_experiment(f)
    f2 = _write(tmp_path / "e2.yaml", f"name: e\nworld: {world_file}\ntable: {world_file}\n")
    with pytest.raises(ConfigError, match="exactly one data source"):
        load_experiment(f2)


def test_missing_referenced_world_is_named(tmp_path):
    f = _write(tmp_path / "e.yaml", "name: e\nworld: nowhere.yaml\n")
    with pytest.raises(ConfigError, match=r"world: file not found: .*nowhere.yaml"):
        load_experiment(f)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("- a\n- b\n", "expected a mapping"),
        ("a: [1,\n", "not valid YAML"),
    ],
)
def test_unusable_files(tmp_path, text, message):
    f = _write(tmp_path / "bad.yaml", text)
    with pytest.raises(ConfigError, match=message):
        load_config(f, ExperimentConfig)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.yaml", ExperimentConfig)


def test_configs_are_frozen(tmp_path, world_file):
    exp = load_experiment(_write(tmp_path / "e.yaml", f"name: e\nworld: {world_file}\n"))
    with pytest.raises(Exception, match="frozen"):
        exp.seed = 5  # type: ignore[misc]

"""Worlds shared by the synth tests (generated once per session: they take a second or two)."""

from __future__ import annotations

import pytest

from riskmodel.paths import configs_dir
from riskmodel.synth import World, generate_world, load_world_config


def world_config(name: str):
    return load_world_config(configs_dir() / "world" / f"{name}.yaml")


@pytest.fixture(scope="session")
def tiny_config():
    return world_config("tiny")


@pytest.fixture(scope="session")
def kent_config():
    return world_config("kent")


@pytest.fixture(scope="session")
def tiny_world(tiny_config) -> World:
    """The tiny world with every true incident kept (``World.incidents``)."""
    return generate_world(tiny_config, keep_incidents=True)


@pytest.fixture(scope="session")
def kent_small(kent_config) -> World:
    """Kent and Medway at 5% of its people (about 19,000 recorded DA events)."""
    return generate_world(kent_config, scale=0.05)

"""World configs: the shipped ones load and agree with each other; bad ones name the faulty field."""

from __future__ import annotations

import pytest
import yaml

from riskmodel.config import ConfigError, validate_mapping
from riskmodel.data._schema import AREAS
from riskmodel.paths import configs_dir
from riskmodel.synth import WorldConfig, load_world_config

WORLD_DIR = configs_dir() / "world"
SHIPPED = ("kent", "kent_no_trends", "england_wales", "kent_measurement_bias", "tiny")


def raw(name: str) -> dict:
    return yaml.safe_load((WORLD_DIR / f"{name}.yaml").read_text())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configs_load(name):
    cfg = load_world_config(WORLD_DIR / f"{name}.yaml")
    assert cfg.name == name
    assert sorted(a.name for a in cfg.areas) == sorted(AREAS)
    assert cfg.period.years == 15
    # every published figure carries its source
    assert all(t.source for t in cfg.calibration)
    assert all(spec.source for spec in cfg.offence_types.values())


def test_measurement_bias_twin_differs_only_in_its_bias():
    kent, biased = raw("kent_no_trends"), raw("kent_measurement_bias")
    for key in ("name", "description", "measurement_bias"):
        assert kent.pop(key) != biased.pop(key)
    assert kent == biased
    bias = load_world_config(WORLD_DIR / "kent_measurement_bias.yaml").measurement_bias
    assert bias.ethnicity == {"black": 0.6, "asian": 0.6}
    assert bias.area == {"Thanet": 1.3}
    assert "0.6" in bias.note and "Thanet" in bias.note


def test_default_kent_has_no_measurement_bias():
    bias = load_world_config(WORLD_DIR / "kent.yaml").measurement_bias
    assert bias.ethnicity == {} and bias.area == {}


@pytest.mark.parametrize(("name", "factor"), [("tiny", 0.01), ("england_wales", 30)])
def test_scaled_worlds_are_kent_with_more_or_fewer_people(name, factor):
    kent, other = raw("kent_no_trends"), raw(name)
    assert (
        other["population"].pop("perpetrators") == kent["population"].pop("perpetrators") * factor
    )
    assert other["nonda"].pop("offenders") == kent["nonda"].pop("offenders") * factor
    for entry_k, entry_o in zip(kent["calibration"], other["calibration"], strict=True):
        if entry_k.get("scales"):
            assert entry_o.pop("target") == pytest.approx(entry_k.pop("target") * factor, rel=0.01)
            assert entry_o.pop("tolerance") == pytest.approx(
                entry_k.pop("tolerance") * factor, rel=0.02
            )
    if name == "england_wales":
        for a_k, a_o in zip(kent["areas"], other["areas"], strict=True):
            assert a_o.pop("population") == a_k.pop("population") * 30
    for key in ("name", "description"):
        kent.pop(key), other.pop(key)
    assert kent == other


def _broken(edit) -> dict:
    data = raw("tiny")
    edit(data)
    return data


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        (
            lambda d: d["population"].update(sex={"male": 0.9, "female": 0.2}),
            "population.sex",
            "add up to 1",
        ),
        (
            lambda d: d["offence_types"]["threats"].update(harm_days=-1),
            "offence_types.threats.harm_days",
            "greater than or equal to 0",
        ),
        (
            lambda d: d["offence_types"]["threats"].update(reportng=0.1),
            "offence_types.threats.reportng",
            "unknown key",
        ),
        (
            lambda d: d["measurement_bias"].update(area={"Thanett": 1.3}),
            "measurement_bias.area.Thanett",
            "Input should be",
        ),
        (
            lambda d: d["measurement_bias"].update(ethnicity={"black": -1}),
            "measurement_bias.ethnicity",
            "must be positive",
        ),
        (lambda d: d["programme"]["start_delay_days"].update(min=30), "programme", "at least 366"),
        (
            lambda d: d["self_excitation"].update(branching_ratio=1.2),
            "self_excitation.branching_ratio",
            "less than 1",
        ),
        (lambda d: d["escalation"].pop(), "escalation", "one entry per escalation class"),
        (
            lambda d: d["offence_types"]["threats"].update(harm_days=400),
            "offence_types.threats.harm_days",
            "severe threshold",
        ),
        (
            lambda d: d["propensity"].update(age_curve=[[16, 0.5], [30, 0.9]]),
            "propensity.age_curve",
            "maximum of exactly 1",
        ),
        (lambda d: d["areas"].pop(), "areas", "missing"),
        (
            lambda d: d["recording"]["visibility"].append({"share": 0.0, "multiplier": 9.0}),
            "offence_types.serious_violence.reporting",
            "> 1",
        ),
        (
            lambda d: d["calibration"][0].update(name="made_up"),
            "calibration.0.name",
            "Input should be",
        ),
    ],
)
def test_invalid_config_names_the_faulty_field(edit, path, message):
    with pytest.raises(ConfigError) as err:
        validate_mapping(_broken(edit), WorldConfig, source="bad.yaml")
    text = str(err.value)
    assert "bad.yaml" in text
    assert path in text
    assert message in text


def test_overrides_replace_the_seed(tmp_path):
    cfg = load_world_config(WORLD_DIR / "tiny.yaml", seed=7)
    assert cfg.seed == 7

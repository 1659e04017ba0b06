"""The datasheet describes the world actually generated: bias on or off from its own config,
every calibration row that is not within tolerance explained, the raw config in an appendix."""

from __future__ import annotations

import json

import pytest

from riskmodel.explain import write_model_card
from tests.explain.explain_fixtures import build_run

CALIBRATION = [
    {
        "name": "men_share",
        "target": 0.92,
        "generated": 0.905,
        "tolerance": 0.03,
        "ok": True,
        "source": "004",
        "note": "",
    },
    {
        "name": "bme_share_victims",
        "target": 0.05,
        "generated": 0.061,
        "tolerance": 0.015,
        "ok": None,
        "source": "004",
        "note": "not applicable: no measurement bias in this world",
    },
    {
        "name": "modal_age_band",
        "target": 0.31,
        "generated": 0.22,
        "tolerance": 0.03,
        "ok": False,
        "source": "004",
        "note": "",
    },
]


@pytest.fixture(params=["unbiased", "biased"])
def sheet(request, tmp_path, bundle, test_frame):
    run = build_run(tmp_path / "runs", bundle, test_frame)
    world = json.loads(run.joinpath("run.json").read_text())["world_dir"]
    manifest_path = type(run)(world) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    bias = {"note": "a bias of known size", "ethnicity": {"black": 0.6}, "area": {}}
    if request.param == "unbiased":
        bias = {"note": "none", "ethnicity": {}, "area": {}}
    manifest["config"] = {**manifest["config"], "measurement_bias": bias, "seed": 991}
    manifest_path.write_text(json.dumps(manifest))
    (manifest_path.parent / "calibration.json").write_text(json.dumps(CALIBRATION))
    return request.param, write_model_card(run)["datasheet"].read_text()


def test_bias_statement_follows_the_world_config(sheet):
    kind, text = sheet
    if kind == "biased":
        assert "Measurement bias is switched on in this world" in text
        assert "switched off" not in text
    else:
        assert "Measurement bias is switched off in this world" in text
        assert " a biased sample" not in text


def test_every_row_not_within_tolerance_is_explained_and_none_says_no_for_not_applicable(sheet):
    _kind, text = sheet
    assert "| bme_share_victims | 0.05 | 0.061 | 0.015 | not applicable |" in text
    assert "| modal_age_band | 0.31 | 0.220 | 0.03 | no |" in text
    assert "| NO |" not in text
    explained = text[text.index("Every row not within tolerance, explained") :]
    assert "**bme_share_victims** (not applicable): no measurement bias in this world" in explained
    # no note from the generator: the gap is measured (|0.22 - 0.31| / 0.03 = 3.0 tolerances)
    assert (
        "**modal_age_band** (no): generated 0.22 against a target of 0.31: 3.0 times" in explained
    )
    assert "**men_share**" not in explained


def test_raw_config_is_an_appendix_after_the_datasheet_sections(sheet):
    _kind, text = sheet
    appendix = text.index("## Appendix: the world's configuration")
    assert appendix > text.index("## Maintenance")
    assert "seed: 991" in text[appendix:]
    assert "measurement_bias:" in text[appendix:]
    assert "```json" not in text

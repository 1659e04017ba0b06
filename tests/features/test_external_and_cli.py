"""The COMPAS table through its config, and the `riskmodel features` command."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmodel.cli import app
from riskmodel.data import write_json, write_parquet
from riskmodel.features import load_external_table, load_feature_table
from riskmodel.features._cli import ERR_SOURCES
from riskmodel.notice import PROTECTED_CHARACTERISTICS
from riskmodel.paths import configs_dir
from tests.features.feature_worlds import WorldBuilder

COMPAS = configs_dir() / "external" / "compas.yaml"
COMPAS_CSV = (COMPAS.parent / "../../../shared/data/compas/compas-scores-two-years.csv").resolve()
needs_compas = pytest.mark.skipif(not COMPAS_CSV.exists(), reason="shared COMPAS file absent")
runner = CliRunner()


@needs_compas
def test_compas_feature_table_has_every_row_and_the_declared_roles(tmp_path):
    t = load_external_table(COMPAS)
    assert len(t.frame) == 7214 and len(t.rejects) == 0
    spec = t.spec
    assert spec["features"] == [
        "age",
        "priors_count",
        "juv_fel_count",
        "juv_misd_count",
        "juv_other_count",
        "c_charge_degree",
    ]
    assert spec["categorical_features"] == ["c_charge_degree"]
    assert spec["labels"] == ["reoffend_12m", "severe_12m"]
    assert spec["audit"] == ["ethnicity", "sex", "age_band"]
    assert spec["baselines"] == ["decile_score"] and "decile_score" not in spec["features"]
    assert not set(spec["features"]) & (PROTECTED_CHARACTERISTICS | {"race", "decile_score"})
    assert spec["source"] == "external:compas" and spec["n_rows"] == 7214
    assert isinstance(t.frame["c_charge_degree"].dtype, pd.CategoricalDtype)
    assert set(t.frame["c_charge_degree"].cat.categories) == {"F", "M"}
    raw = pd.read_csv(COMPAS_CSV)
    assert t.frame["decile_score"].tolist() == raw["decile_score"].tolist()
    assert t.frame["priors_count"].sum() == raw["priors_count"].sum()
    back = load_feature_table(t.save(tmp_path))
    pd.testing.assert_frame_equal(back.frame, t.frame)


@needs_compas
def test_compas_path_from_the_environment(tmp_path, monkeypatch):
    part = tmp_path / "part.csv"
    pd.read_csv(COMPAS_CSV).head(50).to_csv(part, index=False)
    monkeypatch.setenv("RISKMODEL_COMPAS_CSV", str(part))
    assert len(load_external_table(COMPAS).frame) == 50


def write_world(folder: Path) -> Path:
    b = WorldBuilder(end_date="2022-12-31")
    b.person("P", "1980-01-01").person("V", "1985-01-01", sex="female")
    b.event("2019-01-01", "P", "V").event("2019-03-01", "P", "V", "threats", 1)
    b.event("2022-06-01", "P", "V")  # censored: less than a year before the end
    b.programme("P", "2018-01-01")
    w = b.world()
    for name in ("people", "events", "programmes", "truth"):
        write_parquet(getattr(w, name), folder / f"{name}.parquet")
    write_json({"end_date": "2022-12-31", "world": "tiny"}, folder / "manifest.json")
    return folder


def test_cli_world(tmp_path):
    world = write_world(tmp_path / "world")
    out = tmp_path / "out"
    result = runner.invoke(app, ["features", "--world", str(world), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "index events 3" in result.output and "censored 1" in result.output
    assert "rows out 2" in result.output
    spec = json.loads((out / "feature_spec.json").read_text())
    assert spec["n_rows"] == 2 and spec["n_censored"] == 1 and spec["truth"]
    assert not (out / "rejects.csv").exists()


def test_cli_people_and_events_with_rejects(tmp_path):
    b = WorldBuilder()
    b.person("007", "1980-01-01").person("008", "1985-01-01", sex="female")
    b.event("2019-01-01", "007", "008").event("2019-03-01", "007", "008", "threats", 1)
    b.event("2019-04-01", "007", "007")  # own victim: rejected
    w = b.world()
    w.people.to_csv(tmp_path / "people.csv", index=False)
    w.events.to_csv(tmp_path / "events.csv", index=False)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "features",
            "--people",
            str(tmp_path / "people.csv"),
            "--events",
            str(tmp_path / "events.csv"),
            "--end-date",
            "2021-01-01",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "events in 3 (rejected 1)" in result.output
    rejects = pd.read_csv(out / "rejects.csv", comment="#", dtype=str)
    assert rejects["rule"].tolist() == ["self_victim"] and rejects["row"].tolist() == ["3"]
    t = load_feature_table(out)
    assert t.frame["person_id"].tolist() == ["007", "007"]  # leading zeros kept
    assert t.spec["counts"]["events_rejected"] == 1


def test_cli_refuses_two_inputs_and_bad_files(tmp_path):
    world = write_world(tmp_path / "world")
    result = runner.invoke(
        app,
        [
            "features",
            "--world",
            str(world),
            "--people",
            "p.csv",
            "--events",
            "e.csv",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2 and ERR_SOURCES[:40] in " ".join(result.output.split())
    pd.DataFrame({"person_id": ["P"]}).to_csv(tmp_path / "people.csv", index=False)
    pd.DataFrame({"event_id": ["E"]}).to_csv(tmp_path / "events.csv", index=False)
    result = runner.invoke(
        app,
        [
            "features",
            "--people",
            str(tmp_path / "people.csv"),
            "--events",
            str(tmp_path / "events.csv"),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert "people.csv: header row: missing people column(s) birth_date" in flat


def test_cli_feature_config_refusal(tmp_path):
    world = write_world(tmp_path / "world")
    (tmp_path / "f.yaml").write_text("features: [n_da_90d, sex]\n")
    result = runner.invoke(
        app,
        [
            "features",
            "--world",
            str(world),
            "--config",
            str(tmp_path / "f.yaml"),
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 2
    assert "'sex' cannot be a feature" in " ".join(result.output.split())


@needs_compas
def test_cli_table(tmp_path):
    result = runner.invoke(app, ["features", "--table", str(COMPAS), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "rows in 7,214 (rejected 0)" in result.output
    assert len(pd.read_parquet(tmp_path / "features.parquet")) == 7214


# -- issue 16 item 7: a features folder is new and published whole -------------------------------
def test_item7_features_out_never_overwrites_a_folder(tmp_path):
    world = write_world(tmp_path / "world")
    out = tmp_path / "scoring-run"
    out.mkdir()
    (out / "rejects.csv").write_text("a scoring run's rejects\n")
    result = runner.invoke(app, ["features", "--world", str(world), "--out", str(out)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == ["rejects.csv"]
    assert (out / "rejects.csv").read_text() == "a scoring run's rejects\n"
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_item7_features_file_beside_another_runs_spec_is_refused(tmp_path):
    world = write_world(tmp_path / "world")
    a, b = tmp_path / "a", tmp_path / "b"
    assert runner.invoke(app, ["features", "--world", str(world), "--out", str(a)]).exit_code == 0
    cfg = tmp_path / "f.yaml"
    cfg.write_text("windows_days: [30, 365]\n")
    res = runner.invoke(
        app, ["features", "--world", str(world), "--config", str(cfg), "--out", str(b)]
    )
    assert res.exit_code == 0, res.output
    spec = json.loads((b / "feature_spec.json").read_text())
    import hashlib

    assert (
        spec["data_file_sha256"]
        == hashlib.sha256((b / "features.parquet").read_bytes()).hexdigest()
    )
    load_feature_table(b)
    # what a crash between the two writes (or a careless copy) leaves: one run's data, another's spec
    (b / "features.parquet").write_bytes((a / "features.parquet").read_bytes())
    with pytest.raises(ValueError, match="data_file_sha256"):
        load_feature_table(b)

"""External data: a force's extract through a mapping config, and the COMPAS person table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from riskmodel.config import ConfigError, load_config
from riskmodel.data import ContractError, PersonTableConfig, read_extract, read_person_table
from riskmodel.paths import configs_dir

EXAMPLE = configs_dir() / "external" / "example_force.yaml"
COMPAS = configs_dir() / "external" / "compas.yaml"
COMPAS_CSV = Path(__file__).resolve().parents[3] / "shared/data/compas/compas-scores-two-years.csv"


def write_example_extract(folder: Path) -> Path:
    """The example mapping beside a tiny extract in the force's own column names and codes."""
    cfg = folder / "force.yaml"
    shutil.copy(EXAMPLE, cfg)
    data = folder / "example_force"
    data.mkdir()
    pd.DataFrame(
        {
            "NominalRef": ["007", "008", "009"],
            "DOB": ["15/06/1985", "01/01/1990", "31/12/1970"],
            "Gender": ["M", "F", "X"],  # X is not mapped: an unknown category
            "EthnicityCode": ["W1", "A1", "B1"],
            "District": ["Medway", "Thanet", "Dover"],
            "DisabilityFlag": ["N", "Y", "N"],
            "MHFlag": ["N", "N", "Y"],
            "SubstanceFlag": ["Y", "N", "N"],
        }
    ).to_csv(data / "nominals.csv", index=False)
    pd.DataFrame(
        {
            "CrimeRef": ["C1", "C2", "C3"],
            "CommittedDate": ["02/03/2020", "05/04/2021", "06/04/2021"],
            "SuspectRef": ["007", "007", "009"],
            "VictimRef": ["008", "008", "008"],
            "HOCategory": ["ABH", "Controlling or coercive behaviour", "GBH"],
            "CHIDays": ["28", "5", "365"],
            "DAFlag": ["Y", "Y", "Y"],
            "Relationship": ["Partner", "Ex-partner", "Family"],
            "District": ["Medway", "Medway", "Dover"],
        }
    ).to_csv(data / "crimes.csv", index=False)
    pd.DataFrame(
        {
            "NominalRef": ["007"],
            "ReferredOn": ["01/05/2020"],
            "StartedOn": ["01/06/2020"],
            "Completed": ["Y"],
            "CompletedOn": ["01/09/2020"],
        }
    ).to_csv(data / "referrals.csv", index=False)
    return cfg


def test_example_extract_maps_names_codes_and_dates(tmp_path):
    people, events, programmes, rejects = read_extract(write_example_extract(tmp_path))
    # ids keep their leading zeros; codes are mapped; dd/mm/yyyy dates are read as such
    assert people["person_id"].tolist() == ["007", "008"]
    assert people["sex"].tolist() == ["male", "female"]
    assert people["birth_date"].dt.strftime("%Y-%m-%d").tolist() == ["1985-06-15", "1990-01-01"]
    assert people["disability"].tolist() == [False, True]
    assert events["offence_type"].tolist() == ["violence_with_injury", "coercive_control"]
    assert events["relationship"].tolist() == ["partner", "ex_partner"]
    assert events["date"].dt.strftime("%Y-%m-%d").tolist() == ["2020-03-02", "2021-04-05"]
    assert programmes["completed"].tolist() == [True]
    # person 009 has an unmapped sex code; their crime goes with them, each with its rule
    assert len(rejects) == 2
    first, second = rejects.iloc[0], rejects.iloc[1]
    assert first["file"].endswith("nominals.csv") and first["row"] == 3
    assert first["rule"] == "unknown_category" and first["value"] == "X"
    assert second["file"].endswith("crimes.csv") and second["rule"] == "unknown_person"


def test_a_mapped_column_missing_from_the_file(tmp_path):
    cfg = write_example_extract(tmp_path)
    nominals = tmp_path / "example_force" / "nominals.csv"
    pd.read_csv(nominals).drop(columns=["DOB"]).to_csv(nominals, index=False)
    with pytest.raises(ContractError) as err:
        read_extract(cfg)
    msg = str(err.value)
    assert "nominals.csv: header row: column 'DOB' (mapped to 'birth_date'" in msg


def test_path_env_replaces_the_path(tmp_path, monkeypatch):
    cfg = write_example_extract(tmp_path)
    moved = tmp_path / "elsewhere.csv"
    shutil.move(tmp_path / "example_force" / "crimes.csv", moved)
    with pytest.raises(FileNotFoundError):
        read_extract(cfg)
    monkeypatch.setenv("RISKMODEL_EXTRACT_EVENTS", str(moved))
    _, events, _, _ = read_extract(cfg)
    assert len(events) == 2


def test_mapping_to_a_column_the_contract_lacks_is_refused(tmp_path):
    text = EXAMPLE.read_text().replace("    birth_date: DOB", "    birthday: DOB")
    (tmp_path / "bad.yaml").write_text(text)
    from riskmodel.data import ExtractMapping

    with pytest.raises(ConfigError, match="'birthday'"):
        load_config(tmp_path / "bad.yaml", ExtractMapping)


# -- person-level tables -------------------------------------------------------------------------
@pytest.mark.skipif(not COMPAS_CSV.exists(), reason="the shared COMPAS file is not present")
def test_compas_loads_every_row_with_its_roles():
    t = read_person_table(COMPAS)
    assert t.counts == {"rows_in": 7214, "rows_rejected": 0, "rows": 7214}
    raw = pd.read_csv(COMPAS_CSV)
    assert len(raw) == 7214
    f = t.frame
    # labels are the published outcomes, row for row
    assert f["reoffend_12m"].sum() == raw["two_year_recid"].sum()
    assert f["severe_12m"].sum() == raw["is_violent_recid"].sum()
    assert f["person_id"].tolist() == raw["id"].astype(str).tolist()
    assert (f["ethnicity"] == raw["race"]).all()
    assert set(f["sex"]) == {"male", "female"}


def write_table(tmp_path: Path, rows: dict, **config) -> Path:
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    cfg = {
        "name": "t",
        "path": "t.csv",
        "person_id": "id",
        "index_date": "when",
        "labels": {"reoffend_12m": "y"},
        "audit": {"sex": "sex"},
        "features": ["x", "kind"],
        "categorical_features": ["kind"],
        **config,
    }
    import yaml

    (tmp_path / "t.yaml").write_text(yaml.safe_dump(cfg))
    return tmp_path / "t.yaml"


def test_person_table_rejects_bad_rows_and_conserves_counts(tmp_path):
    cfg = write_table(
        tmp_path,
        {
            "id": [1, 2, 2, 4, 5, None],
            "when": ["2020-01-01", "2020-01-02", "2020-01-03", "never", "2020-01-05", "2020-01-06"],
            "y": [0, 1, 1, 0, 2, 1],
            "sex": ["m", "f", "f", "m", "m", "f"],
            "x": ["1.5", "2", "3", "4", "5", "6"],
            "kind": ["a", "b", "a", "b", "a", "b"],
        },
    )
    t = read_person_table(cfg)
    assert t.counts == {"rows_in": 6, "rows_rejected": 5, "rows": 1}
    rules = dict(zip(t.rejects["row"], t.rejects["rule"], strict=True))
    assert rules == {
        2: "duplicate_id",
        3: "duplicate_id",
        4: "bad_type",
        5: "bad_type",
        6: "missing_value",
    }
    assert t.frame["x"].tolist() == [1.5]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"features": ["x", "sex"]}, "'sex' cannot be a feature: it is a protected"),
        ({"features": ["x", "race"]}, "'race' cannot be a feature: it is a protected"),
        ({"features": ["x", "y"]}, "'y' cannot be a feature: the config also maps it as the label"),
        ({"features": ["x", "score"], "baselines": ["score"]}, "as a baseline score"),
        ({"labels": {"outcome": "y"}}, "are not labels"),
        ({"audit": {"gender": "sex"}}, "are not audit attributes"),
    ],
)
def test_person_table_config_refuses_bad_roles(tmp_path, change, message):
    cfg = write_table(
        tmp_path, {"id": [1], "when": ["2020-01-01"], "y": [0], "sex": ["m"]}, **change
    )
    with pytest.raises(ConfigError, match=message):
        load_config(cfg, PersonTableConfig)


def test_cli_builds_features_from_a_mapped_extract(tmp_path):
    from typer.testing import CliRunner

    from riskmodel.cli import app
    from riskmodel.features import load_feature_table

    cfg = write_example_extract(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["features", "--extract", str(cfg), "--end-date", "2022-12-31", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "people in 3 (rejected 1)" in flat and "events in 3 (rejected 1)" in flat
    t = load_feature_table(out)
    assert t.spec["source"] == "external:example_force"
    assert t.frame["index_event_id"].tolist() == ["C1", "C2"]
    assert t.frame["person_id"].tolist() == ["007", "007"]
    # 007 was referred on 2020-05-01: after C1 (2020-03-02), before C2 (2021-04-05)
    assert t.frame["prior_programme_referral"].tolist() == [False, True]
    assert t.frame["reoffend_12m"].tolist() == [False, False]  # C2 is 399 days after C1
    assert len(t.rejects) == 2


def test_an_extract_file_with_a_header_and_no_rows(tmp_path):
    cfg = write_example_extract(tmp_path)
    crimes = tmp_path / "example_force" / "crimes.csv"
    crimes.write_text(crimes.read_text().splitlines()[0] + "\n")
    with pytest.raises(ContractError, match=r"crimes.csv: the events table has no data rows"):
        read_extract(cfg)
    crimes.write_text("")  # not even a header
    with pytest.raises(ContractError, match=r"crimes.csv: cannot be read as a table"):
        read_extract(cfg)


# -- issue 16 item 6: protected characteristics through an external table's side door -----------
def _proxy_rows(n: int = 200) -> dict:
    import numpy as np

    r = np.random.default_rng(0)
    sex = r.choice(["m", "f"], n)
    return {
        "id": list(range(1, n + 1)),
        "when": ["2020-01-01"] * n,
        "y": r.integers(0, 2, n),
        "sex": sex,
        "x": r.normal(size=n).round(3),
        "kind": r.choice(["a", "b"], n),
        "gender_code": np.where(sex == "m", "1", "2"),  # sex under another name
    }


def test_item6_a_column_without_a_declared_role_is_refused(tmp_path):
    cfg = write_table(tmp_path, _proxy_rows())
    with pytest.raises(ContractError, match="'gender_code'.*no declared role"):
        read_person_table(cfg)


def test_item6_a_feature_that_is_a_proxy_for_a_protected_attribute_is_refused(tmp_path):
    cfg = write_table(tmp_path, _proxy_rows(), features=["x", "kind", "gender_code"],
                      categorical_features=["kind", "gender_code"])  # fmt: skip
    with pytest.raises(ContractError, match=r"'gender_code' predicts the audit attribute sex"):
        read_person_table(cfg)
    # stated and justified, it is accepted
    cfg = write_table(
        tmp_path,
        _proxy_rows(),
        features=["x", "kind", "gender_code"],
        categorical_features=["kind", "gender_code"],
        proxy_reasons={"gender_code": "test only: checking that a stated reason is honoured"},
    )
    t = read_person_table(cfg)
    assert "gender_code" in t.frame.columns


def test_item6_ignored_columns_are_declared_and_never_features(tmp_path):
    cfg = write_table(tmp_path, _proxy_rows(), ignore=["gender_code"])
    t = read_person_table(cfg)
    assert "gender_code" not in t.frame.columns

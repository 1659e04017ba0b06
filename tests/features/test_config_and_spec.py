"""Feature choice, refusals of protected/audit/label/truth columns as features, and the spec."""

from __future__ import annotations

import string

import pandas as pd
import pytest
from pydantic import ValidationError

from riskmodel.config import ConfigError, load_config, validate_mapping
from riskmodel.experiment import ExperimentConfig
from riskmodel.features import (
    AUDIT,
    GROUPS,
    KEYS,
    LABELS,
    TRUTH,
    FeatureConfig,
    build_cohort,
    check_roles,
    load_feature_table,
)
from riskmodel.features._config import ERR_FORBIDDEN_FEATURE
from riskmodel.notice import PERMITTED_USE_NOTICE, PROTECTED_CHARACTERISTICS
from riskmodel.provenance import sha256_file
from tests.features.feature_worlds import WorldBuilder

UNITS = {"count", "days", "harm_days", "years", "flag", "score", "category"}


def small_world():
    b = WorldBuilder(end_date="2022-12-31")
    b.person("P", "1980-01-01").person("V", "1985-01-01", sex="female").person("Q", "1999-05-05")
    b.event("2019-01-01", "P", "V").event("2019-02-01", "Q", "V", "threats", 1)
    b.event("2019-03-01", "P", "V", "coercive_control", 5).event(
        "2019-04-01", "P", None, "nonda_violence", 30
    )
    b.event("2021-04-01", "P", "V", "serious_violence", 500)
    b.programme("Q", "2018-01-01", completion="2018-06-01")
    return b.world()


@pytest.mark.parametrize("name", sorted(PROTECTED_CHARACTERISTICS))
def test_a_protected_characteristic_as_a_feature_is_refused(name):
    with pytest.raises(ValidationError) as err:
        FeatureConfig(features=["n_da_90d", name])
    assert ERR_FORBIDDEN_FEATURE.format(
        name=name,
        what="a protected characteristic (Equality Act 2010), used only to audit fairness",
    ) in str(err.value)


@pytest.mark.parametrize(
    ("name", "what"),
    [
        *[(a, "an audit attribute") for a in ("area",)],
        *[(label, "a label") for label in LABELS],
        *[(t, "a synthetic truth column") for t in TRUTH],
        *[(k, "a key column") for k in KEYS],
    ],
)
def test_audit_label_truth_and_key_columns_are_refused(name, what):
    with pytest.raises(ValidationError, match=f"'{name}' cannot be a feature: it is {what}"):
        FeatureConfig(features=[name])


def test_refusal_from_a_yaml_file_names_the_file(tmp_path):
    f = tmp_path / "features.yaml"
    f.write_text("features: [n_da_90d, ethnicity]\n")
    with pytest.raises(ConfigError) as err:
        load_config(f, FeatureConfig)
    assert str(f) in str(err.value) and "'ethnicity' cannot be a feature" in str(err.value)
    # and inside an experiment too
    with pytest.raises(ConfigError, match="'sex' cannot be a feature"):
        validate_mapping(
            {"name": "x", "world": "w.yaml", "features": {"features": ["sex"]}}, ExperimentConfig
        )


def test_unknown_features_and_groups_are_refused():
    with pytest.raises(ValidationError, match=r"unknown feature\(s\) \['n_da_91d'\] in `features`"):
        FeatureConfig(features=["n_da_91d"])
    with pytest.raises(ValidationError, match="unknown feature group"):
        FeatureConfig(exclude_groups=["harms"])
    with pytest.raises(ValidationError, match="leaves no features"):
        FeatureConfig(groups=["harm"], exclude_groups=["harm"])
    # a window of the config creates its names
    assert "n_da_91d" in FeatureConfig(windows_days=[91]).feature_names()


def test_the_builder_refuses_a_forbidden_feature_that_slipped_past_the_config(monkeypatch):
    """Defence in depth: a catalogue or config that yields a protected column is stopped."""
    import riskmodel.features._config as cfg_mod
    from riskmodel.features._catalog import FeatureDef

    real = cfg_mod.catalogue
    monkeypatch.setattr(
        cfg_mod,
        "catalogue",
        lambda *a, **k: [*real(*a, **k), FeatureDef("ethnicity", "counts", "x", "x", "flag")],
    )
    config = FeatureConfig.model_construct(**dict(FeatureConfig()))
    assert "ethnicity" in config.feature_names()
    with pytest.raises(ValueError, match="'ethnicity' cannot be a feature"):
        build_cohort(small_world(), config)


def test_harm_ablation_and_explicit_lists():
    t = build_cohort(small_world(), FeatureConfig(exclude_groups=["harm"]))
    harm = [f for f in t.spec["features"] if f.startswith(("harm_da", "harm_max", "harm_nonda"))]
    assert harm == [] and "index_harm_days" not in t.spec["features"]
    assert "harm_escalation" in t.spec["features"]  # its own group
    # the RFG baseline is kept as a column even when not a feature
    t2 = build_cohort(small_world(), FeatureConfig(exclude_groups=["rfg"]))
    assert "rfg_score" not in t2.spec["features"] and "rfg_score" in t2.frame.columns
    assert t2.spec["baselines"] == ["rfg_score"]
    t3 = build_cohort(small_world(), FeatureConfig(features=["n_da_90d", "age_at_index"]))
    assert t3.spec["features"] == ["n_da_90d", "age_at_index"]
    t4 = build_cohort(small_world(), FeatureConfig(groups=["counts"], exclude=["n_da_all"]))
    assert (
        all(f.startswith("n_") for f in t4.spec["features"])
        and "n_da_all" not in t4.spec["features"]
    )


def test_spec_roles_are_disjoint_and_complete():
    t = build_cohort(small_world(), FeatureConfig())
    spec = t.spec
    for key in (
        "keys",
        "features",
        "categorical_features",
        "labels",
        "audit",
        "truth",
        "baselines",
        "dictionary",
        "source",
        "n_rows",
        "n_censored",
        "config",
    ):
        assert key in spec
    assert spec["keys"] == list(KEYS) and spec["labels"] == list(LABELS)
    assert spec["audit"] == list(AUDIT) and spec["truth"] == list(TRUTH)
    check_roles(spec)
    roles = [spec[k] for k in ("keys", "features", "labels", "audit", "truth")]
    every = [c for r in roles for c in r]
    assert len(every) == len(set(every))
    assert not set(spec["features"]) & PROTECTED_CHARACTERISTICS
    assert set(t.frame.columns) == set(every) | set(spec["baselines"])
    assert spec["source"] == "synthetic" and spec["n_rows"] == len(t.frame)
    assert spec["notice"] == PERMITTED_USE_NOTICE
    assert FeatureConfig.model_validate(spec["config"]) == FeatureConfig()
    assert set(spec["categorical_features"]) == {"index_offence_type", "index_relationship"}
    with pytest.raises(ValueError, match="listed as both features and audit"):
        check_roles({**spec, "audit": [*spec["audit"], "n_da_90d"]})


def test_every_feature_has_a_dictionary_entry_that_formats():
    t = build_cohort(small_world(), FeatureConfig())
    for name in [*t.spec["features"], *t.spec["baselines"]]:
        entry = t.spec["dictionary"][name]
        assert entry["description"] and entry["unit"] in UNITS, name
        fields = [f for _, f, _, _ in string.Formatter().parse(entry["reason"]) if f is not None]
        assert fields in ([], ["value"]), (name, entry["reason"])
        value = "partner" if name in t.spec["categorical_features"] else 3.0
        assert entry["reason"].format(value=value)


def test_feature_columns_are_model_ready():
    t = build_cohort(small_world(), FeatureConfig())
    for name in t.spec["features"]:
        dtype = t.frame[name].dtype
        ok = pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
        ok |= isinstance(dtype, pd.CategoricalDtype) and name in t.spec["categorical_features"]
        assert ok, (name, dtype)


def test_save_and_load_round_trip_deterministically(tmp_path):
    t = build_cohort(small_world(), FeatureConfig())
    t.rejects = pd.DataFrame({"file": ["x"], "row": [3], "rule": ["bad_type"], "value": ["a#b"]})
    out = t.save(tmp_path / "a")
    assert {p.name for p in out.iterdir()} == {
        "features.parquet",
        "feature_spec.json",
        "rejects.csv",
    }
    back = load_feature_table(out)
    pd.testing.assert_frame_equal(back.frame, t.frame)
    assert back.spec == t.spec
    assert back.rejects["value"].tolist() == ["a#b"]  # a '#' inside a value survives
    # same table, same bytes
    again = build_cohort(small_world(), FeatureConfig())
    again.save(tmp_path / "b")
    for name in ("features.parquet", "feature_spec.json"):
        assert sha256_file(tmp_path / "a" / name) == sha256_file(tmp_path / "b" / name)
    assert not (tmp_path / "b" / "rejects.csv").exists()
    import pyarrow.parquet as pq

    meta = pq.read_schema(out / "features.parquet").metadata
    assert meta[b"riskmodel.notice"].decode() == PERMITTED_USE_NOTICE


def test_groups_constant_lists_every_group_used():
    from riskmodel.features import catalogue

    assert {f.group for f in catalogue()} == set(GROUPS)

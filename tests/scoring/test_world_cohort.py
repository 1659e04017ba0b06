"""Scoring a cohort given as a world folder or people + events files, through the data contracts
and the feature builder."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from riskmodel.data import ContractError
from riskmodel.eligibility import EligibilityConfig
from riskmodel.features import build_scoring_features
from riskmodel.features._config import FeatureConfig
from riskmodel.scoring import score_cohort
from riskmodel.scoring._cohort import REASON_EVENT_REJECTED

from .conftest import WORLD_AS_OF, make_world

EVERYONE = EligibilityConfig(reoffend_threshold=0.0, severe_threshold=1.0, capacity=None)


def _cohort_ids(events: pd.DataFrame, as_of: dt.date, exclude: set[str] = frozenset()) -> set[str]:
    """Independent definition: a recorded DA event as perpetrator in (as_of - 365, as_of]."""
    d = pd.to_datetime(events["date"]).dt.date
    window = events["is_da"] & (d > as_of - dt.timedelta(days=365)) & (d <= as_of)
    return set(events.loc[window, "perpetrator_id"]) - set(exclude)


def _score(model, cohort, out, **kw):
    args = dict(
        model=model,
        cohort=cohort,
        purpose="programme_referral",
        capacity=None,
        out_dir=out,
        rule=EVERYONE,
    )
    args.update(kw)
    return score_cohort(**args)


@pytest.fixture
def world_dir(tmp_path):
    people, events, programmes = make_world(120, 8)
    d = tmp_path / "world"
    d.mkdir()
    people.to_parquet(d / "people.parquet")
    events.to_parquet(d / "events.parquet")
    programmes.to_parquet(d / "programmes.parquet")
    (d / "manifest.json").write_text(json.dumps({"end_date": WORLD_AS_OF.isoformat()}))
    (d / "truth.parquet").write_bytes(b"the truth is never read when scoring")
    return d, people, events, programmes


def test_world_folder_scores_everyone_with_a_recent_da_event(
    isolated_project, world_bundle, world_dir
):
    bundle, bundle_dir = world_bundle
    d, people, events, programmes = world_dir
    res = _score(bundle_dir, d, isolated_project / "out")
    expected = _cohort_ids(events, WORLD_AS_OF)
    assert res.scoring_date == WORLD_AS_OF  # from the manifest
    assert set(res.eligibility_list["person_id"]) == expected
    assert res.counts == {
        "in": len(expected),
        "listed": len(expected),
        "not_listed": 0,
        "excluded_high_harm": 0,
        "rejected": 0,
    }
    summary = json.loads(res.summary_json.read_text())
    assert summary["counts_outside_cohort"]["no_recent_da_event"] == len(people) - len(expected)
    assert summary["input"]["kind"] == "world"
    assert set(summary["input"]["file_hashes"]) == {"people", "events", "programmes"}
    # same probabilities as the feature builder + model directly
    table = build_scoring_features(
        people, events, programmes, as_of=WORLD_AS_OF, config=FeatureConfig()
    )
    direct = pd.Series(
        bundle.predict(table.frame, "reoffend"), index=table.frame["person_id"]
    ).round(4)
    got = res.eligibility_list.set_index("person_id")["p_reoffend"]
    pd.testing.assert_series_equal(got.sort_index(), direct.sort_index(), check_names=False)
    assert "sex" in summary["selection_rates"] and "area" in summary["selection_rates"]


def test_scoring_as_of_an_earlier_date_ignores_later_events(
    isolated_project, world_bundle, world_dir
):
    _, bundle_dir = world_bundle
    d, _, events, _ = world_dir
    as_of = dt.date(2023, 6, 30)
    res = _score(bundle_dir, d, isolated_project / "out", as_of=as_of)
    assert set(res.eligibility_list["person_id"]) == _cohort_ids(events, as_of)
    assert res.counts["rejected"] == 0


def test_bad_rows_reject_whole_people_and_are_explained(isolated_project, world_bundle, tmp_path):
    _, bundle_dir = world_bundle
    people, events, _ = make_world(120, 9)
    recent = sorted(_cohort_ids(events, WORLD_AS_OF))
    a, b, c = recent[0], recent[1], recent[2]
    people = people.astype({"birth_date": "object"})
    people.loc[people["person_id"] == a, "birth_date"] = "not a date"
    ev = events.copy()
    b_row = ev.index[ev["perpetrator_id"] == b][0]
    ev.loc[b_row, "offence_type"] = "bogus"
    ghost = ev.iloc[[0]].assign(event_id="E9999999", perpetrator_id="999999")
    c_copy = ev.loc[ev["perpetrator_id"] == c].iloc[[0]]
    ev = pd.concat([ev, ghost, c_copy], ignore_index=True)
    people.to_csv(tmp_path / "people.csv", index=False)
    ev.to_csv(tmp_path / "events.csv", index=False)
    res = _score(
        bundle_dir,
        {"people": tmp_path / "people.csv", "events": tmp_path / "events.csv"},
        isolated_project / "out",
    )

    # a's events are rejected (a is not a valid person), so are those of everyone who abused a:
    # their histories would be incomplete. b's one bad event rejects b.
    abused_a = set(events.loc[events["victim_id"] == a, "perpetrator_id"]) - {a}
    rejected = {a, b} | abused_a
    expected = _cohort_ids(events, WORLD_AS_OF, exclude=rejected)
    listed = set(res.eligibility_list["person_id"])
    assert c not in rejected
    assert listed == expected and c in listed  # an exact duplicate row does not reject its person
    assert res.counts["rejected"] == len(rejected)
    assert res.counts["in"] == len(expected) + len(rejected)
    rej = pd.read_csv(res.rejects_csv, comment="#", dtype=str)
    assert set(rej.loc[rej["file"] == str(tmp_path / "people.csv"), "person_id"]) == rejected
    assert rej.loc[rej["person_id"] == b, "reason"].isin([REASON_EVENT_REJECTED]).any()
    ev_rej = rej.loc[rej["file"] == str(tmp_path / "events.csv")]
    assert "999999" in set(ev_rej["person_id"])  # the unknown perpetrator is reported
    assert any("copy" in r for r in ev_rej["reason"])  # and the duplicate row
    assert any(str(a) == p for p in ev_rej["person_id"])  # a's events: their person is invalid


def test_whole_file_problems_name_the_file(isolated_project, world_bundle, tmp_path):
    _, bundle_dir = world_bundle
    people, events, _ = make_world(30, 3)
    people.to_csv(tmp_path / "people.csv", index=False)
    events.drop(columns=["offence_type"]).to_csv(tmp_path / "events.csv", index=False)
    cohort = {"people": tmp_path / "people.csv", "events": tmp_path / "events.csv"}
    with pytest.raises(ContractError) as info:
        _score(bundle_dir, cohort, isolated_project / "out")
    assert str(tmp_path / "events.csv") in str(info.value) and "offence_type" in str(info.value)
    people.head(0).to_csv(tmp_path / "people.csv", index=False)
    events.to_csv(tmp_path / "events.csv", index=False)
    with pytest.raises(ContractError, match="no data rows"):
        _score(bundle_dir, cohort, isolated_project / "out")
    assert not (isolated_project / "out").exists()


def test_model_not_trained_on_built_features_is_refused_clearly(
    isolated_project, bundle, world_dir, tmp_path
):
    import copy

    from riskmodel.scoring._cohort import ERR_MODEL_FEATURES

    d, *_ = world_dir
    odd = copy.copy(bundle)
    odd.feature_spec = {**bundle.feature_spec, "config": {"fixture": True}}
    odd.save(tmp_path / "odd")
    with pytest.raises(ValueError) as info:
        _score(tmp_path / "odd", d, isolated_project / "out")
    assert str(info.value).startswith(ERR_MODEL_FEATURES.split("{")[0])
    assert "fixture" in str(info.value)

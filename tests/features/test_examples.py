"""Hand-worked examples: every expected value below was worked out on paper from the
definitions (docs/CONTRACTS.md and the feature dictionary), not read from the output."""

from __future__ import annotations

import datetime as dt
import math
from types import SimpleNamespace

import pandas as pd
import pytest

from riskmodel.features import FeatureConfig, build_cohort, build_scoring_features
from tests.features.feature_worlds import WorldBuilder

D = dt.date.fromisoformat


def hand_world() -> WorldBuilder:
    """P's history; the index event under study is E06 (2020-06-30)."""
    b = WorldBuilder(end_date="2023-01-01")
    b.person("P", "1980-03-01", sex="male", ethnicity="black", area="Thanet", mental_health=True)
    b.person("V", "1982-01-01", sex="female").person("W", "1960-01-01", sex="female")
    b.event("2019-01-01", "P", None, "nonda_other", 2, eid="E01")
    b.event("2020-01-01", "P", "V", "violence_with_injury", 28, eid="E02")
    b.event("2020-05-01", "P", "V", "coercive_control", 5, eid="E03")
    b.event("2020-05-31", "P", "W", "threats", 1, eid="E04", relationship="family")  # 30 days
    b.event("2020-06-01", "P", "V", "breach_of_order", 10, eid="E05")  # 29 days before
    b.event("2020-06-30", "P", "V", "violence_without_injury", 3, eid="E06")
    b.event("2020-06-30", "P", "V", "serious_violence", 500, eid="E07")  # same day, after
    b.event("2021-06-30", "P", "V", "stalking_harassment", 4, eid="E08")  # day 365 after E06
    b.event("2021-07-01", "P", "V", "sexual_offence", 2000, eid="E09")  # day 366 after E06
    b.programme("P", "2020-02-01", completion="2020-06-30")  # completed on the index day
    b.programme("P", "2020-06-30")  # referred on the index day: not before it
    return b


@pytest.fixture
def table():
    return build_cohort(hand_world().world(), FeatureConfig())


def row(table, eid: str) -> pd.Series:
    return table.frame.set_index("index_event_id").loc[eid]


def test_counts_and_window_boundaries(table):
    r = row(table, "E06")
    # 30 days = 2020-06-01..2020-06-30: E05 (29 days before) in, E04 (30 days before) out
    assert r["n_da_30d"] == 2
    # 90 days = from 2020-04-02: E03, E04, E05, E06
    assert r["n_da_90d"] == 4
    assert r["n_da_365d"] == 5 and r["n_da_1095d"] == 5 and r["n_da_all"] == 5
    assert r["n_da_violence_all"] == 2  # E02, E06
    assert r["n_coercive_control_all"] == 1
    assert r["n_da_nonviolent_all"] == 1  # threats
    assert r["n_da_nonviolent_30d"] == 0  # E04 is exactly 30 days before
    assert r["n_breach_30d"] == 1
    assert r["n_sexual_all"] == 0  # E09 is in the future
    assert r["n_other_365d"] == 0 and r["n_other_1095d"] == 1  # E01, 2019-01-01


def test_same_day_order(table):
    # E07 shares E06's date with a larger id: after E06, so not in E06's features ...
    assert row(table, "E06")["n_da_violence_30d"] == 1
    assert row(table, "E06")["harm_max_da_all"] == 28.0
    # ... while E06 is before E07 and counts in E07's
    assert row(table, "E07")["n_da_30d"] == 3
    assert row(table, "E07")["harm_max_da_30d"] == 500.0
    assert row(table, "E07")["days_since_previous_da"] == 0.0


def test_harm_escalation_timing_victims(table):
    r = row(table, "E06")
    assert r["harm_da_all"] == 28 + 5 + 1 + 10 + 3
    assert r["harm_da_30d"] == 13.0 and r["harm_max_da_30d"] == 10.0
    assert r["harm_nonda_all"] == 2.0 and r["index_harm_days"] == 3.0
    # harms 28, 5, 1, 10, 3 at x = 0..4: slope = sum((x-2)(y-9.4)) / 10 = -45 / 10
    assert r["harm_escalation"] == pytest.approx(-4.5)
    assert row(table, "E02")["harm_escalation"] == 0.0  # a single incident has no trend
    assert r["days_since_first_da"] == 181.0  # 2020-01-01 -> 2020-06-30 (leap year)
    assert r["days_since_previous_da"] == 29.0
    assert math.isnan(row(table, "E02")["days_since_previous_da"])
    assert r["n_victims_all"] == 2  # V and W


def test_rfg_score_by_its_documented_formula(table):
    r = row(table, "E06")
    recency = 1 - 29 / 1095  # previous DA incident 29 days before
    frequency = math.log(1 + 5) / math.log(1 + 20)  # five DA incidents in three years
    gravity = math.log(1 + 47) / math.log(1 + 3650)  # 47 harm days
    assert r["rfg_score"] == pytest.approx(100 * (recency + frequency + gravity) / 3)
    # the first incident: no recency, one incident, 28 harm days
    first = 100 * (0 + math.log(2) / math.log(21) + math.log(29) / math.log(3651)) / 3
    assert row(table, "E02")["rfg_score"] == pytest.approx(first)
    assert "rfg_score" in table.spec["baselines"]


def test_rfg_weights_move_the_score():
    cfg = FeatureConfig(rfg={"weight_recency": 0, "weight_frequency": 0, "weight_gravity": 1})
    t = build_cohort(hand_world().world(), cfg)
    assert row(t, "E06")["rfg_score"] == pytest.approx(100 * math.log(48) / math.log(3651))


def test_ages_programmes_vulnerabilities(table):
    r = row(table, "E06")
    assert r["age_at_index"] == pytest.approx((D("2020-06-30") - D("1980-03-01")).days / 365.25)
    assert r["age_at_first_offence"] == pytest.approx(
        (D("2019-01-01") - D("1980-03-01")).days / 365.25
    )
    # referred 2020-02-01 (counts); referred and completed on the index day (do not)
    assert r["n_prior_referrals"] == 1
    assert bool(r["prior_programme_referral"]) is True
    assert bool(r["prior_programme_completion"]) is False
    assert bool(row(table, "E02")["prior_programme_referral"]) is False
    assert bool(r["mental_health"]) is True and bool(r["substance_misuse"]) is False
    assert r["index_offence_type"] == "violence_without_injury"
    assert row(table, "E04")["index_relationship"] == "family"


def test_labels(table):
    r = row(table, "E06")
    # after E06: E07 (same day, later id) and E08 (day 365); E09 is day 366
    assert bool(r["reoffend_12m"]) and bool(r["severe_12m"])
    assert r["harm_days_12m"] == 504.0
    r7 = row(table, "E07")
    assert bool(r7["reoffend_12m"]) and not bool(r7["severe_12m"])
    assert r7["harm_days_12m"] == 4.0
    # a harm threshold instead of offence types: E08 (4 days) is not severe, E07 (500) is
    cfg = FeatureConfig(severe={"offence_types": [], "harm_threshold": 365})
    t = build_cohort(hand_world().world(), cfg)
    assert bool(row(t, "E06")["severe_12m"]) and not bool(row(t, "E07")["severe_12m"])


def test_audit_and_truth_columns(table):
    r = row(table, "E06")
    assert (r["sex"], r["ethnicity"], r["area"], r["age_band"]) == (
        "male",
        "black",
        "Thanet",
        "35-44",
    )
    assert bool(r["disability"]) is False
    # the truth table's row of the same event id (the builder gives the i-th DA event 0.1+0.01i)
    world = hand_world().world()
    truth = world.truth.set_index("event_id")
    assert r["p_reoffend_true"] == pytest.approx(truth.loc["E06", "p_reoffend_12m"])
    assert r["true_incidents_12m"] == truth.loc["E06", "true_incidents_12m"]
    assert bool(r["true_reoffend_12m"]) == (truth.loc["E06", "true_incidents_12m"] > 0)
    # shuffling the truth table's rows changes nothing: it is joined by event id
    world.truth = world.truth.sample(frac=1.0, random_state=1)
    t2 = build_cohort(world, FeatureConfig())
    pd.testing.assert_frame_equal(t2.frame, table.frame)


def test_age_bands_at_their_edges():
    # assessed on 2020-01-01: a 25th or 65th birthday that day moves the band, the day after not
    cases = {
        "P0": ("2004-01-01", "16-24"),
        "P1": ("1995-01-02", "16-24"),
        "P2": ("1995-01-01", "25-34"),
        "P3": ("1955-01-01", "65+"),
        "P4": ("1955-01-02", "55-64"),
    }
    b = WorldBuilder(end_date="2023-01-01").person("V")
    for pid, (birth, _) in cases.items():
        b.person(pid, birth)
        b.event("2020-01-01", pid)
    t = build_cohort(b.world(), FeatureConfig())
    got = dict(zip(t.frame["person_id"], t.frame["age_band"], strict=True))
    assert got == {pid: band for pid, (_, band) in cases.items()}


def test_one_index_per_year():
    w = hand_world().world()
    first = build_cohort(w, FeatureConfig(one_index_per="year", index_choice="first"))
    assert first.frame["index_event_id"].tolist() == ["E02", "E08"]
    last = build_cohort(w, FeatureConfig(one_index_per="year", index_choice="last"))
    assert last.frame["index_event_id"].tolist() == ["E07", "E09"]
    assert last.spec["counts"]["dropped_one_index_per"] == 8 - 2 - 0
    rnd = build_cohort(w, FeatureConfig(one_index_per="year", seed=3))
    years = rnd.frame["index_date"].dt.year
    assert years.tolist() == [2020, 2021]
    # the random choice for P does not move when someone else's events are added
    b = hand_world()
    b.person("Q")
    for day in ("2020-03-03", "2020-04-04", "2021-05-05"):
        b.event(day, "Q", "V", eid=f"Q{day}")
    more = build_cohort(b.world(), FeatureConfig(one_index_per="year", seed=3))
    mine = more.frame.loc[more.frame["person_id"] == "P", "index_event_id"].tolist()
    assert mine == rnd.frame["index_event_id"].tolist()
    # and a different seed may choose differently, but always one per person-year
    for seed in range(5):
        t = build_cohort(b.world(), FeatureConfig(one_index_per="year", seed=seed))
        key = t.frame["person_id"] + t.frame["index_date"].dt.year.astype(str)
        assert key.is_unique


def test_scoring_features_as_of_a_date():
    b = hand_world()
    b.person("Q").person("R")
    b.event("2019-07-16", "Q", "V", eid="Q1")  # 365 days before as_of: outside the lookback
    b.event("2019-07-17", "R", "V", eid="R1")  # 364 days before: inside
    w = b.world()
    t = build_scoring_features(
        w.people, w.events, w.programmes, as_of=D("2020-07-15"), config=FeatureConfig()
    )
    f = t.frame.set_index("person_id")
    assert sorted(f.index) == ["P", "R"]
    assert t.spec["labels"] == [] and "reoffend_12m" not in t.frame.columns
    p = f.loc["P"]
    assert p["index_event_id"] == "E07"  # the latest DA event on or before as_of
    # windows end at as_of: 30 days = 2020-06-16..2020-07-15 holds E06 and E07
    assert p["n_da_30d"] == 2
    assert p["n_da_all"] == 6  # E08, E09 are after as_of
    assert p["days_since_previous_da"] == 15.0  # E06, 2020-06-30
    # referral and completion on 2020-06-30 are before the end of as_of
    assert p["n_prior_referrals"] == 2 and bool(p["prior_programme_completion"])
    assert p["age_at_index"] == pytest.approx((D("2020-07-15") - D("1980-03-01")).days / 365.25)
    assert list(t.frame.columns[3:-5]) == FeatureConfig().feature_names()


def test_scoring_matches_training_at_an_index_event():
    """Scored at the end of an index event's day, with nothing else that day, a person's
    features equal the training features of that index event."""
    w = hand_world().world()
    score = build_scoring_features(
        w.people, w.events, None, as_of=D("2020-06-01"), config=FeatureConfig()
    )
    # any object with the world's attributes will do (here: no programmes table)
    world = SimpleNamespace(
        people=w.people, events=w.events, programmes=None, truth=None, end_date=w.end_date
    )
    train = build_cohort(world, FeatureConfig())
    names = FeatureConfig().feature_names()
    a = row(train, "E05")[names]
    b = score.frame.set_index("person_id").loc["P", names]
    pd.testing.assert_series_equal(a, b, check_names=False)
    assert train.spec["truth"] == [] and "p_reoffend_true" not in train.frame.columns

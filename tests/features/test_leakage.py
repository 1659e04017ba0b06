"""No feature sees the future: deleting or altering every event after a cut date leaves every
feature of every index event on or before the cut unchanged (labels may change)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from riskmodel.features import FeatureConfig, build_features, build_scoring_features
from tests.features.feature_worlds import SPAN_DAYS, START, World, WorldBuilder, random_worlds

CONFIG = FeatureConfig(escalation_k=3)
# far past the last event, so that no index event is censored and every one is compared
END = START + dt.timedelta(days=SPAN_DAYS + 400)


def future_changed(world: World, cut: dt.date, mode: str, data) -> World:
    """The world with every event (and programme fact) after ``cut`` deleted or altered."""
    ev = world.events.copy()
    after = ev["date"] > cut
    if mode == "delete":
        ev = ev.loc[~after]
    else:
        pids = world.people["person_id"].tolist()
        for i in ev.index[after]:
            perp = data.draw(st.sampled_from(pids))
            victim = data.draw(st.sampled_from([p for p in pids if p != perp]))
            offence = data.draw(st.sampled_from(["serious_violence", "threats", "nonda_other"]))
            shift = data.draw(st.integers(0, 30))
            ev.loc[i, ["perpetrator_id", "victim_id", "offence_type", "harm_days"]] = [
                perp,
                victim if offence != "nonda_other" else None,
                offence,
                float(data.draw(st.integers(0, 5000))),
            ]
            ev.loc[i, "is_da"] = offence != "nonda_other"
            ev.loc[i, "relationship"] = "ex_partner" if offence != "nonda_other" else None
            ev.loc[i, "date"] = ev.loc[i, "date"] + dt.timedelta(days=shift)
        # and new events after the cut, with ids that sort before the existing ones
        for k in range(data.draw(st.integers(0, 4))):
            perp = data.draw(st.sampled_from(pids))
            ev.loc[len(ev) + 1000 + k] = {
                "event_id": f"A{k:05d}",
                "date": cut + dt.timedelta(days=data.draw(st.integers(1, 400))),
                "perpetrator_id": perp,
                "victim_id": next(p for p in pids if p != perp),
                "offence_type": "coercive_control",
                "harm_days": 5.0,
                "is_da": True,
                "relationship": "partner",
                "area": "Swale",
            }
    prog = world.programmes.copy()
    if len(prog):
        late_ref = prog["referral_date"] > cut
        prog = prog.loc[~late_ref] if mode == "delete" else prog
        late_done = prog["completion_date"].notna() & (
            prog["completion_date"].map(lambda d: d is not None and d > cut)
        )
        prog.loc[late_done, "completed"] = False
        prog.loc[late_done, "completion_date"] = None
    return World(world.people, ev.reset_index(drop=True), prog, world.truth, world.end_date)


def features_up_to(table, cut: dt.date) -> pd.DataFrame:
    f = table.frame
    keep = f["index_date"] <= pd.Timestamp(cut)
    cols = ["index_event_id", *table.spec["features"], *table.spec["audit"], "rfg_score"]
    cols = list(dict.fromkeys(cols))
    return f.loc[keep, cols].sort_values("index_event_id").reset_index(drop=True)


@given(
    world=random_worlds(),
    cut_day=st.integers(0, SPAN_DAYS),
    mode=st.sampled_from(["delete", "alter"]),
    data=st.data(),
)
def test_events_after_the_cut_do_not_change_features(world, cut_day, mode, data):
    cut = START + dt.timedelta(days=cut_day)
    changed = future_changed(world, cut, mode, data)
    if not (changed.events["is_da"].any() and world.events["is_da"].any()):
        # nothing left to assess; then nothing on or before the cut was assessed either
        assert not (world.events["is_da"] & (world.events["date"] <= cut)).any()
        return
    before = build_features(
        world.people, world.events, world.programmes, config=CONFIG, end_date=END
    )
    after = build_features(
        changed.people, changed.events, changed.programmes, config=CONFIG, end_date=END
    )
    pd.testing.assert_frame_equal(
        features_up_to(before, cut), features_up_to(after, cut), check_exact=True
    )


@given(world=random_worlds(), cut_day=st.integers(0, SPAN_DAYS), data=st.data())
def test_scoring_features_ignore_events_after_as_of(world, cut_day, data):
    as_of = START + dt.timedelta(days=cut_day)
    changed = future_changed(world, as_of, "alter", data)
    if not world.events["is_da"].any():
        return
    a = build_scoring_features(
        world.people, world.events, world.programmes, as_of=as_of, config=CONFIG
    )
    b = build_scoring_features(
        changed.people, changed.events, changed.programmes, as_of=as_of, config=CONFIG
    )
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)


def test_labels_read_exactly_the_365_days_after():
    """A reoffence on day 365 after the index counts; one on day 366 does not."""
    for gap, expected in ((365, True), (366, False), (0, True)):
        b = WorldBuilder(end_date="2023-12-31").person("P").person("V")
        b.event("2020-01-01", "P", eid="E2")
        later = dt.date(2020, 1, 1) + dt.timedelta(days=gap)
        # on the same day a later event needs a larger id to be after the index event
        b.event(later.isoformat(), "P", offence="serious_violence", harm=500, eid="E3")
        w = b.world()
        t = build_features(w.people, w.events, config=CONFIG, end_date=w.end_date)
        row = t.frame.set_index("index_event_id").loc["E2"]
        assert row["reoffend_12m"] == expected, gap
        assert row["severe_12m"] == expected, gap
        assert row["harm_days_12m"] == (500.0 if expected else 0.0), gap


def test_a_same_day_event_recorded_earlier_is_not_a_reoffence():
    b = WorldBuilder(end_date="2023-12-31").person("P").person("V")
    b.event("2020-01-01", "P", offence="threats", eid="E1")
    b.event("2020-01-01", "P", eid="E2")
    w = b.world()
    t = build_features(w.people, w.events, config=CONFIG, end_date=w.end_date)
    f = t.frame.set_index("index_event_id")
    assert bool(f.loc["E1", "reoffend_12m"]) is True  # E2 came after E1
    assert bool(f.loc["E2", "reoffend_12m"]) is False  # E1 came before E2: history, not label
    assert f.loc["E2", "n_da_30d"] == 2 and f.loc["E1", "n_da_30d"] == 1


def test_censoring_follows_the_end_of_data(builder):
    b = builder.person("P").person("V")
    b.event("2020-01-01", "P").event("2020-06-01", "P").event("2020-06-02", "P")
    w = b.world()
    t = build_features(w.people, w.events, config=CONFIG, end_date="2021-06-01")
    # 2020-06-01 + 365 days = 2021-06-01: complete; 2020-06-02 lacks one day
    assert t.frame["index_event_id"].tolist() == ["E000001", "E000002"]
    assert t.spec["n_censored"] == 1
    assert t.spec["counts"]["index_events"] == 3

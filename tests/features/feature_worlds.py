"""Tiny hand-made worlds for the features tests: builders whose expected values can be worked
out by hand, and a random-world strategy for property tests.

(A module with a name of its own, not ``conftest``, so that importing it never picks another
stage's conftest when several test folders run together.)"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from hypothesis import strategies as st

from riskmodel.data import OFFENCE_TYPES

D = dt.date.fromisoformat


@dataclass
class World:
    """The tables of a world, as the contract has them, plus its end date."""

    people: pd.DataFrame
    events: pd.DataFrame
    programmes: pd.DataFrame
    truth: pd.DataFrame
    end_date: dt.date


@dataclass
class WorldBuilder:
    """Add people, events and programme referrals one by one; ``world()`` makes the tables.

    Event ids are zero-padded in the order events are added unless given, so the order of
    ``event`` calls is the same-day order.
    """

    end_date: str = "2024-12-31"
    people: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    programmes: list[dict] = field(default_factory=list)
    truth: list[dict] = field(default_factory=list)

    def person(
        self,
        pid: str,
        birth: str = "1985-06-15",
        *,
        sex: str = "male",
        ethnicity: str = "white",
        area: str = "Medway",
        disability: bool = False,
        mental_health: bool = False,
        substance_misuse: bool = False,
    ) -> WorldBuilder:
        self.people.append(
            {
                "person_id": pid,
                "birth_date": D(birth),
                "sex": sex,
                "ethnicity": ethnicity,
                "area": area,
                "disability": disability,
                "mental_health": mental_health,
                "substance_misuse": substance_misuse,
            }
        )
        return self

    def event(
        self,
        date: str,
        perp: str,
        victim: str | None = "V",
        offence: str = "violence_with_injury",
        harm: float = 10.0,
        *,
        eid: str | None = None,
        relationship: str | None = "partner",
        area: str = "Medway",
    ) -> WorldBuilder:
        is_da = OFFENCE_TYPES[offence][1]
        self.events.append(
            {
                "event_id": eid or f"E{len(self.events) + 1:06d}",
                "date": D(date),
                "perpetrator_id": perp,
                "victim_id": victim,
                "offence_type": offence,
                "harm_days": float(harm),
                "is_da": is_da,
                "relationship": relationship if is_da else None,
                "area": area,
            }
        )
        return self

    def programme(
        self,
        pid: str,
        referral: str,
        *,
        start: str | None = None,
        completion: str | None = None,
    ) -> WorldBuilder:
        self.programmes.append(
            {
                "person_id": pid,
                "referral_date": D(referral),
                "start_date": D(start) if start else None,
                "completed": completion is not None,
                "completion_date": D(completion) if completion else None,
            }
        )
        return self

    def world(self) -> World:
        events = pd.DataFrame(self.events)
        da = events.loc[events["is_da"]]
        truth = pd.DataFrame(
            {
                "event_id": da["event_id"].to_numpy(),
                "person_id": da["perpetrator_id"].to_numpy(),
                "date": da["date"].to_numpy(),
                # hand-checkable stand-ins: a value per event derived from its position
                "p_reoffend_12m": [0.1 + 0.01 * i for i in range(len(da))],
                "p_severe_12m": [0.02 + 0.001 * i for i in range(len(da))],
                "true_incidents_12m": [i % 3 for i in range(len(da))],
                "recorded_reoffend_12m": False,
                "followup_complete": True,
            }
        )
        programmes = pd.DataFrame(
            self.programmes,
            columns=["person_id", "referral_date", "start_date", "completed", "completion_date"],
        )
        return World(pd.DataFrame(self.people), events, programmes, truth, D(self.end_date))


# -- random small worlds -------------------------------------------------------------------------
OFFENCES = list(OFFENCE_TYPES)
START = D("2016-01-01")
SPAN_DAYS = 1600
# days are an anchor plus a delta, so that gaps of exactly a window (7, 30, 60, 90, 365, 400,
# 1095 days) and of 365 / 366 days after an index event, and same-day ties, are all common
ANCHORS = (0, 365, 400, 730, 1095, 1200)
DELTAS = (0, 1, 2, 7, 8, 29, 30, 31, 59, 60, 61, 89, 90, 91, 364, 365, 366)


@st.composite
def random_worlds(draw, *, max_people: int = 4, max_events: int = 40) -> World:
    """A random world: few people, events clustered in time (same-day ties on purpose)."""
    n_people = draw(st.integers(2, max_people))
    pids = [f"P{i:03d}" for i in range(n_people)]
    b = WorldBuilder(end_date=(START + dt.timedelta(days=SPAN_DAYS)).isoformat())
    for i, pid in enumerate(pids):
        birth = START - dt.timedelta(days=draw(st.integers(16 * 366, 60 * 365)))
        b.person(
            pid,
            birth.isoformat(),
            sex=draw(st.sampled_from(["male", "female"])),
            mental_health=draw(st.booleans()),
            substance_misuse=i % 2 == 1,
        )
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, n_people - 1),  # perpetrator
                st.integers(1, n_people - 1),  # victim offset (never the perpetrator)
                st.sampled_from(ANCHORS),
                st.sampled_from(DELTAS),
                st.sampled_from(OFFENCES),
                st.sampled_from([0.0, 1.0, 5.5, 28.0, 365.0, 730.0]),
            ),
            min_size=2,
            max_size=max_events,
        )
    )
    # event ids in a random order relative to dates, to exercise the (date, event_id) order
    ids = draw(st.permutations(list(range(len(rows)))))
    for (perp, off, anchor, delta, offence, harm), k in zip(rows, ids, strict=True):
        day = START + dt.timedelta(days=min(anchor + delta, SPAN_DAYS))
        victim = pids[(perp + off) % n_people]
        b.event(day.isoformat(), pids[perp], victim, offence, harm, eid=f"E{k:05d}")
    for _ in range(draw(st.integers(0, 3))):
        who = pids[draw(st.integers(0, n_people - 1))]
        ref = START + dt.timedelta(days=draw(st.integers(0, SPAN_DAYS - 100)))
        done = draw(st.booleans())
        b.programme(
            who,
            ref.isoformat(),
            completion=(ref + dt.timedelta(days=draw(st.integers(0, 90)))).isoformat()
            if done
            else None,
        )
    return b.world()

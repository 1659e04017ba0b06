"""The vectorised builder agrees with a slow, obviously-correct reference on random worlds.

The reference loops over every index event and every event of its person, applying the
definitions of docs/CONTRACTS.md and the feature dictionary word for word; it shares no code
with the builder (escalation uses numpy.polyfit, windows compare calendar dates).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.data import OFFENCE_TYPES
from riskmodel.features import FeatureConfig, build_features
from tests.features.feature_worlds import World, random_worlds

GROUPS = [
    "da_violence",
    "da_nonviolent",
    "coercive_control",
    "stalking_harassment",
    "breach",
    "sexual",
    "nonda_violence",
    "other",
]


def reference(world: World, config: FeatureConfig, end_date: dt.date) -> dict[str, dict]:
    """index_event_id -> {feature or label: value}, by per-row loops."""
    people = {r["person_id"]: r for r in world.people.to_dict("records")}
    events = world.events.to_dict("records")
    # an exact copy of a programme row is rejected by the contract (duplicate_row): count once
    programmes = [
        dict(t)
        for t in dict.fromkeys(tuple(r.items()) for r in world.programmes.to_dict("records"))
    ]
    out: dict[str, dict] = {}
    for x in events:
        if not x["is_da"]:
            continue
        if (end_date - x["date"]).days < 365:
            continue  # censored
        p = x["perpetrator_id"]
        mine = [e for e in events if e["perpetrator_id"] == p]
        moment = (x["date"], x["event_id"])
        # history_days: nothing older than the longest look-back is read at all
        hist = config.history_days
        known = sorted(
            (
                e
                for e in mine
                if (e["date"], e["event_id"]) <= moment
                and (hist is None or (x["date"] - e["date"]).days < hist)
            ),
            key=lambda e: (e["date"], e["event_id"]),
        )
        row: dict = {}
        windows = [*config.windows_days, None]
        for w in windows:
            sfx = "all" if w is None else f"{w}d"
            inw = [e for e in known if w is None or (x["date"] - e["date"]).days < w]
            row[f"n_da_{sfx}"] = sum(e["is_da"] for e in inw)
            for g in GROUPS:
                row[f"n_{g}_{sfx}"] = sum(OFFENCE_TYPES[e["offence_type"]][0] == g for e in inw)
            da_harms = [e["harm_days"] for e in inw if e["is_da"]]
            row[f"harm_da_{sfx}"] = sum(da_harms)
            row[f"harm_max_da_{sfx}"] = max(da_harms, default=0.0)
            row[f"harm_nonda_{sfx}"] = sum(e["harm_days"] for e in inw if not e["is_da"])
        das = [e for e in known if e["is_da"]]
        row["index_harm_days"] = x["harm_days"]
        last = [e["harm_days"] for e in das[-config.escalation_k :]]
        row["harm_escalation"] = (
            float(np.polyfit(np.arange(len(last)), last, 1)[0]) if len(last) >= 2 else 0.0
        )
        row["days_since_first_da"] = float((x["date"] - das[0]["date"]).days)
        prev = (x["date"] - das[-2]["date"]).days if len(das) >= 2 else math.nan
        row["days_since_previous_da"] = float(prev)
        r = config.rfg
        in_rfg = [e for e in das if (x["date"] - e["date"]).days < r.window_days]
        recency = (
            0.0 if math.isnan(prev) else max(0.0, 1 - min(prev, r.window_days) / r.window_days)
        )
        freq = min(1.0, math.log(1 + len(in_rfg)) / math.log(1 + r.frequency_cap))
        grav = min(
            1.0,
            math.log(1 + sum(e["harm_days"] for e in in_rfg)) / math.log(1 + r.gravity_cap_days),
        )
        wsum = r.weight_recency + r.weight_frequency + r.weight_gravity
        row["rfg_score"] = (
            100 * (r.weight_recency * recency + r.weight_frequency * freq + r.weight_gravity * grav)
        ) / wsum
        row["n_victims_all"] = len({e["victim_id"] for e in das if e["victim_id"] is not None})
        birth = people[p]["birth_date"]
        row["age_at_index"] = (x["date"] - birth).days / 365.25
        row["age_at_first_offence"] = (min(e["date"] for e in known) - birth).days / 365.25

        def readable(day: dt.date, at: dt.date = x["date"], hist: int | None = hist) -> bool:
            return day < at and (hist is None or (at - day).days < hist)

        refs = [g for g in programmes if g["person_id"] == p and readable(g["referral_date"])]
        row["n_prior_referrals"] = len(refs)
        row["prior_programme_referral"] = len(refs) > 0
        row["prior_programme_completion"] = any(
            g["completed"] and readable(g["completion_date"])
            for g in programmes
            if g["person_id"] == p
        )
        row["mental_health"] = people[p]["mental_health"]
        row["substance_misuse"] = people[p]["substance_misuse"]
        row["index_offence_type"] = x["offence_type"]
        row["index_relationship"] = x["relationship"]
        after = [
            e
            for e in mine
            if e["is_da"]
            and (e["date"], e["event_id"]) > moment
            and (e["date"] - x["date"]).days <= 365
        ]
        row["reoffend_12m"] = len(after) > 0
        row["severe_12m"] = any(
            e["offence_type"] in config.severe.offence_types
            or (
                config.severe.harm_threshold is not None
                and e["harm_days"] >= config.severe.harm_threshold
            )
            for e in after
        )
        row["harm_days_12m"] = float(sum(e["harm_days"] for e in after))
        d, b = x["date"], birth
        age = d.year - b.year - ((d.month, d.day) < (b.month, b.day))  # completed years
        row["age_band"] = next(
            b
            for lo, b in [
                (65, "65+"),
                (55, "55-64"),
                (45, "45-54"),
                (35, "35-44"),
                (25, "25-34"),
                (16, "16-24"),
                (0, "under 16"),
            ]
            if age >= lo
        )
        out[x["event_id"]] = row
    return out


def compare(table, ref: dict[str, dict]) -> None:
    frame = table.frame.set_index("index_event_id")
    assert set(frame.index) == set(ref), "index events differ"
    assert table.spec["n_censored"] == table.spec["counts"]["censored"]
    for eid, expected in ref.items():
        got = frame.loc[eid]
        for col, want in expected.items():
            if col not in frame.columns:
                continue
            have = got[col]
            if isinstance(want, float) and math.isnan(want):
                assert pd.isna(have), (eid, col, have)
            elif isinstance(want, float):
                assert math.isclose(float(have), want, rel_tol=1e-9, abs_tol=1e-9), (
                    eid,
                    col,
                    have,
                    want,
                )
            else:
                assert have == want, (eid, col, have, want)


CONFIGS = [
    FeatureConfig(),
    FeatureConfig(
        windows_days=(7, 60, 400),
        escalation_k=3,
        severe={"offence_types": [], "harm_threshold": 365},
        rfg={"window_days": 200, "weight_recency": 2, "weight_gravity": 0.5, "frequency_cap": 5},
    ),
    # a bounded look-back (the backtest's fixed history): 400 days, the longest window, so the
    # random worlds' anchors 400 and 1095 days apart sit on and beyond its edge
    FeatureConfig(
        windows_days=(30, 90, 400), history_days=400, escalation_k=3, rfg={"window_days": 365}
    ),
]


@settings(max_examples=60)
@given(world=random_worlds(), which=st.sampled_from([0, 1, 2]), extra_days=st.integers(0, 400))
def test_vectorised_matches_reference(world, which, extra_days):
    config = CONFIGS[which]
    end = world.end_date - dt.timedelta(days=extra_days)
    # events after the end of data would be future-dated: leave them out of both
    events = world.events.loc[world.events["date"] <= end].reset_index(drop=True)
    w = World(world.people, events, world.programmes, world.truth, end)
    ref = reference(w, config, end)
    if not ref:
        return
    table = build_features(w.people, w.events, w.programmes, config=config, end_date=end)
    compare(table, ref)
    n_da = int(w.events["is_da"].sum())
    assert table.spec["counts"]["index_events"] == n_da
    assert table.spec["n_censored"] == n_da - len(ref)

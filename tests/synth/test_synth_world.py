"""The world folder: reproducible, shaped as docs/CONTRACTS.md says, and honest about its records."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskmodel.data._schema import (
    AREAS,
    ETHNICITIES,
    OFFENCE_TYPES,
    RELATIONSHIPS,
    SEVERE_OFFENCE_TYPES,
    SEXES,
    TRUTH_COLUMNS,
)
from riskmodel.notice import PERMITTED_USE_NOTICE
from riskmodel.synth import generate_world, load_world, write_world
from riskmodel.synth._store import ERR_HASH

COLUMNS = {
    "people": [
        "person_id",
        "birth_date",
        "sex",
        "ethnicity",
        "area",
        "disability",
        "mental_health",
        "substance_misuse",
    ],
    "events": [
        "event_id",
        "date",
        "perpetrator_id",
        "victim_id",
        "offence_type",
        "harm_days",
        "is_da",
        "relationship",
        "area",
    ],
    "programmes": ["person_id", "referral_date", "start_date", "completed", "completion_date"],
    "truth": list(TRUTH_COLUMNS),
}
ARROW_TYPES = {
    "person_id": "large_string",
    "event_id": "large_string",
    "perpetrator_id": "large_string",
    "victim_id": "large_string",
    "birth_date": "date32[day]",
    "date": "date32[day]",
    "referral_date": "date32[day]",
    "start_date": "date32[day]",
    "completion_date": "date32[day]",
    "disability": "bool",
    "mental_health": "bool",
    "substance_misuse": "bool",
    "is_da": "bool",
    "completed": "bool",
    "recorded_reoffend_12m": "bool",
    "followup_complete": "bool",
    "harm_days": "double",
    "p_reoffend_12m": "double",
    "p_severe_12m": "double",
    "true_incidents_12m": "int64",
    "recorded_incidents_12m": "int64",
    "equal_recording_incidents_12m": "int64",
}


@pytest.fixture(scope="module")
def written(tiny_world, tmp_path_factory):
    return write_world(tiny_world, tmp_path_factory.mktemp("tiny"))


# -- determinism ------------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(tiny_config, written, tmp_path):
    again = write_world(generate_world(tiny_config), tmp_path / "again")
    first = json.loads((written / "manifest.json").read_text())
    second = json.loads((again / "manifest.json").read_text())
    assert first["files"] == second["files"]
    for name in first["files"]:
        assert (written / name).read_bytes() == (again / name).read_bytes()


def test_another_seed_differs(tiny_config, written, tmp_path):
    other = write_world(generate_world(tiny_config, seed=tiny_config.seed + 1), tmp_path / "other")
    first = json.loads((written / "manifest.json").read_text())["files"]
    second = json.loads((other / "manifest.json").read_text())["files"]
    for table in ("people", "events", "programmes", "truth"):
        assert first[f"{table}.parquet"] != second[f"{table}.parquet"]


# -- the folder -------------------------------------------------------------------------------
def test_manifest_describes_the_world(tiny_world, written):
    m = json.loads((written / "manifest.json").read_text())
    assert m["world"] == "tiny"
    assert m["seed"] == tiny_world.seed and m["scale"] == 1.0
    assert m["start_date"] == "2010-01-01" and m["end_date"] == "2024-12-31"
    assert m["row_counts"] == {k: len(getattr(tiny_world, k)) for k in COLUMNS}
    assert set(m["files"]) == {f"{t}.parquet" for t in COLUMNS} | {
        "calibration.json",
        "calibration.html",
    }
    assert m["config"]["name"] == "tiny" and m["package_version"]
    assert m["permitted_use"] == PERMITTED_USE_NOTICE


def test_round_trip_gives_the_same_tables(tiny_world, written):
    loaded = load_world(written)
    for table in COLUMNS:
        pd.testing.assert_frame_equal(getattr(loaded, table), getattr(tiny_world, table))
    assert loaded.config == tiny_world.config
    assert (loaded.start_date, loaded.end_date) == (tiny_world.start_date, tiny_world.end_date)
    assert loaded.calibration == json.loads(json.dumps(tiny_world.calibration))


def test_tampering_is_detected(tiny_world, tmp_path):
    folder = write_world(tiny_world, tmp_path / "w")
    events = pd.read_parquet(folder / "events.parquet")
    events.loc[0, "harm_days"] = 0.0
    events.to_parquet(folder / "events.parquet")
    with pytest.raises(ValueError, match="events.parquet does not match its SHA-256") as err:
        load_world(folder)
    assert ERR_HASH.split("{")[0] == str(err.value).split(str(folder))[0]
    load_world(folder, verify=False)  # reading without the check is still possible


def test_html_report_is_self_contained_with_the_notice(written):
    html = (written / "calibration.html").read_text()
    assert html.index("Permitted use only") < html.index("Published figures")
    assert "http://" not in html and "https://" not in html
    assert "recorded_da_per_year" in html


# -- schema of every output -------------------------------------------------------------------
@pytest.mark.parametrize("table", sorted(COLUMNS))
def test_columns_and_types_on_disk(written, table):
    schema = pq.read_schema(written / f"{table}.parquet")
    assert schema.names == COLUMNS[table]
    for field in schema:
        want = ARROW_TYPES.get(field.name, "large_string")
        assert str(field.type) == want, field.name


def test_categories_ids_and_dates(tiny_world):
    w = tiny_world
    people, events = w.people, w.events
    start, end = np.datetime64("2010-01-01"), np.datetime64("2024-12-31")
    assert set(people["sex"]) <= set(SEXES)
    assert set(people["ethnicity"]) <= set(ETHNICITIES)
    assert set(people["area"]) <= set(AREAS) and set(events["area"]) <= set(AREAS)
    assert set(events["offence_type"]) == set(OFFENCE_TYPES)  # every type occurs
    for frame, col, prefix in ((people, "person_id", "P"), (events, "event_id", "E")):
        ids = frame[col]
        assert ids.is_unique
        assert ids.str.startswith(prefix).all() and ids.str.len().nunique() == 1
        assert ids.is_monotonic_increasing  # zero-padded: lexical order is creation order
    dates = events["date"].to_numpy().astype("datetime64[D]")
    assert dates.min() >= start and dates.max() <= end
    assert (np.diff(dates.astype(np.int64)) >= 0).all()  # event ids follow the time order
    assert events["harm_days"].ge(0).all()


def test_events_semantics(tiny_world, tiny_config):
    people = tiny_world.people.set_index("person_id")
    ev = tiny_world.events
    is_da = ev["offence_type"].map(lambda t: OFFENCE_TYPES[t][1])
    assert (ev["is_da"] == is_da).all()
    da, nonda = ev[ev["is_da"]], ev[~ev["is_da"]]
    assert da["victim_id"].notna().all() and da["relationship"].notna().all()
    assert set(da["relationship"]) == set(RELATIONSHIPS)
    assert nonda["relationship"].isna().all()
    assert nonda.loc[nonda["offence_type"] == "nonda_other", "victim_id"].isna().all()
    with_victim = ev[ev["victim_id"].notna()]
    assert (with_victim["victim_id"] != with_victim["perpetrator_id"]).all()
    # every referenced person exists, and everyone in people appears in an event
    referenced = set(ev["perpetrator_id"]) | set(with_victim["victim_id"])
    assert referenced == set(people.index)
    # harm is the configured weight of the offence type
    weights = {
        t: s.harm_days for t, s in tiny_config.offence_types.items()
    } | tiny_config.nonda.harm_days
    assert (ev["harm_days"] == ev["offence_type"].map(weights)).all()
    # domestic abuse is between people aged 16 or more
    for col in ("perpetrator_id", "victim_id"):
        birth = people.loc[da[col], "birth_date"].to_numpy().astype("datetime64[D]")
        age = (da["date"].to_numpy().astype("datetime64[D]") - birth).astype(np.int64) / 365.25
        assert age.min() >= 16
    # the area of an event is the perpetrator's
    assert (ev["area"].to_numpy() == people.loc[ev["perpetrator_id"], "area"].to_numpy()).all()


def test_programmes(tiny_world):
    prog = tiny_world.programmes
    assert prog["person_id"].is_unique and len(prog) > 0
    ref, start, comp = (
        pd.to_datetime(prog[c]).to_numpy().astype("datetime64[D]")
        for c in ("referral_date", "start_date", "completion_date")
    )
    assert (prog["completed"] == prog["completion_date"].notna()).all()
    has_start = ~np.isnat(start)
    assert (start[has_start] > ref[has_start]).all()
    assert (comp[prog["completed"]] > start[prog["completed"]]).all()
    assert (~np.isnat(start[prog["completed"]])).all()
    assert comp[prog["completed"]].max() <= np.datetime64("2024-12-31")
    # referral happens at a recorded DA event of the person, never a severe one (config)
    ev = tiny_world.events
    da = ev[ev["is_da"] & ~ev["offence_type"].isin(SEVERE_OFFENCE_TYPES)]
    keys = set(
        zip(da["perpetrator_id"], da["date"].to_numpy().astype("datetime64[D]"), strict=True)
    )
    assert all((p, r) in keys for p, r in zip(prog["person_id"], ref, strict=True))


def test_truth_rows_and_outcomes(tiny_world):
    ev, truth = tiny_world.events, tiny_world.truth
    da = ev[ev["is_da"]].reset_index(drop=True)
    assert truth["event_id"].tolist() == da["event_id"].tolist()
    assert (truth["person_id"] == da["perpetrator_id"]).all()
    assert (truth["date"] == da["date"]).all()
    assert truth["p_reoffend_12m"].between(0, 1).all() and truth["p_severe_12m"].between(0, 1).all()
    assert (truth["p_severe_12m"] < truth["p_reoffend_12m"]).all()
    day = da["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    last = np.datetime64("2024-12-31").astype(np.int64)
    assert (truth["followup_complete"] == (day + 365 <= last)).all()
    # recorded_reoffend_12m from the events alone: a later DA event (by event order) of the same
    # perpetrator dated within 365 days
    perp = da["perpetrator_id"].to_numpy()
    expected = np.zeros(len(da), dtype=bool)
    for _, idx in da.groupby("perpetrator_id").indices.items():
        for a, b in zip(idx[:-1], idx[1:], strict=True):
            expected[a] = day[b] - day[a] <= 365
    assert perp.size and (truth["recorded_reoffend_12m"].to_numpy() == expected).all()


# -- recorded versus true -----------------------------------------------------------------------
def test_recorded_events_are_a_subset_of_true_incidents(tiny_world):
    inc = tiny_world.incidents
    recorded = inc[inc["recorded"] & (inc["t"] >= 0) & (inc["t"] < 5479)]
    key = ["perpetrator_id", "victim_id", "date", "offence_type", "relationship"]
    da = tiny_world.events[tiny_world.events["is_da"]]
    a = da[key].astype(str).value_counts().sort_index()
    b = recorded[key].astype(str).value_counts().sort_index()
    pd.testing.assert_series_equal(a, b, check_names=False)
    assert len(inc) > 20 * len(da)  # most incidents never reach the records
    assert (inc.loc[inc["recorded"], "reported"]).all()  # recorded ones were reported


def test_true_incidents_count_every_incident_in_the_window(tiny_world):
    inc = tiny_world.incidents
    truth = tiny_world.truth
    rec = inc[inc["recorded"] & (inc["t"] >= 0) & (inc["t"] < 5479)].sort_values("t")
    da = tiny_world.events[tiny_world.events["is_da"]]
    assert (rec["perpetrator_id"].to_numpy() == da["perpetrator_id"].to_numpy()).all()
    times = {k: np.sort(g["t"].to_numpy()) for k, g in inc.groupby("perpetrator_key")}
    got, want = truth["true_incidents_12m"].to_numpy(), []
    for key, t0 in zip(rec["perpetrator_key"], rec["t"], strict=True):
        t = times[key]
        want.append(int(((t > t0) & (t < np.floor(t0) + 366)).sum()))
    assert (got == np.array(want)).all()
    assert got.mean() > truth["recorded_reoffend_12m"].mean()  # far more true than recorded


def test_measurement_bias_changes_recording_by_the_configured_factor(kent_config):
    """Same seed, same true offending: the biased world records black and asian perpetrators'
    DA at 0.6 times, and Thanet's at 1.3 times, the rate of the unbiased world."""
    from riskmodel.paths import configs_dir
    from riskmodel.synth import load_world_config

    biased_config = load_world_config(configs_dir() / "world" / "kent_measurement_bias.yaml")
    flat_config = load_world_config(configs_dir() / "world" / "kent_no_trends.yaml")
    plain = generate_world(flat_config, scale=0.04)  # the biased world's trend-free twin
    biased = generate_world(biased_config, scale=0.04)

    def rate(world, ethnicities, areas):
        true = world.stats["true_by_group"].reshape(len(ETHNICITIES), len(AREAS))
        rec = world.stats["recorded_by_group"].reshape(len(ETHNICITIES), len(AREAS))
        e = [ETHNICITIES.index(x) for x in ethnicities]
        a = [AREAS.index(x) for x in areas]
        return rec[np.ix_(e, a)].sum() / true[np.ix_(e, a)].sum(), rec[np.ix_(e, a)].sum()

    not_thanet = [a for a in AREAS if a != "Thanet"]
    for groups, areas, factor in (
        (["black", "asian"], not_thanet, 0.6),
        (["white", "mixed", "other"], ["Thanet"], 1.3),
        (["white", "mixed", "other"], not_thanet, 1.0),
    ):
        r_plain, n = rate(plain, groups, areas)
        r_biased, _ = rate(biased, groups, areas)
        ratio = r_biased / r_plain
        se = factor * np.sqrt(1.0 / n)  # generous: binomial thinning of n recorded events
        assert abs(ratio - factor) < 4 * se + 0.01, (groups, areas, ratio)
    # the biased world also reproduces the published under-reporting of BME victims
    bme_plain, bme_biased = (
        next(e for e in w.calibration if e["name"] == "bme_share_victims") for w in (plain, biased)
    )
    assert bme_plain["ok"] is None and bme_biased["ok"] is not None
    assert bme_biased["generated"] < bme_plain["generated"]


def test_nobody_is_born_before_1900():
    """Every person passes the people contract's plausible-date rule (no birth before 1900)."""
    import datetime as _dt

    from riskmodel.paths import configs_dir
    from riskmodel.synth import generate_world, load_world_config

    world = generate_world(load_world_config(configs_dir() / "world" / "tiny.yaml"), seed=11)
    births = world.people["birth_date"].astype("datetime64[ns]")
    assert births.min() >= _dt.datetime(1900, 1, 1)

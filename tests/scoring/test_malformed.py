"""Malformed inputs over both scoring input paths (a features file; people + events files).

Each case breaks one row in one way. Whatever the breakage, nothing is lost (every data row is
used, superseded, outside the lookback window or rejected, and every person is counted once) and
the rejects name the file, the data row and the column; a file that cannot be read at all fails
with one message naming file, row and column.
"""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.scoring._cohort import read_cohort

from .conftest import WORLD_AS_OF, make_features, make_world

FEATURE_CASES = {
    # name: (column, value)
    "text in a number": ("harm_days_365d", "lots"),
    "infinite number": ("days_since_last_da", "inf"),
    "missing id": ("person_id", ""),
    "unreadable date": ("index_date", "31/02/2024"),
    "missing date": ("index_date", ""),
    "date after today": ("index_date", "2999-01-01"),
    "negative count": ("da_incidents_365d", "-1"),
    "formula as a value": ("age_at_index", "=1+1"),
}


@pytest.mark.parametrize("case", sorted(FEATURE_CASES))
def test_features_file_row_breakage_is_counted_and_located(case, bundle, tmp_path):
    column, value = FEATURE_CASES[case]
    df = make_features(60, 8).astype(str)
    row = 17  # data row 18 of the file
    df.loc[row, column] = value
    path = tmp_path / "features.csv"
    df.to_csv(path, index=False)
    c = read_cohort(path, bundle=bundle, as_of=None, lookback_days=365)
    # rows in = rows used + rows outside the lookback + rows rejected
    rejected_rows = set(c.rejects["row"].dropna().astype(int))
    assert len(df) == len(c.frame) + c.n_no_recent_event + len(rejected_rows)
    assert c.n_in == len(c.frame) + c.n_rejected and c.n_rejected == 1
    line = c.rejects.loc[c.rejects["row"] == row + 1]
    assert len(line) == 1
    assert line["file"].iloc[0] == str(path) and line["column"].iloc[0] == column
    assert line["reason"].iloc[0]


PEOPLE_EVENTS_CASES = {
    # name: (table, column, value, rule)
    "unreadable birth date": ("people", "birth_date", "yesterday", "bad_type"),
    "unknown sex code": ("people", "sex", "X9", "unknown_category"),
    "birth after today": ("people", "birth_date", "2999-01-01", "future_date"),
    "unknown perpetrator": ("events", "perpetrator_id", "999999", "unknown_person"),
    "negative harm": ("events", "harm_days", "-3", "negative_harm"),
    "event after today": ("events", "date", "2999-01-01", "future_date"),
    "unreadable event date": ("events", "date", "the 3rd", "bad_type"),
    "formula in an id": ("events", "victim_id", "=HYPERLINK(1)", "unknown_person"),
}


@pytest.mark.parametrize("case", sorted(PEOPLE_EVENTS_CASES))
def test_people_events_row_breakage_is_counted_and_located(case, world_bundle, tmp_path):
    table, column, value, rule = PEOPLE_EVENTS_CASES[case]
    bundle, _ = world_bundle
    people, events, _ = make_world(120, 4)
    frames = {"people": people.astype(str), "events": events.astype(object)}
    frames["events"]["victim_id"] = frames["events"]["victim_id"].where(
        frames["events"]["victim_id"].notna(), ""
    )
    frame = frames[table]
    is_da = events["is_da"].to_numpy()
    row = int(np.flatnonzero(is_da)[5]) if table == "events" else 7
    frame.loc[row, column] = value
    files = {}
    for name, f in frames.items():
        files[name] = tmp_path / f"{name}.csv"
        f.to_csv(files[name], index=False)
    c = read_cohort(files, bundle=bundle, as_of=WORLD_AS_OF, lookback_days=365)
    # every person is counted once: scored, outside the lookback window, or rejected
    assert len(people) == len(c.frame) + c.n_no_recent_event + c.n_rejected
    # a row naming no valid person (an unknown perpetrator) rejects the row, not a person
    assert c.n_rejected == (0 if case == "unknown perpetrator" else 1)
    line = c.rejects.loc[(c.rejects["file"] == str(files[table])) & (c.rejects["row"] == row + 1)]
    assert len(line) == 1, c.rejects
    assert column in line["column"].iloc[0]
    from riskmodel.data import RULES

    assert RULES[rule] in line["reason"].iloc[0]


@pytest.mark.parametrize("path_kind", ["features", "people"])
def test_a_file_that_is_not_utf8_names_file_row_and_column(
    path_kind, bundle, world_bundle, tmp_path
):
    if path_kind == "features":
        df, model = make_features(20, 1), bundle
    else:
        df, model = make_world(30, 2)[0], world_bundle[0]
    path = tmp_path / f"{path_kind}.csv"
    df.to_csv(path, index=False)
    raw = path.read_bytes().splitlines(keepends=True)
    cells = raw[5].split(b",")
    cells[1] = cells[1] + b"\xff"
    raw[5] = b",".join(cells)
    path.write_bytes(b"".join(raw))
    if path_kind == "features":
        cohort = path
    else:
        events = tmp_path / "events.csv"
        make_world(30, 2)[1].to_csv(events, index=False)
        cohort = {"people": path, "events": events}
    with pytest.raises(ValueError) as err:
        read_cohort(cohort, bundle=model, as_of=WORLD_AS_OF, lookback_days=365)
    msg = str(err.value)
    assert str(path) in msg and "data row 5" in msg and repr(df.columns[1]) in msg

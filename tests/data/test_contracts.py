"""The data contracts: each malformed input gives a clear error or a reject with its rule, and
rows in = valid + rejected, always."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskmodel.data import (
    ContractError,
    validate_events,
    validate_people,
    validate_programmes,
)
from riskmodel.data._contracts import ERR_EMPTY, ERR_MISSING_COLUMNS, REJECT_COLUMNS, RULES


def rules_of(result, row: int) -> set[str]:
    """The rules a 1-based data row broke (empty if it was not rejected)."""
    hit = result.rejects.loc[result.rejects["row"] == row, "rule"]
    return set(hit.iloc[0].split("; ")) if len(hit) else set()


def assert_conserved(result, n_in: int) -> None:
    assert result.summary["in"] == n_in
    assert len(result.valid) + len(result.rejects) == n_in
    assert result.summary["valid"] == len(result.valid)
    assert result.summary["rejected"] == len(result.rejects)
    assert result.rejects["row"].is_unique


# -- clean input --------------------------------------------------------------------------------
def test_clean_tables_pass_typed(people_raw, events_raw, programmes_raw):
    p = validate_people(people_raw, source="people.csv")
    assert_conserved(p, 4)
    assert len(p.rejects) == 0
    assert p.valid["birth_date"].dtype == "datetime64[s]"
    assert p.valid["disability"].tolist() == [False, True, False, True]
    assert p.valid["mental_health"].tolist() == [False, True, False, True]
    e = validate_events(events_raw, people=p.valid, source="events.csv", as_of="2024-01-01")
    assert len(e.rejects) == 0, e.rejects
    assert e.valid["harm_days"].tolist() == [10.0, 5.5, 0.0, 2.0, 730.0]
    assert e.valid["is_da"].tolist() == [True, True, True, False, True]
    assert e.valid["victim_id"].isna().tolist() == [False, False, False, True, False]
    g = validate_programmes(programmes_raw, people=p.valid, source="programmes.csv")
    assert len(g.rejects) == 0 and len(g.valid) == 2


# -- whole-file problems -------------------------------------------------------------------------
def test_missing_columns_name_file_and_columns(people_raw):
    with pytest.raises(ContractError) as err:
        validate_people(people_raw.drop(columns=["birth_date", "sex"]), source="nominals.csv")
    msg = str(err.value)
    found = "person_id, ethnicity, area, disability, mental_health, substance_misuse"
    assert msg == ERR_MISSING_COLUMNS.format(
        file="nominals.csv", table="people", cols="birth_date, sex", found=found
    )
    assert msg.startswith("nominals.csv: header row: missing people column(s) birth_date, sex")
    assert "mapping config" in msg  # says what to do


def test_empty_file_is_an_error(people_raw, events_raw):
    with pytest.raises(ContractError) as err:
        validate_people(people_raw.iloc[:0], source="people.csv")
    assert str(err.value) == ERR_EMPTY.format(file="people.csv", table="people")
    p = validate_people(people_raw, source="people.csv").valid
    with pytest.raises(ContractError, match="events.csv: the events table has no data rows"):
        validate_events(events_raw.iloc[:0], people=p, source="events.csv")


def test_a_wholly_unreadable_column_names_file_row_and_column(people_raw, events_raw):
    p = validate_people(people_raw, source="people.csv").valid
    bad = events_raw.assign(date=["yesterday", "soon", "x", "y", "z"])
    with pytest.raises(ContractError) as err:
        validate_events(bad, people=p, source="events.csv")
    msg = str(err.value)
    assert "events.csv: data row 1, column 'date': 'yesterday' cannot be read as a date" in msg
    assert "date_format" in msg


def test_a_column_with_no_allowed_value_is_an_error(people_raw):
    coded = people_raw.assign(sex=["M", "F", "M", "F"])
    with pytest.raises(ContractError) as err:
        validate_people(coded, source="people.csv")
    msg = str(err.value)
    assert "data row 1, column 'sex': 'M' is not an allowed value" in msg
    assert "female, male" in msg and "`values:`" in msg


def test_not_a_frame_is_an_error():
    with pytest.raises(ContractError, match="x.csv: expected a table"):
        validate_people([1, 2], source="x.csv")


# -- row problems --------------------------------------------------------------------------------
def test_wrong_types_in_some_rows_are_rejected(people_raw, events_raw):
    people = people_raw.copy()
    people.loc[1, "birth_date"] = "31/02/1990"
    people.loc[2, "disability"] = "maybe"
    p = validate_people(people, source="people.csv")
    assert_conserved(p, 4)
    assert rules_of(p, 2) == {"bad_type"} and rules_of(p, 3) == {"bad_type"}
    row2 = p.rejects.loc[p.rejects["row"] == 2].iloc[0]
    assert row2["column"] == "birth_date" and row2["value"] == "31/02/1990"
    assert row2["reason"] == RULES["bad_type"]
    assert row2["file"] == "people.csv"
    # the original columns ride along, so the row can be fixed at source
    assert row2["person_id"] == "P2"
    assert list(p.rejects.columns[: len(REJECT_COLUMNS)]) == list(REJECT_COLUMNS)

    events = events_raw.copy()
    events.loc[0, "harm_days"] = "ten"
    e = validate_events(events, people=p.valid, source="events.csv", as_of="2024-01-01")
    assert "bad_type" in rules_of(e, 1)


def test_unknown_categories_are_rejected_case_is_forgiven(people_raw):
    people = people_raw.copy()
    people.loc[0, "area"] = "Atlantis"
    people.loc[1, "ethnicity"] = "ASIAN"  # a different case is the same category
    people.loc[2, "sex"] = "unknown"
    p = validate_people(people, source="people.csv")
    assert rules_of(p, 1) == {"unknown_category"}
    assert rules_of(p, 2) == set()
    assert rules_of(p, 3) == {"unknown_category"}
    assert p.valid.loc[p.valid["person_id"] == "P2", "ethnicity"].item() == "asian"


def test_other_areas_allowed_by_categories(people_raw):
    people = people_raw.assign(area=["Leeds", "York", "Leeds", "Hull"])
    p = validate_people(people, source="p.csv", categories={"area": ["Leeds", "York", "Hull"]})
    assert len(p.valid) == 4


def test_missing_required_values(people_raw, events_raw):
    people = people_raw.copy()
    people.loc[3, "sex"] = None
    people.loc[2, "person_id"] = "  "
    p = validate_people(people, source="people.csv")
    assert rules_of(p, 4) == {"missing_value"} and rules_of(p, 3) == {"missing_value"}
    events = events_raw.copy()
    events.loc[0, "victim_id"] = None  # a DA event needs a victim
    events.loc[1, "relationship"] = None  # ... and a relationship
    e = validate_events(
        events, people=validate_people(people_raw, source="p").valid, source="e", as_of="2024-01-01"
    )
    assert rules_of(e, 1) == {"missing_value"} and rules_of(e, 2) == {"missing_value"}
    assert rules_of(e, 4) == set()  # a non-DA offence may have no personal victim


def test_duplicate_ids_and_rows(people_raw):
    people = pd.concat([people_raw, people_raw.iloc[[0]]], ignore_index=True)  # exact copy
    people.loc[len(people)] = people_raw.iloc[1].to_dict() | {"sex": "male"}  # conflicting P2
    p = validate_people(people, source="people.csv")
    assert_conserved(p, 6)
    assert rules_of(p, 5) == {"duplicate_row"}  # the later copy; the first is kept
    assert rules_of(p, 1) == set()
    # P2 has two different rows: which is right? both are rejected
    assert rules_of(p, 2) == {"duplicate_id"} and rules_of(p, 6) == {"duplicate_id"}
    assert sorted(p.valid["person_id"]) == ["P1", "P3", "P4"]


def test_future_dates_and_dates_before_birth(people_raw, events_raw):
    people = people_raw.copy()
    people.loc[0, "birth_date"] = "2999-01-01"
    people.loc[1, "birth_date"] = "1850-01-01"
    p = validate_people(people, source="people.csv")
    assert rules_of(p, 1) == {"future_date"} and rules_of(p, 2) == {"implausible_date"}

    p = validate_people(people_raw, source="people.csv").valid
    events = events_raw.copy()
    events.loc[0, "date"] = "2023-06-02"  # after the extract's as-of date
    events.loc[2, "date"] = "1974-01-01"  # before P3 (the perpetrator) was born
    events.loc[4, "date"] = "1999-01-01"  # before P4 (perpetrator) was born
    e = validate_events(events, people=p, source="events.csv", as_of="2023-06-01")
    assert rules_of(e, 1) == {"future_date"}
    assert rules_of(e, 3) == {"before_birth"} and rules_of(e, 5) == {"before_birth"}
    # without as_of, today bounds dates: 2023 is in the past
    e2 = validate_events(events, people=p, source="events.csv")
    assert rules_of(e2, 1) == set()


def test_event_rules(people_raw, events_raw):
    p = validate_people(people_raw, source="people.csv").valid
    events = events_raw.copy()
    events.loc[0, "victim_id"] = "P1"  # the perpetrator as own victim
    events.loc[1, "perpetrator_id"] = "P9"  # nobody
    events.loc[2, "is_da"] = "false"  # threats are a DA offence type
    events.loc[4, "harm_days"] = "-1"
    e = validate_events(events, people=p, source="events.csv", as_of="2024-01-01")
    assert_conserved(e, 5)
    assert rules_of(e, 1) == {"self_victim"}
    assert rules_of(e, 2) == {"unknown_person"}
    assert rules_of(e, 3) == {"inconsistent_da"}
    assert rules_of(e, 5) == {"negative_harm"}
    assert e.valid["event_id"].tolist() == ["E4"]
    assert e.summary["by_rule"] == {
        "inconsistent_da": 1,
        "negative_harm": 1,
        "self_victim": 1,
        "unknown_person": 1,
    }


def test_events_of_rejected_people_are_rejected(people_raw, events_raw):
    people = people_raw.copy()
    people.loc[1, "sex"] = "x"  # P2 rejected: events naming P2 as victim go too
    p = validate_people(people, source="people.csv")
    e = validate_events(events_raw, people=p.valid, source="events.csv", as_of="2024-01-01")
    assert rules_of(e, 1) == {"unknown_person"} and rules_of(e, 2) == {"unknown_person"}
    assert e.rejects.loc[e.rejects["row"] == 1, "column"].item() == "victim_id"


def test_several_rules_on_one_row_are_all_named(people_raw, events_raw):
    p = validate_people(people_raw, source="people.csv").valid
    events = events_raw.copy()
    events.loc[0, ["victim_id", "area", "harm_days"]] = ["P1", "Narnia", "-3"]
    e = validate_events(events, people=p, source="events.csv", as_of="2024-01-01")
    assert rules_of(e, 1) == {"self_victim", "unknown_category", "negative_harm"}
    row = e.rejects.loc[e.rejects["row"] == 1].iloc[0]
    assert set(row["column"].split("; ")) == {"victim_id", "area", "harm_days"}
    assert_conserved(e, 5)


def test_duplicate_event_ids(people_raw, events_raw):
    p = validate_people(people_raw, source="people.csv").valid
    events = pd.concat([events_raw, events_raw.iloc[[2]]], ignore_index=True)
    events.loc[len(events)] = events_raw.iloc[0].to_dict() | {"harm_days": "99"}
    e = validate_events(events, people=p, source="events.csv", as_of="2024-01-01")
    assert rules_of(e, 6) == {"duplicate_row"}
    assert rules_of(e, 1) == {"duplicate_id"} and rules_of(e, 7) == {"duplicate_id"}
    assert rules_of(e, 3) == set()


def test_programme_rules(people_raw, programmes_raw):
    p = validate_people(people_raw, source="people.csv").valid
    prog = pd.concat([programmes_raw] * 3, ignore_index=True)
    prog.loc[2, "completion_date"] = "2020-01-01"  # before the referral
    prog.loc[3, "completion_date"] = "2021-01-01"  # completed false with a completion date
    prog.loc[4, "person_id"] = "P9"
    prog.loc[5, "referral_date"] = "2999-01-01"
    g = validate_programmes(prog, people=p, source="programmes.csv")
    assert_conserved(g, 6)
    assert rules_of(g, 1) == set()
    assert rules_of(g, 2) == set()
    assert rules_of(g, 3) == {"date_order"}
    assert rules_of(g, 4) == {"inconsistent_completion"}
    assert "unknown_person" in rules_of(g, 5)
    assert "future_date" in rules_of(g, 6)


def test_ids_read_as_numbers_keep_their_text_form(people_raw, events_raw):
    people = people_raw.assign(person_id=[1.0, 2.0, 3.0, 4.0])
    p = validate_people(people, source="p").valid
    assert p["person_id"].tolist() == ["1", "2", "3", "4"]


# -- conservation, whatever the damage ----------------------------------------------------------
CORRUPTIONS = {
    "birth_date": ["", "not a date", "2999-01-01", "1800-01-01", None],
    "sex": ["", "x", None, "MALE"],
    "area": ["Narnia", None],
    "disability": ["perhaps", None, "2"],
    "person_id": [None, "P1", "P2"],
}


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.sampled_from(sorted(CORRUPTIONS)),
            st.integers(0, 4),
        ),
        max_size=8,
    ),
    st.integers(0, 3),
)
def test_people_counts_are_conserved(edits, n_copies):
    base = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4"],
            "birth_date": ["1980-01-01", "1990-05-05", "1975-03-03", "2000-12-31"],
            "sex": ["male", "female", "male", "female"],
            "ethnicity": ["white", "asian", "black", "mixed"],
            "area": ["Medway", "Thanet", "Swale", "Dover"],
            "disability": ["false", "true", "0", "1"],
            "mental_health": ["no", "yes", "false", "true"],
            "substance_misuse": [False, False, True, False],
        }
    )
    df = pd.concat([base, base.iloc[:n_copies]], ignore_index=True).astype(object)
    for row, col, k in edits:
        choices = CORRUPTIONS[col]
        df.loc[row, col] = choices[k % len(choices)]
    try:
        r = validate_people(df, source="p.csv")
    except ContractError:
        return  # a whole column broken: an error, not a silent drop
    assert_conserved(r, len(df))
    assert r.valid["person_id"].is_unique
    valid_rows = set(range(1, len(df) + 1)) - set(r.rejects["row"])
    assert len(valid_rows) == len(r.valid)
    assert np.all(r.valid["birth_date"].notna())

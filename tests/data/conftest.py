"""Small valid tables in the contract, to break one rule at a time."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def people_raw() -> pd.DataFrame:
    """Four valid people, as text (the way a CSV arrives)."""
    return pd.DataFrame(
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


@pytest.fixture
def events_raw() -> pd.DataFrame:
    """Five valid events among those people (one non-DA without a victim)."""
    return pd.DataFrame(
        {
            "event_id": ["E1", "E2", "E3", "E4", "E5"],
            "date": ["2020-01-01", "2020-02-01", "2020-03-01", "2021-01-01", "2021-06-01"],
            "perpetrator_id": ["P1", "P1", "P3", "P1", "P4"],
            "victim_id": ["P2", "P2", "P4", None, "P3"],
            "offence_type": [
                "violence_with_injury",
                "coercive_control",
                "threats",
                "nonda_other",
                "sexual_offence",
            ],
            "harm_days": ["10", "5.5", "0", "2", "730"],
            "is_da": ["true", "true", "true", "false", "true"],
            "relationship": ["partner", "partner", "family", None, "adolescent_to_parent"],
            "area": ["Medway", "Medway", "Swale", "Medway", "Dover"],
        }
    )


@pytest.fixture
def programmes_raw() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": ["P1", "P3"],
            "referral_date": ["2020-06-01", "2020-07-01"],
            "start_date": ["2020-07-01", None],
            "completed": ["true", "false"],
            "completion_date": ["2020-12-01", None],
        }
    )


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL cluster for this test session (worker), removed at the end; the
    tests that use it skip, saying why, only where PostgreSQL is not installed."""
    from tests.data.pg_server import Unavailable, start

    try:
        server = start()
    except Unavailable as exc:
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()

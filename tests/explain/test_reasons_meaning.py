"""Reasons mean what they say: no sentence contradicts the sign of its contribution, and no
person gets two reasons from one family (property-based, over many generated people)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.explain import reason_codes
from riskmodel.explain._reasons import feature_family
from tests.explain.explain_fixtures import CATEGORICAL, FEATURES

K = 3
# the fixture's presence features and the prepared value that means "none", written out here
ABSENT = {
    "da_incidents_90d": 0.0,
    "da_incidents_5y": 0.0,
    "harm_days_5y": 0.0,
    "prior_victims": 0.0,
    "breach_of_order": 0.0,
    "days_since_last_da": float("nan"),
}
ABSENCE_OPENINGS = ("No ", "Has not ", "Was not ", "Is not ", "This is the ")


def _absent(feature: str, value) -> bool:
    if feature == "days_since_last_da":
        return value is None or bool(np.isnan(value))
    return feature in ABSENT and float(value) == 0


def _score_without(bundle, frame: pd.DataFrame, row: int, feature: str) -> tuple[float, float]:
    """(raw score, raw score with the feature's whole family set to "none")."""
    X = bundle.prepare(frame.iloc[[row]])
    raw = bundle.boosters["reoffend"].predict(X, raw_score=True)[0]
    fam = "da_incidents" if feature.startswith("da_incidents") else feature
    for f in FEATURES:
        if f.startswith(fam):
            X[f] = X[f].astype(float)
            X[f] = ABSENT[f]
    return raw, bundle.boosters["reoffend"].predict(X, raw_score=True)[0]


def check_reasons(bundle, frame: pd.DataFrame, rc: pd.DataFrame) -> None:
    """Every reason: positive contribution; an absence sentence only for an absent value; a
    presence sentence only where removing the presence lowers the score; one per family."""
    for r in range(len(frame)):
        families = []
        for i in range(1, K + 1):
            feature = rc[f"reason_feature_{i}"].iloc[r]
            if not feature:
                continue
            sentence = rc[f"reason_{i}"].iloc[r]
            assert rc[f"reason_contribution_{i}"].iloc[r] > 0
            families.append(feature_family(feature))
            if feature not in ABSENT:
                continue
            value = frame[feature].iloc[r]
            says_absent = sentence.startswith(ABSENCE_OPENINGS)
            assert says_absent == _absent(feature, value), (sentence, value)
            if not says_absent:
                raw, without = _score_without(bundle, frame, r, feature)
                assert without < raw, (sentence, raw, without)
            if feature == "days_since_last_da" and not says_absent:
                # the presence is the fact; the number of days is context, never the cause
                assert sentence.startswith("A previous recorded DA incident ("), sentence
        assert len(families) == len(set(families)), families


_gap = st.one_of(st.just(float("nan")), st.integers(1, 4000).map(float))
_person = st.fixed_dictionaries(
    {
        "da_incidents_90d": st.integers(0, 9),
        "da_incidents_5y": st.integers(0, 45),
        "days_since_last_da": _gap,
        "age_at_index": st.integers(16, 90).map(float),
        "harm_days_5y": st.one_of(st.just(0.0), st.floats(0.5, 900, allow_nan=False)),
        "prior_victims": st.integers(0, 6),
        "breach_of_order": st.booleans(),
        "relationship": st.sampled_from([*CATEGORICAL["relationship"], None]),
        "rfg_score": st.floats(0, 40, allow_nan=False),
    }
)


@settings(max_examples=25, deadline=None)
@given(people=st.lists(_person, min_size=1, max_size=25))
def test_no_reason_contradicts_its_sign_and_one_per_family(bundle, people):
    frame = pd.DataFrame(people)
    frame["days_since_last_da"] = frame["days_since_last_da"].astype(float)
    frame["breach_of_order"] = frame["breach_of_order"].astype(bool)
    frame["relationship"] = frame["relationship"].astype("object")
    check_reasons(bundle, frame, reason_codes(bundle, frame, k=K))


def test_no_reason_contradicts_its_sign_on_many_realistic_people(bundle, test_frame):
    frame = test_frame.iloc[:400]
    rc = reason_codes(bundle, frame, k=K)
    check_reasons(bundle, frame, rc)
    # the check has teeth: realistic people do get presence reasons worded as presence
    text = rc[[f"reason_{i}" for i in range(1, K + 1)]].to_numpy().ravel()
    assert any(t.startswith("A previous recorded DA incident (") for t in text)

"""The coordinator's figures: expected reoffenders among the listed, and bands read two ways."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binom

from riskmodel.scoring._summary import band_table, expected_reoffenders


def test_equal_probabilities_give_the_binomial_count_and_interval():
    ex = expected_reoffenders(np.full(500, 0.2))
    assert ex["interval"] == [int(binom.ppf(0.025, 500, 0.2)), int(binom.ppf(0.975, 500, 0.2))]
    ex = expected_reoffenders(np.full(100, 0.5))
    assert ex["expected"] == pytest.approx(50.0)
    assert ex["interval"] == [int(binom.ppf(0.025, 100, 0.5)), int(binom.ppf(0.975, 100, 0.5))]
    assert ex["includes_calibration"] is False


def test_calibration_uncertainty_widens_the_interval_on_both_sides():
    p = np.full(200, 0.3)
    chance = expected_reoffenders(p)
    both = expected_reoffenders(p, intercept_ci=[-0.4, 0.4])
    assert both["expected"] == chance["expected"]
    assert both["interval"][0] < chance["interval"][0]
    assert both["interval"][1] > chance["interval"][1]
    # shifting every probability by -0.4 on the logit scale: the low end is that binomial's
    low_p = 1 / (1 + np.exp(-(np.log(0.3 / 0.7) - 0.4)))
    assert both["interval"][0] == int(binom.ppf(0.025, 200, low_p))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 0.99), min_size=1, max_size=300))
def test_expected_count_lies_in_its_interval(ps):
    ex = expected_reoffenders(np.asarray(ps), intercept_ci=[-0.2, 0.1])
    lo, hi = ex["interval"]
    assert 0 <= lo <= hi <= len(ps)
    if len(ps) >= 30:  # a few unlikely events can have a mean outside the 95% range
        assert lo <= ex["expected"] <= hi
    assert ex["expected"] == pytest.approx(sum(ps))


def test_bands_are_counted_among_the_listed_and_among_everyone():
    scored = pd.DataFrame(
        {
            "p_reoffend": [0.9, 0.8, 0.6, 0.4, 0.3, 0.1, 0.05, 0.55],
            "band": [
                "higher",
                "higher",
                "higher",
                "moderate",
                "moderate",
                "lower",
                "lower",
                "higher",
            ],
            "outcome": [
                "listed",
                "listed",
                "over_capacity",
                "below_reoffend_threshold",
                "below_reoffend_threshold",
                "below_reoffend_threshold",
                "below_reoffend_threshold",
                "excluded_high_harm",
            ],
        }
    )
    t = band_table(scored, min_cell=5)
    rows = {r["band"]: r for r in t["rows"]}
    assert rows["higher"] == {"band": "higher", "listed": 2, "scored": 4}
    assert rows["lower"]["scored"] == 2 and rows["lower"]["listed"] == 0
    assert t["listed_p_range"] == [0.8, 0.9]
    assert t["share_at_or_above_lowest_listed"] == pytest.approx(2 / 8)
    # fewer people scored than the smallest cell: no rates, only counts
    assert "listed_p_range" not in band_table(scored, min_cell=9)

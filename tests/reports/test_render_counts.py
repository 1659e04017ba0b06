"""Counts in the reports read as people read them."""

from __future__ import annotations

import pytest

from riskmodel.reports._render import _count


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (24652, "24,652"),
        (1169448, "1,169,448"),
        (0, "0"),
        (500.0, "500"),
        (None, "–"),
        (0.5, "0.5"),
    ],
)
def test_counts_have_thousands_separators(value, shown):
    assert _count(value) == shown

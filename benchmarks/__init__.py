"""Performance figures for ``make bench`` (written to reports/bench/*.json)."""

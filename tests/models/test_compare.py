"""Reading two runs' fairness audits side by side (compare)."""

from __future__ import annotations

import json

from riskmodel.models._compare import _fairness, _fairness_diff


def _audit(path, n_black, flagged, findings):
    data = {
        "groups": {
            "ethnicity": {
                "white": {"n": 900, "selection_rate": 0.16, "selection_rate_ci": [0.15, 0.17]},
                "black": {"n": n_black, "selection_rate": 0.12, "fpr": 0.1, "fpr_ci": [0.05, 0.2]},
            },
            "sex": {"male": {"n": 800, "fnr": 0.6}},
        },
        "summary": {"counts": {"flagged": flagged, "inconclusive": 3}},
        "label_bias": {"attributes": {"ethnicity": {"findings": findings}}},
    }
    path.mkdir(parents=True)
    (path / "fairness.json").write_text(json.dumps(data), encoding="utf-8")
    return path


def test_fairness_side_by_side(tmp_path):
    finding = {
        "finding": "under_recorded",
        "group": "black",
        "metric": "recording_rate",
        "ratio": 0.6,
        "ci": [0.5, 0.7],
    }
    a = _fairness(_audit(tmp_path / "a", 40, 5, []))
    b = _fairness(_audit(tmp_path / "b", 25, 9, [finding]))
    d = _fairness_diff(a, b)
    assert d["groups"]["ethnicity"]["black"]["reference"]["n"] == 40
    assert d["groups"]["ethnicity"]["black"]["run"]["n"] == 25
    assert d["groups"]["ethnicity"]["black"]["run"]["fpr_ci"] == [0.05, 0.2]
    assert d["counts"] == {
        "reference": {"flagged": 5, "inconclusive": 3},
        "run": {"flagged": 9, "inconclusive": 3},
    }
    assert d["label_bias"]["reference"] == []
    assert d["label_bias"]["run"][0]["group"] == "black"
    assert d["label_bias"]["run"][0]["ratio"] == 0.6


def test_no_audit_no_fairness_section(tmp_path):
    (tmp_path / "a").mkdir()
    assert _fairness(tmp_path / "a") is None
    assert _fairness_diff(None, {"groups": {}}) is None

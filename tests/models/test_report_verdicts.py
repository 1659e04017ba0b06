"""The training report's words: every comparison by one rule, worse ones stated, calibration."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.evaluation import HIGHER_IS_BETTER
from riskmodel.models import PreparedData, train_table
from riskmodel.models._report import (
    MODEL_LABELS,
    calibration_fit,
    calibration_fit_replicates,
    comparison_sentences,
    comparisons,
)
from tests.models.models_fixtures import fixture_experiment


def shown_diff(v: float) -> str:
    """How the report prints a difference: 3 decimals, more for a value under 0.01 so that its
    first two significant digits show (at most 6)."""
    d = 3 if v == 0 or abs(v) >= 0.01 else min(6, max(3, 1 - math.floor(math.log10(abs(v)))))
    return f"{v:+.{d}f}"


@pytest.fixture(scope="module")
def run(project_home, feature_table):
    frame, spec = feature_table
    data = PreparedData(
        frame=frame, spec=spec, source="synthetic", features_dir=None, world_dir=None
    )
    return train_table(data, fixture_experiment(), experiment_file="experiments/fixture.yaml")


def _gain_rows(metrics: dict) -> list[tuple[str, str, str, str, float, list]]:
    """Every paired difference in metrics.json, read straight from the keys."""
    out = []
    for key, value in metrics.items():
        m = re.fullmatch(r"(test|person_disjoint)\.(reoffend|severe)\.(\w+)_gain\.(\w+)", key)
        if m and value is not None:
            ci = metrics[key.replace("_gain.", "_gain_ci.")]
            out.append((*m.groups(), value, ci))
    return out


def _plain_words(html: str) -> str:
    block = html[html.index("In plain words") : html.index("What the two heads predict")]
    return re.sub(r"<[^>]+>", "", block)


def test_every_comparison_is_in_the_table_with_the_verdict_its_interval_gives(run):
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    html = (run.run_dir / "report.html").read_text()
    table = html[html.index("Every comparison, one rule") :]
    table = table[: table.index("</table>")]
    cells = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]
    shown = {}
    for row in cells:
        tds = [re.sub(r"<[^>]+>", "", t).strip() for t in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        shown[(tds[0], tds[1], tds[2], tds[3])] = tds[-1]
    rows = _gain_rows(metrics)
    assert rows and len(shown) == len(rows)
    words = {"test": "test period", "person_disjoint": "people not seen in training"}
    metric_words = {
        "auc": "AUC",
        "average_precision": "average precision",
        "recall_top_k": "recall in the top k",
        "harm_share_top_k": "harm share in the top k",
        "brier": "Brier score",
    }
    for period, head, metric, other, _gain, (lo, hi) in rows:
        good = HIGHER_IS_BETTER[metric]
        if lo is not None and lo > 0:
            expected = "better" if good else "worse"
        elif hi is not None and hi < 0:
            expected = "worse" if good else "better"
        else:
            expected = "no clear difference"
        assert shown[(words[period], head, other, metric_words[metric])] == expected


def test_plain_words_state_every_worse_comparison_and_no_better_on_an_interval_reaching_zero(run):
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    text = _plain_words((run.run_dir / "report.html").read_text())
    rows = _gain_rows(metrics)
    n_worse = 0
    words = {"test": "test period", "person_disjoint": "people not seen in training"}
    for period, head, metric, other, gain, (lo, hi) in rows:
        good = HIGHER_IS_BETTER[metric]
        worse = (hi is not None and hi < 0) if good else (lo is not None and lo > 0)
        if worse:
            n_worse += 1
            shown = shown_diff(gain)
            assert f"{words[period]}, {head} head, " in text
            assert f"worse than {MODEL_LABELS[other]} (difference {shown}" in text
    assert f"{n_worse} worse" in text
    # every AUC comparison is in the plain words, and "better" only where the interval excludes 0
    html = (run.run_dir / "report.html").read_text()
    block = html[html.index("In plain words") : html.index("What the two heads predict")]
    n_auc = sum(1 for r in rows if r[2] == "auc")
    items = re.findall(
        r"<li>(<strong>better</strong> than|<strong>worse</strong> than|not clearly different from): (.*?)</li>",
        block,
    )
    assert sum(len(re.findall(r"interval -?[\d.]+ to", body)) for _w, body in items) == n_auc
    for words_, body in items:
        for lo, hi in re.findall(r"interval (-?[\d.]+) to (-?[\d.]+)\)", body):
            if "better" in words_:
                assert float(lo) > 0 and float(hi) > 0, body
            elif "worse" in words_:
                assert float(lo) < 0 and float(hi) < 0, body
            else:
                assert float(lo) <= 0 <= float(hi), body


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["rfg", "logistic", "oracle"]),
            st.sampled_from(["auc", "brier"]),
            st.floats(-0.2, 0.2),
            st.floats(0, 0.1),
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_comparison_sentences_show_each_comparison_once_with_its_rule(items):
    m = {}
    for other, metric, mid, half in items:
        m[f"test.reoffend.{metric}.model"] = 0.7
        m[f"test.reoffend.{metric}.{other}"] = 0.7 - mid
        m[f"test.reoffend.{metric}_gain.{other}"] = mid
        m[f"test.reoffend.{metric}_gain_ci.{other}"] = [mid - half, mid + half]
    rows = comparisons(m, {"reoffend": ["model", "rfg", "logistic", "oracle"]})
    assert len(rows) == len(items)
    text = " ".join(comparison_sentences(rows))
    for r in rows:
        lo, hi = r["gain_ci"]
        assert (r["verdict"] == "better") == (
            (lo > 0) if HIGHER_IS_BETTER[r["metric"]] else (hi < 0)
        )
        shown = shown_diff(r["gain"])
        assert text.count(f"difference {shown}, interval") >= 1


def test_calibration_slope_and_intercept_recover_a_known_miscalibration():
    gen = np.random.default_rng(3)
    n = 40_000
    z = gen.normal(-1.0, 1.2, n)
    y = (gen.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    ok_slope, ok_int = calibration_fit(y, 1 / (1 + np.exp(-z)))
    assert abs(ok_slope - 1) < 0.05 and abs(ok_int) < 0.05
    # probabilities twice as extreme on the logit scale: slope about 1/2
    slope, _ = calibration_fit(y, 1 / (1 + np.exp(-2 * z)))
    assert abs(slope - 0.5) < 0.05
    # every probability shifted down by 0.7 on the logit scale: intercept about +0.7
    _, intercept = calibration_fit(y, 1 / (1 + np.exp(-(z - 0.7))))
    assert abs(intercept - 0.7) < 0.05


def test_calibration_keys_are_in_metrics_json_and_the_report(run):
    metrics = json.loads((run.run_dir / "metrics.json").read_text())
    html = (run.run_dir / "report.html").read_text()
    for head in ("reoffend", "severe"):
        s = metrics[f"test.{head}.calibration_slope.model"]
        lo, hi = metrics[f"test.{head}.calibration_slope_ci.model"]
        assert lo <= s <= hi
        assert f"calibration slope {s:.2f}" in _plain_words(html)
        assert metrics[f"test.{head}.calibration_intercept_ci.model"][0] is not None


def test_batched_calibration_fits_equal_one_fit_per_replicate():
    gen = np.random.default_rng(5)
    n = 3000
    z = gen.normal(-1.0, 1.3, n)
    y = (gen.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    p = 1 / (1 + np.exp(-(1.4 * z - 0.3)))
    W = gen.multinomial(n, np.full(n, 1 / n), size=6).astype(float)
    W[5] = np.where(y == 1, 0.0, 1.0)  # one class only: no fit
    batched = calibration_fit_replicates(y, p, W)
    for w, got in zip(W[:5], batched[:5], strict=True):
        np.testing.assert_allclose(got, calibration_fit(y, p, w), atol=1e-6)
    assert np.isnan(batched[5]).all()

"""Disparity flags, reference groups and suppression of small groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskmodel.fairness import FairnessConfig, audit_frame, classify_disparity
from riskmodel.fairness._disparity import ERR_REFERENCE

BAND = (0.8, 1.25)


@pytest.mark.parametrize(
    ("ratio", "lo", "hi", "want"),
    [
        (1.6, 1.3, 1.9, "flagged"),  # whole interval above the band
        (0.5, 0.4, 0.7, "flagged"),  # whole interval below
        (1.6, 1.1, 2.2, "inconclusive"),  # point outside, interval straddles the edge
        (0.7, 0.6, 0.85, "inconclusive"),
        (1.1, 0.9, 1.2, "within_band"),
        (1.2, 0.7, 1.7, "within_band"),  # point inside: never flagged
        (1.6, np.nan, np.nan, "degenerate"),  # no interval: no finding at all
        (0.0, 0.0, 0.0, "degenerate"),  # 0 of a few in every replicate: no finding
        (2.0, 2.0, 2.0, "degenerate"),  # collapsed interval outside the band: no finding
        (np.nan, np.nan, np.nan, "undefined"),
    ],
)
def test_flag_only_when_whole_interval_is_outside(ratio, lo, hi, want):
    assert classify_disparity(np.array([ratio]), np.array([lo]), np.array([hi]), BAND)[0] == want


def _frame(n_small: int, seed: int = 0) -> pd.DataFrame:
    gen = np.random.default_rng(seed)
    sizes = {"big": 2000, "mid": 600, "small": n_small}
    fpr = {"big": 0.2, "mid": 0.45, "small": 0.2}
    rows = []
    for g, n in sizes.items():
        y = gen.random(n) < 0.4
        sel = np.where(y, gen.random(n) < 0.7, gen.random(n) < fpr[g])
        rows.append(pd.DataFrame({"grp": g, "y": y, "score": sel.astype(float)}))
    return pd.concat(rows, ignore_index=True)


def test_suppressed_groups_carry_no_numbers_and_real_gap_is_flagged():
    cfg = FairnessConfig(
        attributes=("grp",), intersections=(), n_boot=300, min_group_n=50, mitigation=False
    )
    out = audit_frame(
        _frame(n_small=30),
        score_col="score",
        label_col="y",
        group_cols=["grp"],
        threshold=0.5,
        config=cfg,
    )
    small = out["groups"]["grp"]["small"]
    assert small["suppressed"] is True
    numbers = [v for k, v in small.items() if k not in ("suppressed", "n_below")]
    assert all(v is None or v == [None, None] for v in numbers)
    assert out["disparities"]["grp"]["small"]["fpr"]["flag"] == "suppressed"
    # largest group is the default reference; an FPR of 0.45 against 0.2 is flagged
    assert out["reference_groups"]["grp"] == "big"
    mid = out["disparities"]["grp"]["mid"]["fpr"]
    assert mid["flag"] == "flagged" and mid["ci"][0] > 1.25
    # the ratio is the ratio of the two groups' own FPRs
    g = out["groups"]["grp"]
    assert mid["ratio"] == pytest.approx(g["mid"]["fpr"] / g["big"]["fpr"])
    # with enough people the same group is reported
    out2 = audit_frame(
        _frame(n_small=80),
        score_col="score",
        label_col="y",
        group_cols=["grp"],
        threshold=0.5,
        config=cfg,
    )
    assert out2["groups"]["grp"]["small"]["n"] == 80


def test_configured_reference_and_unknown_reference():
    df = _frame(n_small=80)
    cfg = FairnessConfig(
        attributes=("grp",),
        intersections=(),
        n_boot=50,
        mitigation=False,
        reference_groups={"grp": "mid"},
    )
    out = audit_frame(
        df, score_col="score", label_col="y", group_cols=["grp"], threshold=0.5, config=cfg
    )
    assert out["reference_groups"]["grp"] == "mid"
    assert out["disparities"]["grp"]["mid"]["fpr"]["flag"] == "reference"
    bad = cfg.model_copy(update={"reference_groups": {"grp": "nobody"}})
    msg = ERR_REFERENCE.format(group="nobody", attribute="grp", groups="big, mid, small")
    with pytest.raises(ValueError, match=msg.split(";")[0]):
        audit_frame(
            df, score_col="score", label_col="y", group_cols=["grp"], threshold=0.5, config=bad
        )


def test_small_true_gap_with_small_groups_is_not_flagged():
    # FPR 0.3 vs 0.2 (ratio 1.5) in groups of 60: the interval is wide, so at most inconclusive
    rows = []
    for g, f in (("a", 0.2), ("b", 0.3)):
        y = np.zeros(60, bool)
        sel = np.zeros(60, bool)
        sel[: int(f * 60)] = True
        rows.append(pd.DataFrame({"grp": g, "y": y, "score": sel * 1.0}))
    df = pd.concat(
        rows + [pd.DataFrame({"grp": ["a", "b"], "y": [True, True], "score": [1.0, 1.0]})],
        ignore_index=True,
    )
    cfg = FairnessConfig(
        attributes=("grp",), intersections=(), n_boot=500, mitigation=False, min_group_n=50
    )
    out = audit_frame(
        df, score_col="score", label_col="y", group_cols=["grp"], threshold=0.5, config=cfg
    )
    d = out["disparities"]["grp"]["b"]["fpr"]
    assert d["ratio"] == pytest.approx((18 / 60) / (12 / 60))
    assert d["ci"][0] < 1.25 < d["ratio"]
    assert d["flag"] == "inconclusive"

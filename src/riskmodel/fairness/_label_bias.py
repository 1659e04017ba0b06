"""Label-bias audit: recorded against true reoffending, per group (synthetic worlds only).

The model learns from *recorded* reoffending. When one group's reoffending is recorded less
often, its recorded base rate is too low, the people the model selects from it look like false
positives more often, and a disparity can appear in the recorded data that the truth does not
have (or the reverse). The audit measures every error rate twice, against the recorded label
and against the true one, from one bootstrap of the joint cells
``(true outcome, recorded outcome, selected)``, so both versions share their replicates.
"""

from __future__ import annotations

import numpy as np

from riskmodel.evaluation import percentile_interval
from riskmodel.fairness._bootstrap import multinomial_replicates
from riskmodel.fairness._disparity import (
    FLAGGED,
    SUPPRESSED,
    WITHIN,
    classify,
    ratio_vs_reference,
)
from riskmodel.fairness._groups import Grouping
from riskmodel.fairness._metrics import _ratio, metrics_from_counts
from riskmodel.provenance import rng

#: metrics measured against both labels
COMPARED_METRICS = ("base_rate", "fpr", "fnr", "tpr", "ppv")

HIDDEN = "hidden_by_recording"
INVENTED = "invented_by_recording"
CONSISTENT = "consistent"
REVERSED = "reversed_by_recording"
UNCLEAR = "unclear"

# joint cell code = 4 * true + 2 * recorded + selected
N_JOINT = 8


def _joint_counts(
    y_true: np.ndarray, y_rec: np.ndarray, sel: np.ndarray, codes: np.ndarray, g: int
) -> np.ndarray:
    cell = 4 * y_true.astype(np.int64) + 2 * y_rec.astype(np.int64) + sel.astype(np.int64)
    return np.bincount(codes * N_JOINT + cell, minlength=g * N_JOINT).reshape(g, N_JOINT)


def _confusion(joint: np.ndarray, label_bit: int) -> np.ndarray:
    """TP, FP, FN, TN counts ``(..., 4)`` against the label on bit ``label_bit`` (2 or 4)."""
    cells = np.arange(N_JOINT)
    lab = (cells & label_bit) > 0
    sel = (cells & 1) > 0
    pick = [lab & sel, ~lab & sel, lab & ~sel, ~lab & ~sel]
    return np.stack([joint[..., m].sum(axis=-1) for m in pick], axis=-1)


def _recording_rate(joint: np.ndarray) -> np.ndarray:
    """Share of true reoffenders whose reoffending was recorded: P(recorded | true)."""
    true_and_rec = joint[..., 6] + joint[..., 7]
    true_all = joint[..., 4:8].sum(axis=-1)
    return _ratio(true_and_rec, true_all)


def _stats(joint: np.ndarray) -> dict[str, np.ndarray]:
    rec = metrics_from_counts(_confusion(joint, 2))
    tru = metrics_from_counts(_confusion(joint, 4))
    out = {"recording_rate": _recording_rate(joint)}
    for m in COMPARED_METRICS:
        out[f"{m}_recorded"] = rec[m]
        out[f"{m}_true"] = tru[m]
    out["selection_rate"] = rec["selection_rate"]
    return out


def _finding(rec_flag: str, true_flag: str, rec_ratio: float, true_ratio: float) -> str:
    if rec_flag == FLAGGED and true_flag == WITHIN:
        return INVENTED
    if true_flag == FLAGGED and rec_flag == WITHIN:
        return HIDDEN
    if rec_flag == FLAGGED and true_flag == FLAGGED:
        same_side = (rec_ratio > 1) == (true_ratio > 1)
        return CONSISTENT if same_side else REVERSED
    if rec_flag == WITHIN and true_flag == WITHIN:
        return CONSISTENT
    return UNCLEAR


def _f(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def label_bias_audit(
    *,
    y_recorded: np.ndarray,
    y_true: np.ndarray,
    selected: np.ndarray,
    grouping: Grouping,
    reference: str,
    suppressed: np.ndarray,
    truth_score: np.ndarray | None,
    n_boot: int,
    ci_level: float,
    band: tuple[float, float],
    seed: int,
) -> dict:
    """Per group: recorded and true rates, recording rate, and each error rate both ways.

    Returns ``{reference, groups: {g: {...}}, findings: [...]}``; ``findings`` lists the
    disparities whose verdict changes between recorded and true labels, and groups whose
    recording rate is flagged against the reference group's.
    """
    g = grouping.n_groups
    joint = _joint_counts(y_true, y_recorded, selected, grouping.codes, g)
    reps_joint = multinomial_replicates(
        joint, n_boot, rng(seed, f"fairness.label_bias.{grouping.name}")
    )
    point = _stats(joint)
    reps = _stats(reps_joint)
    r = grouping.labels.index(reference)
    mean_p_true = None
    if truth_score is not None:
        n = joint.sum(axis=1)
        mean_p_true = _ratio(np.bincount(grouping.codes, weights=truth_score, minlength=g), n)

    groups: dict[str, dict] = {}
    findings: list[dict] = []
    disp: dict[str, tuple] = {}
    for m in (
        "recording_rate",
        *[f"{x}_{v}" for x in COMPARED_METRICS for v in ("recorded", "true")],
    ):
        ratio, lo, hi, *_ = ratio_vs_reference(point[m], reps[m], r, ci_level)
        disp[m] = (ratio, lo, hi, classify(ratio, lo, hi, band))

    for i, label in enumerate(grouping.labels):
        if suppressed[i]:
            groups[label] = {"suppressed": True, "n": None}
            continue
        entry: dict = {"suppressed": False, "n": int(joint[i].sum())}
        for m, vals in point.items():
            lo, hi = percentile_interval(reps[m][:, [i]], ci_level)
            entry[m] = _f(vals[i])
            entry[f"{m}_ci"] = [_f(lo[0]), _f(hi[0])]
        entry["mean_p_true"] = None if mean_p_true is None else _f(mean_p_true[i])
        vs_ref: dict[str, dict] = {}
        for m, (ratio, lo, hi, flags) in disp.items():
            flag = SUPPRESSED if suppressed[r] else flags[i]
            vs_ref[m] = {"ratio": _f(ratio[i]), "ci": [_f(lo[i]), _f(hi[i])], "flag": flag}
        entry["vs_reference"] = vs_ref
        if i != r and not suppressed[r]:
            rr = vs_ref["recording_rate"]
            if rr["flag"] == FLAGGED:
                findings.append(
                    {
                        "group": label,
                        "metric": "recording_rate",
                        "finding": "under_recorded" if rr["ratio"] < 1 else "over_recorded",
                        "ratio": rr["ratio"],
                        "ci": rr["ci"],
                    }
                )
            for m in COMPARED_METRICS:
                a, b = vs_ref[f"{m}_recorded"], vs_ref[f"{m}_true"]
                verdict = _finding(a["flag"], b["flag"], a["ratio"] or np.nan, b["ratio"] or np.nan)
                entry.setdefault("findings", {})[m] = verdict
                if verdict in (HIDDEN, INVENTED, REVERSED):
                    findings.append(
                        {
                            "group": label,
                            "metric": m,
                            "finding": verdict,
                            "recorded_ratio": a["ratio"],
                            "recorded_ci": a["ci"],
                            "true_ratio": b["ratio"],
                            "true_ci": b["ci"],
                        }
                    )
        groups[label] = entry
    return {"reference": reference, "groups": groups, "findings": findings}

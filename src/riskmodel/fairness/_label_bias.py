"""Label-bias audit: recorded against equal-recording reoffending, per group (synthetic worlds).

The model learns from *recorded* reoffending. The synthetic world also records, for every true
incident, whether it would have been recorded with every measurement-bias multiplier set to 1
(same incident, same random draw: common random numbers). So each index event has a recorded
label and an *equal-recording* label with the same definition, and the audit compares:

(a) the **recording ratio**: recorded incidents in the 12 months after the index events divided
    by the incidents equal recording would have recorded, per group, against the reference
    group. Offence mix and household visibility are the same on both sides and cancel out; what
    is left is the measurement bias. A group is under- or over-recorded only when the whole
    interval of its ratio to the reference lies outside ``recording_band``.
(b) base rates and the model's error rates measured on recorded and on equal-recording labels:
    a disparity *hidden*, *invented* or *reversed* by recording. Only cells whose denominators
    speak on both labels, and intervals that are not degenerate, can give such a finding.

"Any incident, recorded or not" (``true_reoffend_12m``) is reported as context only: groups that
offend less would look under-recorded against it, which is not bias.
"""

from __future__ import annotations

import numpy as np

from riskmodel.evaluation import cell_speaks, interval_speaks, percentile_interval
from riskmodel.fairness._bootstrap import cluster_bootstrap
from riskmodel.fairness._disparity import FLAGGED, SUPPRESSED, WITHIN, classify, ratio_vs_reference
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
UNDER = "under_recorded"
OVER = "over_recorded"

# value columns: joint cells (4 * equal + 2 * recorded + selected), then incident counts
N_JOINT = 8
REC_INC, EQ_INC, ANY = N_JOINT, N_JOINT + 1, N_JOINT + 2


def _confusion(joint: np.ndarray, label_bit: int) -> np.ndarray:
    """TP, FP, FN, TN counts ``(..., 4)`` against the label on bit ``label_bit`` (2 or 4)."""
    cells = np.arange(N_JOINT)
    lab = (cells & label_bit) > 0
    sel = (cells & 1) > 0
    pick = [lab & sel, ~lab & sel, lab & ~sel, ~lab & ~sel]
    return np.stack([joint[..., m].sum(axis=-1) for m in pick], axis=-1)


def _denominators(c: np.ndarray) -> dict[str, np.ndarray]:
    tp, fp, fn, tn = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    return {
        "base_rate": tp + fp + fn + tn,
        "fpr": fp + tn,
        "fnr": tp + fn,
        "tpr": tp + fn,
        "ppv": tp + fp,
    }


def _stats(v: np.ndarray) -> dict[str, np.ndarray]:
    joint = v[..., :N_JOINT]
    rec = metrics_from_counts(_confusion(joint, 2))
    eq = metrics_from_counts(_confusion(joint, 4))
    n = joint.sum(axis=-1)
    out = {
        "recording_ratio": _ratio(v[..., REC_INC], v[..., EQ_INC]),
        "base_rate_any_incident": _ratio(v[..., ANY], n),
    }
    for m in COMPARED_METRICS:
        out[f"{m}_recorded"] = rec[m]
        out[f"{m}_equal"] = eq[m]
    return out


def _finding(rec_flag: str, eq_flag: str, rec_ratio: float, eq_ratio: float) -> str:
    if rec_flag == FLAGGED and eq_flag == WITHIN:
        return INVENTED
    if eq_flag == FLAGGED and rec_flag == WITHIN:
        return HIDDEN
    if rec_flag == FLAGGED and eq_flag == FLAGGED:
        same_side = (rec_ratio > 1) == (eq_ratio > 1)
        return CONSISTENT if same_side else REVERSED
    if rec_flag == WITHIN and eq_flag == WITHIN:
        return CONSISTENT
    return UNCLEAR


def _f(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def label_bias_audit(
    *,
    y_recorded: np.ndarray,
    y_equal: np.ndarray,
    recorded_incidents: np.ndarray,
    equal_incidents: np.ndarray,
    selected: np.ndarray,
    grouping: Grouping,
    reference: str,
    min_n: int,
    n_boot: int,
    ci_level: float,
    band: tuple[float, float],
    recording_band: tuple[float, float],
    seed: int,
    y_any: np.ndarray | None = None,
    truth_score: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
) -> dict:
    """Per group: recording ratio, rates on both labels, and findings (see the module docstring).

    Returns ``{reference, groups: {g: {...}}, findings: [...]}``.
    """
    g = grouping.n_groups
    n = len(y_recorded)
    cell = 4 * np.asarray(y_equal, np.int64) + 2 * np.asarray(y_recorded, np.int64)
    cell += np.asarray(selected, np.int64)
    values = np.zeros((n, N_JOINT + 3))
    values[np.arange(n), cell] = 1.0
    values[:, REC_INC] = recorded_incidents
    values[:, EQ_INC] = equal_incidents
    values[:, ANY] = 0.0 if y_any is None else y_any
    point_v, reps_v = cluster_bootstrap(
        values,
        grouping.codes,
        g,
        n_boot,
        rng(seed, f"fairness.label_bias.{grouping.name}"),
        clusters=clusters,
    )
    point, reps = _stats(point_v), _stats(reps_v)
    sizes = point_v[:, :N_JOINT].sum(axis=1)
    r = grouping.labels.index(reference)
    den_rec = _denominators(_confusion(point_v[:, :N_JOINT], 2))
    den_eq = _denominators(_confusion(point_v[:, :N_JOINT], 4))
    speaks = {"recording_ratio": cell_speaks(point_v[:, EQ_INC], min_n) & cell_speaks(sizes, min_n)}
    for m in COMPARED_METRICS:
        speaks[f"{m}_recorded"] = cell_speaks(den_rec[m], min_n)
        speaks[f"{m}_equal"] = cell_speaks(den_eq[m], min_n)
    mean_p_true = None
    if truth_score is not None:
        mean_p_true = _ratio(np.bincount(grouping.codes, weights=truth_score, minlength=g), sizes)

    disp: dict[str, tuple] = {}
    for m in speaks:
        ratio, lo, hi, *_ = ratio_vs_reference(point[m], reps[m], r, ci_level)
        flags = classify(ratio, lo, hi, recording_band if m == "recording_ratio" else band)
        disp[m] = (ratio, lo, hi, flags)

    groups: dict[str, dict] = {}
    findings: list[dict] = []
    for i, label in enumerate(grouping.labels):
        if not cell_speaks(sizes[i], min_n):
            groups[label] = {"suppressed": True, "n": None}
            continue
        entry: dict = {"suppressed": False, "n": int(sizes[i])}
        entry["recorded_incidents"] = int(point_v[i, REC_INC])
        entry["equal_recording_incidents"] = int(point_v[i, EQ_INC])
        for m, vals in point.items():
            ok = speaks.get(m, np.ones(g, bool))[i] if m in speaks else True
            lo, hi = percentile_interval(reps[m][:, [i]], ci_level)
            entry[m] = _f(vals[i]) if ok else None
            entry[f"{m}_ci"] = [_f(lo[0]), _f(hi[0])] if ok else [None, None]
        entry["mean_p_true"] = None if mean_p_true is None else _f(mean_p_true[i])
        vs_ref: dict[str, dict] = {}
        for m, (ratio, lo, hi, flags) in disp.items():
            both = bool(speaks[m][i] and speaks[m][r])
            flag = flags[i] if both else SUPPRESSED
            if flag == FLAGGED and not interval_speaks(lo[i], hi[i]):
                flag = WITHIN if np.isclose(ratio[i], 1.0) else SUPPRESSED
            vs_ref[m] = {
                "ratio": _f(ratio[i]) if both else None,
                "ci": [_f(lo[i]), _f(hi[i])] if both else [None, None],
                "flag": flag,
            }
        entry["vs_reference"] = vs_ref
        if i != r and cell_speaks(sizes[r], min_n):
            rr = vs_ref["recording_ratio"]
            if rr["flag"] == FLAGGED:
                findings.append(
                    {
                        "group": label,
                        "metric": "recording_ratio",
                        "finding": UNDER if rr["ratio"] < 1 else OVER,
                        "ratio": rr["ratio"],
                        "ci": rr["ci"],
                    }
                )
            for m in COMPARED_METRICS:
                a, b = vs_ref[f"{m}_recorded"], vs_ref[f"{m}_equal"]
                if SUPPRESSED in (a["flag"], b["flag"]):
                    verdict = UNCLEAR
                else:
                    verdict = _finding(
                        a["flag"], b["flag"], a["ratio"] or np.nan, b["ratio"] or np.nan
                    )
                entry.setdefault("findings", {})[m] = verdict
                if verdict in (HIDDEN, INVENTED, REVERSED):
                    findings.append(
                        {
                            "group": label,
                            "metric": m,
                            "finding": verdict,
                            "recorded_ratio": a["ratio"],
                            "recorded_ci": a["ci"],
                            "equal_recording_ratio": b["ratio"],
                            "equal_recording_ci": b["ci"],
                        }
                    )
        groups[label] = entry
    return {"reference": reference, "groups": groups, "findings": findings}

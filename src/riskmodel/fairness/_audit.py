"""The audit of one scored table: the ``fairness.json`` payload.

:func:`audit_frame` is the library front: it validates the columns, sets aside (and counts) rows
with a missing score or label, and assembles group metrics, intersections, disparities,
calibration, the label-bias audit, the proxy check and the mitigation table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmodel.fairness._bootstrap import GroupBootstrap, bootstrap_group_metrics
from riskmodel.fairness._calibration import reliability_curves
from riskmodel.fairness._config import FairnessConfig
from riskmodel.fairness._disparity import (
    DISPARITY_METRICS,
    FLAGGED,
    INCONCLUSIVE,
    choose_reference,
    disparities,
)
from riskmodel.fairness._groups import INTERSECTION_SEP, MISSING_GROUP, Grouping, encode_groups
from riskmodel.fairness._label_bias import label_bias_audit
from riskmodel.fairness._metrics import GROUP_METRICS, confusion_counts, metrics_from_counts
from riskmodel.fairness._mitigation import compare_mitigations
from riskmodel.fairness._proxy import proxy_check
from riskmodel.fairness._summary import plain_summary
from riskmodel.provenance import frame_fingerprint, git_commit, package_versions

SCHEMA = "riskmodel-fairness/1"

ERR_EMPTY = "{source}: the data has no rows"
ERR_MISSING_COLUMN = "{source}: {role} column {column!r} not found; columns present: {available}"
ERR_SCORE_NOT_NUMERIC = (
    "{source}: score column {column!r} must be numeric; found non-numeric values such as {examples}"
)
ERR_LABEL_NOT_BINARY = (
    "{source}: {role} column {column!r} must be binary (0/1 or true/false); found values {values}"
)
ERR_NO_ROWS = "{source}: no rows left after setting aside {n} row(s) with a missing score or label"
ERR_RULE = "give exactly one of threshold (score >= threshold is selected) or selected_col"
ERR_NO_GROUPS = "{source}: give at least one group column (an audit attribute such as sex)"
ERR_MITIGATION_ATTR = (
    "mitigation_attribute {attribute!r} is not one of the audited attributes: {attributes}"
)

_TRUE_WORDS = {"1", "true", "yes", "y", "t", "1.0"}
_FALSE_WORDS = {"0", "false", "no", "n", "f", "0.0"}


# --- validation ---------------------------------------------------------------------------------
def _require(df: pd.DataFrame, column: str, role: str, source: str) -> None:
    if column not in df.columns:
        available = ", ".join(map(str, df.columns[:40])) + (" ..." if df.shape[1] > 40 else "")
        raise ValueError(
            ERR_MISSING_COLUMN.format(source=source, role=role, column=column, available=available)
        )


def _binary_column(values: pd.Series, *, column: str, role: str, source: str) -> pd.Series:
    """0/1 (nullable) from bool, numeric 0/1 or true/false words; anything else is an error."""
    if values.dtype == bool or str(values.dtype) == "boolean":
        return values.astype("Int8")
    if pd.api.types.is_numeric_dtype(values):
        bad = values.notna() & ~values.isin([0, 1])
        if bad.any():
            shown = sorted(pd.unique(values[bad]).tolist())[:5]
            raise ValueError(
                ERR_LABEL_NOT_BINARY.format(source=source, role=role, column=column, values=shown)
            )
        return values.astype("Int8")
    words = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="Int8")
    out[words.isin(_TRUE_WORDS).fillna(False).to_numpy(bool)] = 1
    out[words.isin(_FALSE_WORDS).fillna(False).to_numpy(bool)] = 0
    bad = values.notna() & out.isna()
    if bad.any():
        shown = sorted(map(str, pd.unique(values[bad])))[:5]
        raise ValueError(
            ERR_LABEL_NOT_BINARY.format(source=source, role=role, column=column, values=shown)
        )
    return out


def _numeric_score(values: pd.Series, *, column: str, source: str) -> pd.Series:
    if values.dtype == bool:
        return values.astype(float)
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    num = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & num.isna()
    if bad.any():
        shown = [str(v) for v in pd.unique(values[bad])[:3]]
        raise ValueError(ERR_SCORE_NOT_NUMERIC.format(source=source, column=column, examples=shown))
    return num.astype(float)


# --- assembly -----------------------------------------------------------------------------------
def _f(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


def _groups_json(gb: GroupBootstrap, suppressed: np.ndarray, min_n: int) -> dict[str, dict]:
    """``{group: {n, <metric>, <metric>_ci, suppressed}}``; suppressed cells carry no numbers."""
    ci = gb.intervals()
    out: dict[str, dict] = {}
    for i, label in enumerate(gb.grouping.labels):
        entry: dict[str, Any] = {"suppressed": bool(suppressed[i])}
        if suppressed[i]:
            entry["n"] = None
            entry["n_below"] = min_n
            for m in GROUP_METRICS[1:]:
                entry[m] = None
                entry[f"{m}_ci"] = [None, None]
        else:
            entry["n"] = int(gb.point["n"].iloc[i])
            for m in GROUP_METRICS[1:]:
                entry[m] = _f(gb.point[m].iloc[i])
                if f"{m}_lo" in ci:
                    entry[f"{m}_ci"] = [_f(ci[f"{m}_lo"].iloc[i]), _f(ci[f"{m}_hi"].iloc[i])]
                else:
                    entry[f"{m}_ci"] = [None, None]
        out[label] = entry
    return out


def _audit_grouping(
    grouping: Grouping,
    *,
    y: np.ndarray,
    sel: np.ndarray,
    score: np.ndarray,
    config: FairnessConfig,
) -> tuple[GroupBootstrap, np.ndarray, str, dict, dict]:
    gb = bootstrap_group_metrics(
        y,
        sel,
        grouping,
        y_score=score,
        n_boot=config.n_boot,
        ci_level=config.ci_level,
        seed=config.seed,
    )
    sizes = grouping.sizes()
    suppressed = sizes < config.min_group_n
    reference = choose_reference(grouping.labels, sizes, grouping.name, config.reference_groups)
    groups = _groups_json(gb, suppressed, config.min_group_n)
    disp = disparities(
        gb, reference=reference, suppressed=suppressed, band=tuple(config.disparity_band)
    )
    return gb, suppressed, reference, groups, disp


def _pick_mitigation_attribute(
    groupings: dict[str, Grouping], config: FairnessConfig, *, y: np.ndarray, sel: np.ndarray
) -> str | None:
    """The configured attribute, else the one whose reportable groups differ most in error
    rates under the current rule (largest TPR or FPR gap): where mitigation matters most."""
    if config.mitigation_attribute is not None:
        if config.mitigation_attribute not in groupings:
            raise ValueError(
                ERR_MITIGATION_ATTR.format(
                    attribute=config.mitigation_attribute, attributes=", ".join(groupings)
                )
            )
        return config.mitigation_attribute
    best, best_gap = None, -1.0
    for name, g in groupings.items():
        report = g.sizes() >= config.min_group_n
        if int(report.sum()) < 2:
            continue
        rates = metrics_from_counts(confusion_counts(y, sel, g.codes, g.n_groups))
        gaps = [
            np.ptp(r[report & np.isfinite(r)])
            for r in (rates["tpr"], rates["fpr"])
            if (report & np.isfinite(r)).sum() >= 2
        ]
        gap = max(gaps, default=0.0)
        if gap > best_gap:
            best, best_gap = name, gap
    return best


def audit_frame(
    df: pd.DataFrame,
    *,
    score_col: str,
    label_col: str,
    group_cols: list[str] | tuple[str, ...],
    threshold: float | None = None,
    selected_col: str | None = None,
    truth_label_col: str | None = None,
    features: list[str] | None = None,
    config: FairnessConfig,
    truth_score_col: str | None = None,
    eligible_col: str | None = None,
    source: str = "<data frame>",
    rule_text: str | None = None,
) -> dict:
    """Fairness audit of scored people: the ``fairness.json`` payload.

    Parameters
    ----------
    df : one row per person (index event), with score, outcome and audit attributes
    score_col : the risk score (higher = more likely to reoffend)
    label_col : recorded outcome (``reoffend_12m``), 0/1 or bool
    group_cols : audit attributes, each reported group by group; several also give their
        intersection (or the configured intersections where all their attributes are present)
    threshold, selected_col : the decision: ``score >= threshold``, or a 0/1 column
    truth_label_col : true outcome (``true_reoffend_12m``, synthetic worlds) for the label-bias audit
    features : the model's input columns, for the proxy check
    config : the audit's settings
    truth_score_col : true probability (``p_reoffend_true``), reported beside the label-bias rates
    eligible_col : 0/1 column of people the rule may select at all (not excluded on other grounds);
        every mitigation option keeps this exclusion
    source : name of the data in messages and provenance
    rule_text : plain words for the decision rule in the report
    """
    if (threshold is None) == (selected_col is None):
        raise ValueError(ERR_RULE)
    group_cols = list(group_cols)
    if not group_cols:
        raise ValueError(ERR_NO_GROUPS.format(source=source))
    if len(df) == 0:
        raise ValueError(ERR_EMPTY.format(source=source))
    roles = [(score_col, "score"), (label_col, "label")]
    roles += [(c, "group") for c in group_cols]
    if selected_col:
        roles.append((selected_col, "selected"))
    if truth_label_col:
        roles.append((truth_label_col, "true label"))
    if truth_score_col:
        roles.append((truth_score_col, "true probability"))
    if eligible_col:
        roles.append((eligible_col, "eligible"))
    roles += [(c, "feature") for c in features or []]
    for col, role in roles:
        _require(df, col, role, source)

    score_all = _numeric_score(df[score_col], column=score_col, source=source)
    label_all = _binary_column(df[label_col], column=label_col, role="label", source=source)
    miss_score = score_all.isna().to_numpy()
    miss_label = label_all.isna().to_numpy()
    keep = ~(miss_score | miss_label)
    n_set_aside = int((~keep).sum())
    if not keep.any():
        raise ValueError(ERR_NO_ROWS.format(source=source, n=n_set_aside))
    used = df.loc[keep]
    score = score_all.to_numpy()[keep]
    y = label_all.to_numpy(dtype="int8", na_value=0)[keep]
    if selected_col:
        sel_s = _binary_column(
            used[selected_col], column=selected_col, role="selected", source=source
        )
        sel = sel_s.fillna(0).to_numpy(dtype="int8")
    else:
        sel = (score >= float(threshold)).astype(np.int8)
    probability = bool(score.min() >= 0 and score.max() <= 1)

    groupings = {c: encode_groups(used[c], name=c) for c in group_cols}
    payload_groups: dict[str, dict] = {}
    payload_disp: dict[str, dict] = {}
    payload_cal: dict[str, dict] = {}
    references: dict[str, str] = {}
    suppressed_by: dict[str, np.ndarray] = {}
    for name, grouping in groupings.items():
        _, supp, ref, groups, disp = _audit_grouping(
            grouping, y=y, sel=sel, score=score, config=config
        )
        payload_groups[name], payload_disp[name], references[name] = groups, disp, ref
        suppressed_by[name] = supp
        payload_cal[name] = reliability_curves(
            y,
            score,
            grouping,
            n_bins=config.calibration_bins,
            min_n=config.min_group_n,
            ci_level=config.ci_level,
            probability=probability,
        )

    inter_sets = [
        tuple(t) for t in config.intersections if set(t) <= set(group_cols) and len(t) > 1
    ]
    if not inter_sets and len(group_cols) > 1:
        inter_sets = [tuple(group_cols)]
    payload_inter: dict[str, dict] = {}
    for cols in inter_sets:
        grouping = encode_groups(used.loc[:, list(cols)], name=INTERSECTION_SEP.join(cols))
        _, _, ref, groups, disp = _audit_grouping(
            grouping, y=y, sel=sel, score=score, config=config
        )
        payload_inter[grouping.name] = groups
        payload_disp[grouping.name] = disp
        references[grouping.name] = ref

    overall = bootstrap_group_metrics(
        y,
        sel,
        np.zeros(len(y), np.int8),
        y_score=score,
        n_boot=config.n_boot,
        ci_level=config.ci_level,
        seed=config.seed,
        stream="fairness.bootstrap.overall",
    )
    overall_json = _groups_json(overall, np.array([False]), config.min_group_n)["0"]

    # --- label bias
    label_bias: dict[str, Any] = {"available": False}
    if truth_label_col:
        truth = _binary_column(
            used[truth_label_col], column=truth_label_col, role="true label", source=source
        )
        has_truth = truth.notna().to_numpy()
        t_score = used[truth_score_col].to_numpy(dtype=float) if truth_score_col else None
        label_bias = {
            "available": True,
            "recorded_label": label_col,
            "true_label": truth_label_col,
            "true_probability": truth_score_col,
            "n_without_truth": int((~has_truth).sum()),
            "attributes": {},
        }
        yt = truth.to_numpy(dtype="int8", na_value=0)
        for name in group_cols:
            g_full = groupings[name]
            g = Grouping(name, g_full.codes[has_truth], g_full.labels, g_full.n_missing)
            label_bias["attributes"][name] = label_bias_audit(
                y_recorded=y[has_truth],
                y_true=yt[has_truth],
                selected=sel[has_truth],
                grouping=g,
                reference=references[name],
                suppressed=g.sizes() < config.min_group_n,
                truth_score=None if t_score is None else t_score[has_truth],
                n_boot=config.n_boot,
                ci_level=config.ci_level,
                band=tuple(config.disparity_band),
                seed=config.seed,
            )

    # --- proxies
    if features:
        protected = [c for c in group_cols if c not in features]
        proxy = {
            "available": True,
            **proxy_check(
                used,
                attributes=protected,
                features=list(features),
                threshold=config.proxy_auc_threshold,
                sample_n=config.proxy_sample_n,
                top_n=config.proxy_top_features,
                seed=config.seed,
            ),
        }
    else:
        proxy = {
            "available": False,
            "reason": "the model's input features are not known for this score, so proxies "
            "cannot be checked",
        }

    # --- mitigation
    mitigation: dict[str, Any] = {"available": False, "reason": "switched off in the config"}
    if config.mitigation:
        attr = _pick_mitigation_attribute(groupings, config, y=y, sel=sel)
        if attr is None:
            mitigation = {
                "available": False,
                "reason": f"no attribute has two groups of at least {config.min_group_n}",
            }
        elif y.sum() in (0, len(y)):
            mitigation = {"available": False, "reason": "the outcome takes only one value"}
        else:
            elig = None
            if eligible_col:
                elig = (
                    _binary_column(
                        used[eligible_col], column=eligible_col, role="eligible", source=source
                    )
                    .fillna(0)
                    .to_numpy(dtype=bool)
                )
            mitigation = {
                "available": True,
                **compare_mitigations(
                    score=score,
                    y_true=y,
                    selected=sel,
                    grouping=groupings[attr],
                    eligible=elig,
                    min_n=config.min_group_n,
                    seed=config.seed,
                ),
            }

    missing_groups = {c: int(groupings[c].n_missing) for c in group_cols}
    data = {
        "source": source,
        "n_rows": len(df),
        "n_used": int(keep.sum()),
        "n_set_aside": n_set_aside,
        "missing": {
            score_col: int(miss_score.sum()),
            label_col: int(miss_label.sum()),
            "groups_not_recorded": missing_groups,
        },
        "missing_note": (
            "Rows with a missing score or outcome are set aside and counted here; rows with a "
            f"missing audit attribute are kept as the group '{MISSING_GROUP}'."
        ),
        "score": score_col,
        "label": label_col,
        "score_is_probability": probability,
        "rule": rule_text
        or (
            f"selected when {score_col} >= {threshold:g}"
            if threshold is not None
            else f"selected when {selected_col} is true"
        ),
    }
    fingerprint_cols = list(dict.fromkeys(c for c, _ in roles))
    provenance = {
        "data_fingerprint": frame_fingerprint(df.loc[:, fingerprint_cols]),
        "source": source,
        "threshold": threshold,
        "selected_col": selected_col,
        "n_boot": config.n_boot,
        "seed": config.seed,
        "ci_level": config.ci_level,
        "min_group_n": config.min_group_n,
        "disparity_band": list(config.disparity_band),
        "config": config.model_dump(mode="json"),
        "git_commit": git_commit(),
        "versions": package_versions(
            ("riskmodel", "numpy", "pandas", "scikit-learn", "lightgbm", "fairlearn")
        ),
    }
    payload: dict[str, Any] = {
        "schema": SCHEMA,
        "data": data,
        "overall": overall_json,
        "reference_groups": references,
        "groups": payload_groups,
        "intersections": payload_inter,
        "disparities": payload_disp,
        "disparity_metrics": list(DISPARITY_METRICS),
        "calibration": payload_cal,
        "label_bias": label_bias,
        "proxy": proxy,
        "mitigation": mitigation,
        "method": _method_text(config),
        "provenance": provenance,
    }
    payload["summary"] = plain_summary(
        payload,
        band=tuple(config.disparity_band),
        ci_level=config.ci_level,
        min_n=config.min_group_n,
    )
    return payload


def _method_text(config: FairnessConfig) -> dict[str, str]:
    pct = f"{100 * config.ci_level:g}%"
    return {
        "intervals": (
            f"{pct} percentile intervals from {config.n_boot} bootstrap replicates stratified by "
            "group: each group is resampled on its own, so its size is the same in every "
            "replicate. Rates come from the group's confusion counts, drawn as multinomial counts "
            "(the same distribution as resampling people). Mean scores use the normal "
            "approximation of their bootstrap distribution; AUC intervals use the DeLong variance "
            "on the logit scale."
        ),
        "disparities": (
            "Each group's rate divided by the reference group's, with the interval from the same "
            f"replicates. Flagged only when the whole interval lies outside "
            f"{config.disparity_band[0]:g}-{config.disparity_band[1]:g}; inconclusive when the "
            "estimate is outside but the interval reaches into the band."
        ),
        "suppression": (
            f"Groups with fewer than {config.min_group_n} people are suppressed: no numbers are "
            "shown for them."
        ),
        "flags": f"{FLAGGED}: real disparity; {INCONCLUSIVE}: may be chance; within_band: none.",
    }

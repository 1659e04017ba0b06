"""The audit of one scored table, cut at its seams: validate -> compute -> payload (-> render).

- :func:`validate_audit` checks the columns and sets aside (and counts) rows with a missing score
  or label: an :class:`AuditInput`.
- :func:`compute_audit` computes everything once into an :class:`AuditResult` (like fairlearn's
  ``MetricFrame``: per-group results you can query with :meth:`AuditResult.by_group`).
- :func:`audit_payload` turns the result into the ``fairness.json`` payload (plain words included).
- :func:`riskmodel.fairness.render_fairness` draws the figures and writes the HTML and JSON.

:func:`audit_frame` runs the first three in one call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.evaluation import cell_speaks
from riskmodel.fairness._bootstrap import GroupBootstrap, bootstrap_group_metrics, cluster_codes
from riskmodel.fairness._calibration import calibration_by_group, reliability_curves
from riskmodel.fairness._config import FairnessConfig
from riskmodel.fairness._disparity import (
    DEGENERATE,
    DISPARITY_METRICS,
    FLAGGED,
    INCONCLUSIVE,
    choose_reference,
    disparities,
    metric_denominators,
    metric_speaks,
)
from riskmodel.fairness._groups import INTERSECTION_SEP, MISSING_GROUP, Grouping, encode_groups
from riskmodel.fairness._label_bias import label_bias_audit
from riskmodel.fairness._metrics import GROUP_METRICS, confusion_counts, metrics_from_counts
from riskmodel.fairness._mitigation import compare_mitigations
from riskmodel.fairness._proxy import proxy_check
from riskmodel.fairness._summary import plain_summary
from riskmodel.provenance import frame_fingerprint, git_commit, package_versions

SCHEMA = "riskmodel-fairness/2"

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


# --- validate -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditInput:
    """Validated audit data: the rows used, as arrays, and what was set aside."""

    used: pd.DataFrame
    y: np.ndarray
    sel: np.ndarray
    score: np.ndarray
    clusters: np.ndarray | None
    group_cols: list[str]
    groupings: dict[str, Grouping]
    probability: bool
    data: dict[str, Any]
    fingerprint_cols: list[str]
    source_frame: pd.DataFrame = field(repr=False)
    eligible: np.ndarray | None = None
    features: list[str] | None = None
    y_equal: np.ndarray | None = None
    recorded_incidents: np.ndarray | None = None
    equal_incidents: np.ndarray | None = None
    y_any: np.ndarray | None = None
    truth_score: np.ndarray | None = None
    threshold: float | None = None
    selected_col: str | None = None
    has_counterfactual: np.ndarray | None = None


def validate_audit(
    df: pd.DataFrame,
    *,
    score_col: str,
    label_col: str,
    group_cols: list[str] | tuple[str, ...],
    threshold: float | None = None,
    selected_col: str | None = None,
    person_col: str | None = None,
    equal_label_col: str | None = None,
    recorded_incidents_col: str | None = None,
    equal_incidents_col: str | None = None,
    truth_label_col: str | None = None,
    truth_score_col: str | None = None,
    eligible_col: str | None = None,
    features: list[str] | None = None,
    source: str = "<data frame>",
    rule_text: str | None = None,
) -> AuditInput:
    """Check the columns, set aside rows with a missing score or label, and encode the groups."""
    if (threshold is None) == (selected_col is None):
        raise ValueError(ERR_RULE)
    group_cols = list(group_cols)
    if not group_cols:
        raise ValueError(ERR_NO_GROUPS.format(source=source))
    if len(df) == 0:
        raise ValueError(ERR_EMPTY.format(source=source))
    roles = [(score_col, "score"), (label_col, "label")]
    roles += [(c, "group") for c in group_cols]
    optional = [
        (selected_col, "selected"),
        (person_col, "person id"),
        (equal_label_col, "equal-recording label"),
        (recorded_incidents_col, "recorded incidents"),
        (equal_incidents_col, "equal-recording incidents"),
        (truth_label_col, "true label"),
        (truth_score_col, "true probability"),
        (eligible_col, "eligible"),
    ]
    roles += [(c, r) for c, r in optional if c]
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
    clusters = cluster_codes(used[person_col].to_numpy(), len(used)) if person_col else None

    def binary(col: str | None, role: str) -> np.ndarray | None:
        if not col:
            return None
        return _binary_column(used[col], column=col, role=role, source=source).to_numpy(
            dtype="float", na_value=np.nan
        )

    def counts(col: str | None) -> np.ndarray | None:
        if not col:
            return None
        return pd.to_numeric(used[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    y_equal = binary(equal_label_col, "equal-recording label")
    rec_inc, eq_inc = counts(recorded_incidents_col), counts(equal_incidents_col)
    has_cf = None
    if y_equal is not None and rec_inc is not None and eq_inc is not None:
        has_cf = np.isfinite(y_equal) & np.isfinite(rec_inc) & np.isfinite(eq_inc)
        if not has_cf.any():  # a world without the counterfactual: nothing to audit against
            y_equal = rec_inc = eq_inc = has_cf = None
    elig = binary(eligible_col, "eligible")
    groupings = {c: encode_groups(used[c], name=c) for c in group_cols}
    n_people = int(used[person_col].nunique()) if person_col else None
    data = {
        "source": source,
        "n_rows": len(df),
        "n_used": int(keep.sum()),
        "n_people": n_people,
        "unit": "people" if person_col else "rows",
        "n_set_aside": n_set_aside,
        "missing": {
            score_col: int(miss_score.sum()),
            label_col: int(miss_label.sum()),
            "groups_not_recorded": {c: int(groupings[c].n_missing) for c in group_cols},
        },
        "missing_note": (
            "Rows with a missing score or outcome are set aside and counted here; rows with a "
            f"missing audit attribute are kept as the group '{MISSING_GROUP}'."
        ),
        "score": score_col,
        "label": label_col,
        "score_is_probability": probability,
        "n_selected": int(sel.sum()),
        "rule": rule_text
        or (
            f"selected when {score_col} >= {threshold:g}"
            if threshold is not None
            else f"selected when {selected_col} is true"
        ),
    }
    return AuditInput(
        used=used,
        y=y,
        sel=sel,
        score=score,
        clusters=clusters,
        group_cols=group_cols,
        groupings=groupings,
        probability=probability,
        data=data,
        fingerprint_cols=list(dict.fromkeys(c for c, _ in roles)),
        source_frame=df,
        eligible=None if elig is None else np.nan_to_num(elig).astype(bool),
        features=list(features) if features else None,
        y_equal=y_equal,
        recorded_incidents=rec_inc,
        equal_incidents=eq_inc,
        y_any=binary(truth_label_col, "true label"),
        truth_score=counts(truth_score_col),
        threshold=threshold,
        selected_col=selected_col,
        has_counterfactual=has_cf,
    )


# --- compute ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupingResult:
    """One attribute (or intersection): bootstrap, which metrics speak, reference, disparities."""

    bootstrap: GroupBootstrap
    speaks: dict[str, np.ndarray]
    group_ok: np.ndarray
    reference: str
    disparities: dict[str, dict]


@dataclass(frozen=True)
class AuditResult:
    """Everything the audit computed, before it is put into words (like fairlearn's MetricFrame).

    ``by_group(attribute)`` gives the point estimates per group; ``attributes`` and
    ``intersections`` hold the bootstraps, suppression masks and disparities.
    """

    input: AuditInput
    config: FairnessConfig
    attributes: dict[str, GroupingResult]
    intersections: dict[str, GroupingResult]
    overall: GroupBootstrap
    reliability: dict[str, dict]
    calibration: dict[str, dict]
    label_bias: dict[str, Any]
    proxy: dict[str, Any]
    mitigation: dict[str, Any]

    def by_group(self, attribute: str) -> pd.DataFrame:
        """Point estimates per group of one attribute or intersection (NaN where suppressed)."""
        res = self.attributes.get(attribute) or self.intersections[attribute]
        table = res.bootstrap.point.copy()
        for m in GROUP_METRICS[1:]:
            table.loc[~res.speaks[m], m] = np.nan
        return table


def _grouping_result(
    grouping: Grouping, inp: AuditInput, config: FairnessConfig, *, stream: str | None = None
) -> GroupingResult:
    gb = bootstrap_group_metrics(
        inp.y,
        inp.sel,
        grouping,
        y_score=inp.score,
        n_boot=config.n_boot,
        ci_level=config.ci_level,
        seed=config.seed,
        clusters=inp.clusters,
        stream=stream,
    )
    group_ok = cell_speaks(grouping.sizes(), config.min_group_n)
    speaks = {m: v & group_ok for m, v in metric_speaks(gb.counts, config.min_group_n).items()}
    reference = choose_reference(
        grouping.labels, grouping.sizes(), grouping.name, config.reference_groups
    )
    disp = disparities(gb, reference=reference, speaks=speaks, band=tuple(config.disparity_band))
    return GroupingResult(gb, speaks, group_ok, reference, disp)


def _intersection_sets(group_cols: list[str], config: FairnessConfig) -> list[tuple[str, ...]]:
    sets = [tuple(t) for t in config.intersections if set(t) <= set(group_cols) and len(t) > 1]
    if not sets and len(group_cols) > 1:
        sets = [tuple(group_cols)]
    return sets


def _label_bias(inp: AuditInput, config: FairnessConfig, references: dict[str, str]) -> dict:
    if inp.y_equal is None:
        return {
            "available": False,
            "reason": "the data carry no equal-recording counterfactual (synthetic worlds only)",
        }
    has = inp.has_counterfactual
    out: dict[str, Any] = {
        "available": True,
        "basis": "equal_recording",
        "recorded_label": inp.data["label"],
        "n_without_counterfactual": int((~has).sum()),
        "recording_band": list(config.recording_band),
        "attributes": {},
    }
    for name in inp.group_cols:
        g_full = inp.groupings[name]
        g = Grouping(name, g_full.codes[has], g_full.labels, g_full.n_missing)
        out["attributes"][name] = label_bias_audit(
            y_recorded=inp.y[has],
            y_equal=inp.y_equal[has].astype(np.int64),
            recorded_incidents=inp.recorded_incidents[has],
            equal_incidents=inp.equal_incidents[has],
            selected=inp.sel[has],
            grouping=g,
            reference=references[name],
            min_n=config.min_group_n,
            n_boot=config.n_boot,
            ci_level=config.ci_level,
            band=tuple(config.disparity_band),
            recording_band=tuple(config.recording_band),
            seed=config.seed,
            y_any=None if inp.y_any is None else np.nan_to_num(inp.y_any[has]),
            truth_score=None if inp.truth_score is None else inp.truth_score[has],
            clusters=None if inp.clusters is None else inp.clusters[has],
        )
    return out


def _proxy(inp: AuditInput, config: FairnessConfig) -> dict:
    if not config.proxy_check:
        return {"available": False, "reason": "switched off in the config"}
    if not inp.features:
        return {
            "available": False,
            "reason": "the model's input features are not known for this score, so proxies "
            "cannot be checked",
        }
    protected = [c for c in inp.group_cols if c not in inp.features]
    return {
        "available": True,
        **proxy_check(
            inp.used,
            attributes=protected,
            features=list(inp.features),
            threshold=config.proxy_auc_threshold,
            sample_n=config.proxy_sample_n,
            top_n=config.proxy_top_features,
            seed=config.seed,
        ),
    }


def _mitigation(inp: AuditInput, config: FairnessConfig) -> dict:
    if not config.mitigation:
        return {"available": False, "reason": "switched off in the config"}
    attr = _pick_mitigation_attribute(inp.groupings, config, y=inp.y, sel=inp.sel)
    if attr is None:
        return {
            "available": False,
            "reason": f"no attribute has two groups of at least {config.min_group_n}",
        }
    if inp.y.sum() in (0, len(inp.y)):
        return {"available": False, "reason": "the outcome takes only one value"}
    if inp.sel.sum() == 0:
        return {"available": False, "reason": "the decision selects nobody"}
    return {
        "available": True,
        **compare_mitigations(
            score=inp.score,
            y_true=inp.y,
            selected=inp.sel,
            grouping=inp.groupings[attr],
            eligible=inp.eligible,
            min_n=config.min_group_n,
            seed=config.seed,
        ),
    }


def compute_audit(inp: AuditInput, config: FairnessConfig) -> AuditResult:
    """Group metrics, intersections, disparities, calibration, label bias, proxies, mitigation.

    The proxy check (LightGBM fits, which release the GIL) runs in a background thread from the
    start, on whatever core is free; it has its own random stream, so no figure depends on it.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="proxy") as background:
        proxy = background.submit(_proxy, inp, config)
        return _compute_audit(inp, config, proxy)


def _compute_audit(inp: AuditInput, config: FairnessConfig, proxy: Any) -> AuditResult:
    attributes = {n: _grouping_result(g, inp, config) for n, g in inp.groupings.items()}
    intersections = {}
    for cols in _intersection_sets(inp.group_cols, config):
        grouping = encode_groups(inp.used.loc[:, list(cols)], name=INTERSECTION_SEP.join(cols))
        intersections[grouping.name] = _grouping_result(grouping, inp, config)
    overall_g = Grouping("overall", np.zeros(len(inp.y), np.int64), ("all",), 0)
    overall = _grouping_result(overall_g, inp, config, stream="fairness.bootstrap.overall")
    reliability, calibration = {}, {}
    for name, grouping in {**inp.groupings, "overall": overall_g}.items():
        calibration[name] = calibration_by_group(
            inp.y,
            inp.score,
            inp.sel,
            grouping,
            min_n=config.min_group_n,
            ci_level=config.ci_level,
            clusters=inp.clusters,
        )
        if name != "overall":
            reliability[name] = reliability_curves(
                inp.y,
                inp.score,
                grouping,
                n_bins=config.calibration_bins,
                min_n=config.min_group_n,
                ci_level=config.ci_level,
                probability=inp.probability,
            )
    references = {n: r.reference for n, r in attributes.items()}
    label_bias = _label_bias(inp, config, references)
    mitigation = _mitigation(inp, config)
    return AuditResult(
        input=inp,
        config=config,
        attributes=attributes,
        intersections=intersections,
        overall=overall.bootstrap,
        reliability=reliability,
        calibration=calibration,
        label_bias=label_bias,
        proxy=proxy.result(),  # last: the rest ran while the proxy's fits did
        mitigation=mitigation,
    )


# --- payload ------------------------------------------------------------------------------------
def _f(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if np.isfinite(x) else None


def _groups_json(res: GroupingResult, min_n: int) -> dict[str, dict]:
    """``{group: {n, <metric>, <metric>_ci, suppressed, suppressed_metrics}}``.

    A whole group below ``min_n`` carries no numbers; otherwise each metric whose own denominator
    is below ``min_n`` is suppressed on its own (listed in ``suppressed_metrics``).
    """
    gb = res.bootstrap
    ci = gb.intervals()
    out: dict[str, dict] = {}
    for i, label in enumerate(gb.grouping.labels):
        if not res.group_ok[i]:
            entry: dict[str, Any] = {"suppressed": True, "n": None, "n_below": min_n}
            for m in GROUP_METRICS[1:]:
                entry[m] = None
                entry[f"{m}_ci"] = [None, None]
            out[label] = entry
            continue
        entry = {
            "suppressed": False,
            "n": int(gb.point["n"].iloc[i]),
            "suppressed_metrics": [],
            # index events in each metric's own denominator (what the suppression rule tests)
            "denominators": {m: int(v[i]) for m, v in metric_denominators(gb.counts).items()},
        }
        for m in GROUP_METRICS[1:]:
            if not res.speaks[m][i]:
                entry[m] = None
                entry[f"{m}_ci"] = [None, None]
                entry["suppressed_metrics"].append(m)
                continue
            entry[m] = _f(gb.point[m].iloc[i])
            if f"{m}_lo" in ci:
                entry[f"{m}_ci"] = [_f(ci[f"{m}_lo"].iloc[i]), _f(ci[f"{m}_hi"].iloc[i])]
            else:
                entry[f"{m}_ci"] = [None, None]
        out[label] = entry
    return out


def audit_payload(result: AuditResult) -> dict[str, Any]:
    """The ``fairness.json`` payload of a computed audit, with its plain-language summary."""
    inp, config = result.input, result.config
    min_n = config.min_group_n
    overall = GroupingResult(
        result.overall,
        {m: np.array([True]) for m in GROUP_METRICS},
        np.array([True]),
        "all",
        {},
    )
    provenance = {
        "data_fingerprint": frame_fingerprint(inp.source_frame.loc[:, inp.fingerprint_cols]),
        "source": inp.data["source"],
        "threshold": inp.threshold,
        "selected_col": inp.selected_col,
        "n_boot": config.n_boot,
        "bootstrap_unit": inp.data["unit"],
        "seed": config.seed,
        "ci_level": config.ci_level,
        "min_group_n": min_n,
        "disparity_band": list(config.disparity_band),
        "recording_band": list(config.recording_band),
        "config": config.model_dump(mode="json"),
        "git_commit": git_commit(),
        "versions": package_versions(
            ("riskmodel", "numpy", "pandas", "scikit-learn", "lightgbm", "fairlearn")
        ),
    }
    payload: dict[str, Any] = {
        "schema": SCHEMA,
        "data": inp.data,
        "overall": _groups_json(overall, min_n)["all"],
        "reference_groups": {
            **{n: r.reference for n, r in result.attributes.items()},
            **{n: r.reference for n, r in result.intersections.items()},
        },
        "groups": {n: _groups_json(r, min_n) for n, r in result.attributes.items()},
        "intersections": {n: _groups_json(r, min_n) for n, r in result.intersections.items()},
        "disparities": {
            **{n: r.disparities for n, r in result.attributes.items()},
            **{n: r.disparities for n, r in result.intersections.items()},
        },
        "disparity_metrics": list(DISPARITY_METRICS),
        "calibration": result.reliability,
        "calibration_by_group": result.calibration,
        "label_bias": result.label_bias,
        "proxy": result.proxy,
        "mitigation": result.mitigation,
        "method": _method_text(config, unit=inp.data["unit"]),
        "provenance": provenance,
    }
    payload["summary"] = plain_summary(
        payload, band=tuple(config.disparity_band), ci_level=config.ci_level, min_n=min_n
    )
    return payload


def audit_frame(
    df: pd.DataFrame,
    *,
    score_col: str,
    label_col: str,
    group_cols: list[str] | tuple[str, ...],
    config: FairnessConfig,
    threshold: float | None = None,
    selected_col: str | None = None,
    **columns: Any,
) -> dict:
    """Fairness audit of scored index events: the ``fairness.json`` payload.

    Parameters
    ----------
    df : one row per index event, with score, outcome and audit attributes
    score_col : the risk score (higher = more likely to reoffend)
    label_col : recorded outcome (``reoffend_12m``), 0/1 or bool
    group_cols : audit attributes, each reported group by group; several also give their
        configured intersections
    config : the audit's settings
    threshold, selected_col : the decision: ``score >= threshold``, or a 0/1 column
    **columns : the optional columns and notes of :func:`validate_audit`: ``person_col`` (people
        as the bootstrap unit), ``equal_label_col``, ``recorded_incidents_col`` and
        ``equal_incidents_col`` (the label-bias audit, synthetic worlds), ``truth_label_col`` and
        ``truth_score_col`` (context), ``eligible_col``, ``features``, ``source``, ``rule_text``
    """
    inp = validate_audit(
        df,
        score_col=score_col,
        label_col=label_col,
        group_cols=group_cols,
        threshold=threshold,
        selected_col=selected_col,
        **columns,
    )
    return audit_payload(compute_audit(inp, config))


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


def _method_text(config: FairnessConfig, *, unit: str) -> dict[str, str]:
    pct = f"{100 * config.ci_level:g}%"
    unit_text = (
        "people are resampled with all their index events in the group (a person with several "
        "index events counts once per draw, not as independent rows)"
        if unit == "people"
        else "rows are resampled (no person ids were given, so rows are treated as independent)"
    )
    return {
        "intervals": (
            f"{pct} percentile intervals from {config.n_boot} bootstrap replicates stratified by "
            f"group: {unit_text}. Mean scores use the normal approximation with a "
            "person-clustered standard error; AUC intervals use the (clustered) DeLong variance "
            "on the logit scale."
        ),
        "disparities": (
            "Each group's rate divided by the reference group's, with the interval from the same "
            f"replicates. Flagged only when the whole interval lies outside "
            f"{config.disparity_band[0]:g}-{config.disparity_band[1]:g}; inconclusive when the "
            "estimate is outside but the interval reaches into it. Applied to unrounded values; "
            "a ratio is printed with as many decimals as it takes to show on which side of a "
            "band edge it lies."
        ),
        "suppression": (
            f"A group with fewer than {config.min_group_n} index events is suppressed, and so is "
            "each metric whose own denominator is below that (reoffenders for the true and false "
            "negative rates, non-reoffenders for the false positive rate, the listed for "
            "precision). A suppressed cell or a collapsed (degenerate) interval never gives a "
            "flagged or inconclusive finding."
        ),
        "calibration": (
            "Observed minus predicted reoffending per group, for everyone and among the listed, "
            "with an interval from the person-clustered standard error (normal approximation); "
            "worded by the one verdict rule (a direction only when the whole interval lies on "
            "one side of zero)."
        ),
        "label_bias": (
            "Recorded incidents in the 12 months after each index event against the incidents "
            "equal recording would have recorded (the synthetic world's counterfactual: every "
            "measurement-bias multiplier set to 1, same incidents and draws). A group is under- "
            "or over-recorded only when the whole interval of its ratio to the reference group "
            f"lies outside {config.recording_band[0]:g}-{config.recording_band[1]:g}."
        ),
        "flags": (
            f"{FLAGGED}: real disparity; {INCONCLUSIVE}: may be chance; {DEGENERATE}: the "
            "interval collapsed, no finding; within_band: none."
        ),
    }

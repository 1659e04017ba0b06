"""Plain-language findings for the ethics panel, written from the audit's numbers."""

from __future__ import annotations

import math
from typing import Any

#: short names and plain meanings of the metrics, shared by the summary and the report
METRIC_NAMES = {
    "n": ("people", "number of people in the group"),
    "base_rate": ("reoffending rate", "share who reoffended (recorded)"),
    "mean_score": ("average score", "average risk score"),
    "selection_rate": ("selection rate", "share selected"),
    "tpr": ("true positive rate", "share of those who reoffended who were selected"),
    "fpr": ("false positive rate", "share of those who did not reoffend who were selected"),
    "fnr": ("false negative rate", "share of those who reoffended who were not selected"),
    "ppv": ("precision (PPV)", "share of those selected who reoffended"),
    "npv": ("NPV", "share of those not selected who did not reoffend"),
    "auc": ("AUC", "how well the score ranks people who reoffended above those who did not"),
}

_ORDER = ("fpr", "fnr", "selection_rate", "ppv", "tpr", "npv", "auc")
MAX_LISTED = 6


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, d: int = 2) -> str:
    return "–" if x is None else f"{x:.{d}f}"


def _value(metric: str, x: float | None) -> str:
    return _num(x) if metric == "auc" else _pct(x)


def ratio_text(x: float | None, band: tuple[float, float] = (0.8, 1.25), digits: int = 2) -> str:
    """A ratio with as many decimals (2 to 4) as it takes to show on which side of each band
    edge it lies: 0.7995 prints as 0.7995, never as a contradictory 0.80."""
    if x is None or not math.isfinite(x):
        return "–"
    edges = band
    for d in range(digits, 5):
        shown = float(f"{x:.{d}f}")
        if all((shown < e) == (x < e) and (shown > e) == (x > e) for e in edges):
            return f"{x:.{d}f}"
    return f"{x:.4f}"


def _count_text(data: dict[str, Any]) -> str:
    if data.get("n_people") is not None:
        return f"{data['n_used']:,} index events of {data['n_people']:,} people"
    return f"{data['n_used']:,} rows (no person ids: rows are counted, not people)"


def plain_summary(
    payload: dict[str, Any], *, band: tuple[float, float], ci_level: float, min_n: int
) -> dict[str, Any]:
    """``{findings: [sentences], flagged: [...], counts: {...}}`` from an audit payload."""
    lvl = f"{100 * ci_level:g}%"
    data, overall = payload["data"], payload["overall"]
    findings: list[str] = []
    findings.append(
        f"The audit covers {_count_text(data)}. {_pct(overall['base_rate'])} of index events "
        f"were followed by a recorded reoffence, and {data.get('n_selected', 0):,} "
        f"({_pct(overall['selection_rate'])}) were selected: {data['rule']}."
    )
    if data["n_set_aside"]:
        findings.append(
            f"{data['n_set_aside']:,} of {data['n_rows']:,} rows were set aside because the score "
            "or the outcome was missing (counted in the data section)."
        )
    if overall.get("auc") is not None:
        findings.append(
            f"Overall the score ranks index events followed by a recorded reoffence above those "
            f"that were not with an AUC of "
            f"{overall['auc']:.2f} (0.5 is chance, 1 is perfect)."
        )

    flagged: list[dict] = []
    n_inconclusive = 0
    n_suppressed = 0
    for attr, groups in payload["disparities"].items():
        is_inter = attr in payload["intersections"]
        table = payload["intersections"][attr] if is_inter else payload["groups"][attr]
        n_suppressed += sum(1 for g in table.values() if g.get("suppressed"))
        ref = payload["reference_groups"][attr]
        for group, metrics in groups.items():
            for m in _ORDER:
                d = metrics.get(m)
                if not d:
                    continue
                if d.get("suppressed") or d["flag"] in ("suppressed", "degenerate"):
                    continue
                if d["flag"] == "inconclusive":
                    n_inconclusive += 1
                elif d["flag"] == "flagged":
                    flagged.append(
                        {
                            "attribute": attr,
                            "group": group,
                            "reference": ref,
                            "metric": m,
                            "ratio": d["ratio"],
                            "ci": d["ci"],
                            "value": table[group][m],
                            "reference_value": table[ref][m],
                            "intersection": is_inter,
                        }
                    )
    flagged.sort(key=lambda f: (f["intersection"], -abs(math.log(max(f["ratio"], 1e-9)))))
    if flagged:
        findings.append(
            f"{len(flagged)} difference(s) between groups are flagged: their whole {lvl} interval "
            f"lies outside the {band[0]:g}-{band[1]:g} band. The largest:"
        )
        for f in flagged[:MAX_LISTED]:
            name = METRIC_NAMES[f["metric"]][0]
            findings.append(
                f"  {f['attribute']} = {f['group']}: {name} {_value(f['metric'], f['value'])} "
                f"against {_value(f['metric'], f['reference_value'])} for {f['reference']}, "
                f"{ratio_text(f['ratio'], band)} times as high ({lvl} interval "
                f"{ratio_text(f['ci'][0], band)} to {ratio_text(f['ci'][1], band)})."
            )
        if len(flagged) > MAX_LISTED:
            findings.append(f"  ... and {len(flagged) - MAX_LISTED} more (see the tables).")
    else:
        findings.append(
            f"No difference between groups is flagged (no {lvl} interval lies wholly outside "
            f"the {band[0]:g}-{band[1]:g} band)."
        )
    if n_inconclusive:
        findings.append(
            f"{n_inconclusive} further difference(s) are inconclusive: the estimate is outside the "
            "band but the interval reaches into it, so they may be chance; more data would tell."
        )
    if n_suppressed:
        findings.append(
            f"{n_suppressed} group(s) or intersection cell(s) have fewer than {min_n} index "
            "events and are suppressed (and single metrics whose own denominator is below "
            f"{min_n} are suppressed too): the audit says nothing about them, which is itself a "
            "limitation."
        )

    # base rates: the impossibility result applies whenever they differ
    spread = []
    for attr, groups in payload["groups"].items():
        rates = {
            g: v["base_rate"]
            for g, v in groups.items()
            if not v["suppressed"] and v["base_rate"] is not None
        }
        if len(rates) >= 2:
            lo, hi = min(rates, key=rates.get), max(rates, key=rates.get)
            spread.append((rates[hi] - rates[lo], attr, lo, rates[lo], hi, rates[hi]))
    if spread:
        _, attr, lo, rlo, hi, rhi = max(spread)
        findings.append(
            f"Recorded reoffending rates differ between groups (for {attr}: {_pct(rlo)} for {lo}, "
            f"{_pct(rhi)} for {hi}). When rates differ, no score can be both equally calibrated in "
            "every group and have equal error rates in every group; the panel has to choose "
            "which to prioritise (see 'Trade-offs')."
        )

    lb = payload["label_bias"]
    if lb.get("available"):
        lines = []
        for attr, res in lb["attributes"].items():
            for f in res["findings"]:
                if f["metric"] == "recording_ratio":
                    grp = res["groups"][f["group"]]
                    lines.append(
                        f"  {attr} = {f['group']}: reoffending is {f['finding'].replace('_', ' ')}: "
                        f"{grp['recorded_incidents']:,} incidents recorded where equal recording "
                        f"would have recorded {grp['equal_recording_incidents']:,}; "
                        f"{ratio_text(f['ratio'], tuple(lb['recording_band']))} times the "
                        f"recording of {res['reference']} ({lvl} interval "
                        f"{ratio_text(f['ci'][0], tuple(lb['recording_band']))} to "
                        f"{ratio_text(f['ci'][1], tuple(lb['recording_band']))})."
                    )
                else:
                    word = {
                        "hidden_by_recording": "hidden by",
                        "invented_by_recording": "created by",
                        "reversed_by_recording": "reversed by",
                    }[f["finding"]]
                    lines.append(
                        f"  {attr} = {f['group']}: the disparity in {METRIC_NAMES[f['metric']][0]} "
                        f"is {word} unequal recording (ratio {ratio_text(f['recorded_ratio'], band)} "
                        f"on recorded outcomes, {ratio_text(f['equal_recording_ratio'], band)} "
                        "had recording been equal)."
                    )
        if lines:
            findings.append(
                "Recording differs between groups in this synthetic world (measured against its "
                "equal-recording counterfactual):"
            )
            findings.extend(lines[: MAX_LISTED * 2])
            if len(lines) > MAX_LISTED * 2:
                findings.append(f"  ... and {len(lines) - MAX_LISTED * 2} more (see the tables).")
        else:
            findings.append(
                "No label-bias finding: recorded reoffending, measured against what equal "
                "recording would have recorded, shows no group under- or over-recorded, and no "
                "disparity hidden, created or reversed by recording."
            )
    cal = payload.get("calibration_by_group", {}).get("overall", {}).get("all", {})
    listed = cal.get("listed", {})
    if listed and not listed.get("suppressed"):
        findings.append(
            f"Among the {listed['n']:,} listed index events, the model predicted "
            f"{_pct(listed['predicted'])} would reoffend (recorded) and {_pct(listed['observed'])} "
            f"did ({lvl} interval of the difference {_pct(listed['difference_ci'][0])} to "
            f"{_pct(listed['difference_ci'][1])}): {listed['verdict_text']}."
        )
    miscal = []
    for attr, groups in payload.get("calibration_by_group", {}).items():
        if attr == "overall":
            continue
        for g, c in groups.items():
            e = c.get("everyone", {})
            if not e.get("suppressed") and e.get("verdict") not in (None, "no clear difference"):
                miscal.append(f"{attr} = {g} ({e['verdict_text']})")
    if miscal:
        findings.append(
            "Calibration differs from the observed rate, beyond chance, for: "
            + "; ".join(miscal[:MAX_LISTED])
            + (f"; and {len(miscal) - MAX_LISTED} more" if len(miscal) > MAX_LISTED else "")
            + "."
        )

    px = payload["proxy"]
    if px.get("available"):
        hits = [(a, r) for a, r in px["attributes"].items() if r.get("flagged")]
        for a, r in hits:
            tops = ", ".join(t["feature"] for t in r["top_features"][:3])
            findings.append(
                f"The model's inputs carry information about {a}: it can be predicted from them "
                f"with AUC {r['auc']:.2f} (above {px['threshold']:g}); mostly through {tops}."
            )
        if not hits:
            findings.append(
                f"No audited attribute can be predicted from the model's inputs with AUC above "
                f"{px['threshold']:g}."
            )

    mit = payload["mitigation"]
    if mit.get("available"):
        rows = {r["option"]: r for r in mit["options"]}
        u, eo = rows["unconstrained"], rows["equal_opportunity_same_places"]
        findings.append(
            f"With the same {mit['places']:,} places, equalising across {mit['attribute']} the "
            "share of reoffenders offered a place would move the largest gap in true positive "
            f"rates from {_num(u['max_tpr_gap'])} to {_num(eo['max_tpr_gap'])} and precision "
            f"from {_pct(u['ppv'])} to {_pct(eo['ppv'])} (see 'Trade-offs')."
        )
    return {
        "findings": findings,
        "flagged": flagged,
        "counts": {
            "flagged": len(flagged),
            "inconclusive": n_inconclusive,
            "suppressed_groups": n_suppressed,
        },
    }

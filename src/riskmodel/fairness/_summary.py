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


def plain_summary(
    payload: dict[str, Any], *, band: tuple[float, float], ci_level: float, min_n: int
) -> dict[str, Any]:
    """``{findings: [sentences], flagged: [...], counts: {...}}`` from an audit payload."""
    lvl = f"{100 * ci_level:g}%"
    data, overall = payload["data"], payload["overall"]
    findings: list[str] = []
    findings.append(
        f"The audit covers {data['n_used']:,} people. {_pct(overall['base_rate'])} reoffended "
        f"(as recorded) and {_pct(overall['selection_rate'])} were selected ({data['rule']})."
    )
    if data["n_set_aside"]:
        findings.append(
            f"{data['n_set_aside']:,} of {data['n_rows']:,} rows were set aside because the score "
            "or the outcome was missing (counted in the data section)."
        )
    if overall.get("auc") is not None:
        findings.append(
            f"Overall the score ranks people who reoffended above those who did not with an AUC of "
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
                f"{f['ratio']:.2f} times as high ({lvl} interval {f['ci'][0]:.2f} to "
                f"{f['ci'][1]:.2f})."
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
            f"{n_suppressed} group(s) or intersection cell(s) have fewer than {min_n} people and "
            "are suppressed: the audit says nothing about them, which is itself a limitation."
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
                if f["metric"] == "recording_rate":
                    grp = res["groups"][f["group"]]
                    lines.append(
                        f"  {attr} = {f['group']}: reoffending is {f['finding'].replace('_', ' ')} "
                        f"(recorded {_pct(grp['base_rate_recorded'])} against truly "
                        f"{_pct(grp['base_rate_true'])}; recording rate {f['ratio']:.2f} times "
                        f"that of {res['reference']})."
                    )
                else:
                    word = {
                        "hidden_by_recording": "hidden by",
                        "invented_by_recording": "created by",
                        "reversed_by_recording": "reversed by",
                    }[f["finding"]]
                    lines.append(
                        f"  {attr} = {f['group']}: the disparity in {METRIC_NAMES[f['metric']][0]} "
                        f"is {word} the recorded data (ratio {_num(f['recorded_ratio'])} on "
                        f"recorded outcomes, {_num(f['true_ratio'])} on true outcomes)."
                    )
        if lines:
            findings.append(
                "The recorded outcomes are biased against the truth of the synthetic world:"
            )
            findings.extend(lines[: MAX_LISTED * 2])
        else:
            findings.append(
                "Recorded and true outcomes tell the same story for every group: no "
                "sign that recording hides or creates a disparity."
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
        u, eo = rows["unconstrained"], rows["equalized_odds"]
        findings.append(
            f"Equalising error rates across {mit['attribute']} (fairlearn, equalised odds) would "
            f"move the largest gap in true/false positive rates from "
            f"{_num(u['equalized_odds_difference'])} to {_num(eo['equalized_odds_difference'])}, "
            f"the selection rate from {_pct(u['selection_rate'])} to {_pct(eo['selection_rate'])}, "
            f"and balanced accuracy from {_num(u['balanced_accuracy'])} to "
            f"{_num(eo['balanced_accuracy'])}."
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

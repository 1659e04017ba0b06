"""A brute-force reference of the eligibility rule, one person at a time (shared by the rule's
tests and the scoring tests)."""

from __future__ import annotations

from riskmodel.eligibility import EligibilityConfig


def reference(
    rows: list[dict], rule: EligibilityConfig, tie: str | None = None
) -> dict[str, tuple[str, int | None]]:
    """Brute force, one person at a time: id -> (outcome, rank)."""
    out: dict[str, tuple[str, int | None]] = {}
    cands = []
    for r in rows:
        if r["p_severe"] >= rule.severe_threshold:
            out[r["person_id"]] = ("excluded_high_harm", None)
        elif rule.reoffend_threshold is not None and r["p_reoffend"] < rule.reoffend_threshold:
            out[r["person_id"]] = ("below_reoffend_threshold", None)
        else:
            cands.append(r)
    cands.sort(
        key=lambda r: (-r["p_reoffend"], -r[tie] if tie else 0, r["p_severe"], r["person_id"])
    )
    per_area: dict[str, int] = {}
    rank = 0
    for r in cands:
        cap_a = (rule.capacity_per_area or {}).get(r["area"], rule.area_capacity_default)
        if cap_a is not None and per_area.get(r["area"], 0) >= cap_a:
            out[r["person_id"]] = ("over_area_capacity", None)
            continue
        per_area[r["area"]] = per_area.get(r["area"], 0) + 1
        if rule.capacity is not None and rank >= rule.capacity:
            out[r["person_id"]] = ("over_capacity", None)
            continue
        rank += 1
        out[r["person_id"]] = ("listed", rank)
    return out

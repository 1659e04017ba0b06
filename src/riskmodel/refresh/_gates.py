"""The promotion gates: pure functions from measurements to a verdict with its reason.

Each gate returns a :class:`Gate`: its name, whether it passed, the threshold, the measured
values (with intervals) and a sentence for the panel. A challenger replaces the champion only
when every gate passes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.evaluation import (
    expected_calibration_error,
    interval_json,
    percentile_interval,
    probability_metrics,
    rank_metrics,
    replicate_weights,
    roc_auc,
    verdict,
)
from riskmodel.notice import PROTECTED_CHARACTERISTICS, SENSITIVE_INPUTS
from riskmodel.provenance import rng
from riskmodel.refresh._config import RefreshConfig

#: model inputs that are sensitive but used by design (stated on every output)
SENSITIVE_BY_DESIGN: tuple[str, ...] = tuple(SENSITIVE_INPUTS)
#: an input that predicts a protected characteristic this well (AUC, one group against the
#: rest) is treated as that characteristic slipped in through a proxy
PROXY_AUC = 0.8

FLAGGED = "flagged"


@dataclass
class Gate:
    """One gate's outcome."""

    name: str
    passed: bool
    threshold: str
    measured: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- statistics: evaluation's metrics and person bootstrap ---------------------------------------
def person_weights(person: np.ndarray, *, n_boot: int, seed: int, stream: str) -> np.ndarray:
    """``(n_boot, n_rows)`` replicate weights of evaluation's person bootstrap (people resampled
    with replacement, each with all their rows), from the run's named random stream."""
    person = np.asarray(person)
    if n_boot <= 0 or len(person) == 0:
        return np.zeros((0, len(person)))
    return np.vstack(
        list(
            replicate_weights(len(person), n_boot, rng(seed, stream), unit="person", groups=person)
        )
    )


def _interval(values: np.ndarray, level: float) -> list[float | None]:
    return interval_json(*percentile_interval(np.asarray(values, dtype=float), level))


def paired_auc_gain(
    y: np.ndarray,
    p_champion: np.ndarray,
    p_challenger: np.ndarray,
    person: np.ndarray,
    *,
    n_boot: int,
    ci_level: float,
    seed: int,
    stream: str = "refresh.auc_gain",
) -> dict[str, Any]:
    """AUC of both models on the same rows and the challenger's gain, with a paired bootstrap
    by person (both models scored on the same resampled people in every replicate)."""
    y = np.asarray(y).astype(bool)
    w = person_weights(person, n_boot=n_boot, seed=seed, stream=stream)
    gains = (
        rank_metrics(y, p_challenger, k=1, weights=w)["auc"]
        - rank_metrics(y, p_champion, k=1, weights=w)["auc"]
    )
    one_class = y.min() == y.max()
    a_ch = math.nan if one_class else roc_auc(y, p_champion)
    a_new = math.nan if one_class else roc_auc(y, p_challenger)
    ci = _interval(gains, ci_level)
    return {
        "auc_champion": a_ch,
        "auc_challenger": a_new,
        "gain": a_new - a_ch,
        "gain_ci": ci,
        "verdict": verdict(*ci),
        "n_rows": len(y),
        "n_people": int(pd.Series(person).nunique()),
    }


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


# -- the gates ------------------------------------------------------------------------------------
def discrimination_gate(gains: dict[str, dict[str, Any]], cfg: RefreshConfig) -> Gate:
    """Passes when, for both heads, the lower bound of the AUC gain is above ``-auc_margin``."""
    failing = []
    for head, g in gains.items():
        lo = g["gain_ci"][0]
        if lo is None or not lo > -cfg.auc_margin:
            failing.append(head)
    words = "; ".join(
        f"{h}: AUC {g['auc_champion']:.3f} -> {g['auc_challenger']:.3f}, gain {g['gain']:+.3f} "
        f"({_fmt_ci(g['gain_ci'])})"
        for h, g in gains.items()
    )
    reason = (
        f"the challenger ranks people worse than the champion beyond the margin for "
        f"{', '.join(failing)} ({words})"
        if failing
        else f"not worse than the champion beyond the margin ({words})"
    )
    return Gate(
        name="discrimination",
        passed=not failing,
        threshold=f"lower bound of the AUC gain above -{cfg.auc_margin:g}, both heads "
        f"({cfg.ci_level:.0%} paired bootstrap by person)",
        measured=gains,
        reason=reason,
    )


def _fmt_ci(ci: list[float | None]) -> str:
    if ci[0] is None:
        return "interval undefined"
    return f"{ci[0]:+.3f} to {ci[1]:+.3f}"


def calibration_measures(
    y: np.ndarray, p: np.ndarray, person: np.ndarray, cfg: RefreshConfig, *, seed: int
) -> dict[str, Any]:
    """Slope, intercept and ECE of one model on the window, with person-bootstrap intervals."""
    y = np.asarray(y).astype(int)
    from riskmodel.models import calibration_fit, calibration_fit_replicates

    slope, intercept = calibration_fit(y, p)
    w = person_weights(person, n_boot=min(cfg.n_boot, 200), seed=seed, stream="refresh.calibration")
    fits = calibration_fit_replicates(y, p, w) if len(w) else np.zeros((0, 2))
    eces = probability_metrics(y, p, threshold=0.5, n_bins=cfg.ece_bins, weights=w)
    return {
        "slope": slope,
        "slope_ci": _interval(fits[:, 0], cfg.ci_level),
        "intercept": intercept,
        "intercept_ci": _interval(fits[:, 1], cfg.ci_level),
        "ece": expected_calibration_error(y, p, n_bins=cfg.ece_bins),
        "ece_ci": _interval(eces["ece"] if len(w) else np.zeros(0), cfg.ci_level),
    }


def calibration_gate(measures: dict[str, dict[str, Any]], cfg: RefreshConfig) -> Gate:
    """The challenger's reoffending head: slope and intercept inside their ranges, ECE at most
    the limit (point estimates; intervals reported)."""
    m = measures["challenger"]
    s_lo, s_hi = cfg.calibration_slope
    i_lo, i_hi = cfg.calibration_intercept
    problems = []
    if not s_lo <= m["slope"] <= s_hi:
        problems.append(f"calibration slope {m['slope']:.2f} outside {s_lo:g}-{s_hi:g}")
    if not i_lo <= m["intercept"] <= i_hi:
        problems.append(f"calibration intercept {m['intercept']:+.2f} outside {i_lo:g} to {i_hi:g}")
    if not m["ece"] <= cfg.max_ece:
        problems.append(f"ECE {m['ece']:.3f} above {cfg.max_ece:g}")
    c = measures.get("champion")
    context = (
        f" (champion on the same window: slope {c['slope']:.2f}, intercept {c['intercept']:+.2f}, "
        f"ECE {c['ece']:.3f})"
        if c
        else ""
    )
    return Gate(
        name="calibration",
        passed=not problems,
        threshold=f"slope {s_lo:g}-{s_hi:g}, intercept {i_lo:g} to {i_hi:g}, ECE at most "
        f"{cfg.max_ece:g} (reoffending head)",
        measured=measures,
        reason=(
            "; ".join(problems)
            if problems
            else "the challenger's probabilities are "
            f"calibrated on the window: slope {m['slope']:.2f}, intercept "
            f"{m['intercept']:+.2f}, ECE {m['ece']:.3f}"
        )
        + context,
    )


def _distance(ratio: float | None) -> float | None:
    if ratio is None or not ratio > 0:
        return None
    return abs(math.log(ratio))


def _ci(d: dict[str, Any]) -> tuple[float, float] | None:
    ci = d.get("ci")
    if not ci or len(ci) < 2 or ci[0] is None or ci[1] is None:
        return None
    return float(ci[0]), float(ci[1])


def _nearest_parity(d: dict[str, Any]) -> float | None:
    """Distance from parity (|log ratio|) of the end of the ratio's interval nearest parity;
    the estimate's own when there is no interval."""
    ci = _ci(d)
    if ci is None:
        return _distance(d.get("ratio"))
    ends = [x for x in (_distance(ci[0]), _distance(ci[1])) if x is not None]
    if not ends:
        return _distance(d.get("ratio"))
    lo, hi = ci
    return 0.0 if lo <= 1.0 <= hi else min(ends)


def fairness_gate(champion: dict[str, Any], challenger: dict[str, Any], cfg: RefreshConfig) -> Gate:
    """Compare two ``fairness.json`` payloads of the deployed decision on the same window:
    fails when a disparity is flagged for the challenger where the champion's estimate was
    inside the band, or when a disparity flagged for the challenger (its interval wholly outside
    the band) is further from parity than the champion's by more than ``fairness_margin`` (on the
    log-ratio scale) across its whole interval. An inconclusive disparity (may be chance) never
    blocks."""
    newly, worse = [], []
    margin = math.log1p(cfg.fairness_margin)
    exempt = set(cfg.fairness_exempt)
    for attr, groups in (challenger.get("disparities") or {}).items():
        if exempt & set(attr.split(":")):
            continue
        for group, metrics in groups.items():
            for metric, d in metrics.items():
                if not isinstance(d, dict):
                    continue
                old = (((champion.get("disparities") or {}).get(attr) or {}).get(group) or {}).get(
                    metric
                ) or {}
                key = f"{attr} = {group}, {metric}"
                dn, do = _distance(d.get("ratio")), _distance(old.get("ratio"))
                # newly flagged: flagged now, and the champion's estimate was inside the band (an
                # estimate already outside it is judged by the 'worsened' rule below)
                if d.get("flag") == FLAGGED and old.get("flag") in (
                    None,
                    "within_band",
                    "undefined",
                    "suppressed",
                    "reference",
                ):
                    was = "no estimate" if do is None else f"ratio {old['ratio']:.2f}"
                    newly.append(f"{key} ({was} -> ratio {d.get('ratio'):.2f})")
                    continue
                # worsened: judged from the challenger's interval, not its estimate alone (the
                # interval's end nearest parity must be further out than the champion's estimate
                # by the margin), so a small cell's noisy ratio cannot block on its own
                near = _nearest_parity(d) if dn is not None else None
                if (
                    d.get("flag") == FLAGGED
                    and near is not None
                    and do is not None
                    and near - do > margin
                ):
                    worse.append(
                        f"{key} (ratio {old['ratio']:.2f} -> {d['ratio']:.2f}"
                        + (f", interval {d['ci'][0]:.2f}-{d['ci'][1]:.2f})" if _ci(d) else ")")
                    )
    problems = []
    if newly:
        problems.append("newly flagged: " + "; ".join(newly[:8]))
    if worse:
        problems.append("worse beyond the margin: " + "; ".join(worse[:8]))
    n_flag = sum(
        1
        for attr, groups in (challenger.get("disparities") or {}).items()
        if not exempt & set(attr.split(":"))
        for metrics in groups.values()
        for d in metrics.values()
        if isinstance(d, dict) and d.get("flag") == FLAGGED
    )
    return Gate(
        name="fairness",
        passed=not problems,
        threshold="no disparity of the deployed decision newly flagged; none further from parity "
        f"than the champion's by more than {cfg.fairness_margin:.0%} across its whole interval"
        + (
            f" (reported, not gating: {', '.join(cfg.fairness_exempt)}, inputs by design)"
            if cfg.fairness_exempt
            else ""
        ),
        measured={"newly_flagged": newly, "worsened": worse, "flagged_challenger": n_flag},
        reason="; ".join(problems)
        if problems
        else f"no disparity newly flagged or worsened beyond the margin ({n_flag} flagged for the "
        "challenger, each already outside the band for the champion; see the fairness reports)"
        if n_flag
        else "no disparity newly flagged or worsened beyond the margin",
    )


def data_gate(
    contract_problems: list[str],
    drift_inputs: list[dict[str, Any]],
    score_psi: float | None,
    cfg: RefreshConfig,
) -> Gate:
    """The new training data pass the contracts; drift is reported, and blocks only when the
    experiment says so (``drift_blocks``)."""
    moved = [r for r in drift_inputs if r["psi"] >= cfg.max_input_psi]
    score_moved = score_psi is not None and score_psi >= cfg.max_score_psi
    problems = list(contract_problems)
    if cfg.drift_blocks and (moved or score_moved):
        problems.append(
            "drift above the threshold: "
            + ", ".join(r["column"] for r in moved)
            + (" and the score" if score_moved else "")
        )
    drift_words = (
        f"{len(moved)} input(s) moved significantly (PSI >= {cfg.max_input_psi:g}): "
        + ", ".join(f"{r['label']} ({r['psi']:.2f})" for r in moved[:5])
        if moved
        else "no input moved significantly"
    )
    if score_psi is not None:
        drift_words += f"; score PSI {score_psi:.2f}"
    reason = (
        "; ".join(problems)
        if problems
        else "the new training data pass the contracts; "
        + drift_words
        + ("" if cfg.drift_blocks or not (moved or score_moved) else " (the reason to refresh)")
    )
    return Gate(
        name="data",
        passed=not problems,
        threshold=f"contracts pass; input PSI below {cfg.max_input_psi:g} and score PSI below "
        f"{cfg.max_score_psi:g} "
        + ("(blocking)" if cfg.drift_blocks else "(reported, not blocking)"),
        measured={
            "contract_problems": contract_problems,
            "inputs": drift_inputs,
            "score_psi": score_psi,
        },
        reason=reason,
    )


def proxy_strength(
    frame: pd.DataFrame, features: list[str], attributes: list[str]
) -> list[dict[str, Any]]:
    """For each (input, protected attribute group): how well the input alone picks out the group
    (AUC of the input against membership, either direction). Inputs that are categories are
    scored by the group's share within each level."""
    out = []
    for f in features:
        if f not in frame.columns:
            continue
        x = frame[f]
        for attr in attributes:
            if attr not in frame.columns:
                continue
            a = frame[attr].astype("string")
            for group in a.dropna().unique():
                member = (a == group).fillna(False).to_numpy(dtype=int)
                if member.min() == member.max():
                    continue
                if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
                    v = pd.to_numeric(x, errors="coerce").fillna(-1e9).to_numpy(np.float64)
                else:
                    s = x.astype("string").fillna("(missing)")
                    v = s.map(pd.Series(member, index=s.index).groupby(s).mean()).to_numpy(
                        np.float64
                    )
                auc = roc_auc(member, v)
                out.append(
                    {"input": f, "attribute": attr, "group": str(group), "auc": max(auc, 1 - auc)}
                )
    return sorted(out, key=lambda r: -r["auc"])


def policy_gate(
    champion_features: list[str],
    challenger_features: list[str],
    proxies: list[dict[str, Any]],
    cfg: RefreshConfig,
) -> Gate:
    """The sensitive-input policy: no protected characteristic among the inputs (by name or
    through a new input that predicts one at AUC >= PROXY_AUC), and the same sensitive-by-design
    inputs as the champion unless ``allow_sensitive_change``."""
    problems = []
    named = sorted(set(challenger_features) & PROTECTED_CHARACTERISTICS)
    if named:
        problems.append("protected characteristic(s) as inputs: " + ", ".join(named))
    new_inputs = set(challenger_features) - set(champion_features)
    strong = [p for p in proxies if p["input"] in new_inputs and p["auc"] >= PROXY_AUC]
    if strong:
        problems.append(
            "new input(s) acting as a proxy for a protected characteristic: "
            + "; ".join(
                f"{p['input']} picks out {p['attribute']} = {p['group']} (AUC {p['auc']:.2f})"
                for p in strong[:5]
            )
        )
    s_old = sorted(set(champion_features) & set(SENSITIVE_BY_DESIGN))
    s_new = sorted(set(challenger_features) & set(SENSITIVE_BY_DESIGN))
    if s_old != s_new and not cfg.allow_sensitive_change:
        problems.append(
            f"sensitive-by-design inputs changed from {s_old or 'none'} to {s_new or 'none'} "
            "(allowed only when the experiment sets refresh.allow_sensitive_change)"
        )
    return Gate(
        name="sensitive_inputs",
        passed=not problems,
        threshold="no protected characteristic by name or proxy (new input predicting one at AUC "
        f">= {PROXY_AUC:g}); sensitive-by-design inputs unchanged"
        + (" (change allowed by the experiment)" if cfg.allow_sensitive_change else ""),
        measured={
            "sensitive_champion": s_old,
            "sensitive_challenger": s_new,
            "new_inputs": sorted(new_inputs),
            "removed_inputs": sorted(set(champion_features) - set(challenger_features)),
            "strongest_proxies": proxies[:5],
        },
        reason="; ".join(problems)
        if problems
        else f"same sensitive-by-design inputs as the champion ({', '.join(s_new) or 'none'}); "
        "no protected characteristic by name or proxy",
    )


__all__ = [
    "Gate",
    "SENSITIVE_BY_DESIGN",
    "calibration_gate",
    "calibration_measures",
    "data_gate",
    "discrimination_gate",
    "fairness_gate",
    "paired_auc_gain",
    "person_weights",
    "policy_gate",
    "proxy_strength",
]

"""Backtest: replay the years and compare three policies on the same people and outcomes.

At the first date a model is trained on what was known then. Every ``every_months`` after it:
``frozen`` keeps that first model; ``gated`` trains a challenger on what is known at the date
and adopts it only when the in-memory gates pass (discrimination against the current model on
the challenger's own out-of-time window, calibration, the sensitive-input policy); ``ungated``
always adopts the newest model. Each policy's model then scores the people assessed in the next
period, and is judged on their realised outcomes: AUC, calibration slope, the share of harm in
the top k, and the largest selection-rate ratio between audit groups, each with a bootstrap
interval by person. Nothing is registered: the registry and the audit log are left alone.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.evaluation import rank_metrics, verdict
from riskmodel.refresh._config import RefreshConfig
from riskmodel.refresh._gates import (
    _interval,
    calibration_gate,
    calibration_measures,
    discrimination_gate,
    paired_auc_gain,
    person_weights,
    policy_gate,
)
from riskmodel.refresh._refresh import challenger_experiment, known_at

POLICIES = ("frozen", "gated", "ungated")
#: what each policy is judged on in every period (each with a person-bootstrap interval)
METRICS = (
    "auc",
    "calibration_slope",
    "calibration_intercept",
    "observed_to_expected",
    "harm_share_top_k",
    "largest_disparity",
)
TOP_K_SHARE = 0.05
#: a difference whose whole interval lies inside these margins reads "equivalent": AUC
#: (the gates' default discrimination margin), calibration in the large (3 points of
#: recorded/predicted reoffending) and the calibration slope (a quarter of the gate's band
#: below 1, 0.8-1)
AUC_EQUIVALENCE = 0.01
O_E_EQUIVALENCE = 0.03
SLOPE_EQUIVALENCE = 0.05
DISPARITY_ATTRIBUTES = ("sex", "ethnicity")
#: shaded on the ratio figure: the fairness audit's default band (FairnessConfig, a layer above)
DISPARITY_BAND = (0.8, 1.25)
MIN_GROUP_N = 50

ERR_NO_DATES = (
    "backtest: no refresh date from {start} every {months} months has a later period to score"
)

Progress = Callable[[str], None]


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, min(d.day, 28))


@dataclass
class Backtest:
    """Per date and policy: the metrics with intervals; per refresh: the gates' decision."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    refreshes: list[dict[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


def _selection_disparity(
    sel: np.ndarray, groups: pd.DataFrame, w: np.ndarray | None = None
) -> tuple[float, str]:
    """Largest ratio of selection rates between two reportable groups of one attribute."""
    best, what = 1.0, ""
    for attr in DISPARITY_ATTRIBUTES:
        if attr not in groups:
            continue
        g = groups[attr].astype("string").fillna("(missing)").to_numpy()
        rates = {}
        for level in np.unique(g):
            m = g == level
            ww = np.ones(m.sum()) if w is None else w[m]
            if m.sum() < MIN_GROUP_N or ww.sum() == 0:
                continue
            rates[level] = float(np.average(sel[m], weights=ww))
        pos = {k: v for k, v in rates.items() if v > 0}
        if len(pos) >= 2:
            hi, lo = max(pos, key=pos.get), min(pos, key=pos.get)
            ratio = pos[hi] / pos[lo]
            if ratio > best:
                best, what = ratio, f"{attr}: {hi} vs {lo}"
    return best, what


def period_metrics(
    rows: pd.DataFrame, p: np.ndarray, *, n_boot: int, ci_level: float, seed: int
) -> dict[str, Any]:
    """AUC, calibration (slope; and in the large: observed over expected reoffending, the
    intercept), harm share in the top k and the largest selection-rate ratio on one period's
    people, with person-bootstrap intervals.

    Observed over expected is what a frozen model gets wrong first when the world changes: if
    recording improves, more reoffending is recorded than the model, trained on the old years,
    expects, although its ranking (AUC) may hold."""
    y = rows["reoffend_12m"].to_numpy(dtype=int)
    harm = rows["harm_days_12m"].to_numpy(dtype=float) if "harm_days_12m" in rows else None
    k = max(1, int(round(TOP_K_SHARE * len(rows))))
    top = np.zeros(len(rows), dtype=bool)
    top[np.argsort(-p, kind="stable")[:k]] = True
    w = person_weights(
        rows["person_id"].to_numpy(), n_boot=n_boot, seed=seed, stream="refresh.backtest"
    )
    # evaluation's AUC and top-k harm share, point (all-ones weights) and replicates
    point_rank = rank_metrics(y, p, k=k, harm=harm)
    reps_rank = rank_metrics(y, p, k=k, weights=w, harm=harm) if len(w) else {}

    def others(ww: np.ndarray | None) -> tuple[float, float, float]:
        from riskmodel.models import calibration_fit

        slope, intercept = calibration_fit(y, p, ww)
        disp, _ = _selection_disparity(top.astype(float), rows, ww)
        return slope, intercept, disp

    nan = np.full(len(w), np.nan)
    point = {
        "auc": float(point_rank["auc"][0]),
        "harm_share_top_k": float(point_rank["harm_share_top_k"][0]) if harm is not None else nan,
    }
    point["calibration_slope"], point["calibration_intercept"], point["largest_disparity"] = others(
        None
    )
    point["observed_to_expected"] = float(y.sum() / p.sum()) if p.sum() > 0 else math.nan
    rest = np.array([others(wb) for wb in w]).reshape(-1, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        o_e = (w @ y) / (w @ p) if len(w) else nan
    reps = {
        "auc": reps_rank.get("auc", nan),
        "harm_share_top_k": reps_rank.get("harm_share_top_k", nan),
        "calibration_slope": rest[:, 0],
        "calibration_intercept": rest[:, 1],
        "largest_disparity": rest[:, 2],
        "observed_to_expected": o_e,
    }
    out: dict[str, Any] = {
        "n_rows": len(rows),
        "n_people": int(rows["person_id"].nunique()),
        "observed_rate": float(y.mean()),
        "expected_rate": float(p.mean()),
    }
    for name in METRICS:
        value = point[name]
        out[name] = float(value) if np.ndim(value) == 0 else math.nan
        out[f"{name}_ci"] = _interval(reps[name], ci_level)
    out["largest_disparity_groups"] = _selection_disparity(top.astype(float), rows)[1]
    return out


def run_backtest(
    frame: pd.DataFrame,
    spec: dict[str, Any],
    experiment: Any,
    *,
    start: dt.date,
    every_months: int = 6,
    end: dt.date | None = None,
    progress: Progress | None = None,
) -> Backtest:
    """Replay refreshes from ``start`` every ``every_months`` (see module docstring)."""
    from riskmodel.models import fit_and_evaluate

    say = progress or (lambda _m: None)
    cfg: RefreshConfig = getattr(experiment, "refresh", None) or RefreshConfig()
    d_all = pd.to_datetime(frame["index_date"])
    last = (end and pd.Timestamp(end)) or d_all.max()
    dates = []
    d = start
    while pd.Timestamp(add_months(d, every_months)) <= last + pd.Timedelta(days=1):
        dates.append(d)
        d = add_months(d, every_months)
    if not dates:
        raise ValueError(ERR_NO_DATES.format(start=start, months=every_months))

    def fit(as_of: dt.date) -> Any:
        exp = challenger_experiment(experiment, as_of, cfg)
        return fit_and_evaluate(known_at(frame, as_of), spec, exp)

    bt = Backtest(
        config={
            "start": start.isoformat(),
            "every_months": every_months,
            "top_k_share": TOP_K_SHARE,
            "refresh": cfg.model_dump(mode="json"),
            "train_years": experiment.train.split.train_years,
            "history_days": getattr(getattr(experiment, "features", None), "history_days", None),
            "equivalence": {
                "auc": AUC_EQUIVALENCE,
                "o_e": O_E_EQUIVALENCE,
                "slope": SLOPE_EQUIVALENCE,
            },
        }
    )
    say(f"training the first model on what was known at {start}")
    first = fit(start)
    current = {"frozen": first, "gated": first, "ungated": first}
    for i, as_of in enumerate(dates):
        if i > 0:
            say(f"refresh at {as_of} ({i + 1} of {len(dates)})")
            challenger = fit(as_of)
            window = challenger.predictions
            person = window["person_id"].to_numpy()
            y = window["reoffend_12m"].to_numpy(dtype=int)
            p_cur = current["gated"].bundle.predict(window, "reoffend")
            p_new = window["p_reoffend"].to_numpy()
            gains = {
                "reoffend": paired_auc_gain(
                    y,
                    p_cur,
                    p_new,
                    person,
                    n_boot=cfg.n_boot,
                    ci_level=cfg.ci_level,
                    seed=experiment.seed,
                )
            }
            cal = {"challenger": calibration_measures(y, p_new, person, cfg, seed=experiment.seed)}
            gates = [
                discrimination_gate(gains, cfg),
                calibration_gate(cal, cfg),
                policy_gate(
                    list(current["gated"].feature_names), list(challenger.feature_names), [], cfg
                ),
            ]
            passed = all(g.passed for g in gates)
            bt.refreshes.append(
                {
                    "as_of": as_of.isoformat(),
                    "promoted": passed,
                    "failed": [g.name for g in gates if not g.passed],
                    "why": "; ".join(g.reason for g in gates if not g.passed)
                    or "every gate passed",
                    "auc_gain": gains["reoffend"]["gain"],
                    "auc_gain_ci": gains["reoffend"]["gain_ci"],
                }
            )
            if passed:
                current["gated"] = challenger
            current["ungated"] = challenger
        nxt = add_months(as_of, every_months)
        period = frame.loc[(d_all >= pd.Timestamp(as_of)) & (d_all < pd.Timestamp(nxt))]
        period = period.reset_index(drop=True)
        if len(period) == 0:
            continue
        for policy in POLICIES:
            p = current[policy].bundle.predict(period, "reoffend")
            m = period_metrics(
                period, p, n_boot=min(cfg.n_boot, 200), ci_level=cfg.ci_level, seed=experiment.seed
            )
            bt.rows.append(
                {"as_of": as_of.isoformat(), "period_end": nxt.isoformat(), "policy": policy, **m}
            )
        # the frozen-vs-gated gap on the same people (paired)
        p_f = current["frozen"].bundle.predict(period, "reoffend")
        p_g = current["gated"].bundle.predict(period, "reoffend")
        y_period = period["reoffend_12m"].to_numpy(dtype=int)
        persons = period["person_id"].to_numpy()
        n_boot = min(cfg.n_boot, 200)
        gap = paired_auc_gain(
            y_period, p_f, p_g, persons, n_boot=n_boot, ci_level=cfg.ci_level, seed=experiment.seed
        )
        o_e_gap = paired_o_e_gap(
            y_period, p_f, p_g, persons, n_boot=n_boot, ci_level=cfg.ci_level, seed=experiment.seed
        )
        slope_gap = paired_slope_gap(
            y_period, p_f, p_g, persons, n_boot=n_boot, ci_level=cfg.ci_level, seed=experiment.seed
        )
        bt.rows.append(
            {
                "as_of": as_of.isoformat(),
                "period_end": nxt.isoformat(),
                "policy": "gated_minus_frozen",
                "auc": gap["gain"],
                "auc_ci": gap["gain_ci"],
                **o_e_gap,
                **slope_gap,
                "n_rows": gap["n_rows"],
                "n_people": gap["n_people"],
            }
        )
    return bt


def _paired_distance_gap(
    y: np.ndarray,
    p_frozen: np.ndarray,
    p_gated: np.ndarray,
    person: np.ndarray,
    measure: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[float, np.ndarray]],
    *,
    stream: str,
    n_boot: int,
    ci_level: float,
    seed: int,
) -> tuple[float, list[float | None]]:
    """``|m(frozen) - 1| - |m(gated) - 1|`` and its interval, both models on the same resampled
    people; ``measure(y, p, weights)`` gives the statistic ``m`` (1 is right) and its replicates."""
    y = np.asarray(y, dtype=float)
    w = person_weights(person, n_boot=n_boot, seed=seed, stream=stream)

    def dist(p: np.ndarray) -> tuple[float, np.ndarray]:
        point, reps = measure(y, np.asarray(p, dtype=float), w)
        return abs(point - 1.0), np.abs(reps - 1.0)

    (pf, rf), (pg, rg) = dist(p_frozen), dist(p_gated)
    reps = rf - rg if len(w) else np.full(0, np.nan)
    return float(pf - pg), _interval(reps, ci_level)


def _o_e(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return y.sum() / p.sum(), (w @ y) / (w @ p)


def _slope(y: np.ndarray, p: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    from riskmodel.models import calibration_fit, calibration_fit_replicates

    reps = calibration_fit_replicates(y, p, w)[:, 0] if len(w) else np.zeros(0)
    return calibration_fit(y, p)[0], reps


def paired_o_e_gap(
    y: np.ndarray,
    p_frozen: np.ndarray,
    p_gated: np.ndarray,
    person: np.ndarray,
    *,
    n_boot: int,
    ci_level: float,
    seed: int,
) -> dict[str, Any]:
    """How much further from 1 the frozen model's recorded-over-predicted reoffending is than
    the gated model's, ``|O/E frozen - 1| - |O/E gated - 1|``, with a paired bootstrap by
    person (both models on the same resampled people). Above zero: the gated model is closer
    to what was recorded."""
    point, ci = _paired_distance_gap(
        y,
        p_frozen,
        p_gated,
        person,
        _o_e,
        stream="refresh.backtest.o_e",
        n_boot=n_boot,
        ci_level=ci_level,
        seed=seed,
    )
    return {"o_e_distance_gap": point, "o_e_distance_gap_ci": ci}


def paired_slope_gap(
    y: np.ndarray,
    p_frozen: np.ndarray,
    p_gated: np.ndarray,
    person: np.ndarray,
    *,
    n_boot: int,
    ci_level: float,
    seed: int,
) -> dict[str, Any]:
    """How much further from 1 the frozen model's calibration slope is than the gated model's,
    ``|slope frozen - 1| - |slope gated - 1|``, paired bootstrap by person. Above zero: the
    gated model's spread of risk is the closer to right (below 1 the probabilities are too
    extreme: the high ones too high, the low ones too low)."""
    point, ci = _paired_distance_gap(
        y,
        p_frozen,
        p_gated,
        person,
        _slope,
        stream="refresh.backtest.slope",
        n_boot=n_boot,
        ci_level=ci_level,
        seed=seed,
    )
    return {"slope_distance_gap": point, "slope_distance_gap_ci": ci}


def equivalence(lo: float | None, hi: float | None, margin: float) -> str:
    """``equivalent`` when the whole interval lies within ``+-margin`` (two one-sided tests at
    the interval's level); else the one verdict rule's better / worse / no clear difference
    (an interval that straddles zero but reaches past the margin cannot show equivalence)."""
    if lo is None or hi is None:
        return "undefined"
    if -margin < lo and hi < margin:
        return f"equivalent (within +-{margin:g})"
    return verdict(lo, hi)


def _figure(
    df: pd.DataFrame,
    metric: str,
    label: str,
    *,
    ref: float | None = None,
    band: tuple[float, float] | None = None,
    log: bool = False,
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from riskmodel.reports import figure_to_data_uri

    fig, ax = plt.subplots(figsize=(8.5, 3.2))
    colours = {"frozen": "#a4161a", "gated": "#1b6e3a", "ungated": "#4361ee"}
    for i, policy in enumerate(POLICIES):
        sub = df[df["policy"] == policy]
        if sub.empty or metric not in sub:
            continue
        x = pd.to_datetime(sub["as_of"]) + pd.Timedelta(days=8 * (i - 1))
        lo = np.array([c[0] if c and c[0] is not None else np.nan for c in sub[f"{metric}_ci"]])
        hi = np.array([c[1] if c and c[1] is not None else np.nan for c in sub[f"{metric}_ci"]])
        v = sub[metric].to_numpy(dtype=float)
        # a percentile interval need not hold its point estimate (a largest ratio, say, is
        # biased upwards in resamples): no bar on that side rather than a negative one
        below, above = np.fmax(v - lo, 0.0), np.fmax(hi - v, 0.0)
        ax.errorbar(
            x, v, yerr=[below, above], fmt="o-", capsize=3, color=colours[policy], label=policy
        )
    if ref is not None:
        ax.axhline(ref, color="#555", lw=0.8, ls="--", zorder=0)
    if band is not None:
        ax.axhspan(*band, color="#999", alpha=0.15, zorder=0, label=f"band {band[0]:g}-{band[1]:g}")
    if log:  # a ratio: 2 and 1/2 are as far from parity, and a wide interval stays readable
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_ylabel(label)
    ax.set_xlabel("start of the period scored (people assessed in the following months)")
    ax.legend(frameon=False, ncol=4)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return figure_to_data_uri(fig)


def write_backtest_report(bt: Backtest, out_dir: Any, *, title: str = "") -> tuple[Any, Any]:
    """``backtest.html`` (figures over time, the refresh decisions) and ``backtest.json``."""
    import riskmodel
    from riskmodel.reports import write_report

    df = bt.frame()

    def clean(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in r.items() if not (isinstance(v, float) and not np.isfinite(v))}
            for r in records
        ]

    figures = {
        "auc": _figure(df, "auc", "AUC (reoffending)"),
        "calibration_slope": _figure(df, "calibration_slope", "calibration slope", ref=1.0),
        "observed_to_expected": _figure(
            df, "observed_to_expected", "recorded / predicted reoffending", ref=1.0
        ),
        "harm_share_top_k": _figure(df, "harm_share_top_k", f"harm share, top {TOP_K_SHARE:.0%}"),
        "largest_disparity": _figure(
            df,
            "largest_disparity",
            "largest selection-rate ratio (log scale)",
            ref=1.0,
            band=DISPARITY_BAND,
            log=True,
        ),
    }
    gap = clean(df[df["policy"] == "gated_minus_frozen"].to_dict("records"))
    payload = {
        "title": title,
        "config": bt.config,
        "periods": clean([r for r in df.to_dict("records") if r["policy"] in POLICIES]),
        "gated_minus_frozen": gap,
        "refreshes": bt.refreshes,
        "summary": backtest_summary(bt),
    }
    return write_report(
        out_dir,
        "backtest",
        "backtest.html.j2",
        payload,
        figures=figures,
        version=riskmodel.__version__,
    )


def _o_e_words(row: Any) -> str:
    """``1.12 (1.09-1.15), more recorded than predicted`` by the one verdict rule (an interval
    that excludes 1 says which way; one that holds 1 says no clear difference)."""
    v, (lo, hi) = row["observed_to_expected"], row["observed_to_expected_ci"]
    if lo is None or hi is None:
        return f"{v:.2f} (interval undefined)"
    if lo > 1:
        words = "more reoffending recorded than predicted"
    elif hi < 1:
        words = "less reoffending recorded than predicted"
    else:
        words = "no clear difference from what was predicted"
    return f"{v:.2f} ({lo:.2f}-{hi:.2f}), {words}"


def _in_the_large(df: pd.DataFrame) -> str:
    """Calibration in the large of the frozen and gated models in the first and last periods."""
    fz = df[df["policy"] == "frozen"]
    gt = df[df["policy"] == "gated"]
    a, b, g = fz.iloc[0], fz.iloc[-1], gt.iloc[-1]
    return (
        "Recorded reoffending over what the model predicted: the frozen model "
        f"{_o_e_words(a)} in the first period, {_o_e_words(b)} in the last; the gated policy's "
        f"model {_o_e_words(g)} in the last (the observed rate went from {a['observed_rate']:.1%}"
        f" to {b['observed_rate']:.1%})."
    )


_O_E_ABOVE = "the gated model is the better calibrated"
_SLOPE_ABOVE = "the gated model's spread of risk is the closer to right"


def backtest_summary(bt: Backtest) -> list[str]:
    """Plain sentences by one rule: better / worse / no clear difference, from the interval."""
    df = bt.frame()
    out = []
    gap = df[df["policy"] == "gated_minus_frozen"]
    if bt.refreshes and not any(r["promoted"] for r in bt.refreshes):
        out.append(
            "No scheduled refresh passed the gates, so the gated policy kept the first model: "
            "gated and frozen are the same model in every period (see the refreshes below)."
        )
    elif not gap.empty:
        last = gap.iloc[-1]
        lo, hi = last["auc_ci"]
        words = equivalence(lo, hi, AUC_EQUIVALENCE)
        span = "interval undefined" if lo is None else f"{lo:+.3f} to {hi:+.3f}"
        out.append(
            f"Last period ({last['as_of']} on): gated refresh against the frozen model, AUC gain "
            f"{last['auc']:+.3f} ({span}): {words}."
        )
        for key, margin, what, above in (
            ("o_e_distance_gap", O_E_EQUIVALENCE, "recorded/predicted reoffending", _O_E_ABOVE),
            ("slope_distance_gap", SLOPE_EQUIVALENCE, "calibration slope", _SLOPE_ABOVE),
        ):
            ci = last.get(f"{key}_ci")
            if not isinstance(ci, list | tuple):  # not measured (a backtest written before it was)
                continue
            lo, hi = ci
            words = equivalence(lo, hi, margin)
            span = "interval undefined" if lo is None else f"{lo:+.3f} to {hi:+.3f}"
            out.append(
                f"Last period: how much further from 1 the frozen model's {what} is than the "
                f"gated model's, {last[key]:+.3f} ({span}): {words} (above zero: {above})."
            )
    frozen = df[df["policy"] == "frozen"]
    if len(frozen) >= 2:
        a, b = frozen.iloc[0], frozen.iloc[-1]
        out.append(
            f"The frozen model's AUC went from {a['auc']:.3f} ({a['auc_ci'][0]:.3f}-"
            f"{a['auc_ci'][1]:.3f}) in the first period to {b['auc']:.3f} ({b['auc_ci'][0]:.3f}-"
            f"{b['auc_ci'][1]:.3f}) in the last (different people: intervals are not paired)."
        )
        out.append(_in_the_large(df))
    n_prom = sum(r["promoted"] for r in bt.refreshes)
    out.append(
        f"{n_prom} of {len(bt.refreshes)} scheduled refreshes passed the gates"
        + (
            ", so the gated and ungated policies held the same model in every period (their "
            "lines in the figures coincide)."
            if bt.refreshes and n_prom == len(bt.refreshes)
            else "."
        )
    )
    return out


__all__ = [
    "Backtest",
    "add_months",
    "equivalence",
    "paired_o_e_gap",
    "paired_slope_gap",
    "period_metrics",
    "run_backtest",
    "write_backtest_report",
]

"""Calibration report: each published figure against what the generated world shows.

Targets (value, tolerance, kind, source) live in the world config; this module computes the
generated side with one function per metric name. Counts scale with the world's ``scale``;
proportions keep their tolerance but never below three standard errors of the estimate, so a
small test world is judged fairly.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd

from riskmodel.data import AREAS, SEVERE_OFFENCE_TYPES
from riskmodel.evaluation import expected_calibration_error
from riskmodel.schema import age_band
from riskmodel.synth._config import CalibrationTarget, WorldConfig


class World(Protocol):
    """What the calibration report reads of a world (``riskmodel.synth.World``), named here so
    the report does not import the generator that calls it."""

    people: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame
    config: WorldConfig
    scale: float
    start_date: dt.date
    end_date: dt.date
    stats: dict[str, Any]
    calibration: list[dict[str, Any]]


ENTRY_KEYS = ("name", "target", "generated", "tolerance", "ok", "source", "note")
WEST_KENT = ("Sevenoaks", "Tonbridge and Malling", "Tunbridge Wells")
BME = ("asian", "black", "mixed", "other")
#: "high and medium risk" victims of the published figures: the perpetrator's expected rate of
#: incidents (latent propensity x age curve, bursts included) when the abuse began is monthly or more
FREQUENT_ABUSE_PER_YEAR = 12.0
VIOLENT = ("violence_with_injury", "violence_without_injury", "serious_violence")
NA_NO_BIAS = (
    "not applicable: this world records every ethnicity group at the same rate (no measurement "
    "bias), so the share of BME victims equals their share of the population ({generated:.3f}); "
    "the published 5% reflects under-reporting, which a world with measurement_bias reproduces"
)
NA_TOO_FEW = "not applicable: this world has too few records to measure it"
NA_NO_VICTIMS = "not applicable: no victim of frequent abuse was first recorded in this world"
NA_YEAR = "not applicable: {year} is outside the world's recorded history ({first}-{last})"


def _ece_noise(p: np.ndarray, *, bins: int = 10) -> float:
    """Standard deviation of a bin's observed rate under perfect calibration, averaged."""
    order = np.argsort(p, kind="stable")
    sds = [
        math.sqrt(max(p[b].mean() * (1 - p[b].mean()), 1e-12) / len(b))
        for b in np.array_split(order, bins)
        if len(b)
    ]
    return float(np.mean(sds)) if sds else float("inf")


class _Frame:
    """Cached views of a world the metrics share."""

    def __init__(self, world: World) -> None:
        self.world = world
        ev = world.events
        self.da = ev[ev["is_da"].to_numpy(dtype=bool)]
        people = world.people.set_index("person_id")
        self.people = people
        self.da_year = pd.DatetimeIndex(pd.to_datetime(self.da["date"])).year.to_numpy()
        self._victims = None

    def person_attr(self, ids: pd.Series, col: str) -> np.ndarray:
        return self.people[col].reindex(ids.to_numpy()).to_numpy()

    def age_at(self, ids: pd.Series, dates: pd.Series) -> np.ndarray:
        birth = pd.to_datetime(self.person_attr(ids, "birth_date"))
        when = pd.to_datetime(dates.to_numpy())
        return np.asarray((when - birth).days, dtype=np.float64) / 365.25


Metric = Callable[[_Frame, CalibrationTarget], tuple[Any, int | None, str]]
_METRICS: dict[str, Metric] = {}


def metric(name: str) -> Callable[[Metric], Metric]:
    def deco(fn: Metric) -> Metric:
        _METRICS[name] = fn
        return fn

    return deco


@metric("recorded_da_per_year")
def _per_year(f: _Frame, t: CalibrationTarget):
    years = f.world.config.period.years
    return len(f.da) / years, None, ""


def _year_ok(f: _Frame, year: int | None) -> str:
    first, last = f.world.start_date.year, f.world.end_date.year
    if year is None or not first <= year <= last:
        return NA_YEAR.format(year=year, first=first, last=last)
    return ""


@metric("recorded_da_in_year")
def _in_year(f: _Frame, t: CalibrationTarget):
    if na := _year_ok(f, t.year):
        return None, None, na
    return int((f.da_year == t.year).sum()), None, ""


@metric("reported_da_in_year")
def _reported(f: _Frame, t: CalibrationTarget):
    if na := _year_ok(f, t.year):
        return None, None, na
    counts = f.world.stats.get("reported_by_year")
    if counts is None:
        return None, None, "not applicable: a loaded world keeps no unrecorded incidents"
    return int(counts[t.year - f.world.start_date.year]), None, ""


@metric("reoffend_12m_perpetrators")
def _reoffend(f: _Frame, t: CalibrationTarget):
    truth = f.world.truth
    year = pd.DatetimeIndex(pd.to_datetime(truth["date"])).year.to_numpy()
    full = truth["followup_complete"].to_numpy(dtype=bool)
    # years whose every event has a full follow-up
    complete_years = np.unique(year[full])
    complete_years = complete_years[complete_years < f.world.end_date.year]
    sel = np.isin(year, complete_years)
    frame = pd.DataFrame(
        {
            "person": truth["person_id"].to_numpy()[sel],
            "year": year[sel],
            "y": truth["recorded_reoffend_12m"].to_numpy(dtype=bool)[sel],
        }
    )
    first = frame.drop_duplicates(["person", "year"], keep="first")  # truth is in time order
    return float(first["y"].mean()), len(first), ""


@metric("harm_concentration_2y")
def _harm(f: _Frame, t: CalibrationTarget):
    first_year = t.year or (f.world.start_date.year + f.world.config.period.years // 2 - 1)
    sel = (f.da_year >= first_year) & (f.da_year <= first_year + 1)
    if not sel.any():
        return (
            None,
            None,
            NA_YEAR.format(
                year=first_year, first=f.world.start_date.year, last=f.world.end_date.year
            ),
        )
    harm = f.da["harm_days"].to_numpy()[sel]
    per = pd.Series(harm).groupby(f.da["perpetrator_id"].to_numpy()[sel]).sum().to_numpy()
    per = np.sort(per)[::-1]
    cum = np.cumsum(per) / per.sum()
    k = int(np.searchsorted(cum, 0.9, side="left")) + 1
    return k / len(per), None, f"{first_year}-{first_year + 1}: {len(per)} perpetrators"


@metric("male_share_perpetrators")
def _male_perp(f: _Frame, t: CalibrationTarget):
    ids = pd.Series(f.da["perpetrator_id"].unique())
    sex = f.person_attr(ids, "sex")
    return float((sex == "male").mean()), len(ids), ""


@metric("male_share_victims")
def _male_victims(f: _Frame, t: CalibrationTarget):
    da = f.da
    if t.year is not None:  # a year's reports (a trend over time), else the whole history
        if na := _year_ok(f, t.year):
            return None, None, na
        da = da[f.da_year == t.year]
    sex = f.person_attr(da["victim_id"], "sex")
    return float((sex == "male").mean()), len(sex), "share of recorded DA events (reports)"


def _modal_band(f: _Frame, col: str):
    age = f.age_at(f.da[col], f.da["date"])
    bands, counts = np.unique(age_band(age), return_counts=True)
    shares = ", ".join(f"{b}: {c / counts.sum():.2f}" for b, c in zip(bands, counts, strict=True))
    return str(bands[np.argmax(counts)]), None, shares


@metric("modal_age_band_perpetrators")
def _band_perp(f: _Frame, t: CalibrationTarget):
    return _modal_band(f, "perpetrator_id")


@metric("modal_age_band_victims")
def _band_victims(f: _Frame, t: CalibrationTarget):
    return _modal_band(f, "victim_id")


GROWTH_BANDS = ((16, 17), (18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 200))


@metric("age_band_growth")
def _growth(f: _Frame, t: CalibrationTarget):
    """The two age bands whose perpetrators of recorded DA grew most, proportionally, from the
    first three years of the history to the last three (distinct perpetrators a year)."""
    first, last = f.world.start_date.year, f.world.end_date.year
    if last - first < 5:
        return None, None, "na:" + NA_TOO_FEW
    pairs = f.da[["perpetrator_id"]].assign(year=f.da_year)
    pairs = pairs.assign(age=f.age_at(f.da["perpetrator_id"], f.da["date"])).drop_duplicates(
        ["perpetrator_id", "year"]
    )
    labels = [f"{lo}-{hi}" if hi < 200 else f"{lo}+" for lo, hi in GROWTH_BANDS]
    growth = {}
    for (lo, hi), label in zip(GROWTH_BANDS, labels, strict=True):
        band = pairs[(pairs["age"] >= lo) & (pairs["age"] < hi + 1)]
        early = int((band["year"] <= first + 2).sum())
        late = int((band["year"] >= last - 2).sum())
        growth[label] = late / early if early else math.inf
    top = sorted(growth, key=lambda k: -growth[k])[:2]
    note = ", ".join(f"{k}: x{v:.2f}" for k, v in growth.items())
    return sorted(top), None, f"{first}-{first + 2} to {last - 2}-{last}: {note}"


@metric("same_sex_share")
def _same_sex(f: _Frame, t: CalibrationTarget):
    part = f.da[f.da["relationship"].isin(["partner", "ex_partner"]).to_numpy(dtype=bool)]
    same = f.person_attr(part["perpetrator_id"], "sex") == f.person_attr(part["victim_id"], "sex")
    return float(same.mean()), len(part), ""


@metric("bme_share_victims")
def _bme(f: _Frame, t: CalibrationTarget):
    eth = f.person_attr(f.da["victim_id"], "ethnicity")
    share = float(np.isin(eth, BME).mean())
    if f.world.config.measurement_bias.is_neutral_for(BME):
        return share, len(eth), "na:" + NA_NO_BIAS.format(generated=share)
    return share, len(eth), "share of recorded DA events (reports)"


def _rate_by_area(f: _Frame) -> pd.Series:
    pop = pd.Series({a.name: a.population for a in f.world.config.areas})
    counts = f.da["area"].value_counts().reindex(pop.index, fill_value=0)
    return counts / pop


@metric("top_incidence_areas")
def _top_areas(f: _Frame, t: CalibrationTarget):
    rate = _rate_by_area(f).sort_values(ascending=False, kind="stable")
    k = len(t.target) if isinstance(t.target, list) else 4
    top = sorted(rate.index[:k].tolist())
    ranking = ", ".join(
        f"{a} {1000 * r / max(f.world.scale, 1e-12) / f.world.config.period.years:.1f}"
        for a, r in rate.items()
    )
    return top, None, f"recorded DA a year per 1,000 residents (at full scale): {ranking}"


@metric("west_kent_relative_rate")
def _west_kent(f: _Frame, t: CalibrationTarget):
    pop = pd.Series({a.name: a.population for a in f.world.config.areas})
    counts = f.da["area"].value_counts().reindex(pop.index, fill_value=0)
    west = counts[list(WEST_KENT)].sum() / pop[list(WEST_KENT)].sum()
    return float(west / (counts.sum() / pop.sum())), None, ""


@metric("da_share_all_crime")
def _da_share(f: _Frame, t: CalibrationTarget):
    ev = f.world.events
    return float(ev["is_da"].mean()), len(ev), ""


@metric("da_share_violent_crime")
def _da_violent(f: _Frame, t: CalibrationTarget):
    types = f.world.events["offence_type"]
    da_v = types.isin(VIOLENT).sum()
    all_v = da_v + (types == "nonda_violence").sum()
    return float(da_v / all_v) if all_v else None, int(all_v), ""


def _dyads(f: _Frame) -> dict[str, np.ndarray] | None:
    st = f.world.stats
    if "dyad_first_t" not in st:
        return None
    n_days = (f.world.end_date - f.world.start_date).days + 1
    sel = (
        (st["dyad_first_t"] >= 0)
        & (st["dyad_first_t"] <= n_days - 5 * 365.25)
        & (st["dyad_expected_rate"] >= FREQUENT_ABUSE_PER_YEAR)
    )
    return {
        k: st[k][sel] for k in ("dyad_first_t", "dyad_first_recorded_t", "dyad_incidents_before")
    }


@metric("years_before_first_record")
def _years_before(f: _Frame, t: CalibrationTarget):
    d = _dyads(f)
    if d is None:
        return None, None, "not applicable: a loaded world keeps no unrecorded incidents"
    if not len(d["dyad_first_t"]):
        return None, None, NA_NO_VICTIMS
    years = (d["dyad_first_recorded_t"] - d["dyad_first_t"]) / 365.25
    return float(years.mean()), None, f"{len(years)} victims; median {np.median(years):.2f} years"


@metric("incidents_before_first_record")
def _incidents_before(f: _Frame, t: CalibrationTarget):
    d = _dyads(f)
    if d is None:
        return None, None, "not applicable: a loaded world keeps no unrecorded incidents"
    if not len(d["dyad_first_t"]):
        return None, None, NA_NO_VICTIMS
    n = d["dyad_incidents_before"]
    return float(n.mean()), None, f"{len(n)} victims; median {np.median(n):.0f}"


def _victim_flag(f: _Frame, col: str):
    ids = pd.Series(f.da["victim_id"].unique())
    flag = f.person_attr(ids, col).astype(bool)
    return float(flag.mean()), len(ids), "distinct victims of recorded DA"


@metric("victim_mental_health")
def _v_mh(f: _Frame, t: CalibrationTarget):
    return _victim_flag(f, "mental_health")


@metric("victim_substance_misuse")
def _v_sub(f: _Frame, t: CalibrationTarget):
    return _victim_flag(f, "substance_misuse")


@metric("victim_sexual_abuse")
def _v_sexual(f: _Frame, t: CalibrationTarget):
    st = f.world.stats
    if "dyad_sexual_any" not in st:
        return None, None, "not applicable: a loaded world keeps no unrecorded incidents"
    rows = st["dyad_victim_row"]
    any_sexual = pd.Series(st["dyad_sexual_any"]).groupby(rows).any()
    return float(any_sexual.mean()), len(any_sexual), "distinct victims of recorded DA"


@metric("history_years")
def _history(f: _Frame, t: CalibrationTarget):
    days = (f.world.end_date - f.world.start_date).days + 1
    return round(days / 365.25, 2), None, f"{f.world.start_date} to {f.world.end_date}"


@metric("truth_ece")
def _truth_ece(f: _Frame, t: CalibrationTarget):
    truth = f.world.truth
    full = truth[truth["followup_complete"].to_numpy(dtype=bool)]
    p = full["p_reoffend_12m"].to_numpy()
    y = full["recorded_reoffend_12m"].to_numpy(dtype=bool)
    if len(p) < 100:
        return None, None, "not applicable: fewer than 100 events with a complete follow-up"
    ece = expected_calibration_error(y, p)
    note = f"{len(p)} events; observed {y.mean():.4f}, mean truth {p.mean():.4f}; noise {_ece_noise(p):.4f}"
    return ece, len(p), note


def judge_entry(
    t: CalibrationTarget,
    target: Any,
    tol: Any,
    generated: Any,
    n: int | None,
    extra: str,
    *,
    truth_p: Callable[[], np.ndarray],
) -> dict[str, Any]:
    """One calibration entry from a metric's value: ok or not against the target by the target's
    kind (``within`` widened to 3 standard errors of a share; ``truth_ece`` by the ECE's own
    noise, from the truth's probabilities ``truth_p()``), or not applicable with the reason.
    Shared by the single pass and the per-block aggregates, so both judge alike."""
    if isinstance(generated, float) and not math.isfinite(generated):
        generated, extra = None, "na:" + NA_TOO_FEW
    note_parts = [p for p in (t.note, extra) if p]
    ok: bool | None
    if extra.startswith("na:"):
        note_parts = [extra[3:]]
        ok = None
    elif t.kind == "not_applicable" or generated is None:
        ok = None
        if not note_parts:
            note_parts = ["not applicable"]
    elif t.kind == "within":
        if n and isinstance(generated, float) and tol is not None and t.name != "truth_ece":
            se = math.sqrt(max(generated * (1 - generated), 1e-12) / n)
            tol = max(tol, 3 * se)
        if t.name == "truth_ece":
            tol = max(tol or 0.0, 3 * _ece_noise(truth_p()))
        ok = abs(float(generated) - float(target)) <= (tol or 0.0) + 1e-12
    elif t.kind == "at_least":
        ok = float(target) <= float(generated) <= float(target) + (tol or math.inf)
    elif t.kind == "below":
        ok = float(generated) < float(target)
    elif t.kind == "same_set":
        ok = sorted(generated) == sorted(target)
    else:  # equal
        ok = generated == target
    return {
        "name": t.name,
        "target": _clean(target),
        "generated": _clean(generated),
        "tolerance": _clean(tol),
        "ok": ok,
        "source": t.source,
        "note": "; ".join(note_parts),
    }


def _entry(f: _Frame, t: CalibrationTarget) -> dict[str, Any]:
    scale = f.world.scale
    target = t.target
    tol = t.tolerance
    if t.scales and isinstance(target, int | float):
        target = target * scale
        tol = None if tol is None else tol * scale
    if len(f.da) == 0 and t.name != "history_years":
        generated, n, extra = None, None, "na:" + NA_TOO_FEW
    else:
        with warnings.catch_warnings():  # an empty selection in a very small world gives NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            generated, n, extra = _METRICS[t.name](f, t)
    truth = f.world.truth
    return judge_entry(
        t,
        target,
        tol,
        generated,
        n,
        extra,
        truth_p=lambda: truth.loc[truth["followup_complete"], "p_reoffend_12m"].to_numpy(),
    )


def _clean(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        v = float(v)
        return round(v, 6) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def calibration_entries(world: World) -> list[dict[str, Any]]:
    """One entry per calibration target of the world's config."""
    f = _Frame(world)
    return [_entry(f, t) for t in world.config.calibration]


def calibration_report(world: World) -> list[dict[str, Any]]:
    """The calibration entries of a world (computed when generated; recomputed if missing)."""
    return world.calibration if world.calibration else calibration_entries(world)


def severe_types() -> tuple[str, ...]:
    return SEVERE_OFFENCE_TYPES


__all__ = [
    "AREAS",
    "ENTRY_KEYS",
    "calibration_entries",
    "calibration_report",
]

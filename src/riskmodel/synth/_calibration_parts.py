"""The calibration report of a world generated block by block, from per-block aggregates.

A world written in blocks (``write_world_chunked``) is never whole in memory, so each metric of
``synth/_calibration.py`` is computed here from what each block contributes: counts and sums,
and the few arrays that need the whole world (the truth's probabilities of complete follow-ups
for the calibration error, per-perpetrator harm over two years, the dyads of frequent abuse).
People are disjoint across blocks (each person's records live in one block), so per-block
counts of distinct people add up. The entries equal ``calibration_entries`` of the whole world
(tests/synth/test_synth_chunked.py checks it on every metric of the configs).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.evaluation import expected_calibration_error
from riskmodel.schema import age_band
from riskmodel.synth._calibration import (
    BME,
    FREQUENT_ABUSE_PER_YEAR,
    GROWTH_BANDS,
    NA_NO_BIAS,
    NA_NO_VICTIMS,
    NA_TOO_FEW,
    NA_YEAR,
    VIOLENT,
    WEST_KENT,
    _ece_noise,
    judge_entry,
)
from riskmodel.synth._config import CalibrationTarget, WorldConfig
from riskmodel.synth._world import SUMMED_STATS, World

ERR_UNKNOWN_METRIC = (
    "calibration target {name!r} has no per-block version in synth/_calibration_parts.py: add "
    "one (the report of a world generated in blocks is computed from per-block aggregates)"
)

_COUNTERS = (
    "n_events",
    "n_da",
    "n_people",
    "n_programmes",
    "n_completed",
    "da_perpetrators",
    "da_perpetrators_male",
    "da_victims_male",
    "partner_events",
    "partner_same_sex",
    "da_victims_bme",
    "victims",
    "victims_mental_health",
    "victims_substance_misuse",
    "sexual_victims",
    "sexual_victims_any",
    "da_violent",
    "nonda_violent",
)


def _harm_first_year(world: World | Any, t: CalibrationTarget) -> int:
    return t.year or (world.start_date.year + world.config.period.years // 2 - 1)


def _count_by(values: np.ndarray) -> dict[Any, int]:
    keys, counts = np.unique(values, return_counts=True)
    return {
        k.item() if hasattr(k, "item") else k: int(c) for k, c in zip(keys, counts, strict=True)
    }


def _col(df: pd.DataFrame, name: str) -> pa.Array:
    """A column as one Arrow array (zero-copy for the Arrow-backed text and date columns)."""
    return pa.Table.from_pandas(df[[name]], preserve_index=False).column(0).combine_chunks()


def _np(arr: pa.Array) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False)


def block_aggregates(world: World) -> dict[str, Any]:
    """What one block (or any world with its statistics) contributes to the report.

    People are looked up by row (Arrow's ``index_in``) and dates read as day numbers: the same
    figures as the metrics' own lookups, at a fraction of their cost on a national world.
    """
    ev = world.events
    people = world.people
    pid = _col(people, "person_id")

    def rows(ids: pa.Array) -> np.ndarray:
        return _np(pc.index_in(ids, value_set=pid))

    male = _np(pc.equal(_col(people, "sex"), "male"))
    birth = _np(_col(people, "birth_date").cast(pa.int32())).astype(np.int64)
    is_da = ev["is_da"].to_numpy(dtype=bool)
    da_at = pa.array(np.flatnonzero(is_da))
    da_date = _col(ev, "date").take(da_at)
    da_days = _np(da_date.cast(pa.int32())).astype(np.int64)
    da_year = _np(pc.year(da_date)).astype(np.int64)
    perp = rows(_col(ev, "perpetrator_id").take(da_at))
    victim = rows(_col(ev, "victim_id").take(da_at))

    agg: dict[str, Any] = dict.fromkeys(_COUNTERS, 0)
    agg["n_events"] = len(ev)
    agg["n_da"] = len(da_at)
    agg["n_people"] = len(people)
    agg["n_programmes"] = len(world.programmes)
    agg["n_completed"] = int(world.programmes["completed"].sum())
    agg["da_by_year"] = _count_by(da_year)
    # men among victims, year by year (the reports' trend)
    agg["da_victims_male_by_year"] = _count_by(da_year[male[victim]])
    # distinct perpetrators a year by age band at their first recorded DA event of the year, in
    # the first and last three years (each perpetrator's events are in one block)
    first_y, last_y = world.start_date.year, world.end_date.year
    pairs = pd.DataFrame({"perp": perp, "year": da_year, "row": np.arange(len(perp))})
    firsts = pairs.drop_duplicates(["perp", "year"]).to_numpy()
    age = (da_days[firsts[:, 2]] - birth[firsts[:, 0]]) / 365.25
    agg["growth_counts"] = {}
    for lo, hi in GROWTH_BANDS:
        band = (age >= lo) & (age < hi + 1)
        agg["growth_counts"][(lo, hi)] = (
            int((band & (firsts[:, 1] <= first_y + 2)).sum()),
            int((band & (firsts[:, 1] >= last_y - 2)).sum()),
        )

    perps = np.unique(perp)
    agg["da_perpetrators"] = len(perps)
    agg["da_perpetrators_male"] = int(male[perps].sum())
    agg["da_victims_male"] = int(male[victim].sum())
    # age in whole days over 365.25, as the metrics compute it from the two dates
    agg["bands_perpetrators"] = _count_by(age_band((da_days - birth[perp]) / 365.25))
    agg["bands_victims"] = _count_by(age_band((da_days - birth[victim]) / 365.25))
    rel = _col(ev, "relationship").take(da_at)
    partner = _np(pc.fill_null(pc.is_in(rel, value_set=pa.array(["partner", "ex_partner"])), False))
    agg["partner_events"] = int(partner.sum())
    agg["partner_same_sex"] = int((male[perp[partner]] == male[victim[partner]]).sum())
    bme = _np(pc.is_in(_col(people, "ethnicity"), value_set=pa.array(BME)))
    agg["da_victims_bme"] = int(bme[victim].sum())
    areas = pc.value_counts(_col(ev, "area").take(da_at))
    agg["da_by_area"] = {str(v["values"]): int(v["counts"]) for v in areas.to_pylist()}
    types = _col(ev, "offence_type")
    agg["da_violent"] = int(_np(pc.is_in(types, value_set=pa.array(VIOLENT))).sum())
    agg["nonda_violent"] = int(_np(pc.equal(types, "nonda_violence")).sum())
    victims = np.unique(victim)
    agg["victims"] = len(victims)
    agg["victims_mental_health"] = int(people["mental_health"].to_numpy(dtype=bool)[victims].sum())
    agg["victims_substance_misuse"] = int(
        people["substance_misuse"].to_numpy(dtype=bool)[victims].sum()
    )

    # harm over two years, per perpetrator (each perpetrator's events are in one block)
    agg["harm_per_perpetrator"] = {}
    for t in world.config.calibration:
        if t.name == "harm_concentration_2y":
            fy = _harm_first_year(world, t)
            sel = (da_year >= fy) & (da_year <= fy + 1)
            harm = ev["harm_days"].to_numpy()[is_da][sel]
            per = pd.Series(harm).groupby(perp[sel]).sum()
            agg["harm_per_perpetrator"][fy] = per.to_numpy()

    # the truth: first index event per (perpetrator, year), and complete follow-ups
    truth = world.truth
    tyear = _np(pc.year(_col(truth, "date"))).astype(np.int64)
    full = truth["followup_complete"].to_numpy(dtype=bool)
    agg["full_years"] = sorted({int(y) for y in np.unique(tyear[full])})
    frame = pd.DataFrame(
        {
            "person": rows(_col(truth, "person_id")),
            "year": tyear,
            "y": truth["recorded_reoffend_12m"].to_numpy(dtype=bool),
        }
    )
    first = frame.drop_duplicates(["person", "year"], keep="first")
    by_year = first.groupby("year")["y"].agg(["size", "sum"])
    agg["first_by_year"] = {int(y): (int(r["size"]), int(r["sum"])) for y, r in by_year.iterrows()}
    agg["full_p"] = truth["p_reoffend_12m"].to_numpy()[full]
    agg["full_y"] = truth["recorded_reoffend_12m"].to_numpy(dtype=bool)[full]

    st = world.stats
    agg["has_stats"] = "dyad_first_t" in st
    if agg["has_stats"]:
        agg["reported_by_year"] = st["reported_by_year"]
        n_days = (world.end_date - world.start_date).days + 1
        sel = (
            (st["dyad_first_t"] >= 0)
            & (st["dyad_first_t"] <= n_days - 5 * 365.25)
            & (st["dyad_expected_rate"] >= FREQUENT_ABUSE_PER_YEAR)
        )
        for k in ("dyad_first_t", "dyad_first_recorded_t", "dyad_incidents_before"):
            agg[k] = st[k][sel]
        any_sexual = pd.Series(st["dyad_sexual_any"]).groupby(st["dyad_victim_row"]).any()
        agg["sexual_victims"] = len(any_sexual)
        agg["sexual_victims_any"] = int(any_sexual.sum())
    return agg


def merge_aggregates(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The aggregates of consecutive blocks as those of one world (arrays in block order)."""
    out: dict[str, Any] = {k: sum(p[k] for p in parts) for k in _COUNTERS}
    for key in (
        "da_by_year",
        "da_victims_male_by_year",
        "bands_perpetrators",
        "bands_victims",
        "da_by_area",
    ):
        merged: dict[Any, int] = {}
        for p in parts:
            for k, v in p[key].items():
                merged[k] = merged.get(k, 0) + v
        out[key] = merged
    out["first_by_year"] = {}
    for p in parts:
        for y, (n, s) in p["first_by_year"].items():
            n0, s0 = out["first_by_year"].get(y, (0, 0))
            out["first_by_year"][y] = (n0 + n, s0 + s)
    out["full_years"] = sorted({y for p in parts for y in p["full_years"]})
    out["growth_counts"] = {
        band: tuple(sum(p["growth_counts"][band][i] for p in parts) for i in (0, 1))
        for band in parts[0]["growth_counts"]
    }
    out["harm_per_perpetrator"] = {
        fy: np.concatenate([p["harm_per_perpetrator"][fy] for p in parts])
        for fy in parts[0]["harm_per_perpetrator"]
    }
    for key in ("full_p", "full_y"):
        out[key] = np.concatenate([p[key] for p in parts])
    out["has_stats"] = all(p["has_stats"] for p in parts)
    if out["has_stats"]:
        assert "reported_by_year" in SUMMED_STATS
        out["reported_by_year"] = np.sum([p["reported_by_year"] for p in parts], axis=0)
        for k in ("dyad_first_t", "dyad_first_recorded_t", "dyad_incidents_before"):
            out[k] = np.concatenate([p[k] for p in parts])
    return out


class _Metrics:
    """Each calibration metric from the merged aggregates (same rules as _calibration.py)."""

    def __init__(self, agg: dict[str, Any], world: Any) -> None:
        self.a = agg
        self.world = world

    def _year_na(self, year: int | None) -> str:
        first, last = self.world.start_date.year, self.world.end_date.year
        if year is None or not first <= year <= last:
            return NA_YEAR.format(year=year, first=first, last=last)
        return ""

    def recorded_da_per_year(self, t):
        return self.a["n_da"] / self.world.config.period.years, None, ""

    def recorded_da_in_year(self, t):
        if na := self._year_na(t.year):
            return None, None, na
        return int(self.a["da_by_year"].get(t.year, 0)), None, ""

    def reported_da_in_year(self, t):
        if na := self._year_na(t.year):
            return None, None, na
        if not self.a["has_stats"]:
            return None, None, "not applicable: a loaded world keeps no unrecorded incidents"
        return int(self.a["reported_by_year"][t.year - self.world.start_date.year]), None, ""

    def reoffend_12m_perpetrators(self, t):
        years = [y for y in self.a["full_years"] if y < self.world.end_date.year]
        n = sum(self.a["first_by_year"].get(y, (0, 0))[0] for y in years)
        s = sum(self.a["first_by_year"].get(y, (0, 0))[1] for y in years)
        return (s / n if n else math.nan), n, ""

    def harm_concentration_2y(self, t):
        fy = _harm_first_year(self.world, t)
        if not any(fy <= y <= fy + 1 for y in self.a["da_by_year"]):
            return (
                None,
                None,
                NA_YEAR.format(
                    year=fy, first=self.world.start_date.year, last=self.world.end_date.year
                ),
            )
        per = np.sort(self.a["harm_per_perpetrator"][fy])[::-1]
        cum = np.cumsum(per) / per.sum()
        k = int(np.searchsorted(cum, 0.9, side="left")) + 1
        return k / len(per), None, f"{fy}-{fy + 1}: {len(per)} perpetrators"

    def male_share_perpetrators(self, t):
        n = self.a["da_perpetrators"]
        return (self.a["da_perpetrators_male"] / n if n else math.nan), n, ""

    def male_share_victims(self, t):
        if t.year is None:
            n, male = self.a["n_da"], self.a["da_victims_male"]
        else:  # a year's reports (a trend over time)
            if na := self._year_na(t.year):
                return None, None, na
            n = self.a["da_by_year"].get(t.year, 0)
            male = self.a["da_victims_male_by_year"].get(t.year, 0)
        return male / n, n, "share of recorded DA events (reports)"

    def _band(self, key: str):
        bands = sorted(self.a[key])
        counts = np.array([self.a[key][b] for b in bands])
        shares = ", ".join(
            f"{b}: {c / counts.sum():.2f}" for b, c in zip(bands, counts, strict=True)
        )
        return str(bands[int(np.argmax(counts))]), None, shares

    def modal_age_band_perpetrators(self, t):
        return self._band("bands_perpetrators")

    def modal_age_band_victims(self, t):
        return self._band("bands_victims")

    def age_band_growth(self, t):
        first, last = self.world.start_date.year, self.world.end_date.year
        if last - first < 5:
            return None, None, "na:" + NA_TOO_FEW
        growth = {}
        for (lo, hi), (early, late) in self.a["growth_counts"].items():
            label = f"{lo}-{hi}" if hi < 200 else f"{lo}+"
            growth[label] = late / early if early else math.inf
        top = sorted(growth, key=lambda k: -growth[k])[:2]
        note = ", ".join(f"{k}: x{v:.2f}" for k, v in growth.items())
        return sorted(top), None, f"{first}-{first + 2} to {last - 2}-{last}: {note}"

    def same_sex_share(self, t):
        n = self.a["partner_events"]
        return (self.a["partner_same_sex"] / n if n else math.nan), n, ""

    def bme_share_victims(self, t):
        n = self.a["n_da"]
        share = self.a["da_victims_bme"] / n
        if self.world.config.measurement_bias.is_neutral_for(BME):
            return share, n, "na:" + NA_NO_BIAS.format(generated=share)
        return share, n, "share of recorded DA events (reports)"

    def _rate_by_area(self) -> pd.Series:
        pop = pd.Series({a.name: a.population for a in self.world.config.areas})
        counts = pd.Series(self.a["da_by_area"], dtype="int64").reindex(pop.index, fill_value=0)
        return counts, pop

    def top_incidence_areas(self, t):
        counts, pop = self._rate_by_area()
        rate = (counts / pop).sort_values(ascending=False, kind="stable")
        k = len(t.target) if isinstance(t.target, list) else 4
        top = sorted(rate.index[:k].tolist())
        ranking = ", ".join(
            f"{a} {1000 * r / max(self.world.scale, 1e-12) / self.world.config.period.years:.1f}"
            for a, r in rate.items()
        )
        return top, None, f"recorded DA a year per 1,000 residents (at full scale): {ranking}"

    def west_kent_relative_rate(self, t):
        counts, pop = self._rate_by_area()
        west = counts[list(WEST_KENT)].sum() / pop[list(WEST_KENT)].sum()
        return float(west / (counts.sum() / pop.sum())), None, ""

    def da_share_all_crime(self, t):
        n = self.a["n_events"]
        return (self.a["n_da"] / n if n else math.nan), n, ""

    def da_share_violent_crime(self, t):
        da_v = self.a["da_violent"]
        all_v = da_v + self.a["nonda_violent"]
        return (float(da_v / all_v) if all_v else None), int(all_v), ""

    def _dyads(self):
        if not self.a["has_stats"]:
            return None, "not applicable: a loaded world keeps no unrecorded incidents"
        if not len(self.a["dyad_first_t"]):
            return None, NA_NO_VICTIMS
        return self.a, ""

    def years_before_first_record(self, t):
        d, na = self._dyads()
        if d is None:
            return None, None, na
        years = (d["dyad_first_recorded_t"] - d["dyad_first_t"]) / 365.25
        return (
            float(years.mean()),
            None,
            f"{len(years)} victims; median {np.median(years):.2f} years",
        )

    def incidents_before_first_record(self, t):
        d, na = self._dyads()
        if d is None:
            return None, None, na
        n = d["dyad_incidents_before"]
        return float(n.mean()), None, f"{len(n)} victims; median {np.median(n):.0f}"

    def _victim_flag(self, key: str):
        n = self.a["victims"]
        return (self.a[key] / n if n else math.nan), n, "distinct victims of recorded DA"

    def victim_mental_health(self, t):
        return self._victim_flag("victims_mental_health")

    def victim_substance_misuse(self, t):
        return self._victim_flag("victims_substance_misuse")

    def victim_sexual_abuse(self, t):
        if not self.a["has_stats"]:
            return None, None, "not applicable: a loaded world keeps no unrecorded incidents"
        n = self.a["sexual_victims"]
        return (
            (self.a["sexual_victims_any"] / n if n else math.nan),
            n,
            ("distinct victims of recorded DA"),
        )

    def history_years(self, t):
        w = self.world
        days = (w.end_date - w.start_date).days + 1
        return round(days / 365.25, 2), None, f"{w.start_date} to {w.end_date}"

    def truth_ece(self, t):
        p, y = self.a["full_p"], self.a["full_y"]
        if len(p) < 100:
            return None, None, "not applicable: fewer than 100 events with a complete follow-up"
        ece = expected_calibration_error(y, p)
        note = (
            f"{len(p)} events; observed {y.mean():.4f}, mean truth {p.mean():.4f}; "
            f"noise {_ece_noise(p):.4f}"
        )
        return ece, len(p), note


def entries_from_aggregates(agg: dict[str, Any], world: Any) -> list[dict[str, Any]]:
    """The calibration entries (as ``calibration_entries``) of the world ``agg`` describes;
    ``world`` gives the config, scale and dates (its tables are not read)."""
    metrics = _Metrics(agg, world)
    return [_entry(metrics, t, world.config, world.scale) for t in world.config.calibration]


def _entry(m: _Metrics, t: CalibrationTarget, config: WorldConfig, scale: float) -> dict:
    target = t.target
    tol = t.tolerance
    if t.scales and isinstance(target, int | float):
        target = target * scale
        tol = None if tol is None else tol * scale
    fn = getattr(m, t.name, None)
    if fn is None:
        raise ValueError(ERR_UNKNOWN_METRIC.format(name=t.name))
    if m.a["n_da"] == 0 and t.name != "history_years":
        generated, n, extra = None, None, "na:" + NA_TOO_FEW
    else:
        generated, n, extra = fn(t)
    return judge_entry(t, target, tol, generated, n, extra, truth_p=lambda: m.a["full_p"])


def report_inputs(agg: dict[str, Any], config: WorldConfig) -> dict[str, Any]:
    """What calibration.html shows besides the entries: the summary and the figures' data."""
    full_y = agg["full_y"]
    full_p = agg["full_p"]
    years = config.period.years
    summary = {
        "people": agg["n_people"],
        "events": agg["n_events"],
        "da_events": agg["n_da"],
        "da_per_year": agg["n_da"] / years,
        "perpetrators": agg["da_perpetrators"],
        "programmes": agg["n_programmes"],
        "completed": agg["n_completed"],
        "event_reoffend": float(pd.Series(full_y).mean()) if len(full_y) else None,
        "mean_truth": float(pd.Series(full_p).mean()) if len(full_p) else None,
    }
    per_year = pd.Series(
        {y: agg["da_by_year"][y] for y in sorted(agg["da_by_year"])}, dtype="int64"
    )
    return {"summary": summary, "per_year": per_year, "p": full_p, "y": full_y.astype(float)}

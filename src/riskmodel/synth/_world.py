"""Generate a world: people, recorded events, programmes and the truth (docs/CONTRACTS.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskmodel.data import AREAS, ETHNICITIES, OFFENCE_TYPES, RELATIONSHIPS, SEXES
from riskmodel.provenance import rng
from riskmodel.synth._calibration import calibration_entries
from riskmodel.synth._config import WorldConfig
from riskmodel.synth._offending import nonda_offences
from riskmodel.synth._params import (
    ALL_TYPES,
    FOLLOWUP_DAYS,
    NONDA_VIOLENCE,
    YEAR,
    WorldParams,
    build_params,
)
from riskmodel.synth._population import draw_nonda_offenders, draw_perpetrators
from riskmodel.synth._simulate import ChunkResult, simulate_chunk, truth_tables

#: perpetrators simulated together; fixed, so the output never depends on the machine
CHUNK_SIZE = 200_000
NONDA_CHUNK_SIZE = 1_000_000
PERSON_ID_WIDTH = 9
EVENT_ID_WIDTH = 10

Progress = Callable[[str, float], None]

ERR_SCALE = "scale must be a positive number, got {scale!r}"


@dataclass
class World:
    """A generated (or loaded) world: the four tables of docs/CONTRACTS.md and their provenance.

    ``incidents`` (every true incident, recorded or not) is kept only when asked for
    (``generate_world(..., keep_incidents=True)``): it is for tests and audits, never written.
    ``stats`` holds the internal figures the calibration report needs.
    """

    people: pd.DataFrame
    events: pd.DataFrame
    programmes: pd.DataFrame
    truth: pd.DataFrame
    config: WorldConfig
    seed: int
    scale: float
    start_date: dt.date
    end_date: dt.date
    calibration: list[dict[str, Any]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    incidents: pd.DataFrame | None = None
    stats: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.config.name

    def row_counts(self) -> dict[str, int]:
        return {
            "people": len(self.people),
            "events": len(self.events),
            "programmes": len(self.programmes),
            "truth": len(self.truth),
        }


# -- column builders --------------------------------------------------------------------------
def _ids(prefix: str, n: int, width: int) -> pd.Series:
    digits = pc.utf8_lpad(pa.array(np.arange(n, dtype=np.int64)).cast(pa.string()), width, "0")
    return pd.Series(pc.binary_join_element_wise(prefix, digits, "").to_pandas(), dtype="str")


def _labels(names: tuple[str, ...], codes: np.ndarray) -> pd.Series:
    """Text column from integer codes (negative code = null)."""
    codes = np.asarray(codes, dtype=np.int64)
    arr = pa.array(codes, mask=codes < 0)
    return pd.Series(pc.take(pa.array(names), arr).to_pandas(), dtype="str")


DATE = pd.ArrowDtype(pa.date32())


def _dates(start: dt.date, t: np.ndarray) -> pd.arrays.ArrowExtensionArray:
    """Dates (date32, the contract's type in memory and on disk) of day offsets ``t``;
    NaN or infinite offsets give nulls."""
    t = np.asarray(t, dtype=np.float64)
    ok = np.isfinite(t)
    days = np.floor(np.where(ok, t, 0.0)).astype(np.int64)
    d64 = np.datetime64(start, "D") + days.astype("timedelta64[D]")
    return pd.arrays.ArrowExtensionArray(pa.array(d64, type=pa.date32(), mask=~ok))


# -- generation -------------------------------------------------------------------------------
def generate_world(
    config: WorldConfig,
    *,
    seed: int | None = None,
    scale: float = 1.0,
    progress: Progress | None = None,
    keep_incidents: bool = False,
) -> World:
    """Generate a synthetic world from a validated config.

    Parameters
    ----------
    config : the world (``riskmodel.config.load_world_config``)
    seed : overrides ``config.seed``; same config, seed and scale give identical tables
    scale : multiplies the numbers of people (0.1 for a tenth of Kent and Medway)
    progress : optional ``progress(step, fraction)`` callback (fraction of the whole in [0, 1])
    keep_incidents : keep every true incident in ``World.incidents`` (tests, small worlds)
    """
    if not (isinstance(scale, int | float) and scale > 0 and np.isfinite(scale)):
        raise ValueError(ERR_SCALE.format(scale=scale))
    seed = int(config.seed if seed is None else seed)
    say = progress or (lambda _step, _fraction: None)
    params = build_params(config)

    say("solving the truth's burst equations", 0.0)
    tables = truth_tables(params)
    n_perp = max(1, int(round(config.population.perpetrators * scale)))
    n_slots = config.relationships.partner_episodes.max_episodes + 2
    nd_base = n_perp + n_perp * n_slots  # person keys of non-DA-only offenders start here

    results: list[ChunkResult] = []
    n_chunks = -(-n_perp // CHUNK_SIZE)
    for c in range(n_chunks):  # blocks of perpetrators (bounded memory), each vectorised
        lo, hi = c * CHUNK_SIZE, min(n_perp, (c + 1) * CHUNK_SIZE)
        say(f"simulating offending (block {c + 1} of {n_chunks})", 0.02 + 0.8 * c / n_chunks)
        perps = draw_perpetrators(params, hi - lo, rng(seed, f"block/{c}/perpetrators"))
        results.append(
            simulate_chunk(
                params,
                perps,
                tables=tables,
                offset=lo,
                n_total=n_perp,
                stream=lambda name, c=c: rng(seed, f"block/{c}/{name}"),
                keep_incidents=keep_incidents,
            )
        )

    say("non-DA offending", 0.85)
    nd = _nonda_offenders(params, seed=seed, scale=scale, nd_base=nd_base)

    say("assembling the tables", 0.9)
    world = _assemble(
        params,
        results=results,
        nd=nd,
        n_perp=n_perp,
        nd_base=nd_base,
        seed=seed,
        scale=float(scale),
        keep_incidents=keep_incidents,
    )
    say("calibration report", 0.97)
    world.calibration = calibration_entries(world)
    say("done", 1.0)
    return world


def _nonda_offenders(
    params: WorldParams, *, seed: int, scale: float, nd_base: int
) -> dict[str, np.ndarray]:
    """Recorded offences of people who never commit DA, in blocks; only offenders with a
    recorded offence are kept (key, time, offence type, and their attributes)."""
    cfg = params.cfg
    cal = params.cal
    n = int(round(cfg.nonda.offenders * scale))
    parts: list[dict[str, np.ndarray]] = []
    for c, lo in enumerate(range(0, n, NONDA_CHUNK_SIZE)):
        size = min(NONDA_CHUNK_SIZE, n - lo)
        people, rate = draw_nonda_offenders(params, size, rng(seed, f"nonda/{c}/offenders"))
        g = rng(seed, f"nonda/{c}/offending")
        owner, t, kind = nonda_offences(
            rate,
            people.birth_t,
            n_days=cal.n_days,
            params=params,
            violence_share=cfg.nonda.violence_share,
            rng=g,
        )
        who = np.flatnonzero(np.bincount(owner, minlength=size))
        parts.append(
            {
                "event_key": owner.astype(np.int64) + lo + nd_base,
                "event_t": t,
                "event_type": kind,
                "key": who.astype(np.int64) + lo + nd_base,
                **{
                    col: getattr(people, col)[who]
                    for col in (
                        "birth_t",
                        "sex",
                        "ethnicity",
                        "area",
                        "disability",
                        "mental_health",
                        "substance_misuse",
                    )
                },
            }
        )
    if not parts:
        empty_i = np.zeros(0, dtype=np.int64)
        return {
            k: empty_i for k in ("event_key", "event_type", "key", "sex", "ethnicity", "area")
        } | {
            "event_t": np.zeros(0),
            "birth_t": np.zeros(0),
            "disability": np.zeros(0, bool),
            "mental_health": np.zeros(0, bool),
            "substance_misuse": np.zeros(0, bool),
        }
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _cat(results: list[ChunkResult], name: str) -> np.ndarray:
    return np.concatenate([getattr(r, name) for r in results])


def _assemble(
    params: WorldParams,
    *,
    results: list[ChunkResult],
    nd: dict[str, np.ndarray],
    n_perp: int,
    nd_base: int,
    seed: int,
    scale: float,
    keep_incidents: bool,
) -> World:
    cal = params.cal
    cfg = params.cfg
    nd_key, nd_t, nd_type = nd["event_key"], nd["event_t"], nd["event_type"]

    # every recorded event, DA and non-DA, in one time order
    da_person = _cat(results, "person")
    da_t = _cat(results, "t")
    n_da = len(da_t)
    ev_person = np.concatenate([da_person, _cat(results, "nonda_person"), nd_key])
    ev_t = np.concatenate([da_t, _cat(results, "nonda_t"), nd_t])
    ev_type = np.concatenate([_cat(results, "offence"), _cat(results, "nonda_offence"), nd_type])
    n_ev = len(ev_t)
    ev_victim = np.full(n_ev, -1, dtype=np.int64)
    ev_victim[:n_da] = _cat(results, "victim")
    ev_rel = np.full(n_ev, -1, dtype=np.int64)
    ev_rel[:n_da] = _cat(results, "relationship")
    order = np.lexsort((np.arange(n_ev), ev_t))  # time order; ties (never in practice) by origin
    rank = np.empty(n_ev, dtype=np.int64)
    rank[order] = np.arange(n_ev)

    # people: everyone who appears in a recorded DA event or as a non-DA offender; ids in order
    # of first appearance, as a force's records would create them
    keys = np.concatenate([ev_person, ev_victim[:n_da]])
    key_t = np.concatenate([ev_t, da_t])
    o = np.lexsort((key_t, keys))
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[o][1:] != keys[o][:-1]
    pkeys, pfirst = keys[o][first], key_t[o][first]
    porder = np.lexsort((pkeys, pfirst))
    pkeys, pfirst = pkeys[porder], pfirst[porder]
    n_people = len(pkeys)

    groups = [r.perpetrators for r in results] + [r.victims for r in results] + [nd]
    attrs = _person_attributes(groups, pkeys)

    # non-DA violence has a personal victim: someone already in the records, aged 16 or more
    vrng = rng(seed, "nonda-victims")
    nd_violent = np.nonzero(ev_type == NONDA_VIOLENCE)[0]
    pick = np.full(len(nd_violent), -1, dtype=np.int64)
    for _ in range(4):  # a few attempts (not a loop over events); the rest stay without victim
        todo = pick < 0
        cand = vrng.integers(0, n_people, len(nd_violent))
        ok = (
            (pkeys[cand] != ev_person[nd_violent])
            & ((ev_t[nd_violent] - attrs["birth_t"][cand]) >= 16 * YEAR)
            & todo
        )
        pick[ok] = cand[ok]
    pos_of = np.argsort(pkeys)  # key -> person row
    sorted_keys = pkeys[pos_of]

    def row_of(k: np.ndarray) -> np.ndarray:
        return pos_of[np.searchsorted(sorted_keys, k)]

    victim_row = np.full(n_ev, -1, dtype=np.int64)
    victim_row[:n_da] = row_of(ev_victim[:n_da])
    victim_row[nd_violent] = pick
    perp_row = row_of(ev_person)

    start = cal.start
    person_ids = _ids("P", n_people, PERSON_ID_WIDTH)
    pid = person_ids.to_numpy()
    people = pd.DataFrame(
        {
            "person_id": person_ids,
            "birth_date": _dates(start, attrs["birth_t"]),
            "sex": _labels(SEXES, attrs["sex"]),
            "ethnicity": _labels(ETHNICITIES, attrs["ethnicity"]),
            "area": _labels(AREAS, attrs["area"]),
            "disability": attrs["disability"].astype(bool),
            "mental_health": attrs["mental_health"].astype(bool),
            "substance_misuse": attrs["substance_misuse"].astype(bool),
        }
    )

    s_type = ev_type[order]
    is_da = np.array([OFFENCE_TYPES[t][1] for t in ALL_TYPES])[s_type]
    s_victim = victim_row[order]
    events = pd.DataFrame(
        {
            "event_id": _ids("E", n_ev, EVENT_ID_WIDTH),
            "date": _dates(start, ev_t[order]),
            "perpetrator_id": pd.Series(pid[perp_row[order]], dtype="str"),
            "victim_id": _take_ids(pid, s_victim),
            "offence_type": _labels(ALL_TYPES, s_type),
            "harm_days": params.harm_days[s_type].astype(np.float64),
            "is_da": is_da,
            "relationship": _labels(RELATIONSHIPS, ev_rel[order]),
            "area": _labels(AREAS, attrs["area"][perp_row[order]]),
        }
    )

    # the truth: one row per recorded DA event, in event_id order
    da_rank = rank[:n_da]
    t_order = np.argsort(da_rank)
    last_day = cal.n_days - 1
    truth = pd.DataFrame(
        {
            "event_id": events["event_id"].to_numpy()[da_rank[t_order]],
            "person_id": pid[perp_row[:n_da][t_order]],
            "date": _dates(start, da_t[t_order]),
            "p_reoffend_12m": _cat(results, "p_reoffend")[t_order],
            "p_severe_12m": _cat(results, "p_severe")[t_order],
            "true_incidents_12m": _cat(results, "true_incidents_12m")[t_order],
            "recorded_reoffend_12m": _cat(results, "recorded_reoffend_12m")[t_order],
            "followup_complete": (np.floor(da_t[t_order]) + FOLLOWUP_DAYS) <= last_day,
        }
    )
    for col in ("event_id", "person_id"):
        truth[col] = truth[col].astype("str")
    # the equal-recording counterfactual (synth/_simulate.py), appended after the original columns
    for col in ("recorded_incidents_12m", "equal_recording_incidents_12m"):
        truth[col] = _cat(results, col)[t_order]

    programmes = _programmes(cal, results, pid, row_of)

    stats = _merge_stats(results)
    stats["people_keys"] = pkeys
    stats["n_perpetrators"] = n_perp
    stats["dyad_victim_row"] = row_of(stats.pop("dyad_victim"))
    incidents = _incidents_frame(results, pid, row_of, pkeys, start) if keep_incidents else None
    return World(
        people=people,
        events=events,
        programmes=programmes,
        truth=truth,
        config=cfg,
        seed=seed,
        scale=scale,
        start_date=cal.start,
        end_date=cal.end,
        incidents=incidents,
        stats=stats,
    )


def _take_ids(pid: np.ndarray, rows: np.ndarray) -> pd.Series:
    out = np.full(len(rows), None, dtype=object)
    ok = rows >= 0
    out[ok] = pid[rows[ok]]
    return pd.Series(out, dtype="str")


def _person_attributes(
    groups: list[dict[str, np.ndarray]], pkeys: np.ndarray
) -> dict[str, np.ndarray]:
    """Attributes of each person key, from the groups (perpetrators, victims, non-DA offenders)
    that hold them (each group: ``key`` and one array per attribute)."""
    cols = (
        "birth_t",
        "sex",
        "ethnicity",
        "area",
        "disability",
        "mental_health",
        "substance_misuse",
    )
    keys = np.concatenate([g["key"] for g in groups])
    order = np.argsort(keys, kind="stable")
    pos = order[np.searchsorted(keys[order], pkeys)]
    if not np.array_equal(keys[pos], pkeys):
        raise AssertionError("a person in the records has no attributes")
    return {c: np.concatenate([np.asarray(g[c]) for g in groups])[pos] for c in cols}


def _programmes(cal, results: list[ChunkResult], pid: np.ndarray, row_of) -> pd.DataFrame:
    person = _cat(results, "prog_person")
    referral = _cat(results, "prog_referral")
    start_t = _cat(results, "prog_start")
    completion = _cat(results, "prog_completion")
    # what the records hold at the end of the history: later starts and completions unknown yet
    end = float(cal.n_days)
    start_t = np.where(start_t < end, start_t, np.nan)
    completion = np.where(completion < end, completion, np.nan)
    rows = row_of(person)
    o = np.lexsort((rows, referral))
    return pd.DataFrame(
        {
            "person_id": pd.Series(pid[rows[o]], dtype="str"),
            "referral_date": _dates(cal.start, referral[o]),
            "start_date": _dates(cal.start, start_t[o]),
            "completed": np.isfinite(completion[o]),
            "completion_date": _dates(cal.start, completion[o]),
        }
    )


def _merge_stats(results: list[ChunkResult]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in results[0].stats:
        vals = [r.stats[key] for r in results]
        if key in ("reported_by_year", "true_by_group", "recorded_by_group", "true_in_window"):
            out[key] = np.sum(vals, axis=0)
        else:
            out[key] = np.concatenate(vals)
    return out


def _incidents_frame(results, pid, row_of, pkeys, start) -> pd.DataFrame:
    inc = {k: np.concatenate([r.incidents[k] for r in results]) for k in results[0].incidents}
    known = np.isin(inc["person"], pkeys)
    prow = np.full(len(inc["t"]), -1, dtype=np.int64)
    prow[known] = row_of(inc["person"][known])
    vknown = np.isin(inc["victim"], pkeys)
    vrow = np.full(len(inc["t"]), -1, dtype=np.int64)
    vrow[vknown] = row_of(inc["victim"][vknown])
    return pd.DataFrame(
        {
            "perpetrator_key": inc["person"],
            "perpetrator_id": _take_ids(pid, prow),
            "victim_key": inc["victim"],
            "victim_id": _take_ids(pid, vrow),
            "t": inc["t"],
            "date": _dates(start, inc["t"]),
            "escalation_class": inc["cls"].astype(np.int64),
            "offence_type": _labels(ALL_TYPES, inc["offence"]),
            "relationship": _labels(RELATIONSHIPS, inc["relationship"]),
            "reported": inc["reported"],
            "recorded": inc["recorded"],
        }
    )

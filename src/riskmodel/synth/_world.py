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

#: the world's unit: perpetrators simulated together, with their own random streams, ids and
#: records (their victims, their share of the non-DA-only offenders). Part of the world's
#: definition, so the output never depends on the machine or on how much is held in memory
RNG_BLOCK = 200_000
CHUNK_SIZE = RNG_BLOCK  # the name earlier code and benchmarks use
#: blocks per partition of a partitioned world folder (docs/CONTRACTS.md): 2,000,000 perpetrators,
#: so every world up to Kent and Medway's size is one partition and keeps the single-file layout
PARTITION_BLOCKS = 10
NONDA_CHUNK_SIZE = 1_000_000
PERSON_ID_WIDTH = 9
EVENT_ID_WIDTH = 10
#: ids of block b start at b * stride: computable per block, in creation order within it
PERSON_STRIDE = 1_000_000
EVENT_STRIDE = 10_000_000

Progress = Callable[[str, float], None]

ERR_SCALE = "scale must be a positive number, got {scale!r}"
ERR_UNITS = (
    "block_people and partition_blocks must be positive integers, got {block!r} and {parts!r}"
)
ERR_STRIDE = (
    "block {block} has {n:,} {what}, more than the {stride:,} its ids can number "
    "(use a smaller block_people)"
)


@dataclass(frozen=True)
class WorldPlan:
    """How a world of ``n_perp`` perpetrators divides into blocks and partitions.

    Block ``b`` holds perpetrators ``b * block_people`` onward, their victims, and its share of
    the non-DA-only offenders; everything random about it comes from streams named after it.
    Partition ``q`` of a partitioned folder holds blocks ``q * partition_blocks`` onward.
    """

    n_perp: int
    n_slots: int
    n_nonda: int
    block_people: int = RNG_BLOCK
    partition_blocks: int = PARTITION_BLOCKS

    @property
    def nd_base(self) -> int:
        """Person keys of non-DA-only offenders start here."""
        return self.n_perp + self.n_perp * self.n_slots

    @property
    def n_blocks(self) -> int:
        return -(-self.n_perp // self.block_people)

    @property
    def n_partitions(self) -> int:
        return -(-self.n_blocks // self.partition_blocks)

    def perpetrators(self, b: int) -> tuple[int, int]:
        lo = b * self.block_people
        return lo, min(self.n_perp, lo + self.block_people)

    def nonda(self, b: int) -> tuple[int, int]:
        """Range of non-DA-only offenders of block ``b`` (its share of them, in proportion)."""
        lo, hi = self.perpetrators(b)
        return self.n_nonda * lo // self.n_perp, self.n_nonda * hi // self.n_perp

    def nonda_stream(self, b: int) -> int:
        """Index of block ``b``'s first non-DA random stream (each sub-block has its own)."""
        return sum(
            -(-(hi - lo) // NONDA_CHUNK_SIZE) for lo, hi in (self.nonda(c) for c in range(b))
        )

    def partition_of(self, b: int) -> int:
        return b // self.partition_blocks

    def id_width(self, base: int, stride: int) -> int:
        return max(base, len(str(self.n_blocks * stride - 1)))


def world_plan(
    config: WorldConfig,
    scale: float,
    *,
    block_people: int = RNG_BLOCK,
    partition_blocks: int = PARTITION_BLOCKS,
) -> WorldPlan:
    """The blocks and partitions of ``config`` at ``scale``."""
    if not (isinstance(scale, int | float) and scale > 0 and np.isfinite(scale)):
        raise ValueError(ERR_SCALE.format(scale=scale))
    if not all(isinstance(v, int) and v > 0 for v in (block_people, partition_blocks)):
        raise ValueError(ERR_UNITS.format(block=block_people, parts=partition_blocks))
    return WorldPlan(
        n_perp=max(1, int(round(config.population.perpetrators * scale))),
        n_slots=config.relationships.partner_episodes.max_episodes + 2,
        n_nonda=int(round(config.nonda.offenders * scale)),
        block_people=block_people,
        partition_blocks=partition_blocks,
    )


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
    #: rows of each block in each table, in order (the Parquet row groups follow them, so a
    #: world written whole and one written block by block give the same bytes)
    block_rows: dict[str, list[int]] = field(default_factory=dict, repr=False)
    plan: WorldPlan | None = field(default=None, repr=False)

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
def _ids(prefix: str, n: int, width: int, start: int = 0) -> pd.Series:
    numbers = np.arange(start, start + n, dtype=np.int64)
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")
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
    block_people: int = RNG_BLOCK,
    partition_blocks: int = PARTITION_BLOCKS,
) -> World:
    """Generate a synthetic world from a validated config, whole and in memory.

    Parameters
    ----------
    config : the world (``riskmodel.config.load_world_config``)
    seed : overrides ``config.seed``; same config, seed and scale give identical tables
    scale : multiplies the numbers of people (0.1 for a tenth of Kent and Medway)
    progress : optional ``progress(step, fraction)`` callback (fraction of the whole in [0, 1])
    keep_incidents : keep every true incident in ``World.incidents`` (tests, small worlds)
    block_people, partition_blocks : the world's units (:class:`WorldPlan`); the defaults
        define every world the package writes, other values a different (smaller-unit) world

    The world is the concatenation of its blocks (:func:`generate_block`), so it equals the
    partitions that :func:`riskmodel.synth.write_world_chunked` writes one block at a time.
    """
    seed = int(config.seed if seed is None else seed)
    plan = world_plan(config, scale, block_people=block_people, partition_blocks=partition_blocks)
    say = progress or (lambda _step, _fraction: None)
    params = build_params(config)

    say("solving the truth's burst equations", 0.0)
    tables = truth_tables(params)
    blocks: list[World] = []
    n = plan.n_blocks
    for b in range(n):  # blocks of perpetrators (bounded memory), each vectorised
        say(f"simulating offending (block {b + 1} of {n})", 0.02 + 0.9 * b / n)
        blocks.append(
            generate_block(
                params,
                plan,
                b,
                tables=tables,
                seed=seed,
                scale=scale,
                keep_incidents=keep_incidents,
            )
        )
    say("assembling the tables", 0.92)
    world = blocks[0] if n == 1 else concat_blocks(blocks)
    say("calibration report", 0.97)
    world.calibration = calibration_entries(world)
    say("done", 1.0)
    return world


def generate_block(
    params: WorldParams,
    plan: WorldPlan,
    b: int,
    *,
    tables: Any,
    seed: int,
    scale: float,
    keep_incidents: bool = False,
) -> World:
    """Block ``b`` of a world: its perpetrators, their victims and its non-DA-only offenders,
    with their ids, as a world of its own (tables, stats; no calibration)."""
    lo, hi = plan.perpetrators(b)
    perps = draw_perpetrators(params, hi - lo, rng(seed, f"block/{b}/perpetrators"))
    result = simulate_chunk(
        params,
        perps,
        tables=tables,
        offset=lo,
        n_total=plan.n_perp,
        stream=lambda name: rng(seed, f"block/{b}/{name}"),
        keep_incidents=keep_incidents,
    )
    nd = _nonda_offenders(params, plan, b, seed=seed)
    world = _assemble(
        params,
        results=[result],
        nd=nd,
        plan=plan,
        block=b,
        seed=seed,
        scale=float(scale),
        keep_incidents=keep_incidents,
    )
    world.block_rows = {k: [v] for k, v in world.row_counts().items()}
    world.plan = plan
    return world


def concat_blocks(blocks: list[World]) -> World:
    """One world from consecutive blocks (tables concatenated in order, statistics merged)."""
    first = blocks[0]
    tables = {
        name: pd.concat([getattr(w, name) for w in blocks], ignore_index=True)
        for name in ("people", "events", "programmes", "truth")
    }
    incidents = None
    if all(w.incidents is not None for w in blocks):
        incidents = pd.concat([w.incidents for w in blocks], ignore_index=True)
    return World(
        **tables,
        config=first.config,
        seed=first.seed,
        scale=first.scale,
        start_date=first.start_date,
        end_date=first.end_date,
        incidents=incidents,
        stats=merge_block_stats([w.stats for w in blocks], [len(w.people) for w in blocks]),
        block_rows={k: [n for w in blocks for n in w.block_rows[k]] for k in first.block_rows},
        plan=first.plan,
    )


SUMMED_STATS = ("reported_by_year", "true_by_group", "recorded_by_group", "true_in_window")


def merge_block_stats(stats: list[dict[str, Any]], n_people: list[int]) -> dict[str, Any]:
    """The statistics of consecutive blocks as those of one world (people rows offset)."""
    offsets = np.concatenate([[0], np.cumsum(n_people)[:-1]]).astype(np.int64)
    out: dict[str, Any] = {}
    for key in stats[0]:
        vals = [s[key] for s in stats]
        if key in SUMMED_STATS:
            out[key] = np.sum(vals, axis=0)
        elif key == "n_perpetrators":
            out[key] = vals[0]
        elif key == "dyad_victim_row":
            out[key] = np.concatenate([v + o for v, o in zip(vals, offsets, strict=True)])
        else:
            out[key] = np.concatenate(vals)
    return out


def _nonda_offenders(
    params: WorldParams, plan: WorldPlan, b: int, *, seed: int
) -> dict[str, np.ndarray]:
    """Recorded offences of block ``b``'s people who never commit DA, in sub-blocks; only
    offenders with a recorded offence are kept (key, time, offence type, and their attributes)."""
    cfg = params.cfg
    cal = params.cal
    nd_lo, nd_hi = plan.nonda(b)
    first_stream = plan.nonda_stream(b)
    nd_base = plan.nd_base
    parts: list[dict[str, np.ndarray]] = []
    for j, lo in enumerate(range(nd_lo, nd_hi, NONDA_CHUNK_SIZE)):
        c = first_stream + j
        size = min(NONDA_CHUNK_SIZE, nd_hi - lo)
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
    plan: WorldPlan,
    block: int,
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

    # non-DA violence has a personal victim: someone already in the block's records, aged 16 or
    # more (block 0 keeps the stream name of the time when a world was one block)
    vrng = rng(seed, "nonda-victims" if block == 0 else f"block/{block}/nonda-victims")
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
    for n, what, stride in ((n_people, "people", PERSON_STRIDE), (n_ev, "events", EVENT_STRIDE)):
        if n > stride:
            raise ValueError(ERR_STRIDE.format(block=block, n=n, what=what, stride=stride))
    person_ids = _ids(
        "P", n_people, plan.id_width(PERSON_ID_WIDTH, PERSON_STRIDE), block * PERSON_STRIDE
    )
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
            "event_id": _ids(
                "E", n_ev, plan.id_width(EVENT_ID_WIDTH, EVENT_STRIDE), block * EVENT_STRIDE
            ),
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
    stats["n_perpetrators"] = plan.n_perp
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

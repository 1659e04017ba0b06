"""Point-in-time features and labels from recorded histories, vectorised.

Every event is placed in one array sorted by ``(perpetrator, date, event_id)``; the same-day order
of docs/CONTRACTS.md is the ``event_id`` order, so "recorded at or before the index moment" is
exactly "at or before the index event's position in this array". A person's events are one
contiguous block, and an int64 key ``person << 32 | date`` makes every window a
``numpy.searchsorted`` away. Counts and harm sums are differences of prefix sums (harm in whole
micro-days, so sums are exact and a value never depends on another person's records); windowed
maxima come from a sparse table. No Python loop runs per person or per event.

Definitions (documented in the feature dictionary and docs):

- a *moment* is ``(person, reference day, cut)``: everything of that person at or before the cut
  position is known. For training the cut is the index event itself (it is known at the moment
  of assessment, so it counts) and the reference day its date; for batch scoring the cut is the
  person's last event on or before ``as_of`` and the reference day ``as_of``.
- a window of ``W`` days holds the events dated ``ref - W + 1 .. ref`` (the reference day and the
  ``W - 1`` days before it) that are at or before the cut.
- labels read the person's recorded DA offences after the index event (same-day events with a
  larger ``event_id`` included) dated at most ``ref + 365``: day 365 counts, day 366 does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.data import OFFENCE_GROUPS, OFFENCE_TYPES, RELATIONSHIPS, arrow_dates, position_in
from riskmodel.features._config import FeatureConfig
from riskmodel.schema import AGE_BANDS, age_band

FOLLOWUP_DAYS = 365
#: harm is summed in whole micro-days: exact, order-free integer arithmetic
_FIXED = 1_000_000
_DAY_OFFSET = 1 << 31

_OFFENCES = pd.Series(list(OFFENCE_TYPES), dtype="str")
_RELATIONSHIPS = pd.Series(list(RELATIONSHIPS), dtype="str")
_GROUP_OF_TYPE = np.array([OFFENCE_GROUPS.index(g) for g, _ in OFFENCE_TYPES.values()])

ERR_UNKNOWN_PERPETRATOR = (
    "{n} event(s) name a perpetrator who is not in the people table (first: event {event!r}, "
    "perpetrator {person!r}); validate the extract first (riskmodel.data.validate_events)"
)


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as int64 (dates with any time of day are floored)."""
    arrow = arrow_dates(dates) if isinstance(dates, pd.Series) else None
    values = (arrow if arrow is not None else pd.to_datetime(dates)).to_numpy(dtype="datetime64[D]")
    return values.astype(np.int64)


def _key(p: np.ndarray, day: np.ndarray | int) -> np.ndarray:
    return (p.astype(np.int64) << 32) + (np.asarray(day, dtype=np.int64) + _DAY_OFFSET)


def _block_start(keys: np.ndarray, p: np.ndarray) -> np.ndarray:
    return np.searchsorted(keys, p.astype(np.int64) << 32, side="left")


def _first_on_or_after(keys: np.ndarray, p: np.ndarray, day: np.ndarray) -> np.ndarray:
    return np.searchsorted(keys, _key(p, day), side="left")


def _last_on_or_before(keys: np.ndarray, p: np.ndarray, day: np.ndarray) -> np.ndarray:
    return np.searchsorted(keys, _key(p, day), side="right") - 1


def _prefix(values: np.ndarray, dtype: type) -> np.ndarray:
    """Prefix sums with a leading zero: ``sum(values[a:b]) == out[b] - out[a]``."""
    out = np.zeros((len(values) + 1, *values.shape[1:]), dtype=dtype)
    np.cumsum(values, axis=0, dtype=dtype, out=out[1:])
    return out


def _history_order(perp: np.ndarray, day: np.ndarray, event_ids: pd.Series) -> np.ndarray:
    """The positions of the events sorted by ``(perpetrator, date, event_id)``, stably.

    Sorting by one integer key ``(perpetrator, date)`` and then by ``event_id`` only within the
    (few) runs of events of one person on one day gives the same order as ranking every id
    first, without sorting millions of strings.
    """
    key = _key(perp, day)
    order = np.argsort(key, kind="stable")
    k = key[order]
    same = k[1:] == k[:-1]
    if same.any():
        tied = np.flatnonzero(np.r_[same, False] | np.r_[False, same])
        rows = order[tied]
        sub = pd.DataFrame(
            {"k": k[tied], "e": event_ids.take(rows).to_numpy(dtype=object), "pos": rows}
        )
        order[tied] = sub.sort_values(["k", "e"], kind="stable")["pos"].to_numpy()
    return order


class _RangeMax:
    """Sparse table: the maximum of ``values[a..b]`` for many ranges at once."""

    def __init__(self, values: np.ndarray, longest: int) -> None:
        levels = [values.astype(float)]
        step = 1
        while 2 * step <= max(longest, 1):
            prev = levels[-1]
            nxt = prev.copy()
            nxt[:-step] = np.maximum(prev[:-step], prev[step:])
            levels.append(nxt)
            step *= 2
        self.table = np.stack(levels)

    def query(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Max over ``lo..hi`` inclusive; 0 where the range is empty."""
        length = hi - lo + 1
        ok = length > 0
        level = np.zeros(len(lo), dtype=np.int64)
        level[ok] = np.floor(np.log2(length[ok])).astype(np.int64)
        lo_c = np.where(ok, lo, 0)
        hi_c = np.where(ok, hi - (1 << level) + 1, 0)
        out = np.maximum(self.table[level, lo_c], self.table[level, hi_c])
        return np.where(ok, out, 0.0)


@dataclass
class Moments:
    """Assessment points: person code, reference day, cut in the all-events and DA arrays."""

    person: np.ndarray
    ref_day: np.ndarray
    cut_all: np.ndarray
    cut_da: np.ndarray
    #: programmes count if referred before this day (the index day, or ``as_of + 1``)
    programme_day: np.ndarray


class History:
    """The recorded histories of a population, sorted once for point-in-time queries.

    Parameters
    ----------
    people : valid people (``person_id``, ``birth_date``, ``mental_health``, ``substance_misuse``)
    events : valid events of those people
    programmes : valid programme referrals or ``None``
    severe : what makes an offence severe (for ``severe_12m``)
    """

    def __init__(
        self,
        people: pd.DataFrame,
        events: pd.DataFrame,
        programmes: pd.DataFrame | None,
        *,
        config: FeatureConfig,
    ) -> None:
        self.config = config
        # text columns stay Arrow-backed and are matched by Arrow hash joins: no Python objects
        # per row, which keeps a Kent-sized world within a few hundred MB
        self.person_ids = people["person_id"].astype("str").reset_index(drop=True)
        self.birth_day = day_numbers(people["birth_date"])
        self.mental_health = people["mental_health"].to_numpy(dtype=bool)
        self.substance_misuse = people["substance_misuse"].to_numpy(dtype=bool)

        perp = position_in(events["perpetrator_id"], self.person_ids)
        if (perp < 0).any():
            first = int(np.flatnonzero(perp < 0)[0])
            raise ValueError(
                ERR_UNKNOWN_PERPETRATOR.format(
                    n=int((perp < 0).sum()),
                    event=events["event_id"].iloc[first],
                    person=events["perpetrator_id"].iloc[first],
                )
            )
        day = day_numbers(events["date"])
        self.event_ids = events["event_id"].astype("str").reset_index(drop=True)
        order = _history_order(perp, day, self.event_ids)

        self.p = perp[order].astype(np.int64)
        self.day = day[order]
        self.keys = _key(self.p, self.day)
        type_code = position_in(events["offence_type"], _OFFENCES)[order]
        self.is_da = events["is_da"].to_numpy(dtype=bool)[order]
        harm = events["harm_days"].to_numpy(dtype=float)[order]
        harm_fixed = np.rint(harm * _FIXED).astype(np.int64)

        # one column per count group: all DA, then each offence group
        group = np.where(type_code >= 0, _GROUP_OF_TYPE[np.maximum(type_code, 0)], -1)
        onehot = np.zeros((len(order), 1 + len(OFFENCE_GROUPS)), dtype=np.int32)
        onehot[:, 0] = self.is_da
        known = group >= 0
        onehot[np.flatnonzero(known), 1 + group[known]] = 1
        self.count_prefix = _prefix(onehot, np.int32)
        del onehot
        self.harm_nonda_prefix = _prefix(np.where(self.is_da, 0, harm_fixed), np.int64)

        # the DA events alone: index events, escalation, victims, labels
        da = np.flatnonzero(self.is_da)
        self.da_all_pos = da
        self.da_row = order[da]  # row of each DA event in ``events``
        self.da_p = self.p[da]
        self.da_day = self.day[da]
        self.da_keys = self.keys[da]
        self.da_type = type_code[da]
        self.da_harm = harm[da]
        self.da_harm_prefix = _prefix(harm_fixed[da], np.int64)
        self.da_relationship = position_in(events["relationship"], _RELATIONSHIPS)[self.da_row]
        severe_codes = [list(OFFENCE_TYPES).index(t) for t in config.severe.offence_types]
        sev = np.isin(self.da_type, severe_codes)
        if config.severe.harm_threshold is not None:
            sev = sev | (self.da_harm >= config.severe.harm_threshold)
        self.da_severe_prefix = _prefix(sev.astype(np.int32), np.int32)
        victim = position_in(events["victim_id"], self.person_ids)[self.da_row]
        pair = pd.Series(self.da_p * (len(self.person_ids) + 1) + victim)
        first_victim = (~pair.duplicated(keep="first")).to_numpy() & (victim >= 0)
        self.victim_prefix = _prefix(first_victim.astype(np.int32), np.int32)
        # the previous DA event with the same victim (position, -1: none; -2: no victim), for
        # counting different victims inside a bounded look-back
        pv = pair.to_numpy()
        by_pair = np.lexsort((np.arange(len(pv)), pv))
        same = pv[by_pair[1:]] == pv[by_pair[:-1]]
        self.victim_prev = np.full(len(pv), -1, dtype=np.int64)
        self.victim_prev[by_pair[1:][same]] = by_pair[:-1][same]
        self.victim_prev[victim < 0] = np.iinfo(np.int64).max
        longest = int(np.bincount(self.da_p).max()) if len(da) else 1
        self.da_harm_max = _RangeMax(self.da_harm, longest)

        self._programmes(programmes)

    def _programmes(self, programmes: pd.DataFrame | None) -> None:
        empty = np.zeros(0, dtype=np.int64)
        self.referral_keys, self.completion_keys = empty, empty
        if programmes is None or len(programmes) == 0:
            return
        pp = position_in(programmes["person_id"], self.person_ids)
        known = pp >= 0
        referral = day_numbers(programmes["referral_date"])
        self.referral_keys = np.sort(_key(pp[known], referral[known]))
        done = known & programmes["completed"].fillna(False).to_numpy(dtype=bool)
        done &= programmes["completion_date"].notna().to_numpy()
        if done.any():
            completion = day_numbers(programmes.loc[done, "completion_date"])
            self.completion_keys = np.sort(_key(pp[done], completion))

    # -- output columns ---------------------------------------------------------------------
    def person_id_at(self, person: np.ndarray) -> pd.api.extensions.ExtensionArray:
        return self.person_ids.take(person).array

    def event_id_at(self, cut_da: np.ndarray) -> pd.api.extensions.ExtensionArray:
        return self.event_ids.take(self.da_row[cut_da]).array

    # -- assessment points ------------------------------------------------------------------
    def index_moments(self) -> Moments:
        """Every recorded DA event, assessed at itself (training)."""
        n = len(self.da_p)
        return Moments(
            person=self.da_p,
            ref_day=self.da_day,
            cut_all=self.da_all_pos,
            cut_da=np.arange(n, dtype=np.int64),
            programme_day=self.da_day,
        )

    def latest_moments(self, as_of_day: int, lookback_days: int) -> Moments:
        """One point per person whose latest DA event (on or before ``as_of``) is in the
        lookback: assessed at the end of ``as_of`` with everything recorded up to then.

        The history must already be cut at ``as_of`` (no later events).
        """
        n = len(self.da_p)
        if n == 0:
            z = np.zeros(0, dtype=np.int64)
            return Moments(z, z, z, z, z)
        last = np.flatnonzero(np.r_[self.da_p[1:] != self.da_p[:-1], True])
        last = last[self.da_day[last] > as_of_day - lookback_days]
        person = self.da_p[last]
        cut_all = np.searchsorted(self.keys, (person + 1) << 32, side="left") - 1
        ref = np.full(len(last), as_of_day, dtype=np.int64)
        return Moments(person, ref, cut_all, last, ref + 1)

    # -- features ---------------------------------------------------------------------------
    def features(self, m: Moments) -> dict[str, np.ndarray]:
        """Every catalogue feature (and ``rfg_score``) at each moment, as arrays."""
        cfg = self.config
        out: dict[str, np.ndarray] = {}
        p, ref, cut, cut_da = m.person, m.ref_day, m.cut_all, m.cut_da
        # where each person's readable history starts: the first record, or the longest
        # look-back (``history_days``), so that a record's age does not leak into the features
        hist = cfg.history_days
        if hist is None:
            start_all = _block_start(self.keys, p)
            start_da = _block_start(self.da_keys, p)
        else:
            start_all = _first_on_or_after(self.keys, p, ref - hist + 1)
            start_da = _first_on_or_after(self.da_keys, p, ref - hist + 1)
        upto = self.count_prefix[cut + 1]
        windows: list[int | None] = [*cfg.windows_days, None]
        counts: dict[int | None, np.ndarray] = {}
        for w in windows:
            lo = start_all if w is None else _first_on_or_after(self.keys, p, ref - w + 1)
            counts[w] = upto - self.count_prefix[lo]
            sfx = "all" if w is None else f"{w}d"
            out[f"harm_nonda_{sfx}"] = (
                self.harm_nonda_prefix[cut + 1] - self.harm_nonda_prefix[lo]
            ) / _FIXED
            lo_da = start_da if w is None else _first_on_or_after(self.da_keys, p, ref - w + 1)
            out[f"harm_da_{sfx}"] = (
                self.da_harm_prefix[cut_da + 1] - self.da_harm_prefix[lo_da]
            ) / _FIXED
            out[f"harm_max_da_{sfx}"] = self.da_harm_max.query(lo_da, cut_da)
        for g, group in enumerate(("da", *OFFENCE_GROUPS)):
            for w in windows:
                sfx = "all" if w is None else f"{w}d"
                out[f"n_{group}_{sfx}"] = counts[w][:, g].astype(np.int64)

        out["index_harm_days"] = self.da_harm[cut_da]
        out["harm_escalation"] = self._escalation(cut_da, start_da)

        has_prev = cut_da - 1 >= start_da
        prev_day = self.da_day[np.maximum(cut_da - 1, 0)]
        since_prev = np.where(has_prev, ref - prev_day, np.nan).astype(float)
        out["days_since_previous_da"] = since_prev
        out["days_since_first_da"] = (ref - self.da_day[start_da]).astype(float)
        out["rfg_score"] = self._rfg(p, ref, cut_da, since_prev)
        if hist is None:
            out["n_victims_all"] = (
                self.victim_prefix[cut_da + 1] - self.victim_prefix[start_da]
            ).astype(np.int64)
        else:
            out["n_victims_all"] = self._victims_in(start_da, cut_da)

        birth = self.birth_day[p]
        out["age_at_index"] = (ref - birth) / 365.25
        out["age_at_first_offence"] = (self.day[start_all] - birth) / 365.25

        def programme_start(keys: np.ndarray) -> np.ndarray:
            if hist is None:
                return _block_start(keys, p)
            return _first_on_or_after(keys, p, ref - hist + 1)

        n_ref = np.searchsorted(self.referral_keys, _key(p, m.programme_day), side="left")
        n_ref -= programme_start(self.referral_keys)
        out["n_prior_referrals"] = np.maximum(n_ref, 0).astype(np.int64)
        out["prior_programme_referral"] = n_ref > 0
        n_done = np.searchsorted(self.completion_keys, _key(p, m.programme_day), side="left")
        out["prior_programme_completion"] = (n_done - programme_start(self.completion_keys)) > 0

        out["mental_health"] = self.mental_health[p]
        out["substance_misuse"] = self.substance_misuse[p]
        out["index_offence_type"] = pd.Categorical.from_codes(
            self.da_type[cut_da], categories=list(OFFENCE_TYPES)
        )
        out["index_relationship"] = pd.Categorical.from_codes(
            self.da_relationship[cut_da], categories=list(RELATIONSHIPS)
        )
        return out

    def _victims_in(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Different victims among the DA events at positions ``lo..hi`` of each moment: an
        event counts when the same victim appears in none of the window's earlier events."""
        size = np.maximum(hi - lo + 1, 0)
        moment = np.repeat(np.arange(len(lo)), size)
        pos = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size) + lo[moment]
        new = self.victim_prev[pos] < lo[moment]
        return np.bincount(moment[new], minlength=len(lo)).astype(np.int64)

    def _escalation(self, cut_da: np.ndarray, start_da: np.ndarray) -> np.ndarray:
        """Least-squares slope of harm over the last ``k`` DA incidents up to the cut."""
        k = self.config.escalation_k
        steps = np.arange(k, dtype=np.int64)
        pos = cut_da[:, None] - (k - 1) + steps[None, :]
        valid = pos >= start_da[:, None]
        h = np.where(valid, self.da_harm[np.maximum(pos, 0)], 0.0)
        x = np.where(valid, steps[None, :], 0).astype(float)
        n = valid.sum(axis=1).astype(float)
        sx, sy = x.sum(axis=1), h.sum(axis=1)
        sxx, sxy = (x * x).sum(axis=1), (x * h).sum(axis=1)
        den = n * sxx - sx * sx
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = (n * sxy - sx * sy) / den
        return np.where(n >= 2, slope, 0.0)

    def _rfg(
        self, p: np.ndarray, ref: np.ndarray, cut_da: np.ndarray, since_prev: np.ndarray
    ) -> np.ndarray:
        """Recency-Frequency-Gravity score, 0-100 (see :class:`RFGConfig`)."""
        r = self.config.rfg
        w = r.window_days
        lo = _first_on_or_after(self.da_keys, p, ref - w + 1)
        n = np.maximum(cut_da - lo + 1, 0)
        harm = np.maximum(self.da_harm_prefix[cut_da + 1] - self.da_harm_prefix[lo], 0) / _FIXED
        recency = np.where(np.isnan(since_prev), 0.0, 1.0 - np.minimum(since_prev, w) / w)
        recency = np.nan_to_num(recency, nan=0.0)
        freq = np.minimum(1.0, np.log1p(n) / np.log1p(r.frequency_cap))
        gravity = np.minimum(1.0, np.log1p(harm) / np.log1p(r.gravity_cap_days))
        total = r.weight_recency + r.weight_frequency + r.weight_gravity
        score = r.weight_recency * recency + r.weight_frequency * freq + r.weight_gravity * gravity
        return 100.0 * score / total

    # -- labels -----------------------------------------------------------------------------
    def labels(self, m: Moments) -> dict[str, np.ndarray]:
        """Recorded DA reoffending in the 365 days after each index event."""
        end = _last_on_or_before(self.da_keys, m.person, m.ref_day + FOLLOWUP_DAYS)
        end = np.maximum(end, m.cut_da)
        after = end - m.cut_da
        harm = (self.da_harm_prefix[end + 1] - self.da_harm_prefix[m.cut_da + 1]) / _FIXED
        severe = self.da_severe_prefix[end + 1] - self.da_severe_prefix[m.cut_da + 1]
        return {
            "reoffend_12m": after > 0,
            "severe_12m": severe > 0,
            "harm_days_12m": harm.astype(float),
        }


def completed_years(birth_day: np.ndarray, ref_day: np.ndarray) -> np.ndarray:
    """Age in completed years (birthdays), as a person would state it."""
    b = pd.DatetimeIndex(pd.to_datetime(birth_day, unit="D"))
    r = pd.DatetimeIndex(pd.to_datetime(ref_day, unit="D"))
    before_birthday = (r.month.to_numpy() * 100 + r.day.to_numpy()) < (
        b.month.to_numpy() * 100 + b.day.to_numpy()
    )
    return r.year.to_numpy() - b.year.to_numpy() - before_birthday.astype(int)


__all__ = [
    "AGE_BANDS",
    "FOLLOWUP_DAYS",
    "History",
    "Moments",
    "age_band",
    "completed_years",
    "day_numbers",
]

"""The readable calibration report (``calibration.html``): targets against the generated world."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmodel import __version__
from riskmodel.reports import figure_to_data_uri, render_html
from riskmodel.synth._world import World

#: the report carries no clock time, so the same world always gives the same file
GENERATED_AT = "generation (no time stamp, so that the same world gives the same file)"


def show(value: Any) -> str:
    """A calibration value for people: counts with thousands separators, shares to 3 places."""
    if value is None:
        return "–"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}".rstrip("0").rstrip(".") if value != 0 else "0"


def _figure_inputs(world: World) -> dict[str, Any]:
    ev = world.events
    da = ev[ev["is_da"].to_numpy(dtype=bool)]
    years = pd.DatetimeIndex(pd.to_datetime(da["date"])).year
    truth = world.truth[world.truth["followup_complete"].to_numpy(dtype=bool)]
    return {
        "per_year": pd.Series(1, index=years).groupby(level=0).sum(),
        "p": truth["p_reoffend_12m"].to_numpy(),
        "y": truth["recorded_reoffend_12m"].to_numpy(dtype=float),
    }


def _figures(inputs: dict[str, Any]) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    counts = inputs["per_year"]
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.bar(counts.index.astype(int), counts.to_numpy(), color="#4a6fa5")
    ax.set_xlabel("year")
    ax.set_ylabel("recorded DA events")
    ax.set_title("Recorded domestic-abuse events a year")
    out["per_year"] = figure_to_data_uri(fig)

    p, y = inputs["p"], inputs["y"]
    if len(p) >= 100:
        order = np.argsort(p, kind="stable")
        parts = np.array_split(order, 10)
        mp = [p[b].mean() for b in parts]
        my = [y[b].mean() for b in parts]
        fig, ax = plt.subplots(figsize=(4.2, 4.2))
        ax.plot([0, 1], [0, 1], color="#999999", lw=1, ls="--")
        ax.plot(mp, my, marker="o", color="#a4161a")
        ax.set_xlabel("true probability (p_reoffend_12m), bin mean")
        ax.set_ylabel("share with a recorded DA reoffence")
        ax.set_title("The truth is calibrated")
        lim = max(max(mp), max(my)) * 1.05
        ax.set_xlim(0, lim)
        ax.set_ylim(0, lim)
        out["reliability"] = figure_to_data_uri(fig)
    return out


def _summary(world: World) -> dict[str, Any]:
    ev = world.events
    da = ev[ev["is_da"].to_numpy(dtype=bool)]
    truth = world.truth
    full = truth[truth["followup_complete"].to_numpy(dtype=bool)]
    years = world.config.period.years
    return {
        "people": len(world.people),
        "events": len(ev),
        "da_events": len(da),
        "da_per_year": len(da) / years,
        "perpetrators": int(da["perpetrator_id"].nunique()),
        "programmes": len(world.programmes),
        "completed": int(world.programmes["completed"].sum()),
        "event_reoffend": float(full["recorded_reoffend_12m"].mean()) if len(full) else None,
        "mean_truth": float(full["p_reoffend_12m"].mean()) if len(full) else None,
    }


def render_calibration_html(world: World, *, inputs: dict[str, Any] | None = None) -> str:
    """HTML of the calibration report of a world (self-contained, notice first).

    ``inputs`` (``summary``, ``per_year``, ``p``, ``y``) replace what is otherwise read from the
    world's tables: a world written in blocks passes them from its per-block aggregates.
    """
    labels = {t.name: t.label for t in world.config.calibration}
    kinds = {t.name: t.kind for t in world.config.calibration}
    entries = [
        {
            **e,
            "label": labels.get(e["name"], e["name"]),
            "kind": kinds.get(e["name"], "within"),
            **{f"{k}_text": show(e[k]) for k in ("target", "generated", "tolerance")},
        }
        for e in world.calibration
    ]
    return render_html(
        "calibration.html.j2",
        world=world,
        cfg=world.config,
        entries=entries,
        n_ok=sum(e["ok"] is True for e in entries),
        n_bad=sum(e["ok"] is False for e in entries),
        n_na=sum(e["ok"] is None for e in entries),
        summary=inputs["summary"] if inputs else _summary(world),
        figures=_figures(inputs or _figure_inputs(world)),
        bias=world.config.measurement_bias,
        version=__version__,
        generated_at=GENERATED_AT,
    )

"""The backtest of issue 13 at Kent scale (``make bench``, or ``python -m benchmarks backtest``).

For the changing Kent world (``experiments/backtest.yaml``) and its trend-free twin
(``experiments/backtest_no_trends.yaml``): every model learns from two years of index events and
every feature reads back at most three years (see those files), so that neither more data nor
the age of the records is mistaken for change. Replay refreshes from ``--from`` every ``--every``
months (``riskmodel backtest``), write each world's ``backtest.html``/``.json`` into
``reports/backtest/<experiment>/``, and return the figures the acceptance asks for: AUC of the
frozen, gated and ungated models in the last period (with intervals), the paired gated-minus-frozen
AUC gain in every period, recorded over predicted reoffending (calibration in the large) of the
frozen and gated models and the paired calibration gap (how much further from 1 the frozen
model's recorded/predicted is than the gated model's), which refreshes were promoted, and the
wall time. ``change_effect`` is the changing world's last-period gains minus the trend-free
world's.

Environment (each run trains one model per refresh date, so Kent scale takes a while):

- ``RISKMODEL_BACKTEST_SCALE``: world scale (default 1.0, the Kent world);
- ``RISKMODEL_BACKTEST_EVERY``: months between refreshes (default 12);
- ``RISKMODEL_BACKTEST_FROM``: first refresh date (default 2018-01-01, the first whose
  training years have three years of records behind them);
- ``RISKMODEL_BACKTEST_WORLDS``: comma-separated experiment names (default
  ``backtest,backtest_no_trends``);
- ``RISKMODEL_BACKTEST_WORKERS``: worlds run at once, one process each (default 2);
- ``RISKMODEL_BACKTEST_NBOOT``: bootstrap replicates of each model's own evaluation inside the
  refreshes (default 100; the backtest's own intervals use the experiment's ``refresh.n_boot``).
"""

from __future__ import annotations

import datetime as dt
import os
import time

from riskmodel.experiment import load_experiment
from riskmodel.models import prepare_data
from riskmodel.paths import experiments_dir, reports_dir
from riskmodel.refresh import backtest_summary, run_backtest, write_backtest_report


def _o_e(row) -> dict:
    return {
        "value": round(float(row["observed_to_expected"]), 4),
        "ci": [round(float(x), 4) for x in row["observed_to_expected_ci"]],
        "observed_rate": round(float(row["observed_rate"]), 4),
        "expected_rate": round(float(row["expected_rate"]), 4),
    }


def _change_effect(worlds: dict) -> dict | None:
    """What change over time costs a frozen model: the last period's gated-minus-frozen gains
    (AUC, and the calibration gaps in the large and of the slope) in the changing world minus
    the same in the world without trends. The two worlds are independent, so each interval is the normal approximation from
    the two gains' own intervals."""
    if not {"backtest", "backtest_no_trends"} <= set(worlds):
        return None
    z = 1.959964
    out: dict = {
        "reading": (
            "every model learns from the same length of time, so a refresh brings newer data, "
            "not more; the difference between the worlds is what change over time costs a "
            "frozen model"
        )
    }
    for key in ("auc_gain", "o_e_distance_gap", "slope_distance_gap"):
        gains = [worlds[n]["gated_minus_frozen"][-1] for n in ("backtest", "backtest_no_trends")]
        if any(g.get(f"{key}_ci") is None or None in g[f"{key}_ci"] for g in gains):
            continue
        se = [(g[f"{key}_ci"][1] - g[f"{key}_ci"][0]) / (2 * z) for g in gains]
        diff = gains[0][key] - gains[1][key]
        half = z * (se[0] ** 2 + se[1] ** 2) ** 0.5
        out[key] = {
            "changing_world": gains[0][key],
            "world_without_trends": gains[1][key],
            "difference": round(diff, 4),
            "difference_ci": [round(diff - half, 4), round(diff + half, 4)],
        }
    return out


def _one(name: str, *, scale: float, start: dt.date, every: int, n_boot: int) -> dict:
    exp = load_experiment(experiments_dir() / f"{name}.yaml")
    exp = exp.model_copy(
        update={
            "scale": scale,
            "evaluation": exp.evaluation.model_copy(update={"n_boot": n_boot}),
        }
    )
    t0 = time.perf_counter()
    data = prepare_data(exp, progress=lambda m: print("  ", m, flush=True))
    prep_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    bt = run_backtest(
        data.frame,
        data.spec,
        exp,
        start=start,
        every_months=every,
        progress=lambda m: print("  ", m, flush=True),
    )
    run_s = time.perf_counter() - t0
    out_dir = reports_dir() / "backtest" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    # the figures first, so that a failing report never loses a half-hour run
    bt.frame().to_json(out_dir / "backtest_rows.json", orient="records", indent=1)
    html, _ = write_backtest_report(bt, out_dir, title=name)
    df = bt.frame()
    last = df["as_of"].max()
    at_end = {
        row["policy"]: {"auc": round(row["auc"], 4), "auc_ci": row["auc_ci"]}
        | (
            {}
            if row["policy"] == "gated_minus_frozen"
            else {
                "calibration_slope": round(row["calibration_slope"], 4),
                "calibration_slope_ci": row["calibration_slope_ci"],
            }
        )
        for _, row in df[df["as_of"] == last].iterrows()
    }
    first = df["as_of"].min()
    frozen_first = df[(df["as_of"] == first) & (df["policy"] == "frozen")].iloc[0]
    gaps = df[df["policy"] == "gated_minus_frozen"]
    last_rows = {r["policy"]: r for _, r in df[df["as_of"] == last].iterrows()}
    first_frozen = df[(df["as_of"] == first) & (df["policy"] == "frozen")].iloc[0]
    in_the_large = {
        "frozen_first_period": _o_e(first_frozen),
        **{f"{p}_last_period": _o_e(last_rows[p]) for p in ("frozen", "gated") if p in last_rows},
    }
    return {
        "experiment": name,
        "observed_to_expected": in_the_large,
        "scale": scale,
        "rows": len(data.frame),
        "refresh_dates": sorted(df["as_of"].unique().tolist()),
        "last_period_from": last,
        "last_period": at_end,
        "frozen_first_period": {
            "auc": round(frozen_first["auc"], 4),
            "auc_ci": frozen_first["auc_ci"],
            "calibration_slope": round(frozen_first["calibration_slope"], 4),
            "calibration_slope_ci": frozen_first["calibration_slope_ci"],
        },
        "gated_minus_frozen": [
            {
                "as_of": r["as_of"],
                "auc_gain": round(r["auc"], 4),
                "auc_gain_ci": r["auc_ci"],
                "o_e_distance_gap": round(r["o_e_distance_gap"], 4),
                "o_e_distance_gap_ci": r["o_e_distance_gap_ci"],
                "slope_distance_gap": round(r["slope_distance_gap"], 4),
                "slope_distance_gap_ci": r["slope_distance_gap_ci"],
            }
            for _, r in gaps.iterrows()
        ],
        "refreshes": [
            {"as_of": r["as_of"], "promoted": r["promoted"], "failed": r["failed"]}
            for r in bt.refreshes
        ],
        "summary": backtest_summary(bt),
        "report": str(html),
        "prepare_seconds": round(prep_s, 1),
        "backtest_seconds": round(run_s, 1),
    }


def main() -> dict:
    scale = float(os.environ.get("RISKMODEL_BACKTEST_SCALE", "1.0"))
    every = int(os.environ.get("RISKMODEL_BACKTEST_EVERY", "12"))
    start = dt.date.fromisoformat(os.environ.get("RISKMODEL_BACKTEST_FROM", "2018-01-01"))
    n_boot = int(os.environ.get("RISKMODEL_BACKTEST_NBOOT", "100"))
    names = os.environ.get("RISKMODEL_BACKTEST_WORLDS", "backtest,backtest_no_trends").split(",")
    out = {
        "settings": {"scale": scale, "every_months": every, "from": start.isoformat()},
        "worlds": {},
    }
    # the worlds are independent and each backtest uses about one core: one process per world
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    workers = min(len(names), int(os.environ.get("RISKMODEL_BACKTEST_WORKERS", "2")))
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        futures = {}
        for name in names:
            print(f"  backtest {name} at scale {scale}", flush=True)
            futures[name] = pool.submit(
                _one, name, scale=scale, start=start, every=every, n_boot=n_boot
            )
        for name, fut in futures.items():
            out["worlds"][name] = fut.result()
    out["change_effect"] = _change_effect(out["worlds"])
    return out

"""The backtest of issue 13 at Kent scale (``make bench``, or ``python -m benchmarks backtest``).

For the changing Kent world (``experiments/baseline.yaml``) and its trend-free twin
(``experiments/baseline_no_trends.yaml``): replay refreshes from ``--from`` every ``--every``
months (``riskmodel backtest``), write each world's ``backtest.html``/``.json`` into
``reports/backtest/<experiment>/``, and return the figures the acceptance asks for: AUC of the
frozen, gated and ungated models in the last period (with intervals), the paired gated-minus-frozen
AUC gain in every period, which refreshes were promoted, and the wall time.

Environment (each run trains one model per refresh date, so Kent scale takes a while):

- ``RISKMODEL_BACKTEST_SCALE``: world scale (default 1.0, the Kent world);
- ``RISKMODEL_BACKTEST_EVERY``: months between refreshes (default 12);
- ``RISKMODEL_BACKTEST_FROM``: first refresh date (default 2018-01-01);
- ``RISKMODEL_BACKTEST_WORLDS``: comma-separated experiment names (default
  ``baseline,baseline_no_trends``);
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
    html, _ = write_backtest_report(bt, reports_dir() / "backtest" / name, title=name)
    df = bt.frame()
    last = df["as_of"].max()
    at_end = {
        row["policy"]: {"auc": round(row["auc"], 4), "auc_ci": row["auc_ci"]}
        for _, row in df[df["as_of"] == last].iterrows()
    }
    first = df["as_of"].min()
    frozen_first = df[(df["as_of"] == first) & (df["policy"] == "frozen")].iloc[0]
    gaps = df[df["policy"] == "gated_minus_frozen"]
    return {
        "experiment": name,
        "scale": scale,
        "rows": len(data.frame),
        "refresh_dates": sorted(df["as_of"].unique().tolist()),
        "last_period_from": last,
        "last_period": at_end,
        "frozen_first_period": {
            "auc": round(frozen_first["auc"], 4),
            "auc_ci": frozen_first["auc_ci"],
        },
        "gated_minus_frozen": [
            {"as_of": r["as_of"], "auc_gain": round(r["auc"], 4), "auc_gain_ci": r["auc_ci"]}
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
    names = os.environ.get("RISKMODEL_BACKTEST_WORLDS", "baseline,baseline_no_trends").split(",")
    out = {
        "settings": {"scale": scale, "every_months": every, "from": start.isoformat()},
        "worlds": {},
    }
    for name in names:
        print(f"  backtest {name} at scale {scale}", flush=True)
        out["worlds"][name] = _one(name, scale=scale, start=start, every=every, n_boot=n_boot)
    return out

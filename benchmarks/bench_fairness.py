"""Fairness audit of 1,000,000 people, 5 audit attributes, 1,000 bootstrap replicates.

Target: under 60 s on 2 cores. Our audit (``riskmodel.fairness.audit_frame``: group metrics,
the sex x ethnicity x age band intersection, stratified bootstrap, disparities, calibration
curves and the mitigation table; no proxy check, which needs model features) is timed in a
fresh process, and its bootstrap part alone per replicate. Beside it, fairlearn's own
``MetricFrame(n_boot=...)`` on the same rows and the same five attributes (one MetricFrame each,
selection rate, FPR, FNR, precision, recall) for a few replicates: fairlearn resamples rows, so
its cost per replicate grows with the number of rows.
"""

from __future__ import annotations

from benchmarks._measure import run_measured

N_ROWS = 1_000_000
N_BOOT = 1_000
FAIRLEARN_BOOT = 3

_DATA = r"""
import numpy as np, pandas as pd
N = N_ROWS_VALUE
r = np.random.default_rng(0)
df = pd.DataFrame({
    "sex": r.choice(["female", "male"], N, p=[0.2, 0.8]),
    "ethnicity": r.choice(["white", "asian", "black", "mixed", "other"], N, p=[0.86, 0.05, 0.04, 0.03, 0.02]),
    "age_band": r.choice(["16-24", "25-34", "35-44", "45-54", "55-64", "65+"], N, p=[0.2, 0.33, 0.25, 0.13, 0.06, 0.03]),
    "area": r.choice([f"area{i:02d}" for i in range(13)], N),
    "disability": r.random(N) < 0.1,
})
risk = r.beta(2, 4, N) + np.where(df.ethnicity == "black", 0.05, 0.0)
df["reoffend_12m"] = r.random(N) < np.clip(risk, 0, 1)
df["p_reoffend"] = np.clip(risk + r.normal(0, 0.08, N), 0, 1)
ATTRS = ["sex", "ethnicity", "age_band", "area", "disability"]
"""

_OURS = (
    _DATA
    + r"""
import time
from riskmodel.fairness import FairnessConfig, audit_frame, bootstrap_group_metrics
cfg = FairnessConfig(attributes=tuple(ATTRS), n_boot=N_BOOT_VALUE)
t_start = time.perf_counter()
payload = audit_frame(df, score_col="p_reoffend", label_col="reoffend_12m", group_cols=ATTRS,
                      threshold=0.35, config=cfg)
result["audit_seconds"] = round(time.perf_counter() - t_start, 2)
# the bootstrap alone (all five attributes): point estimates, then with N_BOOT replicates
y = df.reoffend_12m.to_numpy(); s = df.p_reoffend.to_numpy(); sel = s >= 0.35
t_start = time.perf_counter()
for a in ATTRS:
    bootstrap_group_metrics(y, sel, df[a], y_score=s, n_boot=0)
t_point = time.perf_counter() - t_start
t_start = time.perf_counter()
for a in ATTRS:
    gb = bootstrap_group_metrics(y, sel, df[a], y_score=s, n_boot=N_BOOT_VALUE)
    gb.intervals()
t_boot = time.perf_counter() - t_start
result["point_estimates_seconds"] = round(t_point, 3)
result["bootstrap_seconds"] = round(t_boot, 3)
result["seconds_per_replicate"] = (t_boot - t_point) / N_BOOT_VALUE
result["n_flagged"] = payload["summary"]["counts"]["flagged"]
result["fpr_black"] = payload["groups"]["ethnicity"]["black"]["fpr"]
"""
)

_FAIRLEARN = (
    _DATA
    + r"""
import time, warnings
from fairlearn.metrics import MetricFrame, selection_rate, false_positive_rate, false_negative_rate
from sklearn.metrics import precision_score, recall_score
warnings.simplefilter("ignore")
y = df.reoffend_12m.to_numpy().astype(int); pred = (df.p_reoffend >= 0.35).to_numpy().astype(int)
metrics = {"selection_rate": selection_rate, "fpr": false_positive_rate, "fnr": false_negative_rate,
           "ppv": precision_score, "tpr": recall_score}
def run(n_boot):
    t_start = time.perf_counter()
    for a in ATTRS:
        MetricFrame(metrics=metrics, y_true=y, y_pred=pred, sensitive_features=df[a],
                    n_boot=n_boot, ci_quantiles=[0.025, 0.975] if n_boot else None,
                    random_state=0 if n_boot else None)
    return time.perf_counter() - t_start
t_point = run(None)
t_boot = run(FAIRLEARN_BOOT_VALUE)
result["point_estimates_seconds"] = round(t_point, 2)
result["bootstrap_seconds"] = round(t_boot, 2)
result["n_boot"] = FAIRLEARN_BOOT_VALUE
result["seconds_per_replicate"] = (t_boot - t_point) / FAIRLEARN_BOOT_VALUE
"""
)


def _code(template: str) -> str:
    # FAIRLEARN_BOOT_VALUE first: it contains N_BOOT_VALUE
    return (
        template.replace("FAIRLEARN_BOOT_VALUE", str(FAIRLEARN_BOOT))
        .replace("N_ROWS_VALUE", str(N_ROWS))
        .replace("N_BOOT_VALUE", str(N_BOOT))
    )


def main() -> dict:
    ours = run_measured(_code(_OURS))
    fl = run_measured(_code(_FAIRLEARN))
    return {
        "rows": N_ROWS,
        "attributes": 5,
        "n_boot": N_BOOT,
        "target_seconds": 60,
        "riskmodel": ours,
        "fairlearn_metricframe": fl,
        "speedup_per_replicate": (
            fl["seconds_per_replicate"] / ours["seconds_per_replicate"]
            if ours["seconds_per_replicate"] > 0
            else None
        ),
        "note": (
            "riskmodel draws each group's confusion counts as multinomial replicates (stratified "
            "bootstrap, cost independent of rows); fairlearn resamples the rows for every replicate"
        ),
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(main(), indent=2))

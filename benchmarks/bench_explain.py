"""Reason codes for 10,000 people: rows per second beside LightGBM's raw ``pred_contrib``.

Uses the newest trained run under ``reports/`` (its bundle and test-period predictions) when one
exists; otherwise trains a representative default-sized model (400 trees, 31 leaves) on
synthetic DA-like features. A second, larger model (500 trees, 63 leaves, unlimited depth) is
timed on 2,000 rows to show how the cost grows with the trees' size (TreeSHAP is
O(trees x leaves x depth^2) per row). Target: 10,000 people in under 30 s on 2 cores.
"""

from __future__ import annotations

from benchmarks._measure import run_measured

N_PEOPLE = 10_000

_CODE = r"""
import json, time
from pathlib import Path
import numpy as np, pandas as pd, lightgbm as lgb
from riskmodel.explain import reason_codes
from riskmodel.explain._reasons import contributions, reasons_from_contributions
from riskmodel.models import Calibrator, ModelBundle
from riskmodel.paths import reports_dir

N = N_PEOPLE_VALUE

def synthetic(n, seed):
    r = np.random.default_rng(seed)
    prop = r.gamma(1.5, 1.0, n)
    df = pd.DataFrame({
        "age_at_index": np.clip(r.gamma(6, 6, n) + 16, 16, 90).round(1),
        "da_incidents_90d": r.poisson(prop * 0.4),
        "da_incidents_1y": r.poisson(prop * 1.2),
        "da_incidents_5y": r.poisson(prop * 3),
        "da_violence_5y": r.poisson(prop * 1.0),
        "coercive_control_5y": r.poisson(prop * 0.3),
        "stalking_5y": r.poisson(prop * 0.2),
        "breaches_5y": r.poisson(prop * 0.3),
        "nonda_violence_5y": r.poisson(prop * 0.5),
        "other_offences_5y": r.poisson(prop * 1.5),
        "days_since_last_da": np.where(r.random(n) < 0.8, r.integers(1, 1800, n), np.nan),
        "days_since_first_da": r.integers(1, 5400, n).astype(float),
        "harm_days_1y": np.round(r.gamma(1.0, 30, n) * (r.random(n) < 0.6), 1),
        "harm_days_5y": np.round(r.gamma(1.2, 60, n) * (r.random(n) < 0.8), 1),
        "max_harm_5y": np.round(r.gamma(1.0, 40, n), 1),
        "n_victims_5y": r.poisson(0.3 + 0.3 * prop),
        "n_partner_victims_5y": r.poisson(0.2 + 0.2 * prop),
        "victim_repeat_share": r.random(n).round(2),
        "programme_referred": r.random(n) < 0.1,
        "programme_completed": r.random(n) < 0.05,
        "mental_health": r.random(n) < 0.11,
        "substance_misuse": r.random(n) < 0.11,
        "rfg_score": r.integers(0, 60, n).astype(float),
        "relationship": pd.Series(r.choice(["partner", "ex_partner", "family", "adolescent_to_parent"], n), dtype="str"),
    })
    lin = -2 + 0.4 * df.da_incidents_90d + 0.15 * df.da_incidents_5y - 0.03 * (df.age_at_index - 35) + 0.3 * df.breaches_5y
    y = (r.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return df, y

def dictionary(cols):
    d = {}
    for c in cols:
        words = c.replace("_", " ")
        if c in ("programme_referred", "programme_completed", "mental_health", "substance_misuse"):
            d[c] = {"description": words, "reason": words, "unit": "flag"}
        elif c == "relationship":
            d[c] = {"description": "relationship to the victim", "reason": "relationship to the victim: {value}", "unit": "category"}
        else:
            d[c] = {"description": words, "reason": "{value:.0f} " + words, "unit": "count"}
    return d

def train(df, y, trees, leaves, max_depth=-1):
    feats = list(df.columns)
    b = ModelBundle(boosters={}, calibrators={}, feature_names=feats,
                    categorical_levels={"relationship": ["partner", "ex_partner", "family", "adolescent_to_parent"]},
                    feature_spec={"dictionary": dictionary(feats)})
    X = b.prepare(df)
    params = {"objective": "binary", "verbose": -1, "num_leaves": leaves, "max_depth": max_depth,
              "learning_rate": 0.05, "min_data_in_leaf": 50, "seed": 0, "deterministic": True}
    booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=trees)
    b.boosters["reoffend"] = booster
    b.calibrators["reoffend"] = Calibrator()
    return b

def depth(booster):
    def dd(n):
        return 0 if "leaf_value" in n else 1 + max(dd(n["left_child"]), dd(n["right_child"]))
    ds = [dd(t["tree_structure"]) for t in booster.dump_model()["tree_info"]]
    return float(np.mean(ds)), int(max(ds))

def newest_run():
    runs = sorted((p for p in reports_dir().glob("*/run.json") if (p.parent / "model" / "manifest.json").exists()),
                  key=lambda p: p.stat().st_mtime)
    return runs[-1].parent if runs else None

def measure(bundle, frame, head="reoffend"):
    X = bundle.prepare(frame)
    booster = bundle.boosters[head]
    t0 = time.perf_counter(); booster.predict(X, pred_contrib=True); t_raw = time.perf_counter() - t0
    t0 = time.perf_counter(); rc = reason_codes(bundle, frame, head=head); t_rc = time.perf_counter() - t0
    phi = contributions(bundle, X, head)[:, :-1]
    t0 = time.perf_counter(); reasons_from_contributions(bundle, frame, X, phi, k=3); t_sent = time.perf_counter() - t0
    n = len(frame)
    mean_d, max_d = depth(booster)
    return {
        "rows": n,
        "trees": booster.num_trees(),
        "num_leaves": int(booster.params.get("num_leaves", 0) or 0),
        "mean_tree_depth": round(mean_d, 1), "max_tree_depth": max_d,
        "features": len(bundle.feature_names),
        "distinct_rows_share": round(len(X.drop_duplicates()) / n, 3),
        "pred_contrib_seconds": round(t_raw, 3), "pred_contrib_rows_per_s": round(n / t_raw),
        "reason_codes_seconds": round(t_rc, 3), "reason_codes_rows_per_s": round(n / t_rc),
        "sentences_only_seconds": round(t_sent, 3), "sentences_only_rows_per_s": round(n / t_sent),
        "overhead_vs_pred_contrib": round(t_rc / t_raw - 1, 3),
        "example": [rc.iloc[0][f"reason_{i}"] for i in (1, 2, 3)],
    }

run = newest_run()
if run is not None:
    from riskmodel.models import load_bundle
    info = json.loads((run / "run.json").read_text())
    bundle = load_bundle(run / "model", expected_manifest_sha256=info.get("bundle_manifest_sha256"))
    preds = pd.read_parquet(run / "predictions.parquet")
    frame = preds.sample(n=N, replace=len(preds) < N, random_state=0).reset_index(drop=True)
    result["model_source"] = f"run {run.name}"
else:
    df, y = synthetic(60_000, 0)
    bundle = train(df, y, 400, 31)
    frame, _ = synthetic(N, 1)
    result["model_source"] = "representative model trained in the benchmark (400 trees, 31 leaves)"
result["default_model"] = measure(bundle, frame)
df, y = synthetic(60_000, 0)
large = train(df, y, 500, 63)
small_frame, _ = synthetic(2000, 2)
result["large_model_2000_rows"] = measure(large, small_frame)
result["large_model_projected_10k_seconds"] = round(
    N / result["large_model_2000_rows"]["reason_codes_rows_per_s"], 1)
"""


def main() -> dict:
    """Time reason codes and raw ``pred_contrib`` on the same rows (one child process)."""
    code = _CODE.replace("N_PEOPLE_VALUE", str(N_PEOPLE))
    figures = run_measured(code)
    d = figures["default_model"]
    figures["target"] = "reasons for 10,000 people in under 30 s on 2 cores"
    figures["target_met"] = d["rows"] == N_PEOPLE and d["reason_codes_seconds"] < 30
    return figures


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(main(), indent=2))

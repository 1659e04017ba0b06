"""Training time and peak memory on the Kent world (``make bench``; features cached first).

Two measurements, each in a fresh process (``benchmarks._measure.run_measured``):

- ``fit``: load the cached feature table, split, train both heads and all baselines, calibrate
  and score the test period with bootstrap intervals (``riskmodel.models.fit_and_evaluate``);
- ``train_run``: the same plus the run directory, report and MLflow logging and registration
  (``riskmodel.models.train_table``), into a throwaway project so the real registry is untouched.

The world and the feature table are built (and cached) before timing if they are missing.
"""

from __future__ import annotations

import tempfile
import time

from benchmarks._measure import run_measured

FIT = """
import time
from riskmodel.experiment import load_experiment
from riskmodel.features import load_feature_table
from riskmodel.models import fit_and_evaluate
exp = load_experiment(EXPERIMENT)
t0 = time.perf_counter()
table = load_feature_table(FEATURES_DIR)
result["load_seconds"] = round(time.perf_counter() - t0, 2)
t0 = time.perf_counter()
trained = fit_and_evaluate(table.frame, table.spec, exp)
result["fit_and_evaluate_seconds"] = round(time.perf_counter() - t0, 2)
m = trained.metrics
result["rows"] = {p: m[f"n.{p}"] for p in ("train", "validation", "test")}
result["n_features"] = m["features.n"]
result["best_iteration"] = {h: m[f"heads.{h}.best_iteration"] for h in ("reoffend", "severe")}
result["n_boot"] = m["bootstrap.n_boot"]
result["test_auc"] = {
    k.removeprefix("test.").replace(".auc.", "."): round(v, 4)
    for k, v in m.items() if k.startswith("test.") and ".auc." in k and v is not None
}
"""

TRAIN_RUN = """
import os, time
os.environ["RISKMODEL_HOME"] = HOME
os.environ["MLFLOW_TRACKING_URI"] = "sqlite:///" + HOME + "/mlflow.db"
from riskmodel.experiment import load_experiment
from riskmodel.features import load_feature_table
from riskmodel.models import PreparedData, train_table
exp = load_experiment(EXPERIMENT)
table = load_feature_table(FEATURES_DIR)
data = PreparedData(frame=table.frame, spec=table.spec, source="synthetic",
                    features_dir=FEATURES_DIR, world_dir=None)
t0 = time.perf_counter()
train_table(data, exp, experiment_file=EXPERIMENT)
result["train_table_seconds"] = round(time.perf_counter() - t0, 2)
"""


def main() -> dict:
    from riskmodel.experiment import load_experiment
    from riskmodel.models import prepare_data
    from riskmodel.paths import default_experiment

    experiment = str(default_experiment())
    t0 = time.perf_counter()
    data = prepare_data(load_experiment(experiment))
    prepare_seconds = round(time.perf_counter() - t0, 2)
    subs = {"EXPERIMENT": repr(experiment), "FEATURES_DIR": repr(str(data.features_dir))}

    def code(template: str, **extra: str) -> str:
        for k, v in {**subs, **extra}.items():
            template = template.replace(k, v)
        return template

    fit = run_measured(code(FIT))
    with tempfile.TemporaryDirectory(prefix="bench_train_") as home:
        full = run_measured(code(TRAIN_RUN, HOME=repr(home)))
    return {
        "experiment": experiment,
        "feature_table_rows": len(data.frame),
        "prepare_data_seconds (cache hit unless first run)": prepare_seconds,
        "fit": fit,
        "train_run": full,
    }

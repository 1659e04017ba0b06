"""Cost of what-limits-the-model on the Kent world (``make bench``; features cached first).

Each measurement in a fresh process (``benchmarks._measure.run_measured``), one thread:

- ``ceiling``: fit E[p_reoffend_true | features] on the last three years of the default
  experiment's own table (the command fits it on a world twice the size: about twice this) and
  predict the test period;
- ``learning_curve_point``: one point of the learning curve (the reoffend head and both logistic
  baselines on half the training people);
- ``tuning``: ``TRIALS`` Optuna trials for the reoffend head on the validation period.
"""

from __future__ import annotations

import os

from benchmarks._measure import run_measured

TRIALS = int(os.environ.get("BENCH_LIMITS_TRIALS", "10"))

COMMON = """
from riskmodel.config import load_experiment
from riskmodel.features import load_feature_table
exp = load_experiment(EXPERIMENT)
table = load_feature_table(FEATURES_DIR)
frame, spec = table.frame, table.spec
"""

CEILING = (
    COMMON
    + """
import pandas as pd
from riskmodel.models._ceiling import fit_ceiling
from riskmodel.models._fit import categorical_levels, model_features
from riskmodel.models._split import make_split
features, _ = model_features(spec, exp.train.exclude_features)
split = make_split(frame, exp.train.split, seed=exp.seed)
levels = categorical_levels(frame, features, spec, split.train)
d = pd.to_datetime(frame["index_date"])
rows = frame[d > d.max() - pd.Timedelta(days=3 * 365)]
c = fit_ceiling(rows, features, levels, "p_reoffend_true", seed=exp.seed)
c.predict(frame.iloc[split.test])
result["rows"] = len(rows)
result["best_iteration"] = c.best_iteration
"""
)

CURVE = (
    COMMON
    + """
from riskmodel.models._learning import learning_curves
r = learning_curves(frame, spec, exp, fractions=[0.5], heads=["reoffend"], n_boot=100)
result["train_people"] = r["heads"]["reoffend"][0]["n_people"]
"""
)

TUNE = (
    COMMON
    + """
from riskmodel.models._tune import TuningConfig, tune_and_compare
r = tune_and_compare(frame, spec, exp, TuningConfig(n_trials=TRIALS, heads=("reoffend",)),
                     n_boot=100, log_to_mlflow=False)
result["n_trials"] = TRIALS
result["chosen"] = r["heads"]["reoffend"]["chosen"]
result["auc_gain_tuned"] = r["compare"]["reoffend"]["diff"]["auc"]
"""
)


def main() -> dict:
    from riskmodel.config import load_experiment
    from riskmodel.models import prepare_data
    from riskmodel.paths import default_experiment

    experiment = str(default_experiment())
    data = prepare_data(load_experiment(experiment))
    subs = {
        "EXPERIMENT": repr(experiment),
        "FEATURES_DIR": repr(str(data.features_dir)),
        "TRIALS": str(TRIALS),
    }

    def code(template: str) -> str:
        for k, v in subs.items():
            template = template.replace(k, v)
        return template

    return {
        "experiment": experiment,
        "feature_table_rows": len(data.frame),
        "ceiling": run_measured(code(CEILING)),
        "learning_curve_point": run_measured(code(CURVE)),
        "tuning": run_measured(code(TUNE)),
    }

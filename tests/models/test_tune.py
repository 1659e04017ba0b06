"""Tuning under time order: reproducible, blind to the test period, logged to MLflow."""

from __future__ import annotations

import pytest

from riskmodel.evaluation import VERDICTS
from riskmodel.models._tune import SEARCH_SPACE, TuningConfig, tune_and_compare
from tests.models.models_fixtures import fixture_experiment, make_feature_table


@pytest.fixture(scope="module")
def small_table():
    return make_feature_table(n_people=700, seed=3)


def _run(table, **kw):
    frame, spec = table
    exp = fixture_experiment(
        train={"reoffend": {"num_boost_round": 60, "early_stopping_rounds": 10}},
    )
    tuning = TuningConfig(
        n_trials=kw.pop("n_trials", 3), seed=kw.pop("seed", 0), heads=("reoffend",)
    )
    return tune_and_compare(frame, spec, exp, tuning, n_boot=40, log_to_mlflow=False, **kw)


def test_same_seed_same_chosen_parameters(small_table):
    a = _run(small_table)
    b = _run(small_table)
    assert a["heads"]["reoffend"]["chosen"] == b["heads"]["reoffend"]["chosen"]
    assert [t["value"] for t in a["heads"]["reoffend"]["trials"]] == [
        t["value"] for t in b["heads"]["reoffend"]["trials"]
    ]
    c = _run(small_table, seed=1)
    assert c["heads"]["reoffend"]["chosen"] != a["heads"]["reoffend"]["chosen"]


def test_search_stays_in_its_space_and_compares_on_test(small_table):
    r = _run(small_table)
    head = r["heads"]["reoffend"]
    assert len(head["trials"]) == 3
    for t in head["trials"]:
        for name, value in t["params"].items():
            low, high, _, _ = SEARCH_SPACE[name]
            assert low <= value <= high
    # the chosen trial is the one with the lowest validation log-loss
    assert head["best_value"] == min(t["value"] for t in head["trials"])
    cmp = r["compare"]["reoffend"]
    assert cmp["verdict"]["auc"] in VERDICTS
    lo, hi = cmp["ci"]["auc"]
    assert lo <= cmp["diff"]["auc"] <= hi
    # the validation period precedes the test period
    assert r["validation_period"].split(" to ")[1] < r["test_period"].split(" to ")[0]


def test_tuning_config_refuses_unknown_heads():
    with pytest.raises(ValueError, match="unknown head"):
        TuningConfig(heads=("violence",))


def test_search_is_logged_to_mlflow(small_table, isolated_project):
    from riskmodel import tracking

    frame, spec = small_table
    exp = fixture_experiment(train={"reoffend": {"num_boost_round": 40}})
    r = tune_and_compare(frame, spec, exp, TuningConfig(n_trials=2, heads=("reoffend",)), n_boot=20)
    info = tracking.run_info(r["mlflow_run_id"])
    chosen = r["heads"]["reoffend"]["chosen"]
    for name, value in chosen.items():
        assert info["params"][f"chosen.reoffend.{name}"] == str(value)
    history = tracking.client().get_metric_history(
        r["mlflow_run_id"], "tuning.reoffend.validation_log_loss"
    )
    assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(
        [t["value"] for t in r["heads"]["reoffend"]["trials"]]
    )
    assert info["tags"]["seed"] == str(exp.seed)


def test_training_keeps_fixed_parameters_unless_the_experiment_asks(small_table):
    from riskmodel.experiment import load_experiment
    from riskmodel.models import fit_and_evaluate
    from riskmodel.paths import experiments_dir

    # every shipped experiment (make run: baseline) trains with the fixed parameters
    assert load_experiment(experiments_dir() / "baseline.yaml").train.tuning is None
    frame, spec = small_table
    heads = {"num_boost_round": 60, "early_stopping_rounds": 10}
    fixed = fit_and_evaluate(frame, spec, fixture_experiment(train={"reoffend": heads}))
    assert not any(k.startswith("tuning.") for k in fixed.metrics)
    assert fixed.heads["reoffend"].params["num_leaves"] == 31
    exp = fixture_experiment(
        train={"reoffend": heads, "tuning": {"n_trials": 2, "seed": 4, "heads": ["reoffend"]}}
    )
    tuned = fit_and_evaluate(frame, spec, exp)
    chosen = {
        k.rsplit(".", 1)[1]: v
        for k, v in tuned.metrics.items()
        if k.startswith("tuning.reoffend.chosen.")
    }
    # the head was trained with the chosen settings, which the same search reproduces
    for name, value in chosen.items():
        assert tuned.heads["reoffend"].params[name] == value
    again = _run(small_table, n_trials=2, seed=4)
    assert chosen == again["heads"]["reoffend"]["chosen"]
    assert len(tuned.metrics["tuning.reoffend.trial_validation_log_loss"]) == 2
    assert not any(k.startswith("tuning.severe") for k in tuned.metrics)


def test_tuning_config_errors_name_the_key():
    from riskmodel.config import ConfigError, validate_mapping
    from riskmodel.models import TrainConfig

    with pytest.raises(ConfigError, match="tuning.heads"):
        validate_mapping({"tuning": {"heads": ["violent"]}}, TrainConfig, source="x.yaml")

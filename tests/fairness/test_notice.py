"""The permitted-use notice names the sensitive inputs the model actually uses, on every output."""

from __future__ import annotations

import json

from riskmodel.fairness import audit_run
from riskmodel.notice import (
    NEVER_INPUTS,
    PERMITTED_USE_NOTICE,
    PROTECTED_CHARACTERISTICS,
    permitted_use_notice,
    sensitive_inputs,
)

SENSITIVE = ("age_at_index", "mental_health", "substance_misuse")


def test_default_notice_names_age_and_the_health_flags():
    # the constant every output carries describes the default feature set, which has them all
    for name in SENSITIVE:
        assert name in PERMITTED_USE_NOTICE
    assert "never model inputs" not in PERMITTED_USE_NOTICE  # the old, false sentence
    assert all(word in PERMITTED_USE_NOTICE for word in ("sex", "ethnicity", "disability"))


def test_notice_follows_the_models_feature_list():
    with_them = permitted_use_notice(["n_da_all", "age_at_index", "mental_health"])
    assert "age_at_index" in with_them and "mental_health" in with_them
    assert "substance_misuse (" not in with_them  # not used, so not named as used
    without = permitted_use_notice(["n_da_all", "harm_da_all"])
    assert "uses no sensitive characteristic" in without
    assert sensitive_inputs(["n_da_all"]) == []
    assert sensitive_inputs(["substance_misuse", "age_at_index"]) == [
        "age_at_index",
        "substance_misuse",
    ]
    # the inputs named as used are never ones the config refuses
    assert not set(sensitive_inputs()) & PROTECTED_CHARACTERISTICS
    assert "sex" in NEVER_INPUTS


def test_fairness_outputs_carry_the_runs_own_notice(run_dir_loadable, isolated_project):
    # the fixture run's model uses priors_da and area_code: no sensitive input
    html, js = audit_run(run_dir_loadable)
    out = json.loads(js.read_text())
    assert "uses no sensitive characteristic" in out["permitted_use"]
    assert out["sensitive_inputs"]["used"] == []
    text = html.read_text()
    assert "uses no sensitive characteristic" in text
    assert PERMITTED_USE_NOTICE not in text  # not the default set's notice: this model's own

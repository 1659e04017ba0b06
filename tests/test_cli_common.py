"""User errors become one clean line; internal errors keep their traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer

from riskmodel._cli_common import is_user_error, user_errors
from riskmodel.config import ConfigError, load_config
from riskmodel.eligibility import EligibilityConfig, apply_eligibility_rule
from riskmodel.evaluation import expected_calibration_error
from riskmodel.experiment import ExperimentConfig
from riskmodel.models import Run, load_run


def caught(fn) -> BaseException:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the test inspects whatever was raised
        return exc
    raise AssertionError("expected an exception")


def test_errors_riskmodel_raises_for_the_user_are_one_line(capsys, tmp_path):
    with pytest.raises(typer.Exit) as ended, user_errors():
        expected_calibration_error(np.array([2, 0]), np.array([0.5, 0.5]))  # raise ValueError(ERR_)
    assert ended.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: y must be 0/1") and "Traceback" not in err
    # multi-line raise statements, config errors and missing files the user named
    no_area = pd.DataFrame({"person_id": ["a"], "p_reoffend": [0.5], "p_severe": [0.1]})
    rule = EligibilityConfig(capacity_per_area={"X": 1})
    assert is_user_error(caught(lambda: apply_eligibility_rule(no_area, rule=rule)))
    assert is_user_error(caught(lambda: load_run(tmp_path / "no-such-run")))
    assert is_user_error(caught(lambda: load_config(tmp_path / "x.yaml", ExperimentConfig)))
    assert isinstance(
        caught(lambda: load_config(tmp_path / "x.yaml", ExperimentConfig)), ConfigError
    )


def test_a_plain_lookup_failing_inside_riskmodel_keeps_its_traceback():
    broken = Run(dir=Path("."), info={}, bundle=None, experiment=None)  # type: ignore[arg-type]
    with pytest.raises(KeyError, match="run_id"), user_errors():
        _ = broken.id  # a bug (info without run_id), not the user's input


def test_errors_from_inside_libraries_keep_their_traceback():
    with pytest.raises(ValueError, match="reshape"), user_errors():
        np.zeros(3).reshape(2)


def test_extra_kinds_are_user_errors(capsys):
    class Refused(Exception):
        pass

    with pytest.raises(typer.Exit), user_errors(Refused):
        raise Refused("purpose 'charging' is not permitted")
    assert "purpose 'charging' is not permitted" in capsys.readouterr().err

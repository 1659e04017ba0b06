"""Fixtures of the refresh tests: a changing world's feature table, a project home, a champion."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tests.refresh.refresh_fixtures import experiment, make_table, prepared

CHAMPION_AS_OF = dt.date(2019, 1, 1)


@pytest.fixture(scope="module")
def project_home(tmp_path_factory):
    """A throwaway project directory (reports, MLflow store, audit log) for one test module."""
    home: Path = tmp_path_factory.mktemp("project")
    mp = pytest.MonkeyPatch()
    mp.setenv("RISKMODEL_HOME", str(home))
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home / 'mlflow.db'}")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    yield home
    mp.undo()


@pytest.fixture(scope="module")
def table():
    return make_table(n_people=5000, seed=3, trend=True)


@pytest.fixture(scope="module")
def champion(project_home, table):
    """A champion trained on what was known on 2019-01-01 and promoted (alias champion)."""
    from riskmodel.models import promote, train_table
    from riskmodel.refresh._refresh import challenger_experiment, known_at

    frame, spec = table
    exp = experiment()
    res = train_table(
        prepared(known_at(frame, CHAMPION_AS_OF), spec),
        challenger_experiment(exp, CHAMPION_AS_OF, exp.refresh),
    )
    promote(res.run_id)
    return res.run_id

"""Refresh end to end on a changing world: a good challenger is promoted, each kind of bad
challenger is blocked by the gate that should catch it and leaves the champion untouched;
forced promotions and rollbacks are in the hash-chained audit log."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from tests.refresh.refresh_fixtures import experiment, prepared

AS_OF = dt.date(2023, 1, 1)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("refresh_gates")]


def _audit(run_dir):
    # the command's own auditor: the light window audit the gate reads in production
    from riskmodel.pipeline._refresh_cli import _audit_fairness_json

    return _audit_fairness_json(run_dir)


def _log(entry):
    from riskmodel.paths import audit_log_path
    from riskmodel.scoring import AuditLog

    return AuditLog(audit_log_path()).append(entry)


def _refresh(table, *, data=None, window=None, **kw):
    from riskmodel.refresh import refresh

    frame, spec = table
    full = prepared(frame, spec)
    return refresh(
        as_of=AS_OF,
        experiment=kw.pop("exp", experiment()),
        data=data or full,
        window_data=window or full,
        audit_fairness=_audit,
        log_event=_log,
        **kw,
    )


def _champion_now():
    from riskmodel.refresh import run_of_alias

    return run_of_alias("champion")


def _gate(res, name):
    return next(g for g in res.gates if g.name == name)


def test_much_smaller_extract_is_blocked_by_discrimination(table, champion):
    frame, spec = table
    people = frame["person_id"].unique()
    keep = np.random.default_rng(1).choice(people, size=len(people) // 40, replace=False)
    small = frame[frame["person_id"].isin(keep)].reset_index(drop=True)
    res = _refresh(table, data=prepared(small, spec))
    assert not _gate(res, "discrimination").passed
    assert not res.promoted
    assert _champion_now() == champion


def test_corrupted_extract_is_blocked_by_the_data_gate(table, champion):
    frame, spec = table
    bad = frame.copy()
    rows = np.random.default_rng(2).choice(len(bad), size=40, replace=False)
    bad.loc[rows[:20], "n_da_all"] = -3
    bad["reoffend_12m"] = bad["reoffend_12m"].astype(object)
    bad.loc[rows[20:], "reoffend_12m"] = None
    res = _refresh(table, data=prepared(bad, spec))
    gate = _gate(res, "data")
    assert not gate.passed
    problems = " ".join(gate.measured["contract_problems"])
    assert "n_da_all: negative count" in problems and "reoffend_12m: missing" in problems
    assert res.challenger_run is None and not res.promoted
    assert _champion_now() == champion


def test_protected_characteristic_through_a_proxy_is_blocked(table, champion):
    frame, spec = table
    r = np.random.default_rng(4)
    proxied = frame.assign(
        title_code=np.where(
            r.random(len(frame)) < 0.95, frame["sex"] == "female", r.random(len(frame)) < 0.5
        ).astype(int)
    )
    spec2 = {**spec, "features": [*spec["features"], "title_code"]}
    res = _refresh(table, data=prepared(proxied, spec2), window=prepared(proxied, spec2))
    gate = _gate(res, "sensitive_inputs")
    assert not gate.passed
    assert "title_code picks out sex" in gate.reason
    assert not res.promoted and _champion_now() == champion


def test_mislabelled_extract_is_blocked_by_calibration(table, champion):
    frame, spec = table
    r = np.random.default_rng(5)
    noisy = frame.copy()
    neg = ~noisy["reoffend_12m"].to_numpy(bool)
    noisy.loc[neg & (r.random(len(noisy)) < 0.5), "reoffend_12m"] = True
    res = _refresh(table, data=prepared(noisy, spec))
    gate = _gate(res, "calibration")
    assert not gate.passed
    assert gate.measured["challenger"]["intercept"] < -0.25
    assert not res.promoted and _champion_now() == champion


def test_good_challenger_promoted_then_rollback_and_force_are_logged(table, champion):
    from riskmodel.paths import audit_log_path
    from riskmodel.refresh import current_aliases, rollback, run_of_alias
    from riskmodel.scoring import AuditLog

    before = current_aliases()["champion"]
    res = _refresh(table)
    failed = [(g.name, g.reason) for g in res.gates if not g.passed]
    assert failed == []
    assert res.promoted and not res.forced
    assert run_of_alias("champion") == res.challenger_run
    assert current_aliases()["previous"] == before
    report = json.loads((res.report_dir / "promotion.json").read_text())
    assert {g["name"] for g in report["gates"]} == {
        "data",
        "sensitive_inputs",
        "discrimination",
        "calibration",
        "fairness",
    }
    assert report["promoted"] is True and "PERMITTED USE" in report["permitted_use"]
    # the champion's window audit ran beside the training, on the window the challenger's split
    # then gave (else it is redone after training and this is False); both audits exist
    assert report["champion_audited_beside_training"] is True
    # its time comes back from the other process (it is not inside evaluate_s)
    assert (
        0 < report["timings_s"]["champion_audit_beside_training_s"] < report["timings_s"]["total_s"]
    )
    assert all(Path(f).exists() for f in report["fairness_files"].values())
    # the changing world: the challenger ranks the recent window better than the old champion
    gain = _gate(res, "discrimination").measured["reoffend"]
    assert gain["gain_ci"][0] > 0

    entry = rollback(log_event=_log, who="test", reason="bad week")
    assert run_of_alias("champion") == champion
    assert entry["event"] == "rollback" and entry["to_run"] == champion

    with pytest.raises(ValueError, match="--reason"):
        _refresh(table, force=True, reason=" ")
    frame, spec = table
    small = frame[frame["person_id"].isin(frame["person_id"].unique()[:100])]
    forced = _refresh(
        table,
        data=prepared(small.reset_index(drop=True), spec),
        force=True,
        reason="panel approved a pilot",
        who="tester",
    )
    assert forced.promoted and forced.forced
    assert run_of_alias("champion") == forced.challenger_run
    log = AuditLog(audit_log_path())
    events = [e["event"] for e in log.entries()]
    assert events == ["rollback", "forced_promotion"]
    last = list(log.entries())[-1]
    assert last["reason"] == "panel approved a pilot" and last["failed_gates"]
    assert log.verify().ok

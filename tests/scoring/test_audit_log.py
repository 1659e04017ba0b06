"""The audit log: an intact chain verifies; any edit, deletion or reordering is found."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp

import pytest
from typer.testing import CliRunner

from riskmodel.cli import app
from riskmodel.provenance import canonical_json
from riskmodel.scoring import AuditLog, AuditLogError
from riskmodel.scoring._audit_log import GENESIS_HASH


def _fill(log: AuditLog, n: int) -> list[dict]:
    return [
        log.append(
            {
                "user": f"u{i}",
                "purpose": "programme_referral",
                "outcome": "completed",
                "counts": {"listed": i},
            }
        )
        for i in range(n)
    ]


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text().splitlines(keepends=True)


def _write(log: AuditLog, lines: list[str]) -> None:
    log.path.write_text("".join(lines))


def test_entries_chain_by_independently_computed_hashes(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    written = _fill(log, 3)
    prev = GENESIS_HASH
    for i, line in enumerate(_lines(log), start=1):
        e = json.loads(line)
        body = {k: v for k, v in e.items() if k != "hash"}
        assert hashlib.sha256(canonical_json(body).encode()).hexdigest() == e["hash"]
        assert e["prev_hash"] == prev and e["seq"] == i
        assert e["time"].endswith("+00:00")  # UTC
        prev = e["hash"]
    assert written[-1]["hash"] == prev
    rep = log.verify()
    assert (rep.ok, rep.n_entries, rep.first_bad_line, rep.problem, rep.last_hash) == (
        True,
        3,
        None,
        None,
        prev,
    )


def test_empty_or_missing_log_verifies(tmp_path):
    rep = AuditLog(tmp_path / "none.jsonl").verify()
    assert rep.ok and rep.n_entries == 0


def test_edited_line_is_found(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    _fill(log, 5)
    lines = _lines(log)
    e = json.loads(lines[2])
    e["purpose"] = "charging"  # hash kept: the content no longer matches it
    lines[2] = json.dumps(e) + "\n"
    _write(log, lines)
    rep = log.verify()
    assert not rep.ok and rep.first_bad_line == 3 and "edited" in rep.problem


def test_edited_line_with_recomputed_hash_breaks_the_chain_at_the_next_line(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    _fill(log, 5)
    lines = _lines(log)
    e = json.loads(lines[1])
    e["user"] = "someone else"
    body = {k: v for k, v in e.items() if k != "hash"}
    e["hash"] = hashlib.sha256(canonical_json(body).encode()).hexdigest()
    lines[1] = canonical_json(e) + "\n"
    _write(log, lines)
    rep = log.verify()
    assert not rep.ok and rep.first_bad_line == 3 and "prev_hash" in rep.problem


def test_last_line_edited_with_recomputed_hash_is_caught_by_the_head(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    _fill(log, 3)
    lines = _lines(log)
    e = json.loads(lines[-1])
    e["counts"] = {"listed": 999}
    body = {k: v for k, v in e.items() if k != "hash"}
    e["hash"] = hashlib.sha256(canonical_json(body).encode()).hexdigest()
    lines[-1] = canonical_json(e) + "\n"
    _write(log, lines)
    rep = log.verify()
    assert not rep.ok and "head file records" in rep.problem


@pytest.mark.parametrize("which, first_bad", [(0, 1), (2, 3), (3, 4)])
def test_deleted_line_is_found(tmp_path, which, first_bad):
    log = AuditLog(tmp_path / "log.jsonl")
    _fill(log, 5)
    lines = _lines(log)
    del lines[which]
    _write(log, lines)
    rep = log.verify()
    assert not rep.ok and rep.first_bad_line == first_bad


@pytest.mark.parametrize("k", [1, 2])
def test_deleted_last_lines_are_found(tmp_path, k):
    log = AuditLog(tmp_path / "log.jsonl")
    _fill(log, 5)
    _write(log, _lines(log)[:-k])
    rep = log.verify()
    assert not rep.ok and rep.first_bad_line == 6 - k and "deleted" in rep.problem
    with pytest.raises(AuditLogError, match="not intact"):
        log.append({"user": "x"})  # never chain onto a truncated log


def test_deleted_whole_log_or_head_is_found(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    _fill(log, 2)
    log.path.unlink()
    rep = log.verify()
    assert not rep.ok and "deleted" in rep.problem
    log2 = AuditLog(tmp_path / "log2.jsonl")
    _fill(log2, 2)
    log2.head_path.unlink()
    assert not log2.verify().ok


def test_reordered_lines_are_found(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    _fill(log, 5)
    lines = _lines(log)
    lines[1], lines[3] = lines[3], lines[1]
    _write(log, lines)
    rep = log.verify()
    assert not rep.ok and rep.first_bad_line == 2


def test_inserted_and_truncated_lines_are_found(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    _fill(log, 3)
    lines = _lines(log)
    _write(log, [*lines[:1], lines[0], *lines[1:]])  # a duplicated line
    assert log.verify().first_bad_line == 2
    _write(log, [*lines[:2], lines[2][:-10]])  # cut mid-line
    rep = log.verify()
    assert not rep.ok and rep.first_bad_line == 3 and "incomplete" in rep.problem
    _write(log, [*lines[:2], "not json\n", lines[2]])
    assert log.verify().first_bad_line == 3


def test_expected_hashes_anchor_the_chain(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    entries = _fill(log, 3)
    assert log.verify(expected_hashes=[entries[1]["hash"]]).ok
    rep = log.verify(expected_hashes=["f" * 64])
    assert not rep.ok and "not in the log" in rep.problem


def test_reserved_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        AuditLog(tmp_path / "l.jsonl").append({"hash": "x"})


def _append_many(path: str, who: int, n: int) -> None:
    log = AuditLog(path)
    for i in range(n):
        log.append({"user": f"p{who}", "i": i})


def test_concurrent_appends_keep_one_chain(tmp_path):
    path = str(tmp_path / "log.jsonl")
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(path, w, 15)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    rep = AuditLog(path).verify()
    assert rep.ok and rep.n_entries == 45


def test_cli_verify_exit_codes(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    entries = _fill(log, 4)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit-log", "verify", "--path", str(log.path)])
    assert ok.exit_code == 0 and "intact" in ok.output
    anchored = runner.invoke(
        app, ["audit-log", "verify", "--path", str(log.path), "--expect", entries[2]["hash"]]
    )
    assert anchored.exit_code == 0
    lines = _lines(log)
    lines[1], lines[2] = lines[2], lines[1]
    _write(log, lines)
    bad = runner.invoke(app, ["audit-log", "verify", "--path", str(log.path)])
    assert bad.exit_code == 1
    assert "first bad line: 2" in bad.output
    shown = runner.invoke(app, ["audit-log", "show", "--path", str(log.path), "--last", "2"])
    assert shown.exit_code == 0 and "u3" in shown.output

"""Issue 16: what a clumsy or hostile user could still do, one test per numbered item.

Each test reproduces the attack or the accident as the issue describes it, and asserts the
behaviour the fix promises (``test_item<N>_...``).
"""

from __future__ import annotations

import json
import os
import pwd

import pytest
from typer.testing import CliRunner

from riskmodel.cli import app
from riskmodel.paths import audit_log_path
from riskmodel.scoring import AuditLog

runner = CliRunner()


def _score_args(bundle_dir, cohort, out, *extra, purpose="programme_referral"):
    return [
        "score",
        "--model", str(bundle_dir),
        "--cohort", str(cohort),
        "--purpose", purpose,
        "--capacity", "10",
        "--out", str(out),
        *extra,
    ]  # fmt: skip


def _os_user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


# -- item 2: the audit log cannot be redirected or renamed ---------------------------------------
def test_item2_audit_log_cannot_be_redirected_or_renamed(
    isolated_project, bundle_dir, cohort_file, monkeypatch
):
    throwaway = isolated_project / "elsewhere" / "throwaway.jsonl"
    monkeypatch.setenv("RISKMODEL_AUDIT_LOG", str(throwaway))
    monkeypatch.setenv("RISKMODEL_USER", "somebody-else")
    refused = runner.invoke(
        app, _score_args(bundle_dir, cohort_file, isolated_project / "o1", purpose="charging")
    )
    assert refused.exit_code == 2
    done = runner.invoke(app, _score_args(bundle_dir, cohort_file, isolated_project / "o2"))
    assert done.exit_code == 0, done.output
    assert not throwaway.exists()
    log = AuditLog(audit_log_path())
    assert log.path == isolated_project / "audit_log" / "scoring.jsonl"
    entries = list(log.entries())
    assert [e["outcome"] for e in entries] == ["refused", "completed"]
    assert {e["user"] for e in entries} == {_os_user()}
    # the per-run ways to redirect or rename are gone
    for opt in (["--audit-log", str(throwaway)], ["--user", "x"]):
        res = runner.invoke(
            app, _score_args(bundle_dir, cohort_file, isolated_project / "o3", *opt)
        )
        assert res.exit_code == 2 and "No such option" in res.output
    assert not throwaway.exists()


def test_item2_a_declared_identity_is_recorded_beside_the_os_user(
    isolated_project, bundle_dir, cohort_file
):
    from riskmodel.scoring import score_cohort

    score_cohort(
        model=bundle_dir,
        cohort=cohort_file,
        purpose="programme_referral",
        capacity=5,
        out_dir=isolated_project / "o",
        user="pipeline-service",
    )
    (entry,) = AuditLog(audit_log_path()).entries()
    assert entry["user"] == _os_user()
    assert entry["declared_identity"] == "pipeline-service"


# -- item 3: a crash can no longer wedge or mislead the log --------------------------------------
def _entries(n: int, log: AuditLog) -> list[dict]:
    return [log.append({"user": "u", "outcome": "completed", "n": i}) for i in range(n)]


def test_item3_kill_between_line_and_head_is_recovered_by_a_logged_step(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    _entries(2, log)
    head_before = log.head_path.read_bytes()
    _entries(1, log)
    log.head_path.write_bytes(head_before)  # as if killed after the line, before the head
    assert not log.verify().ok
    log.append({"user": "u", "outcome": "refused"})
    rep = log.verify()
    assert rep.ok, rep.problem
    outcomes = [e["outcome"] for e in log.entries()]
    assert outcomes == ["completed", "completed", "completed", "recovery", "refused"]
    recovery = list(log.entries())[3]
    assert "head" in recovery["recovery"] and recovery["recovered_seq"] == 3


def test_item3_a_half_written_last_line_is_set_aside_by_a_logged_step(tmp_path):
    log = AuditLog(tmp_path / "log.jsonl")
    _entries(2, log)
    with open(log.path, "ab") as f:
        f.write(b'{"outcome":"compl')  # killed mid-write
    assert not log.verify().ok
    log.check_appendable()
    rep = log.verify()
    assert rep.ok, rep.problem
    last = list(log.entries())[-1]
    assert last["outcome"] == "recovery" and last["removed_bytes"] == 17


_KILL_BEFORE_PUBLISH = """
import os, sys
import riskmodel.scoring._transaction as t
def die(*a, **k):
    os._exit(137)
t.publish = die
from riskmodel.scoring import score_cohort
score_cohort(model=sys.argv[1], cohort=sys.argv[2], purpose="programme_referral", capacity=5,
             out_dir=sys.argv[3])
"""


def test_item3_kill_before_publish_is_marked_failed_and_the_partial_removed(
    isolated_project, bundle_dir, cohort_file
):
    import subprocess
    import sys

    from riskmodel.scoring import score_cohort

    out = isolated_project / "lists" / "a"
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_BEFORE_PUBLISH, str(bundle_dir), str(cohort_file), str(out)],
        env={**os.environ},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 137, proc.stderr
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".a.partial")]
    log = AuditLog(audit_log_path())
    assert [e["outcome"] for e in log.entries()] == ["completed"]  # misleading until recovery

    res = score_cohort(
        model=bundle_dir,
        cohort=cohort_file,
        purpose="programme_referral",
        capacity=5,
        out_dir=isolated_project / "lists" / "b",
    )
    entries = list(log.entries())
    assert [e["outcome"] for e in entries] == ["completed", "failed", "completed"]
    assert entries[1]["recovery"] and entries[1]["completed_entry_hash"] == entries[0]["hash"]
    assert entries[1]["output"]["dir"] == str(out)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".a.partial")]
    assert any("interrupted" in w for w in res.warnings)
    assert log.verify().ok


# -- item 4: the end of the log is anchored outside it; lines are canonical ----------------------
@pytest.mark.parametrize(
    "edit",
    [
        lambda line: line.replace(b"\n", b"\r\n"),
        lambda line: line.replace(b'","', b'", "', 1),
        lambda line: line[:-2] + b',"outcome":"completed"}\n',
    ],
    ids=["crlf", "spacing", "duplicate-key"],
)
def test_item4_a_line_must_be_the_canonical_form_of_its_entry(tmp_path, edit):
    log = AuditLog(tmp_path / "log.jsonl")
    _entries(3, log)
    lines = log.path.read_bytes().splitlines(keepends=True)
    edited = edit(lines[1])
    assert json.loads(edited)["hash"] == json.loads(lines[1])["hash"]  # same JSON, same hash
    log.path.write_bytes(b"".join([lines[0], edited, lines[2]]))
    rep = log.verify()
    assert not rep.ok and rep.first_bad_line == 2


def _rewrite_chain(log: AuditLog, keep) -> None:
    """What an insider with write access does: rewrite the chain and the head consistently."""
    from riskmodel.provenance import canonical_json
    from riskmodel.scoring._audit_log import GENESIS_HASH, entry_hash

    prev, out = GENESIS_HASH, []
    kept = [e for e in log.entries() if keep(e)]
    for i, e in enumerate(kept, start=1):
        body = {k: v for k, v in e.items() if k != "hash"}
        body.update(seq=i, prev_hash=prev)
        body["hash"] = prev = entry_hash(body)
        out.append(canonical_json(body) + "\n")
    log.path.write_text("".join(out))
    log.head_path.write_text(json.dumps({"n_entries": len(kept), "last_hash": prev}) + "\n")


def test_item4_rewriting_the_chain_is_caught_by_the_summaries_anchors(
    isolated_project, bundle_dir, cohort_file
):
    lists = isolated_project / "reports" / "eligibility"
    assert runner.invoke(app, _score_args(bundle_dir, cohort_file, lists / "a")).exit_code == 0
    runner.invoke(app, _score_args(bundle_dir, cohort_file, lists / "x", purpose="bail"))
    assert runner.invoke(app, _score_args(bundle_dir, cohort_file, lists / "b")).exit_code == 0
    log = AuditLog(audit_log_path())
    saved = log.path.read_bytes(), log.head_path.read_bytes()
    assert runner.invoke(app, ["audit-log", "verify"]).exit_code == 0

    _rewrite_chain(log, lambda e: e["outcome"] != "refused")  # hide the refusal
    assert log.verify().ok  # the log alone cannot tell
    res = runner.invoke(app, ["audit-log", "verify"])
    assert res.exit_code == 1 and "summary.json" in res.output

    log.path.write_bytes(saved[0])
    log.head_path.write_bytes(saved[1])
    _rewrite_chain(log, lambda e: e["seq"] < 3)  # delete the last line, fix the head
    assert log.verify().ok
    res = runner.invoke(app, ["audit-log", "verify"])
    assert res.exit_code == 1 and str(lists / "b") in res.output.replace("\n", "")


# -- item 9: output that attacks its reader ------------------------------------------------------
FORMULAS = ('=HYPERLINK("http://x.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx")


def test_item9_formula_cells_are_neutralised_in_every_csv(isolated_project, bundle_dir, tmp_path):
    import csv

    from .conftest import make_features

    df = make_features(120, 3)
    df["person_id"] = [f"{FORMULAS[i % len(FORMULAS)]}{i}" for i in range(len(df))]
    df["age_at_index"] = df["age_at_index"].astype(object)
    df.loc[:9, "age_at_index"] = "=cmd|' /C calc'!A0"  # rejected, and echoed in rejects.csv
    res = _score_features_file(df, tmp_path, bundle_dir, isolated_project, capacity=30)
    assert len(res.eligibility_list) > 0 and res.counts["rejected"] == 10
    for name in ("eligibility_list.csv", "rejects.csv"):
        text = (res.out_dir / name).read_text(encoding="utf-8")
        rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))
        cells = [c for row in rows[1:] for c in row]
        assert cells and not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
        assert any(c.startswith("'=") for c in cells)  # kept, readable, inert
    # the parquet list keeps the ids as given
    ids = res.eligibility_list["person_id"]
    assert ids.str[0].isin(["=", "+", "-", "@"]).any() and not ids.str.startswith("'").any()


def test_item9_audit_log_show_prints_user_text_literally(isolated_project, monkeypatch):
    from riskmodel._cli_common import console

    monkeypatch.setattr(console, "_width", 400)
    purpose = "[green]programme_referral[/green]"
    runner.invoke(app, ["score", "--model", "m", "--cohort", "c", "--purpose", purpose,
                        "--capacity", "1", "--out", str(isolated_project / "o")])  # fmt: skip
    res = runner.invoke(app, ["audit-log", "show"])
    assert res.exit_code == 0
    assert purpose in res.output and "refused" in res.output


# -- item 10: clean errors, early ----------------------------------------------------------------
def _one_clean_line(res) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    return " ".join(res.output.split())


def _outcomes() -> list[str]:
    return [e["outcome"] for e in AuditLog(audit_log_path()).entries()]


@pytest.mark.parametrize("target", ["empty-folder", "dangling"])
def test_item10_output_folder_that_is_a_link_is_refused_before_work(
    isolated_project, bundle_dir, cohort_file, target
):
    link = isolated_project / "lists" / "link"
    link.parent.mkdir()
    real = isolated_project / "real"
    if target == "empty-folder":
        real.mkdir()
    link.symlink_to(real)
    msg = _one_clean_line(runner.invoke(app, _score_args(bundle_dir, cohort_file, link)))
    assert "symbolic link" in msg
    assert "completed" not in _outcomes()
    assert not real.exists() or not any(real.iterdir())


def test_item10_output_parent_that_cannot_hold_a_folder_is_refused_before_work(
    isolated_project, bundle_dir, cohort_file
):
    blocker = isolated_project / "a-file"
    blocker.write_text("x")
    msg = _one_clean_line(runner.invoke(app, _score_args(bundle_dir, cohort_file, blocker / "out")))
    assert "not a folder" in msg and "completed" not in _outcomes()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_item10_read_only_output_parent_is_refused_before_work(
    isolated_project, bundle_dir, cohort_file
):
    parent = isolated_project / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        msg = _one_clean_line(
            runner.invoke(app, _score_args(bundle_dir, cohort_file, parent / "out"))
        )
    finally:
        parent.chmod(0o755)
    assert "not writable" in msg and "completed" not in _outcomes()


def test_item10_unwritable_log_location_is_one_clean_line(
    isolated_project, bundle_dir, cohort_file
):
    (isolated_project / "audit_log").write_text("not a folder")  # as good as read-only
    msg = _one_clean_line(
        runner.invoke(app, _score_args(bundle_dir, cohort_file, isolated_project / "out"))
    )
    assert "audit log cannot be written" in msg
    assert not (isolated_project / "out").exists()


def test_item10_alias_not_yet_promoted_is_one_clean_line(isolated_project, cohort_file):
    msg = _one_clean_line(
        runner.invoke(
            app,
            _score_args(
                "models:/riskmodel-reoffend@champion", cohort_file, isolated_project / "out"
            ),
        )
    )
    assert "models:/riskmodel-reoffend@champion" in msg and "promote" in msg
    assert _outcomes() == ["failed"]


# -- item 11: umask, capped echo, non-UTF-8 location ---------------------------------------------
def test_item11_outputs_respect_the_umask(isolated_project, bundle_dir, cohort_file):
    import stat

    from riskmodel.scoring import score_cohort

    old = os.umask(0o077)
    try:
        res = score_cohort(
            model=bundle_dir,
            cohort=cohort_file,
            purpose="programme_referral",
            capacity=5,
            out_dir=isolated_project / "out",
        )
    finally:
        os.umask(old)
    for p in [res.out_dir, *res.out_dir.iterdir()]:
        assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p


def test_item11_rejects_file_caps_what_it_echoes(isolated_project, bundle_dir, tmp_path):

    from .conftest import make_features

    df = make_features(50, 3)
    df["age_at_index"] = df["age_at_index"].astype(object)
    df.loc[4, "age_at_index"] = "x" * 5_000_000
    res = _score_features_file(df, tmp_path, bundle_dir, isolated_project, capacity=5)
    assert res.counts["rejected"] == 1
    assert res.rejects_csv.stat().st_size < 20_000
    assert "5,000,000 characters" in res.rejects_csv.read_text()


def test_item11_non_utf8_file_error_names_row_and_column(isolated_project, bundle_dir, tmp_path):
    from .conftest import make_features

    df = make_features(30, 3)
    path = tmp_path / "features.csv"
    df.to_csv(path, index=False)
    lines = path.read_bytes().splitlines(keepends=True)
    # data row 7, column "relationship": a Latin-1 byte
    cells = lines[7].split(b",")
    col = df.columns.get_loc("relationship")
    cells[col] = cells[col] + b"\xe9"
    lines[7] = b",".join(cells)
    path.write_bytes(b"".join(lines))
    msg = _one_clean_line(
        runner.invoke(app, _score_args(bundle_dir, path, isolated_project / "out"))
    )
    assert str(path) in msg and "data row 7" in msg and "'relationship'" in msg
    assert "line 8" in msg and "UTF-8" in msg


# -- item 1: one bad date must not empty the list ------------------------------------------------
def test_item1_features_file_rejects_future_missing_dates_and_negative_counts(
    isolated_project, bundle_dir, tmp_path
):
    import pandas as pd

    from .conftest import AS_OF, make_features

    df = make_features(250, 3)
    df["index_date"] = df["index_date"].dt.strftime("%Y-%m-%d").astype(object)
    df.loc[0, "index_date"] = "2031-01-01"  # after today
    df.loc[1, "index_date"] = None  # missing
    df.loc[2, "index_date"] = "2024-05-01T00:00:00"  # a valid date, written as a timestamp
    df.loc[3, "da_incidents_365d"] = -2  # a negative count
    res = _score_features_file(df, tmp_path, bundle_dir, isolated_project, capacity=30)
    assert res.scoring_date <= AS_OF
    c = res.counts
    assert c["in"] == 250 and c["rejected"] == 3
    assert c["listed"] == 30
    rejects = pd.read_csv(res.rejects_csv, comment="#")
    got = {(int(r.row), r.column) for r in rejects.itertuples()}
    assert got == {(1, "index_date"), (2, "index_date"), (4, "da_incidents_365d")}
    assert rejects["file"].eq(str(tmp_path / "features.csv")).all()
    summary = json.loads(res.summary_json.read_text())
    assert summary["counts_outside_cohort"]["no_recent_da_event"] < 5


def test_item1_people_events_path_rejects_events_after_today(
    isolated_project, world_bundle, tmp_path
):
    import pandas as pd

    from riskmodel.scoring import score_cohort

    from .conftest import WORLD_AS_OF, make_world

    _, bundle_dir = world_bundle
    people, events, programmes = make_world(300, 21)
    future = events.iloc[[0]].assign(event_id="E9999999", date=pd.Timestamp("2031-01-01"))
    events = pd.concat([events, future], ignore_index=True)
    files = {}
    for name, frame in (("people", people), ("events", events)):
        files[name] = tmp_path / f"{name}.csv"
        frame.to_csv(files[name], index=False)
    res = score_cohort(
        model=bundle_dir,
        cohort=files,
        purpose="programme_referral",
        capacity=10,
        out_dir=isolated_project / "out",
        as_of=WORLD_AS_OF,
    )
    rejects = pd.read_csv(res.rejects_csv, comment="#", dtype=str)
    line = rejects.loc[rejects["file"] == str(files["events"])]
    assert len(line) == 1 and line["row"].iloc[0] == str(len(events))
    assert line["column"].iloc[0] == "date" and "after" in line["reason"].iloc[0]
    perp = future["perpetrator_id"].iloc[0]
    assert perp in set(rejects["person_id"].dropna())
    assert perp not in set(res.eligibility_list["person_id"])


def test_item1_features_command_refuses_an_end_date_after_today(isolated_project, tmp_path):
    from .conftest import make_world

    people, events, _ = make_world(50, 2)
    for name, frame in (("people", people), ("events", events)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    res = runner.invoke(
        app,
        ["features", "--people", str(tmp_path / "people.csv"), "--events",
         str(tmp_path / "events.csv"), "--end-date", "2031-01-01", "--out", str(tmp_path / "f")],
    )  # fmt: skip
    msg = _one_clean_line(res)
    assert "--end-date" in msg and "after today" in msg
    assert not (tmp_path / "f").exists()


# -- item 8: a config cannot expand without bound ------------------------------------------------
BOMB = """\
name: bomb
train:
  reoffend:
    params:
      a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
      d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]
"""


@pytest.mark.parametrize("loader", ["experiment", "eligibility rule", "world", "read_yaml"])
def test_item8_yaml_aliases_are_refused_in_every_config(tmp_path, loader):
    from riskmodel.config import ConfigError, load_config, read_yaml
    from riskmodel.eligibility import EligibilityConfig
    from riskmodel.experiment import load_experiment
    from riskmodel.synth import load_world_config

    path = tmp_path / "c.yaml"
    path.write_text(BOMB)
    call = {
        "experiment": lambda: load_experiment(path),
        "eligibility rule": lambda: load_config(path, EligibilityConfig),
        "world": lambda: load_world_config(path),
        "read_yaml": lambda: read_yaml(path),
    }[loader]
    with pytest.raises(ConfigError, match=r"YAML aliases \(\*a\) are not allowed"):
        call()


# -- item 5: a tampered model is not reported as the registered version --------------------------
def _register(name: str, version_sha: str, run_id: str) -> str:
    from riskmodel import tracking

    tracking.configure()
    c = tracking.client()
    if not c.search_registered_models(f"name = '{name}'"):
        c.create_registered_model(name)
    mv = c.create_model_version(
        name,
        source="file:///dev/null",  # the registry's record is what is checked, not the files
        tags={"bundle_manifest_sha256": version_sha, "run_id": run_id},
    )
    return str(mv.version)


def _run_folder(root, bundle, run_id, version):
    d = root / run_id
    sha = bundle.save(d / "model")
    (d / "run.json").write_text(
        json.dumps(
            {"run_id": run_id, "bundle_manifest_sha256": sha, "registered": {"reoffend": version}}
        )
    )
    return d, sha


def test_item5_version_on_a_list_is_checked_against_the_registry(
    isolated_project, bundle, cohort_file
):
    import copy

    from riskmodel.models import ModelIntegrityError
    from riskmodel.scoring import score_cohort

    genuine, sha = _run_folder(isolated_project / "reports", bundle, "run-test-1", "1")
    version = _register("riskmodel-reoffend", sha, "run-test-1")
    assert version == "1"
    res = score_cohort(
        model=genuine,
        cohort=cohort_file,
        purpose="programme_referral",
        capacity=5,
        out_dir=isolated_project / "ok",
    )
    assert res.model["version"] == "1"

    # an insider swaps a head, recomputes the manifest and edits run.json to match
    forged = copy.copy(bundle)
    forged.boosters = {"reoffend": bundle.boosters["severe"], "severe": bundle.boosters["severe"]}
    tampered, forged_sha = _run_folder(isolated_project / "forged", forged, "run-test-1", "1")
    assert forged_sha != sha
    with pytest.raises(ModelIntegrityError, match="registry recorded"):
        score_cohort(
            model=tampered,
            cohort=cohort_file,
            purpose="programme_referral",
            capacity=5,
            out_dir=isolated_project / "forged-list",
        )
    assert not (isolated_project / "forged-list").exists()
    assert [e["outcome"] for e in AuditLog(audit_log_path()).entries()] == ["completed", "failed"]


# -- item 6: protected characteristics never reach a model input, baselines included -------------
@pytest.mark.parametrize(
    "features", [["disability", "age_at_index"], ["sex", "ethnicity"], ["Ethnicity", "n_da_all"]]
)
def test_item6_baseline_features_are_checked_like_every_model_input(features):
    from riskmodel.config import ConfigError, validate_mapping
    from riskmodel.models._config import TrainConfig

    with pytest.raises(ConfigError, match="protected characteristic"):
        validate_mapping(
            {"baselines": {"age_priors_features": features}}, TrainConfig, source="experiment"
        )


def test_item6_baseline_description_comes_from_its_features():
    from riskmodel.models._config import BaselineConfig

    assert BaselineConfig().age_priors_description == "age at index and prior DA count"
    other = BaselineConfig(age_priors_features=("age_at_index", "da_incidents_365d"))
    assert "da_incidents_365d" in other.age_priors_description
    assert "prior DA count" not in other.age_priors_description


def _score_features_file(df, tmp_path, bundle_dir, home, *, capacity):
    """Write ``df`` as a features-file cohort and score it into ``home/out``."""
    from riskmodel.scoring import score_cohort

    path = tmp_path / "features.csv"
    df.to_csv(path, index=False)
    return score_cohort(
        model=bundle_dir,
        cohort=path,
        purpose="programme_referral",
        capacity=capacity,
        out_dir=home / "out",
    )

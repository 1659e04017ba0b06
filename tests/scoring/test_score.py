"""Batch scoring end to end: the list is what the rule says, nothing is lost, outputs are atomic,
the model is verified, and the run is in the audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pwd
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskmodel.eligibility import EligibilityConfig
from riskmodel.models import ModelIntegrityError
from riskmodel.notice import PERMITTED_USE_NOTICE, permitted_use_notice
from riskmodel.scoring import LIST_COLUMNS, AuditLog, score_cohort
from tests.eligibility.reference import reference

from .conftest import AS_OF, FEATURES, make_features

RULE = EligibilityConfig(reoffend_threshold=0.3, severe_threshold=0.1, capacity=40)


def _log(project) -> AuditLog:
    return AuditLog(project / "audit_log" / "scoring.jsonl")


def _score(bundle_dir, cohort, out, **kw):
    args = dict(
        model=bundle_dir,
        cohort=cohort,
        purpose="programme_referral",
        capacity=40,
        out_dir=out,
        rule=RULE,
        user="coordinator",
    )
    args.update(kw)
    return score_cohort(**args)


def test_list_is_the_rule_applied_to_the_models_probabilities(
    isolated_project, bundle, bundle_dir, cohort_file
):
    res = _score(bundle_dir, cohort_file, isolated_project / "out")
    # independent computation: predict with the bundle and apply the brute-force rule
    df = make_features(400, 3)
    df["p_reoffend"] = bundle.predict(df, "reoffend")
    df["raw"] = bundle.predict(df, "reoffend", calibrated=False)
    df["p_severe"] = bundle.predict(df, "severe")
    assert df["p_reoffend"].duplicated().sum() > 100  # isotonic plateaus: ties are common
    ref = reference(df.to_dict("records"), RULE, tie="raw")
    expected = sorted((r, pid) for pid, (o, r) in ref.items() if o == "listed")
    csv = pd.read_csv(res.eligibility_list_csv, comment="#", dtype={"person_id": str})
    assert list(zip(csv["rank"], csv["person_id"], strict=True)) == expected
    assert list(csv.columns) == list(LIST_COLUMNS)
    by_id = df.set_index("person_id")
    assert (
        csv["p_reoffend"] - by_id.loc[csv["person_id"], "p_reoffend"].to_numpy()
    ).abs().max() < 1e-4
    assert (csv["p_severe"] < RULE.severe_threshold).all()
    assert (csv[["reason_1"]] != "").all().all()
    assert set(csv["model_name"]) == {"riskmodel-reoffend"} and set(csv["run_id"]) == {"run-test-1"}
    assert set(csv["scoring_date"]) == {AS_OF.isoformat()}  # the latest index date in the input
    assert csv["band"].isin(["higher", "moderate"]).all()

    outcomes = pd.Series([o for o, _ in ref.values()]).value_counts()
    expected_counts = {
        "in": 400,
        "listed": int(outcomes.get("listed", 0)),
        "not_listed": int(
            outcomes.get("below_reoffend_threshold", 0) + outcomes.get("over_capacity", 0)
        ),
        "excluded_high_harm": int(outcomes.get("excluded_high_harm", 0)),
        "rejected": 0,
    }
    assert res.counts == expected_counts
    summary = json.loads(res.summary_json.read_text())
    assert summary["counts"] == expected_counts
    # the model's own notice: it names the sensitive inputs this model uses, no others
    assert summary["permitted_use"] == permitted_use_notice(list(FEATURES))
    assert expected_counts["listed"] == 40  # the capacity binds in this fixture


def test_notice_in_csv_header_and_parquet_metadata(isolated_project, bundle_dir, cohort_file):
    res = _score(bundle_dir, cohort_file, isolated_project / "out")
    head = res.eligibility_list_csv.read_text().splitlines()
    notice = permitted_use_notice(list(FEATURES))
    assert notice != PERMITTED_USE_NOTICE  # the fixture model lacks some default inputs
    assert head[0] == f"# {notice}"
    assert any("not decisions" in line for line in head[:5] if line.startswith("#"))
    meta = pq.read_schema(res.eligibility_list_parquet).metadata
    assert meta[b"riskmodel.permitted_use"].decode() == notice
    assert meta[b"riskmodel.purpose"] == b"programme_referral"
    table = pd.read_parquet(res.eligibility_list_parquet)
    assert list(table.columns) == list(LIST_COLUMNS)
    assert table["scoring_date"].iloc[0] == AS_OF
    html = res.summary_html.read_text()
    assert PERMITTED_USE_NOTICE.split(":")[0] in html and "not decisions" in html
    assert res.rejects_csv.read_text().startswith(f"# {notice}")


def test_audit_entry_records_the_run_and_fingerprints(isolated_project, bundle_dir, cohort_file):
    res = _score(bundle_dir, cohort_file, isolated_project / "out")
    entries = list(_log(isolated_project).entries())
    assert len(entries) == 1
    e = entries[0]
    assert e["outcome"] == "completed" and e["declared_identity"] == "coordinator"
    assert e["user"] == pwd.getpwuid(os.geteuid()).pw_name
    assert e["purpose"] == "programme_referral"
    assert e["counts"] == res.counts
    sha = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert e["input"]["file_hashes"] == {"features": sha(cohort_file)}
    assert e["output"]["files"]["eligibility_list.csv"] == sha(res.eligibility_list_csv)
    assert e["output"]["files"]["eligibility_list.parquet"] == sha(res.eligibility_list_parquet)
    assert e["model"]["manifest_sha256"] == sha(bundle_dir / "manifest.json")
    # the bundle claims version 3, but no registry recorded it: the claim is not repeated
    manifest_sha = sha(bundle_dir / "manifest.json")
    assert e["model"]["version"] == f"unregistered-{manifest_sha[:12]}"
    assert e["model"]["run_id"] == "run-test-1"
    summary = json.loads(res.summary_json.read_text())
    assert summary["audit"]["entry_hash"] == e["hash"]
    assert _log(isolated_project).verify(expected_hashes=[e["hash"]]).ok


def test_same_input_gives_identical_list_files(isolated_project, bundle_dir, cohort_file):
    a = _score(bundle_dir, cohort_file, isolated_project / "a")
    b = _score(bundle_dir, cohort_file, isolated_project / "b")
    for name in ("eligibility_list.csv", "eligibility_list.parquet", "rejects.csv"):
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes()


def test_capacity_per_area_and_overrides(isolated_project, bundle_dir, cohort_file):
    res = _score(
        bundle_dir,
        cohort_file,
        isolated_project / "out",
        capacity=None,
        rule_overrides={
            "capacity_per_area": {"Thanet": 3, "Dover": 0, "Thannet": 5},
            "area_capacity_default": 4,
        },
    )
    area = res.eligibility_list["area"].value_counts().to_dict()
    assert area == {"Thanet": 3, "Medway": 4, "Swale": 4}
    assert res.rule.capacity is None
    assert any("Thannet" in w for w in res.warnings)


def test_modified_model_file_is_refused_and_logged(isolated_project, bundle, cohort_file, tmp_path):
    d = tmp_path / "m"
    bundle.save(d)
    text = (d / "severe.lgb.txt").read_text()
    (d / "severe.lgb.txt").write_text(text.replace("leaf_value=", "leaf_value=9", 1))
    out = isolated_project / "out"
    with pytest.raises(ModelIntegrityError, match="severe.lgb.txt does not match"):
        _score(d, cohort_file, out)
    assert not out.exists()
    (d / "severe.lgb.txt").write_text(text)
    (d / "extra.pkl").write_bytes(b"\x80\x04N.")
    with pytest.raises(ModelIntegrityError, match="extra.pkl is not listed"):
        _score(d, cohort_file, out)
    assert not out.exists()
    (d / "extra.pkl").unlink()
    (d / "manifest.json").unlink()
    with pytest.raises(ModelIntegrityError, match="no manifest.json"):
        _score(d, cohort_file, out)
    assert not out.exists()
    entries = list(_log(isolated_project).entries())
    assert [x["outcome"] for x in entries] == ["failed", "failed", "failed"]
    assert "does not match" in entries[0]["error"]


def test_failure_after_the_first_write_leaves_nothing(
    isolated_project, bundle_dir, cohort_file, monkeypatch
):
    import riskmodel.reports

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(riskmodel.reports, "write_report", boom)
    out = isolated_project / "lists" / "out"
    with pytest.raises(OSError, match="disk full"):
        _score(bundle_dir, cohort_file, out)
    assert not out.exists()
    assert list(out.parent.iterdir()) == []  # the partial folder was removed too
    entries = list(_log(isolated_project).entries())
    assert [x["outcome"] for x in entries] == ["completed", "failed"]
    assert entries[1]["completed_entry_hash"] == entries[0]["hash"]
    assert "not published" in entries[1]["error"]
    assert _log(isolated_project).verify().ok


def test_existing_output_folder_is_not_overwritten(isolated_project, bundle_dir, cohort_file):
    out = isolated_project / "out"
    out.mkdir()
    (out / "eligibility_list.csv").write_text("the list a coordinator already holds\n")
    with pytest.raises(FileExistsError, match="already exists"):
        _score(bundle_dir, cohort_file, out)
    assert (out / "eligibility_list.csv").read_text() == "the list a coordinator already holds\n"
    empty = isolated_project / "empty"
    empty.mkdir()
    assert _score(bundle_dir, cohort_file, empty).eligibility_list_csv.exists()


@pytest.mark.slow
def test_killed_run_leaves_no_partial_output(isolated_project, bundle_dir, cohort_file):
    out = isolated_project / "out"
    marker = isolated_project / "written"
    script = textwrap.dedent(
        f"""
        import pathlib, time
        import riskmodel.scoring._score as sc
        real = sc._files_fingerprint
        def stall(directory, names):
            assert (directory / "eligibility_list.parquet").exists()  # the list is half-published
            pathlib.Path({str(marker)!r}).write_text("now")
            time.sleep(120)
        sc._files_fingerprint = stall
        sc.score_cohort(model={str(bundle_dir)!r}, cohort={str(cohort_file)!r},
                        purpose="programme_referral", capacity=10, out_dir={str(out)!r})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 90
        while not marker.exists():
            assert proc.poll() is None, "scoring child ended early"
            assert time.monotonic() < deadline, "scoring child never reached the write"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists()
    finals = [
        p
        for p in isolated_project.rglob("*")
        if p.name.startswith(("eligibility_list", "summary")) and ".partial-" not in str(p.parent)
    ]
    assert finals == []
    assert list(_log(isolated_project).entries()) == []  # killed before it could be recorded


def test_progress_reports_every_step(isolated_project, bundle_dir, cohort_file):
    seen = []
    _score(
        bundle_dir,
        cohort_file,
        isolated_project / "out",
        progress=lambda i, n, s: seen.append((i, n)),
    )
    assert seen == [(i, 7) for i in range(1, 8)]


def test_as_of_before_some_index_events(isolated_project, bundle_dir, tmp_path):
    df = make_features(200, 5)
    path = tmp_path / "f.parquet"
    df.to_parquet(path)
    as_of = dt.date(2024, 3, 31)
    res = _score(bundle_dir, path, isolated_project / "out", as_of=as_of)
    after = int((df["index_date"].dt.date > as_of).sum())
    assert res.scoring_date == as_of
    # a person whose only index event is after the scoring date is rejected, not silently dropped
    assert res.counts["rejected"] == after
    assert res.counts["in"] == 200
    rejects = pd.read_csv(res.rejects_csv, comment="#")
    assert len(rejects) == after and (rejects["column"] == "index_date").all()

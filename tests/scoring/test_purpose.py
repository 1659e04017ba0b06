"""The purpose guard: only programme_referral, refused before any data is read, refusals logged."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from riskmodel.cli import app
from riskmodel.scoring import AuditLog, PurposeRefused, check_purpose, score_cohort
from riskmodel.scoring._purpose import ERR_PURPOSE_MISSING

REFUSED = [
    "charging",
    "prosecution",
    "bail",
    "sentencing",
    "custody",
    "parole",
    "investigation",
    "",
    "   ",
    None,
    "PROGRAMME_REFERRAL",
    "Programme_Referral",
    "programme_referral;charging",
    "programme_referral charging",
    "programme_referral,bail",
    "programme referral",
    "programme-referral",
    "programme_referrals",
    "xprogramme_referral",
    "programme_referral\x00",
    "programme_re\u0066erral\u200b",  # zero-width space is not whitespace
    "ргоgramme_referral",  # Cyrillic look-alike letters
]


@pytest.mark.parametrize(
    "purpose", ["programme_referral", "  programme_referral\n", "\tprogramme_referral"]
)
def test_permitted_purpose_is_accepted_after_trimming(purpose):
    assert check_purpose(purpose) == "programme_referral"


@pytest.mark.parametrize("purpose", REFUSED)
def test_other_purposes_are_refused_with_a_reason(purpose):
    with pytest.raises(PurposeRefused) as info:
        check_purpose(purpose)
    msg = str(info.value)
    assert "programme_referral" in msg
    assert "only permitted purpose" in msg
    assert "because" in msg  # says why
    if purpose is not None and purpose.strip():
        assert repr(purpose)[:40] in msg  # names what was asked for
    else:
        assert msg == ERR_PURPOSE_MISSING
    assert info.value.purpose == purpose


def test_non_string_purpose_is_refused():
    with pytest.raises(PurposeRefused):
        check_purpose(["programme_referral"])  # type: ignore[arg-type]


@pytest.fixture
def no_data_access(monkeypatch):
    """Any attempt to resolve a model or read a cohort fails the test."""

    def forbidden(*_a, **_k):
        pytest.fail("data or model was read before the purpose was checked")

    import riskmodel.models
    import riskmodel.scoring._cohort as cohort

    monkeypatch.setattr(cohort, "read_cohort", forbidden)
    monkeypatch.setattr(cohort, "_read", forbidden)
    monkeypatch.setattr(riskmodel.models, "load_bundle", forbidden)
    monkeypatch.setattr(riskmodel.models, "verify_bundle", forbidden)
    import pandas as pd

    monkeypatch.setattr(pd, "read_parquet", forbidden)
    monkeypatch.setattr(pd, "read_csv", forbidden)


@pytest.mark.parametrize(
    "purpose", ["charging", "bail", "sentencing", "", None, "programme_referral;charging"]
)
def test_score_cohort_refuses_before_reading_and_writes_nothing_but_the_log(
    purpose, isolated_project, no_data_access, bundle_dir, cohort_file
):
    out = isolated_project / "lists" / "out"
    before = {p for p in isolated_project.rglob("*")}
    with pytest.raises(PurposeRefused):
        score_cohort(
            model=bundle_dir,
            cohort=cohort_file,
            purpose=purpose,
            capacity=10,
            out_dir=out,
            user="tester",
        )
    after = {p for p in isolated_project.rglob("*")}
    log = AuditLog(isolated_project / "audit_log" / "scoring.jsonl")
    new = after - before
    assert not out.exists() and not out.parent.exists()
    assert new <= {log.path.parent, log.path, log.head_path}
    entries = list(log.entries())
    assert len(entries) == 1
    e = entries[0]
    assert e["outcome"] == "refused"
    assert e["purpose"] == purpose
    assert e["declared_identity"] == "tester"  # beside the operating-system user
    assert e["user"] and e["user"] != "tester"
    assert "not permitted" in e["error"] or "no purpose" in e["error"]
    assert log.verify().ok


def test_refusal_with_a_cohort_that_does_not_exist(isolated_project, tmp_path):
    with pytest.raises(PurposeRefused):
        score_cohort(
            model=tmp_path / "no-model",
            cohort=tmp_path / "no-such-cohort.parquet",
            purpose="custody",
            capacity=5,
            out_dir=tmp_path / "out",
        )
    assert not (tmp_path / "out").exists()


def test_cli_refuses_with_non_zero_exit_and_logs(isolated_project, bundle_dir, cohort_file):
    out = isolated_project / "out"
    res = CliRunner().invoke(
        app,
        [
            "score",
            "--model",
            str(bundle_dir),
            "--cohort",
            str(cohort_file),
            "--purpose",
            "sentencing",
            "--capacity",
            "10",
            "--out",
            str(out),
            "--as-of",
            "not-a-date",  # the purpose is judged first, before any other option
        ],
    )
    assert res.exit_code == 2
    assert "not permitted" in res.output
    assert not out.exists()
    lines = (isolated_project / "audit_log" / "scoring.jsonl").read_text().splitlines()
    assert [json.loads(x)["outcome"] for x in lines] == ["refused"]


def test_cli_without_purpose_is_refused(isolated_project, bundle_dir, cohort_file):
    out = isolated_project / "out"
    res = CliRunner().invoke(
        app,
        [
            "score",
            "--model",
            str(bundle_dir),
            "--cohort",
            str(cohort_file),
            "--capacity",
            "3",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code != 0
    assert "no purpose" in res.output
    assert not out.exists()

"""The audit's JSON twin, input checks, the CLI, the HTML report and trained runs."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmodel.cli import app
from riskmodel.fairness import FairnessConfig, audit_frame, audit_run, audit_scores
from riskmodel.fairness import _audit as A
from riskmodel.fairness import _report as R
from riskmodel.notice import PERMITTED_USE_NOTICE
from tests.fairness.conftest import add_model_bundle

runner = CliRunner()
GROUP_KEYS = {
    "n",
    "selection_rate",
    "fpr",
    "fnr",
    "ppv",
    "tpr",
    "npv",
    "auc",
    "base_rate",
    "mean_score",
}


def _csv(tmp_path, make_population, n=800, **kw):
    df = make_population(n, seed=5, **kw).rename(columns={"recorded": "outcome"})
    df["sex"] = np.where(np.arange(n) % 3 == 0, "f", "m")
    path = tmp_path / "scores.csv"
    df.to_csv(path, index=False)
    return path, df


def test_json_keys_and_values(tmp_path, make_population):
    path, df = _csv(tmp_path, make_population)
    cfg = FairnessConfig(attributes=("group", "sex"), n_boot=50, min_group_n=30)
    html, js = audit_scores(
        path,
        score="score",
        label="outcome",
        groups=["group", "sex"],
        threshold=0.5,
        out_dir=tmp_path / "out",
        config=cfg,
    )
    out = json.loads(js.read_text())
    assert out["permitted_use"] == PERMITTED_USE_NOTICE
    for attr in ("group", "sex"):
        for grp in out["groups"][attr].values():
            assert set(grp) >= GROUP_KEYS
            assert all(len(grp[f"{m}_ci"]) == 2 for m in GROUP_KEYS - {"n"})
    a = out["groups"]["group"]["a"]
    sub = df[df.group == "a"]
    sel = sub.score >= 0.5
    assert a["n"] == len(sub)
    assert a["fpr"] == pytest.approx((sel & ~sub.outcome).sum() / (~sub.outcome).sum())
    assert a["fpr_ci"][0] <= a["fpr"] <= a["fpr_ci"][1]
    d = out["disparities"]["group"]["b"]["fpr"]
    assert set(d) >= {"ratio", "ci", "flag"}
    # two attributes given and no configured intersection of them: their intersection is audited
    assert set(out["intersections"]["group:sex"]) == {"a:f", "a:m", "b:f", "b:m"}
    assert out["provenance"]["threshold"] == 0.5 and out["provenance"]["n_boot"] == 50
    assert len(out["provenance"]["data_fingerprint"]) == 64
    assert out["summary"]["findings"]
    text = html.read_text()
    # self-contained: figures inline, nothing fetched from anywhere
    assert "data:image/png;base64," in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert text.index("Permitted use only") < text.index("Summary in plain words")
    assert "Kleinberg" in text and "Chouldechova" in text and "Sign-off" in text


def test_missing_values_are_counted_not_dropped_silently(tmp_path, make_population):
    path, df = _csv(tmp_path, make_population)
    df["outcome"] = df["outcome"].astype(float)
    df.loc[:9, "score"] = np.nan
    df.loc[10:14, "outcome"] = np.nan
    df.loc[15:21, "group"] = np.nan
    cfg = FairnessConfig(
        attributes=("group",), intersections=(), n_boot=20, min_group_n=5, mitigation=False
    )
    out = audit_frame(
        df, score_col="score", label_col="outcome", group_cols=["group"], threshold=0.5, config=cfg
    )
    assert out["data"]["n_rows"] == len(df)
    assert out["data"]["n_set_aside"] == 15
    assert out["data"]["missing"]["score"] == 10 and out["data"]["missing"]["outcome"] == 5
    assert out["data"]["missing"]["groups_not_recorded"]["group"] == 7
    assert out["groups"]["group"]["(not recorded)"]["n"] == 7
    assert any("set aside" in f for f in out["summary"]["findings"])


def test_hash_inside_a_csv_field_is_data(tmp_path):
    path = tmp_path / "s.csv"
    rows = "\n".join(f"{i % 2},{i % 10},g{i % 2},Poss Firearm ID#" for i in range(200))
    path.write_text("# a comment line\ny,score,grp,charge\n" + rows + "\n")
    assert R._read_scores(path).y.notna().all()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"label": "nope"}, "label column 'nope' not found"),
        ({"score": "nope"}, "score column 'nope' not found"),
        ({"groups": ["nope"]}, "group column 'nope' not found"),
        ({"label": "group"}, "label column 'group' must be binary"),
        ({"score": "group"}, "score column 'group' must be numeric"),
    ],
)
def test_bad_inputs_name_file_and_column(tmp_path, make_population, change, expected):
    path, _ = _csv(tmp_path, make_population, n=100)
    args = {"score": "score", "label": "outcome", "groups": ["group"], **change}
    with pytest.raises(ValueError) as err:
        audit_scores(
            path, threshold=0.5, out_dir=tmp_path / "o", config=FairnessConfig(n_boot=5), **args
        )
    assert str(path) in str(err.value) and expected in str(err.value)


def test_non_binary_numeric_label_and_empty_file(tmp_path):
    p = tmp_path / "x.csv"
    pd.DataFrame({"s": [0.1, 0.9], "y": [0, 2], "g": ["a", "b"]}).to_csv(p, index=False)
    with pytest.raises(ValueError, match=r"'y' must be binary.*\[2\]"):
        audit_scores(p, score="s", label="y", groups=["g"], threshold=0.5, out_dir=tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match=re.escape(R.ERR_EMPTY_FILE.format(path=empty))):
        audit_scores(empty, score="s", label="y", groups=["g"], threshold=0.5, out_dir=tmp_path)
    header_only = tmp_path / "header.csv"
    header_only.write_text("s,y,g\n")
    with pytest.raises(ValueError, match=re.escape(A.ERR_EMPTY.format(source=header_only))):
        audit_scores(
            header_only, score="s", label="y", groups=["g"], threshold=0.5, out_dir=tmp_path
        )


def test_cli_audit_scores(tmp_path, make_population):
    path, _ = _csv(tmp_path, make_population)
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "audit-scores",
            "--data",
            str(path),
            "--score",
            "score",
            "--label",
            "outcome",
            "--group",
            "group",
            "--group",
            "sex",
            "--threshold",
            "0.5",
            "--out",
            str(out),
            "--reference",
            "group=b",
            "--n-boot",
            "30",
            "--min-group-n",
            "20",
        ],
    )
    assert res.exit_code == 0, res.output
    js = json.loads((out / "fairness.json").read_text())
    assert js["reference_groups"]["group"] == "b"
    assert js["provenance"]["n_boot"] == 30 and js["provenance"]["min_group_n"] == 20
    bad = runner.invoke(
        app,
        [
            "audit-scores",
            "--data",
            str(path),
            "--score",
            "nope",
            "--label",
            "outcome",
            "--group",
            "group",
            "--threshold",
            "0.5",
            "--out",
            str(out),
        ],
    )
    assert bad.exit_code == 2
    assert "score column 'nope' not found" in bad.output
    ref = runner.invoke(
        app,
        [
            "audit-scores",
            "--data",
            str(path),
            "--score",
            "score",
            "--label",
            "outcome",
            "--group",
            "group",
            "--threshold",
            "0.5",
            "--out",
            str(out),
            "--reference",
            "groupb",
        ],
    )
    assert ref.exit_code == 2 and "attribute=group" in ref.output


def test_audit_run_from_run_directory(run_dir, isolated_project):
    # the run is read by riskmodel.models.load_run: a verified bundle and a whole experiment config
    fairness = json.loads((run_dir / "run.json").read_text())["config"]["fairness"]
    add_model_bundle(run_dir)
    info = json.loads((run_dir / "run.json").read_text())
    info["config"]["fairness"] = fairness
    (run_dir / "run.json").write_text(json.dumps(info))
    html, js = audit_run(run_dir)
    assert html.parent == run_dir and js.name == "fairness.json"
    out = json.loads(js.read_text())
    pred = pd.read_parquet(run_dir / "predictions.parquet")
    # the deployed decision: 50 places a year for the 3,000 people of a one-year test period are
    # the 50 highest reoffending probabilities above the threshold, never the higher-harm ones
    cand = pred[(pred.p_reoffend >= 0.35) & (pred.p_severe < 0.1)]
    top = set(cand.sort_values("p_reoffend", ascending=False).person_id.iloc[:50])
    assert out["data"]["n_selected"] == 50 == out["audited_rule"]["places_in_test_period"]
    assert out["overall"]["selection_rate"] == pytest.approx(50 / len(pred))
    assert out["data"]["n_people"] == pred.person_id.nunique()
    assert len(top) == 50
    assert set(out["groups"]) == {"sex", "ethnicity", "age_band"}  # the run's fairness config
    assert "sex:ethnicity:age_band" in out["intersections"]
    assert out["provenance"]["n_boot"] == 100  # from the run's experiment config
    # the fixture under-records 'black' reoffending by half
    lb = out["label_bias"]["attributes"]["ethnicity"]
    assert ("black", "recording_ratio", "under_recorded") in {
        (f["group"], f["metric"], f["finding"]) for f in lb["findings"]
    }
    # the fixture's area_code carries ethnicity
    assert out["proxy"]["attributes"]["ethnicity"]["flagged"]
    assert out["proxy"]["attributes"]["ethnicity"]["top_features"][0]["feature"] == "area_code"
    # the severe-harm exclusion is kept in every mitigation option
    assert all(
        r["selection_rate"] <= (pred.p_severe < 0.1).mean() + 1e-9
        for r in out["mitigation"]["options"]
    )
    # suppressed cells never appear as numbers in the HTML
    text = html.read_text()
    small = [
        g for g, v in out["intersections"]["sex:ethnicity:age_band"].items() if v["suppressed"]
    ]
    assert small and "fewer than 50" in text


def test_cli_audit_unknown_run(isolated_project, monkeypatch):
    monkeypatch.setenv("RISKMODEL_HOME", str(isolated_project))
    res = runner.invoke(app, ["audit", "--run", "no-such-run"])
    assert res.exit_code == 2 and "no-such-run" in res.output


def test_audit_run_through_load_run(run_dir_with_bundle, isolated_project):
    # the models stage's reader: bundle verified, experiment config parsed
    html, js = audit_run(run_dir_with_bundle)
    out = json.loads(js.read_text())
    assert set(out["groups"]) == {"sex", "ethnicity"}  # the experiment's fairness config
    assert out["mitigation"]["available"] is False
    assert out["provenance"]["eligibility"]["reoffend_threshold"] == 0.35
    assert out["proxy"]["features"] == ["priors_da", "area_code"]


def test_window_audit_switches_off_only_what_the_refresh_gate_does_not_read(run_dir_with_bundle):
    """Refresh audits both models on its window without the mitigation options and the proxy
    check; the disparities and group figures the fairness gate compares must be the same as a
    full audit's, and the report must say what was switched off."""
    from riskmodel.refresh import WINDOW_AUDIT

    _, full_js = audit_run(run_dir_with_bundle, overrides={"mitigation": True})
    full = json.loads(full_js.read_text())
    html, light_js = audit_run(run_dir_with_bundle, overrides=WINDOW_AUDIT)
    light = json.loads(light_js.read_text())
    assert full["proxy"]["available"] is True and full["mitigation"]["available"] is True
    assert light["proxy"] == {"available": False, "reason": "switched off in the config"}
    assert light["mitigation"]["available"] is False
    assert light["disparities"] == full["disparities"]
    assert light["groups"] == full["groups"]
    assert "switched off" in html.read_text()

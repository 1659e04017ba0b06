"""Bad cohort files give clear errors or rejects, never a silently shorter list; in = listed +
not listed + excluded + rejected, always."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.eligibility import EligibilityConfig
from riskmodel.scoring import score_cohort
from riskmodel.scoring._cohort import (
    ERR_COHORT_DIR,
    ERR_COHORT_MISSING,
    REASON_DUPLICATE,
    REASON_NO_ID,
    REASON_NOT_FINITE,
    REASON_NOT_NUMBER,
    REASON_PERSON_HAS_BAD_ROW,
)

from .conftest import make_features


def _score(bundle_dir, cohort, out, **kw):
    args = dict(
        model=bundle_dir, cohort=cohort, purpose="programme_referral", capacity=30, out_dir=out
    )
    args.update(kw)
    return score_cohort(**args)


def _rejects(res) -> pd.DataFrame:
    return pd.read_csv(res.rejects_csv, comment="#", dtype={"person_id": str, "value": str})


def _conserved(res) -> None:
    c = res.counts
    assert c["in"] == c["listed"] + c["not_listed"] + c["excluded_high_harm"] + c["rejected"]


def test_missing_columns_name_the_file_and_columns(isolated_project, bundle_dir, tmp_path):
    path = tmp_path / "features.parquet"
    make_features(20, 1).drop(columns=["harm_days_365d", "age_at_index"]).to_parquet(path)
    with pytest.raises(ValueError) as info:
        _score(bundle_dir, path, isolated_project / "out")
    msg = str(info.value)
    assert str(path) in msg and "harm_days_365d, age_at_index" in msg
    assert not (isolated_project / "out").exists()


def test_empty_file_is_an_error_not_an_empty_list(isolated_project, bundle_dir, tmp_path):
    path = tmp_path / "features.csv"
    make_features(5, 1).head(0).to_csv(path, index=False)
    with pytest.raises(ValueError, match="no rows"):
        _score(bundle_dir, path, isolated_project / "out")
    path.write_text("")
    with pytest.raises(ValueError, match="cannot be read"):
        _score(bundle_dir, path, isolated_project / "out2")
    assert not (isolated_project / "out").exists()


def test_missing_cohort_and_unknown_folder(isolated_project, bundle_dir, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        _score(bundle_dir, tmp_path / "nope.parquet", isolated_project / "out")
    assert str(info.value) == ERR_COHORT_MISSING.format(path=tmp_path / "nope.parquet")
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError) as info:
        _score(bundle_dir, tmp_path / "folder", isolated_project / "out")
    assert str(info.value) == ERR_COHORT_DIR.format(path=tmp_path / "folder")


def test_wrong_types_duplicates_and_missing_ids_are_rejected_by_row(
    isolated_project, bundle_dir, tmp_path
):
    df = make_features(60, 2)
    csv = df.astype({"da_incidents_365d": "object", "harm_days_365d": "object"})
    csv.loc[3, "da_incidents_365d"] = "three"  # row 4
    csv.loc[7, "harm_days_365d"] = "inf"  # row 8
    csv.loc[10, "person_id"] = ""  # row 11
    dup = csv.iloc[[20]]  # row 21 repeated as row 61
    csv = pd.concat([csv, dup], ignore_index=True)
    path = tmp_path / "cohort.csv"
    with open(path, "w") as f:
        f.write("# an extract with a comment line\n")
        csv.to_csv(f, index=False)
    res = _score(bundle_dir, path, isolated_project / "out")
    rej = _rejects(res)
    got = {(int(r.row), r.column, r.reason) for r in rej.itertuples()}
    assert got == {
        (4, "da_incidents_365d", REASON_NOT_NUMBER),
        (8, "harm_days_365d", REASON_NOT_FINITE),
        (11, "person_id", REASON_NO_ID),
        (
            21,
            "person_id,index_event_id",
            REASON_DUPLICATE.format(key="person_id and index_event_id"),
        ),
        (
            61,
            "person_id,index_event_id",
            REASON_DUPLICATE.format(key="person_id and index_event_id"),
        ),
    }
    assert rej.loc[rej["row"] == 4, "value"].item() == "three"
    assert set(rej["file"]) == {str(path)}
    # 4 people rejected (the duplicated one once), everyone else scored
    assert res.counts["rejected"] == 4 and res.counts["in"] == 60
    _conserved(res)
    listed = set(res.eligibility_list["person_id"])
    assert not listed & {df.loc[3, "person_id"], df.loc[7, "person_id"], df.loc[20, "person_id"]}


def test_one_bad_row_rejects_the_whole_person(isolated_project, bundle_dir, tmp_path):
    df = make_features(30, 4)
    second = df.iloc[[5]].copy()
    second["index_event_id"] = "E99999999"
    second["index_date"] = second["index_date"] - pd.Timedelta(days=30)
    second = second.astype({"age_at_index": "object"})
    second["age_at_index"] = "old"
    both = pd.concat([df.astype({"age_at_index": "object"}), second], ignore_index=True)
    path = tmp_path / "c.parquet"
    both.astype({"age_at_index": "str"}).to_parquet(path)
    res = _score(bundle_dir, path, isolated_project / "out")
    rej = _rejects(res)
    assert set(rej["person_id"]) == {df.loc[5, "person_id"]}
    assert set(rej["reason"]) == {REASON_NOT_NUMBER, REASON_PERSON_HAS_BAD_ROW}
    assert res.counts["rejected"] == 1 and res.counts["in"] == 30


def test_several_index_events_per_person_use_the_latest_before_the_scoring_date(
    isolated_project, bundle, bundle_dir, tmp_path
):
    df = make_features(50, 6)
    older = df.copy()
    older["index_event_id"] = older["index_event_id"] + "a"
    older["index_date"] = older["index_date"] - pd.Timedelta(days=400)
    older["da_incidents_365d"] = 0
    path = tmp_path / "training_like.parquet"
    pd.concat([older, df]).to_parquet(path)
    res = _score(
        bundle_dir,
        path,
        isolated_project / "out",
        capacity=None,
        rule=EligibilityConfig(reoffend_threshold=0.0, severe_threshold=1.0),
    )
    assert res.counts["in"] == 50 and res.counts["listed"] == 50
    expected = pd.Series(bundle.predict(df, "reoffend"), index=df["person_id"]).round(4)
    got = res.eligibility_list.set_index("person_id")["p_reoffend"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_people_without_a_recent_index_event_are_outside_the_cohort(
    isolated_project, bundle_dir, tmp_path
):
    df = make_features(40, 7)
    df.loc[:9, "index_date"] = df.loc[:9, "index_date"] - pd.Timedelta(days=800)
    path = tmp_path / "c.parquet"
    df.to_parquet(path)
    res = _score(bundle_dir, path, isolated_project / "out")
    latest = df["index_date"].max().date()
    old = int((df["index_date"].dt.date <= latest - pd.Timedelta(days=365)).sum())
    assert old >= 10
    assert res.counts["in"] == 40 - old
    import json

    summary = json.loads(res.summary_json.read_text())
    assert summary["counts_outside_cohort"]["no_recent_da_event"] == old


@settings(max_examples=12, deadline=None)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 10_000),
    n_bad=st.integers(0, 8),
    threshold=st.one_of(st.none(), st.floats(0, 1)),
    severe=st.floats(0.01, 1),
    capacity=st.one_of(st.none(), st.integers(1, 80)),
)
def test_counts_are_conserved_over_random_cohorts(
    bundle_dir, tmp_path_factory, n, seed, n_bad, threshold, severe, capacity
):
    if threshold is None and capacity is None:
        capacity = 5
    tmp = tmp_path_factory.mktemp("h")
    df = make_features(n, seed).astype({"age_at_index": "object"})
    r = np.random.default_rng(seed)
    bad_rows = r.choice(n, size=min(n_bad, n), replace=False)
    kinds = r.integers(0, 3, size=len(bad_rows))
    for row, kind in zip(bad_rows, kinds, strict=True):
        if kind == 0:
            df.loc[row, "age_at_index"] = "?"
        elif kind == 1:
            df.loc[row, "person_id"] = None
        else:
            df = pd.concat([df, df.iloc[[row]]], ignore_index=True)
    path = tmp / "c.csv"
    df.to_csv(path, index=False)
    with pytest.MonkeyPatch.context() as mp:  # the audit log follows the installation
        mp.setenv("RISKMODEL_HOME", str(tmp))
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
        res = score_cohort(
            model=bundle_dir,
            cohort=path,
            purpose="programme_referral",
            capacity=capacity,
            out_dir=tmp / "out",
            rule=EligibilityConfig(
                reoffend_threshold=threshold, severe_threshold=severe, capacity=5
            ),
        )
    c = res.counts
    assert c["in"] == c["listed"] + c["not_listed"] + c["excluded_high_harm"] + c["rejected"]
    distinct_people = df["person_id"].dropna().nunique() + int(df["person_id"].isna().sum())
    assert c["in"] == distinct_people
    assert c["rejected"] == len(set(bad_rows))
    assert len(res.eligibility_list) == c["listed"]
    assert (res.eligibility_list["p_severe"] < severe).all()
    if capacity is not None:
        assert c["listed"] <= capacity

"""A partitioned world scores (and builds features) exactly as the same world in one file,
and the Dask engine gives exactly the list the local engine gives."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskmodel.eligibility import EligibilityConfig
from riskmodel.paths import configs_dir
from riskmodel.scoring import AuditLog, score_cohort

from .partitioned import split_world

# thresholds and capacities that leave people in every outcome, so the global rule is tested
# (the capacity must be taken across partitions, not per partition)
RULE = EligibilityConfig(reoffend_threshold=0.0, severe_threshold=0.2, capacity=12)
AREA_RULE = EligibilityConfig(
    reoffend_threshold=0.0, severe_threshold=0.2, capacity=15, area_capacity_default=2
)
#: what differs between two runs by design: where they read and wrote, and the log entry
RUN_KEYS = ("input", "output", "audit", "model")


@pytest.fixture(scope="module")
def tiny_world(tmp_path_factory) -> Path:
    from riskmodel.synth import generate_world, load_world_config, write_world

    cfg = load_world_config(configs_dir() / "world" / "tiny.yaml")
    return write_world(generate_world(cfg), tmp_path_factory.mktemp("tiny") / "world")


@pytest.fixture(scope="module")
def parted_world(tiny_world, tmp_path_factory) -> Path:
    return split_world(tiny_world, tmp_path_factory.mktemp("parted") / "world", 3)


def _score(model, cohort, out, rule=RULE, **kw):
    return score_cohort(
        model=model,
        cohort=cohort,
        purpose="programme_referral",
        capacity=rule.capacity,
        out_dir=out,
        rule=rule,
        **kw,
    )


def _summary(res) -> dict:
    s = json.loads(res.summary_json.read_text())
    return {k: v for k, v in s.items() if k not in RUN_KEYS}


def test_the_split_keeps_each_history_in_one_partition(tiny_world, parted_world):
    events = pd.read_parquet(tiny_world / "events.parquet")
    parts = [pd.read_parquet(f) for f in sorted((parted_world / "events").glob("*.parquet"))]
    assert sum(len(p) for p in parts) == len(events)
    owners = pd.concat([p[["perpetrator_id"]].assign(k=k) for k, p in enumerate(parts)]).dropna()
    assert owners.groupby("perpetrator_id")["k"].nunique().max() == 1
    # several partitions hold people: the split is a real one
    assert sum(len(p) > 0 for p in parts) == 3


@pytest.mark.parametrize("rule", [RULE, AREA_RULE], ids=["capacity", "area_capacity"])
def test_partitioned_world_gives_the_single_file_list(
    isolated_project, world_bundle, tiny_world, parted_world, rule
):
    _, bundle_dir = world_bundle
    one = _score(bundle_dir, tiny_world, isolated_project / "one", rule)
    many = _score(bundle_dir, parted_world, isolated_project / "many", rule)
    assert one.counts["listed"] == rule.capacity  # the capacity binds
    assert one.counts["excluded_high_harm"] > 0 and one.counts["not_listed"] > 0
    assert one.audit_entry["engine"] == {"name": "local", "partitions": 1}
    assert many.audit_entry["engine"] == {"name": "local", "partitions": 3}
    # the CSV carries no input fingerprint: byte for byte the same list
    assert one.eligibility_list_csv.read_bytes() == many.eligibility_list_csv.read_bytes()
    a = pq.read_table(one.eligibility_list_parquet)
    b = pq.read_table(many.eligibility_list_parquet)
    assert a.equals(b)
    assert _summary(one) == _summary(many)


def test_partitioned_world_builds_the_same_training_table(tiny_world, parted_world):
    from riskmodel.features import build_cohort, read_world

    one, many = build_cohort(tiny_world), build_cohort(parted_world)
    pd.testing.assert_frame_equal(one.frame, many.frame)
    assert one.spec["counts"] == many.spec["counts"]
    # each person once, though a victim's row is in every partition that names them
    w = read_world(parted_world)
    assert w["people"]["person_id"].is_unique
    assert len(w["people"]) == len(pd.read_parquet(tiny_world / "people.parquet"))


def test_a_changed_partition_is_refused(tiny_world, tmp_path):
    from riskmodel.features import read_world

    d = split_world(tiny_world, tmp_path / "world", 2)
    f = d / "events" / "part-00001.parquet"
    t = pq.read_table(f)
    pq.write_table(t.slice(1), f)
    with pytest.raises(ValueError, match="part-00001"):
        read_world(d)


# -- the Dask engine ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    # two single-threaded workers in this process: light, and every partition still crosses
    # the scheduler as a task
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as c:
        yield c


def test_dask_engine_gives_the_local_list(isolated_project, world_bundle, parted_world, cluster):
    _, bundle_dir = world_bundle
    local = _score(bundle_dir, parted_world, isolated_project / "local")
    ticks: list[tuple[int, int]] = []
    remote = _score(
        bundle_dir,
        parted_world,
        isolated_project / "dask",
        engine="dask",
        scheduler=cluster.scheduler_address,
        part_progress=lambda done, n: ticks.append((done, n)),
    )
    for name in ("eligibility_list.csv", "eligibility_list.parquet", "rejects.csv"):
        assert (local.out_dir / name).read_bytes() == (remote.out_dir / name).read_bytes(), name
    assert _summary(local) == _summary(remote)
    assert remote.counts == local.counts
    assert ticks[-1] == (3, 3)
    entry = remote.audit_entry
    assert entry["engine"] == {
        "name": "dask",
        "scheduler": cluster.scheduler_address,
        "partitions": 3,
    }
    log = AuditLog(isolated_project / "audit_log" / "scoring.jsonl")
    logged = [e for e in log.entries() if e.get("outcome") == "completed"]
    assert [e["engine"]["name"] for e in logged] == ["local", "dask"]
    assert log.verify().ok


def test_dask_engine_needs_a_scheduler_and_a_world(isolated_project, world_bundle, tmp_path):
    from riskmodel.scoring._engine import ERR_ENGINE, ERR_SCHEDULER, ERR_SCHEDULER_LOCAL

    _, bundle_dir = world_bundle
    with pytest.raises(ValueError) as exc:
        _score(bundle_dir, tmp_path, tmp_path / "o1", engine="dask")
    assert str(exc.value) == ERR_SCHEDULER
    with pytest.raises(ValueError) as exc:
        _score(bundle_dir, tmp_path, tmp_path / "o2", scheduler="tcp://127.0.0.1:1")
    assert str(exc.value) == ERR_SCHEDULER_LOCAL
    with pytest.raises(ValueError) as exc:
        _score(bundle_dir, tmp_path, tmp_path / "o3", engine="spark")
    assert str(exc.value) == ERR_ENGINE.format(engines="local, dask", engine="spark")
    feats = tmp_path / "features.csv"
    feats.write_text("person_id\nP1\n")
    with pytest.raises(ValueError, match="scores world folders"):
        _score(bundle_dir, feats, tmp_path / "o4", engine="dask", scheduler="tcp://127.0.0.1:1")


def test_workers_get_the_model_as_text_and_predict_the_same(world_bundle):
    from riskmodel.scoring._cohort import model_feature_config  # noqa: F401
    from riskmodel.scoring._engine import bundle_from_text, bundle_text

    from .conftest import WORLD_AS_OF, make_world

    bundle, _ = world_bundle
    text = bundle_text(bundle)
    json.loads(text)  # plain JSON: LightGBM model text inside, nothing pickled
    again = bundle_from_text(text)
    from riskmodel.features import build_scoring_features
    from riskmodel.features._config import FeatureConfig

    people, events, programmes = make_world(80, 3)
    frame = build_scoring_features(
        people, events, programmes, as_of=WORLD_AS_OF, config=FeatureConfig()
    ).frame
    for head in ("reoffend", "severe"):
        assert (bundle.predict(frame, head) == again.predict(frame, head)).all()


def test_score_command_runs_on_the_cluster_and_says_why_not(
    isolated_project, world_bundle, parted_world, cluster
):
    from typer.testing import CliRunner

    from riskmodel.cli import app
    from riskmodel.scoring._engine import ERR_SCHEDULER

    _, bundle_dir = world_bundle
    runner = CliRunner()
    base = ["score", "--model", str(bundle_dir), "--cohort", str(parted_world)]
    base += ["--purpose", "programme_referral", "--capacity", "12", "--severe-threshold", "0.2"]
    ok = runner.invoke(
        app,
        [*base, "--out", str(isolated_project / "o"), "--engine", "dask"]
        + ["--scheduler", cluster.scheduler_address],
    )
    assert ok.exit_code == 0, ok.output
    assert "partitions (dask)" in ok.output
    entry = json.loads((isolated_project / "o" / "summary.json").read_text())
    logged = list(AuditLog(isolated_project / "audit_log" / "scoring.jsonl").entries())
    assert logged[-1]["hash"] == entry["audit"]["entry_hash"]
    assert logged[-1]["engine"]["scheduler"] == cluster.scheduler_address
    bad = runner.invoke(app, [*base, "--out", str(isolated_project / "p"), "--engine", "dask"])
    assert bad.exit_code == 2
    assert " ".join(ERR_SCHEDULER.split()[:6]) in " ".join(bad.output.split())

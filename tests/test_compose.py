"""docker-compose.yml is well-formed and has the services of Airflow's official compose file."""

import yaml

from pipelines.settings import REPO_ROOT


def test_compose_file_has_the_airflow_services_with_healthchecks():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker"} <= set(services)
    for name, svc in services.items():
        if name != "airflow-init":
            assert "healthcheck" in svc, name
    env_example = (REPO_ROOT / ".env.example").read_text()
    assert "POSTGRES_PASSWORD" in env_example and (REPO_ROOT / "Dockerfile").exists()


def test_no_committed_file_names_a_package_host():
    hosts = ("pypi.org", "files.pythonhosted.org", "registry.npmjs.org", "index-url")
    for path in (REPO_ROOT / "requirements.lock", REPO_ROOT / "Makefile", REPO_ROOT / "Dockerfile"):
        text = path.read_text()
        assert not any(h in text for h in hosts), path

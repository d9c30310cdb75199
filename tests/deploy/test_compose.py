"""deploy/docker-compose.yml: no Docker engine runs here, so its content is checked instead.

The file parses; each Encosta service is built from deploy/Dockerfile and has a healthcheck;
every ``ENCOSTA_*`` variable it sets is one the code reads; every ``${...}`` it needs is in
``.env.example`` with a placeholder value; the broker keeps the local stack's settings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO

DEPLOY = REPO / "deploy"
ENCOSTA_SERVICES = {"migrate", "broker-init", "broker-sync", "ingest", "alerts", "api"}
_REFERENCE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return document


def _code_text() -> str:
    return "\n".join(
        path.read_text()
        for package in ("ingest", "alerts", "encosta")
        for path in (REPO / package).rglob("*.py")
    )


def _example() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def test_services_and_healthchecks() -> None:
    """The stack has its services; Encosta's are built from the Dockerfile and checked."""
    services = _compose()["services"]
    assert set(services) == {"timescaledb", "mosquitto", "grafana", *ENCOSTA_SERVICES}
    assert (DEPLOY / "Dockerfile").is_file()
    assert "python:3.11-slim" in (DEPLOY / "Dockerfile").read_text()
    for name in ENCOSTA_SERVICES:
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile", name
    for name in set(services) - {"migrate", "broker-init", "broker-sync"}:  # one-shots
        assert "test" in services[name]["healthcheck"], name
    for name in ("ingest", "api"):
        assert "/healthz" in " ".join(services[name]["healthcheck"]["test"]), name
    for name in ("ingest", "alerts", "api"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["timescaledb"]["condition"] == "service_healthy", name
    # ingest waits for its broker account (broker-sync waits for a healthy broker)
    assert services["ingest"]["depends_on"]["broker-sync"]["condition"] == (
        "service_completed_successfully"
    )
    # the licensed edition: migration 0001 takes its continuous-aggregate path
    assert services["timescaledb"]["image"].startswith("timescale/timescaledb:")
    assert "-oss" not in services["timescaledb"]["image"]


def test_environment_names_exist_in_code() -> None:
    """Every ENCOSTA_* variable the compose file sets is read by the code or by Grafana."""
    code = _code_text()
    datasource = (DEPLOY / "grafana/provisioning/datasources/encosta.yaml").read_text()
    for name, service in _compose()["services"].items():
        for variable in service.get("environment", {}):
            if not variable.startswith("ENCOSTA_"):
                continue
            source = datasource if name == "grafana" else code
            assert variable in source, f"{name}: {variable} is read by nothing"


def test_secrets_come_from_env_file() -> None:
    """Every ${...} the compose file needs is in .env.example, with a placeholder value."""
    text = (DEPLOY / "docker-compose.yml").read_text()
    example = _example()
    for name in set(_REFERENCE.findall(text)):
        assert name in example, f"{name} is missing from deploy/.env.example"
    for name, value in example.items():
        if "PASSWORD" in name or "TOKEN" in name:
            assert value.startswith("replace-me"), f"{name} must hold a placeholder"


def test_grafana_mounts_match_provisioning() -> None:
    """Grafana mounts the provisioning and the dashboards where the provider looks."""
    volumes = _compose()["services"]["grafana"]["volumes"]
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/encosta.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert f"./grafana/dashboards:{path}:ro" in volumes
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in volumes


def _directives(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            found.setdefault(key, value)
    return found


def test_mosquitto_keeps_the_local_settings() -> None:
    """The compose broker keeps every delivery setting of the local stack's template."""
    template = _directives(DEPLOY / "mosquitto/mosquitto.conf.in")
    compose = _directives(DEPLOY / "compose/mosquitto.conf")
    assert compose["listener"] == "1883"
    for key, value in template.items():
        if "@" not in key + value:  # paths, port, plugin and user are the image's
            assert compose.get(key) == value, key
    assert compose["allow_anonymous"] == "false"
    assert compose["plugin"].endswith("/mosquitto_dynamic_security.so")


def test_broker_accounts_are_created_before_ingest_starts() -> None:
    """broker-init writes the admin account, broker-sync the rest; ingest logs in after both."""
    services = _compose()["services"]
    assert services["broker-init"]["command"][:2] == ["broker", "init"]
    assert services["mosquitto"]["depends_on"]["broker-init"]["condition"] == (
        "service_completed_successfully"
    )
    assert services["broker-sync"]["command"][:2] == ["broker", "sync"]
    assert services["broker-sync"]["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    ingest = services["ingest"]
    assert ingest["depends_on"]["broker-sync"]["condition"] == "service_completed_successfully"
    assert ingest["environment"]["ENCOSTA_MQTT_PASSWORD"].startswith(
        "${ENCOSTA_MQTT_INGEST_PASSWORD"
    )
    assert ingest["environment"]["ENCOSTA_INGEST_CLIENT_ID"] in (
        services["broker-sync"]["environment"]["ENCOSTA_BROKER_INGEST_CLIENTS"].split(",")
    )
    # the healthcheck logs in: anonymous clients are refused
    assert "-u encosta-admin" in services["mosquitto"]["healthcheck"]["test"][1]
    # not published on every interface by default
    assert all(not str(p).startswith("1883") for p in services["mosquitto"]["ports"])


def test_services_connect_as_their_roles() -> None:
    """Only migrate connects as the owner; each service and Grafana uses its own login."""
    services = _compose()["services"]
    owner = "postgresql://encosta:"
    assert services["migrate"]["environment"]["ENCOSTA_PG_OWNER_DSN"].startswith(owner)
    for name in ("ingest", "alerts", "api"):
        environment = services[name]["environment"]
        assert "ENCOSTA_PG_DSN" not in environment, name
        dsn = environment[f"ENCOSTA_{name.upper()}_PG_DSN"]
        expected = f"postgresql://encosta_{name}:${{ENCOSTA_DB_PASSWORD_{name.upper()}}}@"
        assert dsn.startswith(expected), name
        assert "ENCOSTA_DB_PASSWORD}" not in str(environment), name
        assert f"ENCOSTA_DB_PASSWORD_{name.upper()}" in services["migrate"]["environment"]
    grafana = services["grafana"]["environment"]["ENCOSTA_GRAFANA_DB_PASSWORD"]
    assert grafana.startswith("${ENCOSTA_DB_PASSWORD_GRAFANA")
    assert "ENCOSTA_DB_PASSWORD_GRAFANA" in services["migrate"]["environment"]
    assert services["grafana"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )

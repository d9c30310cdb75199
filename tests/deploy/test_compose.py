"""docker-compose.yml: no Docker engine runs here, so its content is checked instead.

The file is valid against the Compose Specification's JSON schema (the copy check-jsonschema
vendors, offline); the Dockerfile passes hadolint; each Encosta service is built from
deploy/Dockerfile and has a healthcheck that runs ``encosta <service> --check``; two ingest
replicas share the subscription with distinct client ids; the simulator sits behind a profile;
every ``ENCOSTA_*`` variable it sets is one the code reads; every ``${...}`` it needs is in
``.env.example`` with a placeholder value; the broker keeps the local stack's settings; the
image's pins match the virtualenv and the build context leaves a checkout's state out.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.accounts import DEFAULT_INGEST_CLIENTS
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
COMPOSE = REPO / "docker-compose.yml"
INGEST_REPLICAS = {"ingest-1", "ingest-2"}
SERVICES = {"ingest-1": "ingest", "ingest-2": "ingest", "alerts": "alerts", "api": "api"}
ENCOSTA_SERVICES = {"migrate", "broker-init", "broker-sync", "alerts", "api", "simulator"}
ENCOSTA_SERVICES |= INGEST_REPLICAS
BIN = Path(sys.executable).parent
_REFERENCE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def _code_text() -> str:
    return "\n".join(
        path.read_text()
        for package in ("ingest", "alerts", "encosta")
        for path in (REPO / package).rglob("*.py")
    )


def _example() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def test_services_and_healthchecks() -> None:
    """The stack has its services; Encosta's are built from the Dockerfile and checked."""
    services = _compose()["services"]
    assert set(services) == {"timescaledb", "mosquitto", "grafana", *ENCOSTA_SERVICES}
    assert (DEPLOY / "Dockerfile").is_file()
    # the base image runs the Python the pins were generated with (deploy/constraints.txt)
    python = ".".join(map(str, sys.version_info[:3]))
    assert f"FROM python:{python}-slim\n" in (DEPLOY / "Dockerfile").read_text()
    for name in ENCOSTA_SERVICES:
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile", name
    one_shots = {"migrate", "broker-init", "broker-sync", "simulator"}
    for name in set(services) - one_shots:
        assert "test" in services[name]["healthcheck"], name
    for name, command in SERVICES.items():  # the image's own probe (encosta/healthcheck.py)
        assert services[name]["healthcheck"]["test"] == ["CMD", "encosta", command, "--check"]
        assert services[name]["command"] == [command], name
    for name in SERVICES:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["timescaledb"]["condition"] == "service_healthy", name
    # ingest waits for its broker account (broker-sync waits for a healthy broker)
    for name in INGEST_REPLICAS:
        assert services[name]["depends_on"]["broker-sync"]["condition"] == (
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
    text = COMPOSE.read_text()
    example = _example()
    for name in set(_REFERENCE.findall(text)):
        assert name in example, f"{name} is missing from .env.example"
    for name, value in example.items():
        if "PASSWORD" in name or "TOKEN" in name:
            assert value.startswith("replace-me"), f"{name} must hold a placeholder"


def test_grafana_mounts_match_provisioning() -> None:
    """Grafana mounts the provisioning and the dashboards where the provider looks."""
    volumes = _compose()["services"]["grafana"]["volumes"]
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/encosta.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in volumes
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in volumes
    # every host path the compose file mounts exists in the repository
    for service in _compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), volume


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
    accounts = services["broker-sync"]["environment"]["ENCOSTA_BROKER_INGEST_CLIENTS"]
    assert accounts == DEFAULT_INGEST_CLIENTS
    client_ids = []
    for name in sorted(INGEST_REPLICAS):
        ingest = services[name]
        assert ingest["depends_on"]["broker-sync"]["condition"] == (
            "service_completed_successfully"
        )
        assert ingest["environment"]["ENCOSTA_MQTT_PASSWORD"].startswith(
            "${ENCOSTA_MQTT_INGEST_PASSWORD"
        )
        assert ingest["environment"]["ENCOSTA_INGEST_SHARE_GROUP"] == "encosta-ingest"
        client_ids.append(ingest["environment"]["ENCOSTA_INGEST_CLIENT_ID"])
    # two replicas on the shared subscription, each with its own account and session
    assert client_ids == accounts.split(",")
    # the healthcheck logs in: anonymous clients are refused
    assert "-u encosta-admin" in services["mosquitto"]["healthcheck"]["test"][1]
    # not published on every interface by default
    assert all(not str(p).startswith("1883") for p in services["mosquitto"]["ports"])


def test_services_connect_as_their_roles() -> None:
    """Only migrate connects as the owner; each service and Grafana uses its own login."""
    services = _compose()["services"]
    owner = "postgresql://encosta:"
    assert services["migrate"]["environment"]["ENCOSTA_PG_OWNER_DSN"].startswith(owner)
    for service, name in SERVICES.items():
        environment = services[service]["environment"]
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


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(path)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_compose_file_is_valid_against_the_compose_specification(tmp_path: Path) -> None:
    """docker-compose.yml passes the Compose Specification schema (vendored, no network)."""
    result = _check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    # the same check refuses a file Compose would refuse
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  ingest:\n    image: encosta:local\n    restart: 5\n"
                      "    healtcheck: {test: [CMD, true]}\n")  # fmt: skip
    refused = _check_jsonschema(broken)
    assert refused.returncode == 1, refused.stdout
    assert "healtcheck" in refused.stdout + refused.stderr


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(path)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    """deploy/Dockerfile has no hadolint finding; an unpinned base image would have one."""
    result = _hadolint(DEPLOY / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    sloppy = tmp_path / "Dockerfile"
    sloppy.write_text("FROM python\nRUN cd /app && pip install .\n")
    found = _hadolint(sloppy)
    assert found.returncode == 1
    assert "DL3006" in found.stdout  # "Always tag the version of an image explicitly"


def test_image_installs_with_the_generated_pins() -> None:
    """The Dockerfile installs with deploy/constraints.txt, and the pins match the venv."""
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "--constraint deploy/constraints.txt" in dockerfile
    for package in ("encosta", "ingest", "models", "alerts", "simulators", "runtime"):
        assert f"COPY {package}/ {package}/" in dockerfile, package
    check = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "constraints.py"), "--check"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert check.returncode == 0, f"run `make constraints`: {check.stdout}{check.stderr}"
    pins = (DEPLOY / "constraints.txt").read_text()
    assert "\naiomqtt==2.5.1\n" in pins  # pyproject's exact pins are kept
    assert "pytest" not in pins  # the dev extra is not in the image


@pytest.mark.parametrize("path", [".venv/", ".state/", ".git/", ".env"])
def test_build_context_leaves_a_checkout_out(path: str) -> None:
    """.dockerignore keeps the virtualenv, the local stack, history and secrets out."""
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert path in ignored


def test_simulator_runs_only_in_its_profile() -> None:
    """The simulator starts only with --profile simulator, as the gateways of the registry."""
    services = _compose()["services"]
    simulator = services["simulator"]
    assert simulator["profiles"] == ["simulator"]
    assert simulator["command"][0] == "simulate"
    assert "--credentials" in simulator["command"]
    assert "broker-credentials:/var/lib/encosta/broker:ro" in simulator["volumes"]
    assert all("profiles" not in s for n, s in services.items() if n != "simulator")
    assert not (DEPLOY / "docker-compose.yml").exists()  # one compose file, at the root

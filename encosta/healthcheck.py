"""``encosta ingest|alerts|api --check``: probe a running service's health, for healthchecks.

A container healthcheck (docker-compose.yml) runs the same image's ``encosta <service>
--check``: it asks the service's own health endpoint on the loopback interface and exits 0
(healthy) or 1, printing one line that says why. The port comes from the same variables the
service reads, so the check and the service cannot disagree on where to look:

| service | endpoint: healthy when | port variable (default) |
| --- | --- | --- |
| ingest | ``/healthz``: broker connected, database answering | ``ENCOSTA_INGEST_METRICS_PORT`` |
|        |                                                    | (9101)                          |
| alerts | ``/healthz``: evaluator and dispatcher running      | ``ENCOSTA_ALERTS_METRICS_PORT`` |
|        |                                                    | (9102)                          |
| api    | ``/readyz``: the database answers                   | ``ENCOSTA_API_PORT`` (8080)     |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from encosta.errors import ConfigError
from runtime.settings import Environment

TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class Probe:
    """Where one service answers its health question."""

    variable: str
    default_port: int
    path: str


PROBES = {
    "ingest": Probe("ENCOSTA_INGEST_METRICS_PORT", 9101, "/healthz"),
    "alerts": Probe("ENCOSTA_ALERTS_METRICS_PORT", 9102, "/healthz"),
    "api": Probe("ENCOSTA_API_PORT", 8080, "/readyz"),
}


def url(service: str, environ: Mapping[str, str]) -> str | None:
    """The health URL of ``service`` per ``environ``; None when its probes are turned off."""
    probe = PROBES[service]
    port = Environment(environ, ConfigError).integer(probe.variable, probe.default_port, 0, 65535)
    return None if port == 0 else f"http://127.0.0.1:{port}{probe.path}"


def check(
    service: str, environ: Mapping[str, str], timeout_s: float = TIMEOUT_S
) -> tuple[int, str]:
    """Exit code (0 healthy, 1 not) and a one-line reason."""
    target = url(service, environ)
    if target is None:
        variable = PROBES[service].variable
        return 1, f"{service}: unhealthy: probes are off ({variable}=0), nothing to ask"
    try:
        response = httpx.get(target, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return 1, f"{service}: unhealthy: {target} did not answer ({type(exc).__name__})"
    detail = " ".join(response.text.split())[:200]
    if response.status_code == httpx.codes.OK:
        return 0, f"{service}: healthy: {detail}"
    return 1, f"{service}: unhealthy: HTTP {response.status_code} {detail}"

"""How a client logs in to the broker: username, password and optional TLS.

Shared by every MQTT client of the project (ingest, the simulator's gateways, benchmarks and
tests), so that they all read the same variables the same way:

| variable | default | meaning |
| --- | --- | --- |
| ``ENCOSTA_MQTT_USERNAME`` | the client's own account | broker username |
| ``ENCOSTA_MQTT_PASSWORD`` | — | its password (prefer the ``_FILE`` form) |
| ``ENCOSTA_MQTT_PASSWORD_FILE`` | — | a file holding the password (Docker secrets) |
| ``ENCOSTA_MQTT_CREDENTIALS`` | the local stack's store | JSON ``{username: password}`` |
| ``ENCOSTA_MQTT_CA_FILE`` | — | CA certificate: connect with TLS, verifying the broker against it |

The broker refuses anonymous clients (:mod:`ingest.accounts`).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NotRequired, TypedDict

from ingest.errors import ConfigError
from runtime.settings import Environment


class ClientOptions(TypedDict):
    """What ``aiomqtt.Client`` takes from a :class:`BrokerLogin`."""

    username: str | None
    password: str | None
    tls_context: NotRequired[ssl.SSLContext]


@dataclass(frozen=True, slots=True)
class BrokerLogin:
    """Credentials and transport security of one MQTT client."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None

    def client_options(self) -> ClientOptions:
        """Keyword arguments for ``aiomqtt.Client`` (username, password, TLS context)."""
        options: ClientOptions = {"username": self.username, "password": self.password}
        if self.ca_file:
            options["tls_context"] = self.tls_context()
        return options

    def tls_context(self) -> ssl.SSLContext:
        """A client TLS context that verifies the broker's certificate and host name."""
        context = ssl.create_default_context(cafile=self.ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    @classmethod
    def from_env(cls, environ: Mapping[str, str], default_username: str | None) -> BrokerLogin:
        """Read the login from ``environ``; the password falls back to the credentials store."""
        env = Environment(environ, ConfigError)
        username = env.text_or_none("ENCOSTA_MQTT_USERNAME") or default_username
        password = env.text_or_none("ENCOSTA_MQTT_PASSWORD")
        password_file = env.text_or_none("ENCOSTA_MQTT_PASSWORD_FILE")
        if password is None and password_file:
            try:
                password = Path(password_file).read_text().strip()
            except OSError as exc:
                raise ConfigError(
                    f"cannot read {password_file}: {exc.strerror}",
                    variable="ENCOSTA_MQTT_PASSWORD_FILE",
                ) from None
        store = env.text_or_none("ENCOSTA_MQTT_CREDENTIALS")
        if password is None and store and username:
            password = load_credentials(Path(store)).get(username)
        return cls(username, password, env.text_or_none("ENCOSTA_MQTT_CA_FILE"))


def reason_codes(granted: Iterable[object]) -> list[int]:
    """SUBACK results as integers, whether paho gave ints (MQTT 3.1.1) or ReasonCodes (5)."""
    return [int(getattr(code, "value", code)) for code in granted]  # type: ignore[call-overload]


def load_credentials(path: Path) -> dict[str, str]:
    """The ``{username: password}`` store at ``path`` (empty when there is none)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}", variable="ENCOSTA_MQTT_CREDENTIALS") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ConfigError(
            f"{path}: expected a JSON object of username -> password",
            variable="ENCOSTA_MQTT_CREDENTIALS",
        )
    return data

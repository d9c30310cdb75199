"""Who may do what on the broker: the MQTT accounts and ACLs derived from the station registry.

The wire contract trusts the station id in the topic (:mod:`ingest.topic`) because the broker
enforces it; this module says what it enforces. Every account is bound to one client id, so
no credential can take over another account's persistent session, and everything not granted
is refused (the broker's default ACL access is deny for publish, receive and subscribe):

| account | username = client id | may |
| --- | --- | --- |
| station | ``station.<network>.<id>`` | publish ``encosta/<network>/<id>/readings[/senml]`` |
| gateway | ``gateway.<network>.<zone>`` | publish the readings topics of its zone's stations |
| ingest replica | its client id (``encosta-ingest-1``) | subscribe to the readings, alone |
|                |                                       | or in the share group             |

Nobody may subscribe to ``#`` or read another station's topics; only ingest accounts can join
the ingest share group, so a stranger cannot take every other reading. The broker applies
the accounts (Mosquitto's dynamic-security plugin; ``encosta broker sync``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from ingest.errors import ConfigError
from ingest.topic import ROOT, PayloadForm, ReadingsTopic, subscription
from registry.format import Registry
from runtime.settings import Environment

SHARE_GROUP = "encosta-ingest"
# The ingest replicas a deployment runs (compose runs two); ENCOSTA_BROKER_INGEST_CLIENTS.
DEFAULT_INGEST_CLIENTS = "encosta-ingest-1,encosta-ingest-2"


def ingest_client_ids(text: str | None, environ: Mapping[str, str]) -> list[str]:
    """The ingest replicas' client ids: ``text`` (a comma list), else the variable, else two."""
    env = Environment(environ, ConfigError)
    listed = text or env.text("ENCOSTA_BROKER_INGEST_CLIENTS", DEFAULT_INGEST_CLIENTS)
    return [c.strip() for c in listed.split(",") if c.strip()]


class AclType(StrEnum):
    """The dynamic-security plugin's ACL types that Encosta uses."""

    PUBLISH_SEND = "publishClientSend"
    PUBLISH_RECEIVE = "publishClientReceive"
    SUBSCRIBE = "subscribePattern"


@dataclass(frozen=True, slots=True)
class Acl:
    """One allow rule: ``kind`` on ``topic`` (a topic filter)."""

    kind: AclType
    topic: str


@dataclass(frozen=True, slots=True)
class Account:
    """A broker account: username, the client id it is bound to, and its role's rules."""

    username: str
    client_id: str
    acls: tuple[Acl, ...]
    description: str

    @property
    def role(self) -> str:
        """The account's own role on the broker (named after it)."""
        return self.username


def station_username(network: str, station_id: str) -> str:
    """The broker username (and client id) of a station; ids never contain a dot."""
    return f"station.{network}.{station_id}"


def gateway_username(network: str, zone_id: str) -> str:
    """The broker username (and client id) of a zone's gateway."""
    return f"gateway.{network}.{zone_id}"


def _publish_station(network: str, station_id: str) -> tuple[Acl, ...]:
    return tuple(
        Acl(AclType.PUBLISH_SEND, str(ReadingsTopic(network, station_id, form)))
        for form in PayloadForm
    )


def station_accounts(registry: Registry) -> list[Account]:
    """One account per station that is not retired."""
    return [
        Account(
            station_username(registry.network, s.id),
            station_username(registry.network, s.id),
            _publish_station(registry.network, s.id),
            f"station {s.id} ({s.name})",
        )
        for s in registry.stations
        if s.status != "retired"
    ]


def gateway_accounts(registry: Registry) -> list[Account]:
    """One account per zone, allowed to publish for the zone's stations (a field gateway)."""
    accounts = []
    for zone in registry.zones:
        acls = tuple(
            acl
            for s in registry.stations
            if s.zone == zone.id and s.status != "retired"
            for acl in _publish_station(registry.network, s.id)
        )
        if acls:
            name = gateway_username(registry.network, zone.id)
            accounts.append(Account(name, name, acls, f"gateway of zone {zone.id}"))
    return accounts


def ingest_account(network: str, client_id: str, *, bound: bool = True) -> Account:
    """The account of one ingest replica: reads the network's readings, shared or alone.

    ``bound=False`` leaves the client id free (tests that run replicas under other ids).
    """
    acls = (
        Acl(AclType.SUBSCRIBE, subscription(network, SHARE_GROUP)),
        Acl(AclType.SUBSCRIBE, subscription(network, None)),
        Acl(AclType.PUBLISH_RECEIVE, f"{ROOT}/{network}/+/readings/#"),
    )
    return Account(client_id, client_id if bound else "", acls, f"ingest replica of {network}")


def network_accounts(registry: Registry, ingest_client_ids: Iterable[str]) -> list[Account]:
    """Every account of ``registry``'s network: stations, gateways and ingest replicas."""
    accounts = station_accounts(registry) + gateway_accounts(registry)
    accounts += [ingest_account(registry.network, c) for c in ingest_client_ids]
    return accounts

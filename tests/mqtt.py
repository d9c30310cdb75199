"""MQTT for tests: broker accounts per test network, aiomqtt (ours) and mosquitto_pub (theirs).

The broker refuses anonymous clients, so every test network gets its accounts from the same
code a deployment uses (``encosta.dynsec.sync``, :mod:`ingest.accounts`), plus two accounts
that only tests have: a *publisher* allowed to publish for every station of the network (a
gateway of all zones) and a *reader* allowed to subscribe to the network's topics.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiomqtt

from encosta import dynsec
from ingest.accounts import Account, Acl, AclType, ingest_account, network_accounts
from ingest.broker import BrokerLogin

if TYPE_CHECKING:
    from encosta.stack import StackConfig
    from registry.format import Registry


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where and as whom a test client connects."""

    port: int
    login: BrokerLogin
    host: str = "127.0.0.1"
    client_id: str | None = None  # the id the account is bound to, if any

    def client(self, **options: Any) -> aiomqtt.Client:
        """An aiomqtt client logged in as this endpoint's account."""
        options.setdefault("identifier", self.client_id or f"test-{uuid.uuid4().hex[:10]}")
        return aiomqtt.Client(self.host, self.port, **self.login.client_options(), **options)

    def cli_options(self) -> list[str]:
        """The ``mosquitto_pub``/``mosquitto_sub`` options for this account."""
        assert self.login.username
        assert self.login.password
        options = ["-h", self.host, "-p", str(self.port), "-u", self.login.username,
                   "-P", self.login.password]  # fmt: skip
        return [*options, "-i", self.client_id] if self.client_id else options


@dataclass(frozen=True, slots=True)
class NetworkAccounts:
    """A network's broker accounts, provisioned for one test and deleted after it."""

    registry: Registry
    port: int
    passwords: dict[str, str] = field(repr=False)
    client_ids: dict[str, str] = field(default_factory=dict)  # bound accounts' ids

    def endpoint(self, username: str) -> Endpoint:
        """An endpoint logged in as ``username`` (any account of the network)."""
        login = BrokerLogin(username, self.passwords[username])
        return Endpoint(self.port, login, client_id=self.client_ids.get(username))

    @property
    def publisher(self) -> Endpoint:
        """The test publisher: may publish for every station of the network."""
        return self.endpoint(f"publisher.{self.registry.network}")

    @property
    def reader(self) -> Endpoint:
        """The test reader: may subscribe to every topic of the network."""
        return self.endpoint(f"reader.{self.registry.network}")

    @property
    def ingest_login(self) -> BrokerLogin:
        """The ingest account of the tests, not bound to a client id (replicas use several)."""
        name = f"ingest-{self.registry.network}"
        return BrokerLogin(name, self.passwords[name])


def own_accounts(network: str) -> list[Account]:
    """The tests' own accounts of ``network``: an unbound ingest, a publisher, a reader."""
    topics = f"encosta/{network}/#"
    return [
        ingest_account(network, f"ingest-{network}", bound=False),
        Account(f"publisher.{network}", "", (Acl(AclType.PUBLISH_SEND, topics),), "test publisher"),
        Account(
            f"reader.{network}",
            "",
            (Acl(AclType.SUBSCRIBE, topics), Acl(AclType.PUBLISH_RECEIVE, topics)),
            "test reader",
        ),
    ]


@asynccontextmanager
async def provisioned(stack: StackConfig, registry: Registry) -> AsyncIterator[NetworkAccounts]:
    """The accounts of ``registry``'s network on the local broker, for the test's duration."""
    accounts = network_accounts(registry, []) + own_accounts(registry.network)
    admin = dynsec.admin_login({}, stack.credentials_file)
    async with dynsec.temporary(
        "127.0.0.1", stack.mqtt_port, admin, registry.network, accounts
    ) as passwords:
        bound = {a.username: a.client_id for a in accounts if a.client_id}
        yield NetworkAccounts(registry, stack.mqtt_port, passwords, bound)


async def publish(
    endpoint: Endpoint,
    messages: Iterable[tuple[str, bytes]],
    *,
    qos: int = 1,
    retain: bool = False,
) -> int:
    """Publish ``(topic, payload)`` pairs with one client at QoS ``qos``; return the count.

    With ``retain`` the broker keeps the last message of each topic for new subscribers (an
    empty retained payload clears it).
    """
    count = 0
    async with endpoint.client(max_inflight_messages=1000) as client:
        pending: set[asyncio.Task[None]] = set()
        for topic, payload in messages:
            pending.add(asyncio.create_task(client.publish(topic, payload, qos=qos, retain=retain)))
            count += 1
            if len(pending) >= 500:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
        if pending:
            for outcome in await asyncio.gather(*pending, return_exceptions=True):
                if isinstance(outcome, BaseException):
                    raise outcome
    return count


async def mosquitto_pub(
    endpoint: Endpoint, topic: str, lines: Iterable[bytes], *, qos: int = 1
) -> None:
    """Publish one message per line on ``topic`` with Mosquitto's own ``mosquitto_pub -l``."""
    binary = shutil.which("mosquitto_pub")
    assert binary, "mosquitto_pub is installed by scripts/install-system.sh"
    process = await asyncio.create_subprocess_exec(
        binary,
        *endpoint.cli_options(),
        "-q",
        str(qos),
        "-t",
        topic,
        "-l",
        stdin=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    body = b"".join(line.rstrip(b"\n") + b"\n" for line in lines)
    _, err = await asyncio.wait_for(process.communicate(body), timeout=120)
    assert process.returncode == 0, err.decode()


async def mosquitto_cli(
    tool: str, endpoint: Endpoint | None, *args: str, stdin: bytes = b"", port: int | None = None
) -> tuple[int, str]:
    """Run ``mosquitto_pub``/``mosquitto_sub`` (MQTT 5) as ``endpoint`` (None: anonymous).

    Returns the exit code and everything it printed, for tests of what the broker refuses.
    """
    binary = shutil.which(tool)
    assert binary, f"{tool} is installed by scripts/install-system.sh"
    login = endpoint.cli_options() if endpoint else ["-h", "127.0.0.1", "-p", str(port)]
    process = await asyncio.create_subprocess_exec(
        binary,
        *login,
        "-V",
        "5",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(stdin), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace")

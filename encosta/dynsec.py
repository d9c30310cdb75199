"""Mosquitto's dynamic-security plugin: the broker's accounts, applied while it runs.

Why this plugin rather than ``password_file`` + ``acl_file``: it refuses a SUBSCRIBE that is not
granted (an ``acl_file`` only filters what is delivered, so a stranger could still join the
ingest share group and swallow every other reading), it binds each account to one client id
(nobody can take over ingest's persistent session), and it changes accounts without a broker
restart, over the ``$CONTROL/dynamic-security/v1`` topic, as the admin account.

:func:`initial_config` writes the plugin's file with only the admin account and deny-by-default
access; :func:`sync` then makes the broker's accounts of one network equal to
:mod:`ingest.accounts`' policy (creating, changing and deleting only accounts it manages,
marked ``encosta:<network>`` in their text name).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import secrets
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from encosta import credentials
from encosta.errors import BrokerAuthError
from ingest.accounts import Account, network_accounts
from ingest.broker import BrokerLogin, load_credentials
from registry.format import Registry
from runtime.resource import StackedResource

ADMIN_USERNAME = "encosta-admin"
_TOPIC = "$CONTROL/dynamic-security/v1"
_ITERATIONS = 1000  # passwords are 192-bit random tokens: the KDF only guards a leaked file


def hash_password(password: str, salt: bytes | None = None) -> dict[str, object]:
    """The plugin's stored form of ``password``: PBKDF2-SHA512, base64 salt and hash."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _ITERATIONS)
    return {
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": _ITERATIONS,
    }


def initial_config(admin_password: str) -> dict[str, object]:
    """The plugin's file: the admin account only, everything else denied by default."""
    admin_acls = [
        {"acltype": kind, "topic": f"{_TOPIC}/#", "allow": True}
        for kind in ("publishClientSend", "publishClientReceive", "subscribePattern")
    ]
    return {
        "clients": [
            {
                "username": ADMIN_USERNAME,
                "textname": "encosta: broker administration (encosta broker sync)",
                **hash_password(admin_password),
                "roles": [{"rolename": ADMIN_USERNAME}],
            }
        ],
        "roles": [{"rolename": ADMIN_USERNAME, "acls": admin_acls}],
        "groups": [],
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
    }


def write_initial_config(path: Path, admin_password: str) -> bool:
    """Write the plugin's first file at ``path`` (mode 0600) unless one exists; whether it did."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(initial_config_text(admin_password))
    path.chmod(0o600)
    return True


def initial_config_text(admin_password: str) -> str:
    """:func:`initial_config` as the JSON text the plugin reads."""
    return json.dumps(initial_config(admin_password), indent=1) + "\n"


@dataclass(slots=True)
class SyncReport:
    """What :func:`sync` changed."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


class DynsecAdmin(StackedResource):
    """A connection as the admin account that sends plugin commands and awaits the answers."""

    def __init__(self, host: str, port: int, login: BrokerLogin, timeout_s: float = 20.0) -> None:
        self.host = host
        self.port = port
        self.login = login
        self.timeout_s = timeout_s
        self._client: aiomqtt.Client | None = None
        self._responses: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def open(self, stack: contextlib.AsyncExitStack) -> None:
        """Log in as the admin account, subscribe to the answers and read them."""
        client = aiomqtt.Client(
            self.host,
            self.port,
            identifier=f"{ADMIN_USERNAME}-{uuid.uuid4().hex[:8]}",
            protocol=aiomqtt.ProtocolVersion.V5,
            timeout=self.timeout_s,
            **self.login.client_options(),
        )
        try:
            await stack.enter_async_context(client)
        except aiomqtt.MqttError as exc:
            raise BrokerAuthError(
                f"cannot log in to the broker at {self.host}:{self.port} as "
                f"{self.login.username}: {exc}"
            ) from None
        await client.subscribe(f"{_TOPIC}/response", qos=1)
        reader = asyncio.create_task(self._read(client), name="dynsec-responses")
        stack.push_async_callback(_cancelled, reader)
        self._client = client

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            payload = message.payload
            if isinstance(payload, bytes | bytearray):
                await self._responses.put(json.loads(payload))

    async def run(self, commands: Sequence[Mapping[str, object]]) -> list[dict[str, Any]]:
        """Send ``commands`` in one message; return the answers in the same order."""
        assert self._client is not None, "use DynsecAdmin as an async context manager"
        if not commands:
            return []
        tagged = [
            {**command, "correlationData": f"{i}-{uuid.uuid4().hex[:8]}"}
            for i, command in enumerate(commands)
        ]
        await self._client.publish(_TOPIC, json.dumps({"commands": tagged}), qos=1)
        wanted = {c["correlationData"]: i for i, c in enumerate(tagged)}
        answers: list[dict[str, Any] | None] = [None] * len(tagged)
        try:
            async with asyncio.timeout(self.timeout_s):
                while wanted:
                    response = await self._responses.get()
                    for answer in response.get("responses", []):
                        index = wanted.pop(answer.get("correlationData"), None)
                        if index is not None:
                            answers[index] = answer
        except TimeoutError:
            raise BrokerAuthError(
                f"the broker did not answer {len(wanted)} dynamic-security command(s) within "
                f"{self.timeout_s:g} s: is the plugin loaded and {ADMIN_USERNAME} its admin?"
            ) from None
        return [a for a in answers if a is not None]

    async def checked(self, commands: Sequence[Mapping[str, object]]) -> list[dict[str, Any]]:
        """:meth:`run`, raising on the first command the plugin refused."""
        answers = await self.run(commands)
        for command, answer in zip(commands, answers, strict=True):
            if answer.get("error"):
                raise BrokerAuthError(f"broker refused {command['command']}: {answer['error']}")
        return answers


Command = dict[str, object]


def _marker(scope: str) -> str:
    return f"encosta:{scope}"


def _acls(account: Account) -> list[dict[str, object]]:
    return [{"acltype": a.kind.value, "topic": a.topic, "allow": True} for a in account.acls]


def _acl_key(acls: Sequence[Mapping[str, object]]) -> set[tuple[str, str, bool]]:
    return {(str(a["acltype"]), str(a["topic"]), bool(a.get("allow"))) for a in acls}


def _role_commands(account: Account, role: Mapping[str, Any] | None, text: str) -> list[Command]:
    if role is None:
        return [
            {
                "command": "createRole",
                "rolename": account.role,
                "textname": text,
                "acls": _acls(account),
            }
        ]
    if _acl_key(role.get("acls", [])) == _acl_key(_acls(account)):
        return []
    commands: list[Command] = [
        {"command": "removeRoleACL", "rolename": account.role, **acl}
        for acl in role.get("acls", [])
    ]
    return commands + [
        {"command": "addRoleACL", "rolename": account.role, **acl} for acl in _acls(account)
    ]


def _client_commands(
    account: Account, client: Mapping[str, Any] | None, text: str, password: str
) -> list[Command]:
    name = account.username
    if client is None:
        return [
            {
                "command": "createClient",
                "username": name,
                "password": password,
                "clientid": account.client_id,
                "textname": text,
                "roles": [{"rolename": account.role}],
            }
        ]
    commands: list[Command] = [
        {"command": "setClientPassword", "username": name, "password": password}
    ]
    roles = [r.get("rolename") for r in client.get("roles", [])]
    if client.get("clientid", "") != account.client_id or roles != [account.role]:
        commands.append(
            {
                "command": "modifyClient",
                "username": name,
                "clientid": account.client_id,
                "roles": [{"rolename": account.role}],
            }
        )
    return commands


async def sync(
    admin: DynsecAdmin,
    scope: str,
    accounts: Sequence[Account],
    passwords: Mapping[str, str],
) -> SyncReport:
    """Make the broker's accounts marked ``scope`` exactly ``accounts``; return the changes.

    Passwords are (re)set from ``passwords`` for every account, so the store stays the truth.
    An account of the same name that Encosta does not manage for ``scope`` is an error, never
    overwritten.
    """
    listing = await admin.checked(
        [
            {"command": "listClients", "verbose": True},
            {"command": "listRoles", "verbose": True},
        ]
    )
    marker = f"{_marker(scope)}: "
    clients = {c["username"]: c for c in listing[0].get("data", {}).get("clients", [])}
    roles = {r["rolename"]: r for r in listing[1].get("data", {}).get("roles", [])}
    report = SyncReport()
    commands: list[Command] = []
    for account in accounts:
        client = clients.get(account.username)
        if client is not None and not str(client.get("textname", "")).startswith(marker):
            raise BrokerAuthError(
                f"broker account {account.username!r} exists and is not managed by Encosta "
                f"for {scope!r}"
            )
        text = f"{marker}{account.description}"
        commands += _role_commands(account, roles.get(account.role), text)
        changes = _client_commands(account, client, text, passwords[account.username])
        commands += changes
        if client is None:
            report.created.append(account.username)
        elif len(changes) > 1:
            report.updated.append(account.username)
    wanted = {a.username for a in accounts}
    for kind, existing in (("Client", clients), ("Role", roles)):
        for name, entry in existing.items():
            if name not in wanted and str(entry.get("textname", "")).startswith(marker):
                key = "username" if kind == "Client" else "rolename"
                commands.append({"command": f"delete{kind}", key: name})
                if kind == "Client":
                    report.deleted.append(name)
    # One message carries many commands; the plugin saves its file after each, so send them in
    # chunks whose answers arrive well within the timeout.
    for first in range(0, len(commands), 200):
        await admin.checked(commands[first : first + 200])
    return report


def admin_login(environ: Mapping[str, str], store: Path | None) -> BrokerLogin:
    """The admin account's login: ``ENCOSTA_MQTT_ADMIN_PASSWORD``, else the credentials store."""
    password = environ.get("ENCOSTA_MQTT_ADMIN_PASSWORD") or None
    if password is None and store is not None:
        password = load_credentials(store).get(ADMIN_USERNAME)
    if password is None:
        raise BrokerAuthError(
            f"no password for the broker account {ADMIN_USERNAME}: set "
            "ENCOSTA_MQTT_ADMIN_PASSWORD, or ENCOSTA_MQTT_CREDENTIALS to a store that has it "
            "(the local stack's is created by `encosta services up`)"
        )
    return BrokerLogin(ADMIN_USERNAME, password, environ.get("ENCOSTA_MQTT_CA_FILE") or None)


async def sync_network(  # noqa: PLR0913  where, who, and what to apply
    host: str,
    port: int,
    admin: BrokerLogin,
    registry: Registry,
    *,
    ingest_client_ids: Sequence[str],
    store: Path,
    fixed: Mapping[str, str] | None = None,
) -> SyncReport:
    """Apply ``registry``'s accounts to the broker, with passwords from (and into) ``store``."""
    accounts = network_accounts(registry, ingest_client_ids)
    passwords = credentials.ensure(store, [a.username for a in accounts], fixed)
    async with DynsecAdmin(host, port, admin) as connection:
        return await sync(connection, registry.network, accounts, passwords)


@contextlib.asynccontextmanager
async def temporary(
    host: str, port: int, admin: BrokerLogin, scope: str, accounts: Sequence[Account]
) -> AsyncIterator[dict[str, str]]:
    """``accounts`` on the broker with fresh passwords (yielded) until the block ends.

    For tests and benchmarks: nothing is written to a credentials store.
    """
    passwords = {a.username: credentials.new_password() for a in accounts}
    async with DynsecAdmin(host, port, admin) as connection:
        await sync(connection, scope, accounts, passwords)
    try:
        yield passwords
    finally:
        try:
            async with DynsecAdmin(host, port, admin) as connection:
                await sync(connection, scope, [], {})
        except (OSError, aiomqtt.MqttError, BrokerAuthError):
            pass  # the broker may be down after an outage test; the next sync repairs it

"""Fixtures on the real local stack: TimescaleDB, Mosquitto and the ingest service.

Session fixtures start the services once; every test that asks for ``database`` gets a fresh
database cloned from a migrated template, and can run ingest in-process or as a process.

The stack is started once per session (``encosta services up`` does the same); set
``ENCOSTA_STATE_DIR``/``ENCOSTA_PG_PORT``/``ENCOSTA_MQTT_PORT`` to use other instances.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from encosta import stack
from encosta.migrate import migrate
from encosta.registry import import_registry
from encosta.roles import grant_database
from ingest.config import IngestConfig
from ingest.service import IngestService
from registry.format import Registry, load_registry
from tests.mqtt import Endpoint, NetworkAccounts, provisioned

REPO = Path(__file__).resolve().parent.parent
REGISTRY_FILE = REPO / "deploy" / "stations" / "rio-de-janeiro.toml"
TEMPLATE = "encosta_test_template"
# service -> its login (migration 0005); services under test connect as these
ROLES = {
    "ingest": "encosta_ingest",
    "alerts": "encosta_alerts",
    "api": "encosta_api",
    "reader": "encosta_reader",
}


@dataclass(frozen=True, slots=True)
class Database:
    """A fresh, migrated database holding the station registry under a unique network.

    ``dsn`` connects as the owner (for arranging and asserting); :meth:`dsn_for` as a service.
    """

    dsn: str
    name: str
    network: str
    registry: Registry
    stack: stack.StackConfig
    broker: NetworkAccounts

    @property
    def publisher(self) -> Endpoint:
        """The broker account that may publish for every station of this network."""
        return self.broker.publisher

    def dsn_for(self, service: str) -> str:
        """The DSN of this database as ``service``'s role: ingest, alerts, api or reader."""
        return self.stack.dsn(self.name, ROLES[service])

    async def fetchval(self, sql: str, *args: object) -> Any:
        """Run one query on a short-lived connection and return its first value."""
        connection = await asyncpg.connect(self.dsn)
        try:
            return await connection.fetchval(sql, *args)
        finally:
            await connection.close()

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        """Run one query on a short-lived connection and return its rows."""
        connection = await asyncpg.connect(self.dsn)
        try:
            return list(await connection.fetch(sql, *args))
        finally:
            await connection.close()

    async def wait_for_count(
        self, sql: str, expected: int, limit_s: float = 60, settle_s: float = 0.5
    ) -> int:
        """Poll the count ``sql`` until it reaches ``expected`` or ``limit_s`` passes.

        Reached, it looks once more ``settle_s`` later, so that a late duplicate would show.
        """
        deadline = time.monotonic() + limit_s
        value = -1
        while time.monotonic() < deadline:
            value = int(await self.fetchval(sql))
            if value >= expected:
                if not settle_s:
                    return value
                await asyncio.sleep(settle_s)
                return int(await self.fetchval(sql))
            await asyncio.sleep(0.1)
        return value

    def topic(self, station_id: str, *, senml: bool = False) -> str:
        """The readings topic of ``station_id`` in this database's network."""
        suffix = "/senml" if senml else ""
        return f"encosta/{self.network}/{station_id}/readings{suffix}"


@pytest.fixture(scope="session")
def stack_config() -> stack.StackConfig:
    """The local TimescaleDB and Mosquitto, started once for the session."""
    config = stack.StackConfig.from_env(os.environ)
    stack.up(config)
    return config


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The checked-in Rio station registry."""
    return load_registry(REGISTRY_FILE)


@pytest.fixture(scope="session")
def template_db(stack_config: stack.StackConfig, registry: Registry) -> str:
    """A migrated database with the registry, cloned by every test that needs a database."""
    pg = stack.Postgres(stack_config)
    exists = pg.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{TEMPLATE}'")
    if exists.strip():
        pg.psql("postgres", f"ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE false")
        pg.psql("postgres", f"DROP DATABASE {TEMPLATE} WITH (FORCE)")
    pg.psql("postgres", f"CREATE DATABASE {TEMPLATE}")
    dsn = stack_config.dsn(TEMPLATE)

    async def prepare() -> None:
        await migrate(dsn)
        await import_registry(dsn, registry)

    asyncio.run(prepare())
    # CREATE DATABASE ... TEMPLATE needs the template idle: refuse new connections, then end
    # the ones there (TimescaleDB's background-worker scheduler connects to every database).
    pg.psql("postgres", f"ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
    pg.psql(
        "postgres",
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        f" WHERE datname = '{TEMPLATE}'",
    )
    return TEMPLATE


@pytest.fixture
async def database(
    stack_config: stack.StackConfig, template_db: str, registry: Registry
) -> AsyncIterator[Database]:
    """A fresh database for one test, its stations moved to a network of its own."""
    suffix = uuid.uuid4().hex[:10]
    name = f"t_{suffix}"
    network = f"t{suffix}"
    admin = await asyncpg.connect(stack_config.dsn("postgres"))
    try:
        for attempt in range(50):
            try:
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE {template_db}')
                break
            except asyncpg.ObjectInUseError:  # a terminated backend still exiting
                if attempt == 49:
                    raise
                await asyncio.sleep(0.1)
    finally:
        await admin.close()
    dsn = stack_config.dsn(name)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("UPDATE zones SET network = $1", network)
        await connection.execute("UPDATE stations SET network = $1", network)
        # as `encosta migrate` does: CREATE DATABASE ... TEMPLATE copies no database privileges
        await grant_database(connection)
    finally:
        await connection.close()
    moved = replace(registry, network=network)
    async with provisioned(stack_config, moved) as broker:
        yield Database(dsn, name, network, moved, stack_config, broker)
    admin = await asyncpg.connect(stack_config.dsn("postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except (OSError, asyncpg.PostgresError):
        pass  # the server may be down after an outage test; the state dir is disposable
    finally:
        await admin.close()


def ingest_config(db: Database, **overrides: object) -> IngestConfig:
    """An ingest configuration for ``db`` as ``encosta_ingest``, a unique client id, no metrics."""
    base = IngestConfig(
        dsn=db.dsn_for("ingest"),
        mqtt_port=db.stack.mqtt_port,
        network=db.network,
        client_id=f"ingest-{db.network}",
        share_group=None,
        session_expiry_s=600,
        metrics_port=0,
        login=db.broker.ingest_login,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


@asynccontextmanager
async def running_ingest(config: IngestConfig) -> AsyncIterator[IngestService]:
    """An in-process ingest service, subscribed when entered, drained and stopped on exit."""
    service = IngestService(config)
    task = asyncio.create_task(service.run(), name="ingest-under-test")
    try:
        async with asyncio.timeout(20):
            ready = asyncio.create_task(service.ready.wait())
            done, _ = await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                ready.cancel()
                task.result()
        yield service
    finally:
        service.stop()
        async with asyncio.timeout(config.drain_s + 10):
            await task


class IngestProcess:
    """``encosta ingest`` as a separate OS process, for kill -9 and replica tests."""

    def __init__(self, config: IngestConfig, log: Path) -> None:
        self.config = config
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def environ(self) -> dict[str, str]:
        """The environment that configures the child like ``config``."""
        c = self.config
        return {
            **os.environ,
            "ENCOSTA_PG_DSN": c.dsn,
            "ENCOSTA_MQTT_HOST": c.mqtt_host,
            "ENCOSTA_MQTT_PORT": str(c.mqtt_port),
            "ENCOSTA_NETWORK": c.network,
            "ENCOSTA_INGEST_CLIENT_ID": c.client_id,
            "ENCOSTA_INGEST_SHARE_GROUP": c.share_group or "",
            "ENCOSTA_INGEST_SESSION_EXPIRY_S": str(c.session_expiry_s),
            "ENCOSTA_INGEST_METRICS_PORT": str(c.metrics_port),
            "ENCOSTA_MQTT_USERNAME": c.login.username or "",
            "ENCOSTA_MQTT_PASSWORD": c.login.password or "",
        }

    def start(self) -> None:
        """Start the process, appending its log to ``log``."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "encosta", "ingest"],
                env=self.environ(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def wait_subscribed(self, count: int = 1, limit_s: float = 20.0) -> None:
        """Wait until the log shows the ``count``-th subscription."""
        async with asyncio.timeout(limit_s):
            while self.log.read_text(errors="replace").count('"subscribed"') < count:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"ingest exited: {self.log.read_text()[-2000:]}")
                await asyncio.sleep(0.05)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` and reap the process."""
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=30)

    def close(self) -> None:
        """Make sure the process is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def ingest_processes(tmp_path: Path) -> Iterator[list[IngestProcess]]:
    """A list to put started :class:`IngestProcess` in; all are killed at teardown."""
    processes: list[IngestProcess] = []
    yield processes
    for process in processes:
        process.close()

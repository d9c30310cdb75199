"""Alerts benchmark: publish -> webhook received, for readings that raise an alert.

The real chain, in one process: Mosquitto -> ingest service -> TimescaleDB -> evaluator ->
outbox -> dispatcher -> a loopback HTTP receiver. Each round builds a fresh database with the
Rio registry and 96 h of dry readings at every station (15-minute steps), starts ingest and
the alerts service (evaluation interval left at its 5 s default: new data must wake it), and
then raises the zones one after another: heavy rain published at every station of the zone
(one QoS 1 message per station), timed from the first publish to the arrival of that zone's
signed ``alert.raised`` webhook.

Run: ``.venv/bin/python -m bench.alerts`` from the repository root (the local stack must be
up; it is started if not).

``--claims N`` measures instead how soon a crisis message claimed by a dispatcher that dies is
delivered by another (docs/alerts.md "Delivery after a crash"), N rounds each: a dispatcher
(``encosta alerts``, its own process) claims the message for a receiver that hangs; the
receiver is healed and the dispatcher is

- killed (-9) while a standby dispatcher runs: kill -> received;
- killed (-9), then a new dispatcher is started: its start (registered) -> received;
- killed (-9), then a new ``encosta alerts`` process is spawned: spawn -> received;
- frozen (SIGSTOP) while a standby runs (ENCOSTA_ALERTS_CLAIM_STALE_S default 10 s):
  stop -> received.

``--api-body`` sends 100 MB request bodies to a running ``encosta api`` process (without a
token; with the token, declared; with the token, chunked) and reports the answer, how much
the client could send before it, and the API's resident memory before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import select
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import aiomqtt
import asyncpg

from alerts.config import DispatchConfig, EvaluatorConfig
from alerts.destinations import Destinations
from alerts.dispatcher import WebhookDispatcher
from alerts.service import AlertsService
from alerts.signing import new_secret
from bench import database
from bench.accounts import bench_login
from encosta import stack
from ingest.broker import BrokerLogin
from ingest.config import IngestConfig
from ingest.service import IngestService
from registry.format import load_registry
from runtime.http_server import HttpServer, Request, Response

NETWORK = "rio"
REGISTRY = stack.REPO / "deploy/stations/rio-de-janeiro.toml"


class Receiver:
    """Loopback webhook receiver: records (arrival time, body) of every POST, answers 204."""

    def __init__(self) -> None:
        self.arrivals: asyncio.Queue[tuple[float, dict[str, object]]] = asyncio.Queue()
        self._server = HttpServer(self._answer)

    @property
    def url(self) -> str:
        """Where to POST."""
        return f"{self._server.url}/hook"

    async def __aenter__(self) -> Self:
        await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.__aexit__(None, None, None)

    async def _answer(self, request: Request) -> Response:
        self.arrivals.put_nowait((time.time(), json.loads(request.body)))
        return Response(204)

    async def wait_raised(self, zone: str, timeout_s: float) -> float:
        """The arrival time of the next ``alert.raised`` of ``zone`` (other arrivals skipped)."""
        async with asyncio.timeout(timeout_s):
            while True:
                arrived, body = await self.arrivals.get()
                data = body["data"]
                assert isinstance(data, dict)
                if body["type"] == "alert.raised" and data["zone"]["id"] == zone:
                    return arrived


async def fresh_database(cfg: stack.StackConfig, name: str) -> str:
    """A migrated database with the registry and 96 h of dry readings at every station."""
    dsn = await database.create(cfg, name)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "INSERT INTO readings (station_id, quantity, ts, value)"
            " SELECT s.id, q.quantity, g, CASE q.quantity WHEN 'rain_mm' THEN 0 ELSE 0.2 END"
            " FROM stations s, (VALUES ('rain_mm'), ('vwc_d60')) q (quantity),"
            " generate_series(now() - interval '96 hours', now(), interval '15 minutes') g"
        )
        await connection.execute("SELECT encosta_refresh_rollup()")  # not written by ingest
    finally:
        await connection.close()
    return dsn


async def round_latencies(
    cfg: stack.StackConfig, login: BrokerLogin, run: str, rain_mm: float
) -> list[float]:
    """One round on a fresh database: publish -> webhook latency (s) of each zone's raise."""
    dsn = await fresh_database(cfg, f"bench_alerts_{run}")
    zones: dict[str, list[str]] = {}
    for row in await (conn := await asyncpg.connect(dsn)).fetch(
        "SELECT id, zone_id FROM stations WHERE status = 'active' ORDER BY id"
    ):
        zones.setdefault(row["zone_id"], []).append(row["id"])
    await conn.close()
    ingest = IngestService(
        IngestConfig(
            dsn=cfg.dsn(f"bench_alerts_{run}", "encosta_ingest"),  # each service as its role
            mqtt_port=cfg.mqtt_port,
            network=NETWORK,
            share_group=None,
            client_id=f"bench-alerts-{run}",
            metrics_port=0,
            session_expiry_s=60,
            login=login,
        )
    )
    alerts_dsn = cfg.dsn(f"bench_alerts_{run}", "encosta_alerts")
    alerts = AlertsService(
        EvaluatorConfig(dsn=alerts_dsn, network=NETWORK),
        DispatchConfig(dsn=alerts_dsn, destinations=Destinations.loopback()),  # loopback receiver
    )
    latencies = []
    async with Receiver() as receiver, asyncio.TaskGroup() as tg:
        conn = await asyncpg.connect(dsn)
        await conn.execute(
            "INSERT INTO webhook_subscriptions (url, secret, min_level) VALUES ($1, $2, 1)",
            receiver.url,
            new_secret(),
        )
        await conn.close()
        tg.create_task(ingest.run(), name="bench-ingest")
        tg.create_task(alerts.run(), name="bench-alerts")
        await asyncio.wait_for(ingest.ready.wait(), 20)
        await asyncio.sleep(1.0)  # the first evaluation: dry, nothing to raise
        async with aiomqtt.Client("127.0.0.1", cfg.mqtt_port, **login.client_options()) as client:
            for zone, stations in zones.items():
                start = time.time()
                payload = json.dumps(
                    {"records": [{"ts": datetime.now(UTC).isoformat(), "rain_mm": rain_mm}]}
                ).encode()
                for station in stations:
                    await client.publish(f"encosta/{NETWORK}/{station}/readings", payload, qos=1)
                latencies.append(await receiver.wait_raised(zone, 30) - start)
        ingest.stop()
        alerts.stop()
    database.drop(cfg, f"bench_alerts_{run}")
    return latencies


class HangingReceiver:
    """Holds every request unanswered until ``healthy`` is set; then answers 204, recording when."""

    def __init__(self) -> None:
        self.healthy = False
        self.hung = asyncio.Event()
        self.arrived: asyncio.Queue[float] = asyncio.Queue()
        self.release = asyncio.Event()
        self._server = HttpServer(self._answer, read_timeout_s=None)

    @property
    def url(self) -> str:
        """Where to POST."""
        return f"{self._server.url}/hook"

    async def __aenter__(self) -> Self:
        await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        await self._server.__aexit__(None, None, None)

    async def _answer(self, _request: Request) -> Response | None:
        if not self.healthy:
            self.hung.set()
            await self.release.wait()
            return None  # hang up without an answer
        self.arrived.put_nowait(time.monotonic())
        return Response(204)


def _alerts_process(dsn: str, network: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "encosta", "alerts"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "ENCOSTA_PG_DSN": dsn,
            "ENCOSTA_NETWORK": network,
            "ENCOSTA_ALERTS_TIMEOUT_S": "120",
            "ENCOSTA_ALERTS_HEARTBEAT_S": "0",
            "ENCOSTA_ALERTS_METRICS_PORT": "0",
            "ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS": "127.0.0.1/32",
        },
    )


async def _claimed(dsn: str, url: str, network: str) -> subprocess.Popen[bytes]:
    """Queue a crisis message for ``url``; start a dispatcher process; wait until it claims."""
    conn = await asyncpg.connect(dsn)
    try:
        sub = await conn.fetchval(
            "INSERT INTO webhook_subscriptions (url, secret, min_level, zones)"
            " VALUES ($1, $2, 3, '{rocinha}') RETURNING id",
            url,
            new_secret(),
        )
        alert = await conn.fetchval(
            "SELECT id FROM alerts WHERE zone_id = 'rocinha' AND status = 'open'"
        ) or await conn.fetchval(
            "INSERT INTO alerts (network, zone_id, kind, level, raised_at, updated_at)"
            " VALUES ($1, 'rocinha', 'risk', 3, now(), now()) RETURNING id",
            network,
        )
        seq = await conn.fetchval("SELECT count(*) + 2 FROM outbox")
        message_id = f"msg_{alert}_{seq}_{sub}"
        await conn.execute(
            "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id,"
            " content_type, payload) VALUES ($1, $2, $3, $4, 'rocinha', 'application/json',"
            " '{}')",
            message_id,
            sub,
            alert,
            seq,
        )
        process = _alerts_process(dsn, network)
        async with asyncio.timeout(60):
            while not await conn.fetchval(  # noqa: ASYNC110  the claim is database state
                "SELECT claimed_by IS NOT NULL FROM outbox WHERE message_id = $1", message_id
            ):
                await asyncio.sleep(0.05)
    finally:
        await conn.close()
    return process


async def claim_round(dsn: str, network: str, case: str) -> float:
    """One measurement of ``case`` (kill-standby, kill-restart, kill-respawn, stop-standby), s."""
    config = DispatchConfig(dsn=dsn, interval_s=0.5, destinations=Destinations.loopback())
    async with HangingReceiver() as receiver:
        first = await _claimed(dsn, receiver.url, network)
        await receiver.hung.wait()
        receiver.healthy = True
        try:
            if case == "kill-respawn":
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)
                spawned = time.monotonic()
                second_process = _alerts_process(dsn, network)
                try:
                    arrived = await asyncio.wait_for(receiver.arrived.get(), 60)
                finally:
                    second_process.kill()
                    second_process.wait(timeout=10)
                return arrived - spawned
            if case == "kill-restart":
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=10)
                async with WebhookDispatcher(config) as second, asyncio.TaskGroup() as tg:
                    ready = time.monotonic()
                    tg.create_task(second.run())
                    arrived = await asyncio.wait_for(receiver.arrived.get(), 60)
                    second.stop()
                return arrived - ready
            async with WebhookDispatcher(config) as standby, asyncio.TaskGroup() as tg:
                tg.create_task(standby.run())
                await asyncio.sleep(1.0)  # the standby is scanning
                sent = time.monotonic()
                first.send_signal(signal.SIGKILL if case == "kill-standby" else signal.SIGSTOP)
                arrived = await asyncio.wait_for(receiver.arrived.get(), 60)
                standby.stop()
            return arrived - sent
        finally:
            first.send_signal(signal.SIGCONT)
            first.kill()
            first.wait(timeout=10)


async def claims(cfg: stack.StackConfig, rounds: int) -> None:
    """Claim release after kill -9 / SIGSTOP, ``rounds`` times each; print the table."""
    name = f"bench_claims_{int(time.time())}"
    registry = load_registry(REGISTRY)
    dsn = await database.create(cfg, name, registry)
    rows = ["| case | what is timed | rounds | p50 | max |", "| --- | --- | ---: | ---: | ---: |"]
    cases = (
        ("kill-standby", "kill -9 -> received (a standby dispatcher runs)"),
        ("kill-restart", "new dispatcher registered -> received (started after kill -9)"),
        ("kill-respawn", "`encosta alerts` spawned after kill -9 -> received (start-up included)"),
        ("stop-standby", "SIGSTOP -> received (standby runs; claim stale after 10 s)"),
    )
    try:
        for case, what in cases:
            got = [await claim_round(dsn, registry.network, case) for _ in range(rounds)]
            print(f"{case}: " + " ".join(f"{x:.2f}" for x in got) + " s", flush=True)
            rows.append(
                f"| {case} | {what} | {rounds} | {statistics.median(got):.2f} s"
                f" | {max(got):.2f} s |"
            )
    finally:
        database.drop(cfg, name)
    print(f"# bench/alerts.py --claims {rounds}")
    print("\n".join(rows))


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _send_huge(port: int, head: bytes, *, chunked: bool) -> tuple[int, int]:
    """Send ``head`` then up to 100 MB; return (status answered, body bytes sent before it).

    Blocking (run it in a thread): it looks for the answer before every MiB it sends.
    """
    block = b"x" * (1 << 20)
    frame = f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head)
        while sent < 100 * (1 << 20) and b"\r\n" not in answer:
            readable, _, _ = select.select([sock], [], [], 0.02)
            if readable:
                answer += sock.recv(4096)
                continue
            try:
                sock.sendall(frame)
            except OSError:
                break
            sent += len(block)
        if b"\r\n" not in answer:
            if chunked:
                with contextlib.suppress(OSError):
                    sock.sendall(b"0\r\n\r\n")
            sock.settimeout(30)
            answer += sock.recv(4096)
    return int(answer.split()[1]), sent


async def api_body(cfg: stack.StackConfig) -> None:
    """100 MB bodies against ``encosta api``: answer, bytes sent before it, memory."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(  # noqa: ASYNC220  started once, before any measurement
        [sys.executable, "-m", "encosta", "api"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "ENCOSTA_PG_DSN": cfg.dsn("postgres"),
            "ENCOSTA_API_PORT": str(port),
            "ENCOSTA_API_TOKEN": "bench-token",
        },
    )
    size = 100 * (1 << 20)
    post = b"POST /webhooks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
    auth = b"authorization: Bearer bench-token\r\n"
    length = f"content-length: {size}\r\n\r\n".encode()
    cases = (
        ("no token, Content-Length 100 MB", post + length, False),
        ("token, Content-Length 100 MB", post + auth + length, False),
        ("token, chunked 100 MB", post + auth + b"transfer-encoding: chunked\r\n\r\n", True),
    )
    rows = ["| request | answer | body sent before the answer | API RSS before -> after |"]
    rows.append("| --- | ---: | ---: | --- |")
    try:
        async with asyncio.timeout(30):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                    writer.close()
                    break
                except OSError:
                    await asyncio.sleep(0.1)
        for what, head, chunked in cases:
            before = _rss_mb(process.pid)
            status, sent = await asyncio.to_thread(_send_huge, port, head, chunked=chunked)
            await asyncio.sleep(0.5)
            after = _rss_mb(process.pid)
            mib = sent / (1 << 20)
            rows.append(f"| {what} | {status} | {mib:.0f} MiB | {before:.0f} -> {after:.0f} MB |")
    finally:
        process.terminate()
        process.wait(timeout=20)
    print("# bench/alerts.py --api-body")
    print("\n".join(rows))


async def main() -> int:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh databases, 8 zones each")
    parser.add_argument("--rain-mm", type=float, default=60.0, help="rain per station")
    parser.add_argument(
        "--claims", type=int, default=0, metavar="N", help="measure claim release instead"
    )
    parser.add_argument(
        "--api-body", action="store_true", help="measure 100 MB request bodies instead"
    )
    args = parser.parse_args()
    cfg = stack.StackConfig.from_env(os.environ)
    stack.up(cfg)
    if args.api_body:
        await api_body(cfg)
        return 0
    if args.claims:
        await claims(cfg, args.claims)
        return 0
    run = int(time.time())
    latencies: list[float] = []
    async with bench_login(NETWORK) as login:
        for r in range(args.rounds):
            got = await round_latencies(cfg, login, f"{run}_{r}", args.rain_mm)
            print(f"round {r + 1}: " + " ".join(f"{x * 1000:.0f}" for x in got) + " ms", flush=True)
            latencies += got
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100, method="inclusive")
    print(f"# bench/alerts.py rounds={args.rounds} raises={len(ms)}")
    print("| what | p50 | p99 | max | target |\n| --- | ---: | ---: | ---: | --- |")
    print(
        f"| publish -> webhook received (alert.raised) | {q[49]:.0f} ms | {q[98]:.0f} ms"
        f" | {ms[-1]:.0f} ms | p99 <= 1000 ms |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

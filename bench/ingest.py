"""Ingest benchmark: ratios against raw ceilings measured side by side in one run.

1. Receive rate, QoS 1, one reading per message: a bare aiomqtt subscriber (auto-ack) and a
   bare paho subscriber versus the ingest service's committed-readings rate. Each consumer
   drains the same number of messages queued for it in the broker by ``mosquitto_pub``, so the
   publisher's speed is out of the measurement.
2. Batched gateway messages (100 records x 2 quantities): raw asyncpg COPY into the same
   hypertable versus ingest.
3. Publish -> commit latency at 2,000 readings/s (one reading per message, a publisher in
   another process stamping each reading with its publish time).

Every part checks that the table holds exactly the readings sent (zero loss, zero duplicates).
Run: ``.venv/bin/python -m bench.ingest`` from the repository root (as a module: run as a
script, this file would shadow the ``ingest`` package). The local stack must be up.
``--no-rollup`` leaves the rollup maintenance out, in this process only: the ceiling the
rollup is measured against.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime

import aiomqtt
import asyncpg
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from bench import database
from bench.accounts import bench_login
from encosta import stack
from ingest import rollup
from ingest.broker import BrokerLogin
from ingest.config import IngestConfig
from ingest.mqtt5 import connect_properties
from ingest.service import IngestService
from ingest.writer import Message

DB = "bench_ingest"
NETWORK = "rio"
STATION = "rocinha-01"
TOPIC = f"encosta/{NETWORK}/{STATION}/readings"


async def _no_rollup(*_args: object) -> None:
    """``--no-rollup``: the rollup maintenance left out (the shipped code is unchanged)."""


def lines_one_reading(count: int, start: float) -> bytes:
    """``count`` one-reading messages, one per line, distinct timestamps from ``start``."""
    return b"".join(
        b'{"records":[{"ts":%.3f,"rain_mm":0.2}]}\n' % (start + i * 0.01) for i in range(count)
    )


def lines_batched(messages: int, start: float) -> bytes:
    """``messages`` gateway messages of 100 records with rain and vwc (200 readings each)."""
    out = []
    for m in range(messages):
        records = [
            {"ts": round(start + (m * 100 + k) * 0.01, 3), "rain_mm": 0.4, "vwc": 0.3}
            for k in range(100)
        ]
        out.append(json.dumps({"records": records}, separators=(",", ":")).encode() + b"\n")
    return b"".join(out)


def _paho(login: BrokerLogin, client_id: str) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.username_pw_set(login.username, login.password)
    return client


def queue_for(
    port: int, login: BrokerLogin, client_id: str, topic_filter: str, body: bytes
) -> None:
    """Create ``client_id``'s persistent session, then queue ``body``'s lines for it."""
    client = _paho(login, client_id)
    props = connect_properties(3600)
    client.connect("127.0.0.1", port, clean_start=True, properties=props)
    client.loop_start()
    client.subscribe(topic_filter, qos=1)
    time.sleep(0.3)
    client.disconnect()
    client.loop_stop()
    subprocess.run(  # noqa: S603  fixed argv, no shell
        [  # noqa: S607  mosquitto_pub from PATH, as installed by scripts/install-system.sh
            "mosquitto_pub",
            "-p",
            str(port),
            "-u",
            str(login.username),
            "-P",
            str(login.password),
            "-q",
            "1",
            "-t",
            TOPIC,
            "-l",
        ],
        input=body,
        check=True,
    )


def forget_session(port: int, login: BrokerLogin, client_id: str) -> None:
    """End ``client_id``'s persistent session, so the broker stops queueing for it.

    Left behind, offline bench sessions pile up queued messages, and Mosquitto's periodic
    ``autosave`` of a large store stalls the whole broker for seconds.
    """
    client = _paho(login, client_id)
    props = connect_properties(0)
    client.connect("127.0.0.1", port, clean_start=True, properties=props)
    client.loop_start()
    time.sleep(0.1)
    client.disconnect()
    client.loop_stop()


async def bare_aiomqtt(port: int, login: BrokerLogin, client_id: str, count: int) -> float:
    """Messages/s an auto-acking aiomqtt subscriber drains from its queued session."""
    props = connect_properties(3600)
    received = 0
    start = time.perf_counter()
    async with aiomqtt.Client(
        "127.0.0.1",
        port,
        identifier=client_id,
        clean_start=False,
        protocol=aiomqtt.ProtocolVersion.V5,
        properties=props,
        **login.client_options(),
    ) as client:
        async for _ in client.messages:
            received += 1
            if received == count:
                break
    return count / (time.perf_counter() - start)


def bare_paho(port: int, login: BrokerLogin, client_id: str, count: int) -> float:
    """Messages/s an auto-acking paho subscriber (its own network loop) drains."""
    received = 0
    client = _paho(login, client_id)

    def on_message(c: paho.Client, _u: object, _m: paho.MQTTMessage) -> None:
        nonlocal received
        received += 1
        if received == count:
            c.disconnect()

    client.on_message = on_message
    props = connect_properties(3600)
    start = time.perf_counter()
    client.connect("127.0.0.1", port, clean_start=False, properties=props)
    client.loop_forever()
    return count / (time.perf_counter() - start)


class TimedIngest(IngestService):
    """The real service, noting when each message's batch committed (for latencies)."""

    committed: list[tuple[float, Message]]

    def _acknowledge(self, batch: list[Message]) -> None:
        now = time.time()
        self.committed.extend((now, m) for m in batch)
        super()._acknowledge(batch)


async def run_ingest_until(
    config: IngestConfig, readings: int, limit_s: float
) -> tuple[float, TimedIngest]:
    """Start ingest, wait until ``readings`` are committed; return (readings/s, service)."""
    service = TimedIngest(config)
    service.committed = []
    start = time.perf_counter()
    task = asyncio.create_task(service.run())
    deadline = time.monotonic() + limit_s
    while service.metrics.stored._value.get() < readings:  # noqa: SLF001
        if time.monotonic() > deadline or task.done():
            break
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - start
    service.stop()
    await task
    return readings / elapsed, service


async def count(dsn: str) -> int:
    """Rows in readings."""
    connection = await asyncpg.connect(dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM readings"))
    finally:
        await connection.close()


async def truncate(dsn: str) -> None:
    """Empty readings between parts."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("TRUNCATE readings")
    finally:
        await connection.close()


async def raw_copy(dsn: str, readings: int, start: float) -> float:
    """Readings/s of asyncpg copy_records_to_table into readings, 5,000-row batches."""
    connection = await asyncpg.connect(dsn)
    rows = []
    for i in range(readings // 2):
        ts = datetime.fromtimestamp(start + i * 0.01, UTC)
        rows.append((STATION, "rain_mm", ts, 0.4, ts))
        rows.append((STATION, "vwc", ts, 0.3, ts))
    try:
        began = time.perf_counter()
        for i in range(0, len(rows), 5000):
            await connection.copy_records_to_table(
                "readings",
                records=rows[i : i + 5000],
                columns=["station_id", "quantity", "ts", "value", "received_at"],
            )
        return len(rows) / (time.perf_counter() - began)
    finally:
        await connection.close()


PUBLISHER = textwrap.dedent("""
    import json, sys, time
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion
    port, rate, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    topic, username, password = sys.argv[4], sys.argv[5], sys.argv[6]
    c = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-latency-pub")
    c.username_pw_set(username, password)
    c.max_inflight_messages_set(1000)
    c.connect("127.0.0.1", port); c.loop_start()
    n = int(rate * seconds); start = time.time()
    for i in range(n):
        target = start + i / rate
        delay = target - time.time()
        if delay > 0: time.sleep(delay)
        record = {"ts": round(time.time(), 6), "rain_mm": 0.1}
        c.publish(topic, json.dumps({"records": [record]}), qos=1)
    while c.want_write(): time.sleep(0.01)
    time.sleep(0.5); c.disconnect(); c.loop_stop(); print(n)
""")


async def latency(
    config: IngestConfig, rate: float, seconds: float
) -> tuple[float, float, float, int]:
    """p50/p99/max publish->commit in ms at ``rate`` readings/s, and messages committed."""
    service = TimedIngest(config)
    service.committed = []
    task = asyncio.create_task(service.run())
    await asyncio.wait_for(service.ready.wait(), 20)
    publisher = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PUBLISHER,
        str(config.mqtt_port),
        str(rate),
        str(seconds),
        TOPIC,
        str(config.login.username),
        str(config.login.password),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await publisher.communicate()
    if publisher.returncode != 0:
        raise RuntimeError(f"latency publisher failed with exit code {publisher.returncode}")
    sent = int(out.strip())
    deadline = time.monotonic() + 30
    while len(service.committed) < sent and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    service.stop()
    await task
    lat = sorted((t - m.readings[0].ts.timestamp()) * 1000 for t, m in service.committed)
    q = statistics.quantiles(lat, n=100)
    return q[49], q[98], lat[-1], sent


async def main(run_id: int, login: BrokerLogin) -> int:  # noqa: PLR0915  one linear script, read top to bottom
    """Run the three parts and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60_000, help="part 1 messages")
    parser.add_argument("--batches", type=int, default=1_000, help="part 2 gateway messages")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per part")
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument(
        "--no-rollup",
        action="store_true",
        help="replace ingest.rollup.add by a no-op in this process (the writer's ceiling)",
    )
    args = parser.parse_args()
    if args.no_rollup:
        rollup.add = _no_rollup  # type: ignore[assignment]

    cfg = stack.StackConfig.from_env(os.environ)
    stack.up(cfg)
    dsn = await database.create(cfg, DB)
    port = cfg.mqtt_port
    ingest = IngestConfig(
        dsn=cfg.dsn(DB, "encosta_ingest"),  # the service's role; setup and TRUNCATE as owner
        mqtt_port=port,
        network=NETWORK,
        share_group=None,
        client_id=f"bench-ingest-{run_id}",
        metrics_port=0,
        session_expiry_s=3600,
        login=login,
    )
    topic_filter = f"encosta/{NETWORK}/+/readings/#"
    n = args.messages
    print(
        f"# bench/ingest.py  messages={n} batches={args.batches} rounds={args.rounds}"
        f" rollup={'off' if args.no_rollup else 'on'}",
        flush=True,
    )

    results: dict[str, list[float]] = {
        "aiomqtt": [],
        "paho": [],
        "ingest": [],
        "copy": [],
        "ingest_batched": [],
    }
    for r in range(args.rounds):
        base = time.time() - 86400 + r * 3 * n * 0.01
        body = lines_one_reading(n, base)
        await asyncio.to_thread(
            queue_for, port, login, f"bench-aiomqtt-{run_id}", topic_filter, body
        )
        results["aiomqtt"].append(await bare_aiomqtt(port, login, f"bench-aiomqtt-{run_id}", n))
        await asyncio.to_thread(forget_session, port, login, f"bench-aiomqtt-{run_id}")
        await asyncio.to_thread(queue_for, port, login, f"bench-paho-{run_id}", topic_filter, body)
        results["paho"].append(
            await asyncio.to_thread(bare_paho, port, login, f"bench-paho-{run_id}", n)
        )
        await asyncio.to_thread(forget_session, port, login, f"bench-paho-{run_id}")
        await truncate(dsn)
        await asyncio.to_thread(queue_for, port, login, ingest.client_id, topic_filter, body)
        rate, _ = await run_ingest_until(ingest, n, limit_s=300)
        stored = await count(dsn)
        assert stored == n, f"part 1: stored {stored} of {n}"
        results["ingest"].append(rate)
        print(
            f"round {r + 1}: aiomqtt {results['aiomqtt'][-1]:,.0f}/s  paho "
            f"{results['paho'][-1]:,.0f}/s  ingest {rate:,.0f} readings/s  "
            f"(ingest/paho {rate / results['paho'][-1]:.2f})",
            flush=True,
        )

        total = args.batches * 200
        await truncate(dsn)
        # the raw COPY baseline as the same role as the ingest service it is compared with
        results["copy"].append(await raw_copy(cfg.dsn(DB, "encosta_ingest"), total, base))
        await truncate(dsn)
        body = lines_batched(args.batches, base)
        await asyncio.to_thread(queue_for, port, login, ingest.client_id, topic_filter, body)
        rate, _ = await run_ingest_until(ingest, total, limit_s=300)
        stored = await count(dsn)
        assert stored == total, f"part 2: stored {stored} of {total}"
        results["ingest_batched"].append(rate)
        print(
            f"round {r + 1}: raw COPY {results['copy'][-1]:,.0f}/s  ingest batched "
            f"{rate:,.0f} readings/s  (ingest/COPY {rate / results['copy'][-1]:.2f})",
            flush=True,
        )

    await truncate(dsn)
    # Parts 1-2 bulk-loaded ~1 M rows: flush them now, so that part 3 measures steady ingest
    # at 2,000 readings/s, not a checkpoint of the earlier bulk load landing in the middle.
    stack.Postgres(cfg).psql(DB, "CHECKPOINT")
    p50, p99, worst, sent = await latency(ingest, 2000.0, args.latency_seconds)
    stored = await count(dsn)
    assert stored == sent, f"part 3: stored {stored} of {sent}"

    med = {k: statistics.median(v) for k, v in results.items()}
    # Ratios of each round's side-by-side pair, then their median: robust to a noisy round.
    pair = {
        "aiomqtt": statistics.median(
            i / a for i, a in zip(results["ingest"], results["aiomqtt"], strict=True)
        ),
        "paho": statistics.median(
            i / p for i, p in zip(results["ingest"], results["paho"], strict=True)
        ),
        "copy": statistics.median(
            i / c for i, c in zip(results["ingest_batched"], results["copy"], strict=True)
        ),
    }
    print()
    print("Values: medians over rounds; ratios: median of the per-round side-by-side ratios.")
    print("| measure | value | ratio | target |")
    print("| --- | --- | --- | --- |")
    print(f"| bare aiomqtt subscriber, QoS 1 | {med['aiomqtt']:,.0f} msg/s | | |")
    print(f"| bare paho subscriber, QoS 1 | {med['paho']:,.0f} msg/s | | |")
    print(
        f"| ingest, 1 reading/message, committed | {med['ingest']:,.0f} readings/s | "
        f"{pair['aiomqtt']:.2f} x aiomqtt, {pair['paho']:.2f} x paho"
        " | >= 0.8 |"
    )
    print(f"| raw asyncpg COPY into readings | {med['copy']:,.0f} readings/s | | |")
    print(
        f"| ingest, 100-record messages, committed | {med['ingest_batched']:,.0f} readings/s | "
        f"{pair['copy']:.2f} x COPY | >= 0.5 |"
    )
    print(
        f"| publish -> commit at 2,000 readings/s | p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {worst:.1f} ms | | p99 <= 200 ms |"
    )
    print(f"| loss / duplicates | 0 / 0 ({sent} sent, {stored} stored in part 3) | | 0 |")
    database.drop(cfg, DB)
    return 0


async def main_with_cleanup() -> int:
    """Run the benchmark, then end the MQTT sessions it created."""
    run_id = int(time.time())
    async with bench_login(NETWORK) as login:
        try:
            return await main(run_id, login)
        finally:
            port = stack.StackConfig.from_env(os.environ).mqtt_port
            for name in ("aiomqtt", "paho", "ingest"):
                await asyncio.to_thread(forget_session, port, login, f"bench-{name}-{run_id}")


if __name__ == "__main__":
    sys.exit(asyncio.run(main_with_cleanup()))

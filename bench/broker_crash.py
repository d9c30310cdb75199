"""Broker crash window: what Mosquitto loses of what it acknowledged when it is killed -9.

Mosquitto 2.0 does not write a QoS 1 message to disk before its PUBACK; it saves its whole
state every ``autosave_interval`` seconds. This benchmark measures what that costs, on a
private broker with the shipped settings (deploy/mosquitto/mosquitto.conf.in):

1. a consumer creates a persistent session (the role ingest plays) and goes offline;
2. a publisher sends sequence-numbered QoS 1 messages at ``--rate`` per second and records
   when each PUBACK arrived;
3. after ``--before-s`` plus a random fraction of a second the broker gets SIGKILL, and is
   started again from its persistence file;
4. the consumer resumes its session and drains what the broker kept.

Lost = acknowledged but never delivered; the window = kill time minus the PUBACK time of the
oldest lost message (what a crash can lose, in seconds of traffic). Repeated ``--trials``
times. Run: ``.venv/bin/python -m bench.broker_crash`` (needs Mosquitto, not the stack).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiomqtt

from encosta import dynsec
from encosta.stack import Mosquitto, StackConfig, free_port
from ingest.accounts import Account, Acl, AclType
from ingest.mqtt5 import connect_properties

TOPIC = "encosta/crash/bench-01/readings"
CONSUMER = "crash-consumer"


def _accounts() -> list[Account]:
    return [
        Account("crash-publisher", "", (Acl(AclType.PUBLISH_SEND, TOPIC),), "crash publisher"),
        Account(
            "crash-consumer",
            "",
            (Acl(AclType.SUBSCRIBE, TOPIC), Acl(AclType.PUBLISH_RECEIVE, TOPIC)),
            "crash consumer",
        ),
    ]


def _client(port: int, user: str, password: str, **options: object) -> aiomqtt.Client:
    return aiomqtt.Client(
        "127.0.0.1",
        port,
        username=user,
        password=password,
        protocol=aiomqtt.ProtocolVersion.V5,
        **options,  # type: ignore[arg-type]
    )


async def _session(port: int, password: str) -> None:
    # clean_start=False as ingest does: Mosquitto 2.0 does not persist an MQTT 5 session that
    # began with clean_start=True across a restart (seen here on 2.0.11).
    props = connect_properties(3600)
    async with _client(
        port, CONSUMER, password, identifier=CONSUMER, clean_start=False, properties=props
    ) as client:
        await client.subscribe(TOPIC, qos=1)


async def _publish(
    port: int, password: str, rate: float, acked: dict[int, float], stop: asyncio.Event
) -> None:
    """Publish until the broker is gone, recording each PUBACK's time."""
    pending: set[asyncio.Task[None]] = set()

    async def one(client: aiomqtt.Client, seq: int) -> None:
        try:
            await client.publish(TOPIC, b"%d" % seq, qos=1)
        except aiomqtt.MqttError:
            return  # never acknowledged: the publisher would send it again
        acked[seq] = time.monotonic()

    try:
        async with _client(
            port, "crash-publisher", password, identifier="crash-publisher", timeout=2
        ) as client:
            client.pending_calls_threshold = 1 << 16
            start = time.monotonic()
            seq = 0
            while not stop.is_set():
                target = start + seq / rate
                delay = target - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                task = asyncio.create_task(one(client, seq))
                pending.add(task)
                task.add_done_callback(pending.discard)
                seq += 1
            await asyncio.gather(*pending, return_exceptions=True)
    except aiomqtt.MqttError:
        pass  # the broker was killed: what was acknowledged is in ``acked``
    for task in list(pending):
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def _drain(port: int, password: str) -> set[int]:
    received: set[int] = set()
    props = connect_properties(3600)
    async with _client(
        port, CONSUMER, password, identifier=CONSUMER, clean_start=False, properties=props
    ) as client:
        try:
            while True:
                async with asyncio.timeout(2.0):
                    message = await anext(aiter(client.messages))
                if isinstance(message.payload, bytes | bytearray):
                    received.add(int(message.payload))
        except TimeoutError:
            pass
    return received


async def trial(state: Path, rate: float, before_s: float) -> tuple[int, int, float]:
    """One crash: (acknowledged, lost, window in seconds)."""
    config = StackConfig(state, pg_port=0, mqtt_port=free_port())
    broker = Mosquitto(config)
    await asyncio.to_thread(broker.start)
    try:
        admin = dynsec.admin_login({}, config.credentials_file)
        async with dynsec.temporary(
            "127.0.0.1", config.mqtt_port, admin, "crash", _accounts()
        ) as passwords:
            await _session(config.mqtt_port, passwords[CONSUMER])
            acked: dict[int, float] = {}
            stop = asyncio.Event()
            publisher = asyncio.create_task(
                _publish(config.mqtt_port, passwords["crash-publisher"], rate, acked, stop)
            )
            await asyncio.sleep(before_s + random.random())
            killed = time.monotonic()
            await asyncio.to_thread(broker.kill)
            stop.set()
            await publisher
            await asyncio.to_thread(broker.start)
            received = await _drain(config.mqtt_port, passwords[CONSUMER])
    finally:
        await asyncio.to_thread(broker.stop)
    lost = [seq for seq in acked if seq not in received]
    window = killed - min(acked[s] for s in lost) if lost else 0.0
    return len(acked), len(lost), window


async def main() -> int:
    """Run the trials and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--rate", type=float, default=2000.0, help="messages per second")
    parser.add_argument("--before-s", type=float, default=4.0, help="publishing before the kill")
    args = parser.parse_args()
    print(f"# bench/broker_crash.py trials={args.trials} rate={args.rate:g}/s", flush=True)
    windows: list[float] = []
    rows = []
    with tempfile.TemporaryDirectory(prefix="encosta-crash-") as tmp:
        for n in range(args.trials):
            acked, lost, window = await trial(Path(tmp) / f"t{n}", args.rate, args.before_s)
            windows.append(window)
            rows.append((acked, lost, window))
            print(f"trial {n + 1}: acked {acked}, lost {lost}, window {window:.2f} s", flush=True)
    print("| trial | acknowledged | lost after kill -9 | window (s) |")
    print("| ---: | ---: | ---: | ---: |")
    for n, (acked, lost, window) in enumerate(rows, 1):
        print(f"| {n} | {acked:,} | {lost:,} | {window:.2f} |")
    print(
        f"| median / max | | | {statistics.median(windows):.2f} / {max(windows):.2f} "
        "(autosave_interval 1 s) |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

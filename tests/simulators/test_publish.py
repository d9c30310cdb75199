"""Publishing a run over MQTT to the real Mosquitto delivers every message."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

import aiomqtt
import pytest

from encosta.stack import Mosquitto
from simulators import generate, load_scenario, publish
from tests.mqtt import Endpoint, provisioned
from tests.simulators.conftest import ANCHOR

if TYPE_CHECKING:
    from encosta.stack import StackConfig
    from registry.format import Registry

pytestmark = pytest.mark.services


async def _count(reader: Endpoint, topic: str, expected: int, ready: asyncio.Event) -> int:
    received = 0
    async with reader.client() as client:
        await client.subscribe(topic, qos=1)
        ready.set()
        async for _ in client.messages:
            received += 1
            if received >= expected:
                break
    return received


@pytest.mark.parametrize("clients", ["zone", "station"])
async def test_publish_delivers_every_message(
    stack_config: StackConfig, rio: Registry, clients: str
) -> None:
    """Every message of a short run reaches a subscriber, per-zone or per-station clients."""
    network = f"s{uuid.uuid4().hex[:10]}"
    scenario = replace(load_scenario("summer-cells"), duration_h=6)
    registry = replace(rio, network=network)
    run = generate(scenario, registry, seed=9, anchor=ANCHOR)
    ready = asyncio.Event()
    async with (
        provisioned(stack_config, registry) as broker,
        asyncio.timeout(60),
        asyncio.TaskGroup() as tg,
    ):
        counter = tg.create_task(
            _count(broker.reader, f"encosta/{network}/#", len(run.messages), ready)
        )
        await ready.wait()
        stats = await publish(
            run.messages,
            "127.0.0.1",
            stack_config.mqtt_port,
            None,
            clients=clients,
            passwords=broker.passwords,
        )
    assert stats.acked == len(run.messages) == sum(stats.delivered)
    assert counter.result() == len(run.messages)
    assert not stats.interrupted


async def test_paced_publication_takes_simulated_time_over_speed(
    stack_config: StackConfig, rio: Registry
) -> None:
    """At speed 7200 an hour of messages takes about half a second, no less."""
    network = f"s{uuid.uuid4().hex[:10]}"
    registry = replace(rio, network=network)
    run = generate(
        replace(load_scenario("summer-cells"), duration_h=1), registry, seed=3, anchor=ANCHOR
    )
    span = run.messages[-1].send_ts - run.messages[0].send_ts
    loop = asyncio.get_running_loop()
    async with provisioned(stack_config, registry) as broker, asyncio.timeout(30):
        started = loop.time()
        stats = await publish(
            run.messages, "127.0.0.1", broker.port, 7200.0, passwords=broker.passwords
        )
        elapsed = loop.time() - started
    assert stats.acked == len(run.messages)
    assert elapsed >= span / 7200.0 - 0.05


async def test_stop_ends_a_slow_publication_cleanly(
    stack_config: StackConfig, rio: Registry
) -> None:
    """Setting stop interrupts a real-time replay promptly and reports it as interrupted."""
    network = f"s{uuid.uuid4().hex[:10]}"
    registry = replace(rio, network=network)
    run = generate(
        replace(load_scenario("summer-cells"), duration_h=6), registry, seed=3, anchor=ANCHOR
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    async with provisioned(stack_config, registry) as broker, asyncio.timeout(15):
        loop.call_later(0.5, stop.set)
        stats = await publish(
            run.messages, "127.0.0.1", broker.port, 1.0, passwords=broker.passwords, stop=stop
        )
    assert stats.interrupted
    assert stats.acked < len(run.messages)


async def test_publisher_rides_out_a_broker_restart(
    stack_config: StackConfig, rio: Registry
) -> None:
    """Mosquitto restarted mid-publication: gateways reconnect and every message arrives."""
    network = f"s{uuid.uuid4().hex[:10]}"
    scenario = replace(load_scenario("summer-cells"), duration_h=6)
    registry = replace(rio, network=network)
    run = generate(scenario, registry, seed=11, anchor=ANCHOR)
    broker = Mosquitto(stack_config)
    seen: set[bytes] = set()

    async def subscribe(reader: Endpoint, ready: asyncio.Event, done: asyncio.Event) -> None:
        while not done.is_set():
            try:
                async with reader.client(
                    identifier=f"sub-{network}", clean_session=False
                ) as client:
                    await client.subscribe(f"encosta/{network}/#", qos=1)
                    ready.set()
                    async for message in client.messages:
                        seen.add(bytes(message.payload))
                        if len(seen) >= len({m.payload for m in run.messages}):
                            done.set()
                            return
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    async def restart_midway() -> None:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(broker.stop)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(broker.start)

    try:
        ready, done = asyncio.Event(), asyncio.Event()
        async with (
            provisioned(stack_config, registry) as accounts,
            asyncio.timeout(120),
            asyncio.TaskGroup() as tg,
        ):
            tg.create_task(subscribe(accounts.reader, ready, done))
            await ready.wait()
            tg.create_task(restart_midway())
            # Paced so that the restart lands in the middle of the publication.
            stats = await publish(
                run.messages,
                "127.0.0.1",
                stack_config.mqtt_port,
                (run.end_ts - run.start_ts) / 4.0,  # six simulated hours in about 4 s
                passwords=accounts.passwords,
            )
            await asyncio.wait_for(done.wait(), 60)
    finally:
        await asyncio.to_thread(broker.start)
    assert stats.acked == len(run.messages)
    assert seen == {m.payload for m in run.messages}

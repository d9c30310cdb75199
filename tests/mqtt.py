"""Publishing helpers for tests: aiomqtt (our client) and mosquitto_pub (a third-party one)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterable

import aiomqtt


async def publish(
    port: int, messages: Iterable[tuple[str, bytes]], *, qos: int = 1, retain: bool = False
) -> int:
    """Publish ``(topic, payload)`` pairs with one client at QoS ``qos``; return the count.

    With ``retain`` the broker keeps the last message of each topic for new subscribers (an
    empty retained payload clears it).
    """
    count = 0
    async with aiomqtt.Client("127.0.0.1", port, max_inflight_messages=1000) as client:
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


async def mosquitto_pub(port: int, topic: str, lines: Iterable[bytes], *, qos: int = 1) -> None:
    """Publish one message per line on ``topic`` with Mosquitto's own ``mosquitto_pub -l``."""
    binary = shutil.which("mosquitto_pub")
    assert binary, "mosquitto_pub is installed by scripts/install-system.sh"
    process = await asyncio.create_subprocess_exec(
        binary,
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
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

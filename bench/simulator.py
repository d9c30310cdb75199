"""How fast the simulator generates and publishes: it must not bottleneck ingest benchmarks.

Usage: ``python bench/simulator.py [--stations N] [--hours H] [--port P]``. Builds a synthetic
network of N stations (the Rio registry repeated with jittered positions), generates the
summer-cells scenario (faults on) and reports messages/s and readings/s for generation
alone; with ``--port``, it also publishes the run at ``--speed max`` to that Mosquitto.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from encosta import dynsec
from encosta.stack import StackConfig
from ingest.accounts import gateway_accounts
from registry.format import Registry, load_registry
from simulators import generate, load_scenario, publish
from simulators.gateway import Message
from simulators.publisher import PublishStats

REPO = Path(__file__).resolve().parent.parent


async def _publish(
    registry: Registry, port: int, messages: Sequence[Message]
) -> tuple[PublishStats, float]:
    """Publish as the network's gateways, with accounts that exist for this run only."""
    admin = dynsec.admin_login({}, StackConfig.from_env(os.environ).credentials_file)
    accounts = gateway_accounts(registry)
    async with dynsec.temporary("127.0.0.1", port, admin, registry.network, accounts) as passwords:
        started = time.perf_counter()
        stats = await publish(messages, "127.0.0.1", port, None, passwords=passwords)
        return stats, time.perf_counter() - started


def network(stations: int, seed: int = 0) -> Registry:
    """``stations`` copies of the Rio stations, spread over about 30 km."""
    base = load_registry(REPO / "deploy" / "stations" / "rio-de-janeiro.toml")
    rng = random.Random(seed)
    out = []
    for i in range(stations):
        s = base.stations[i % len(base.stations)]
        out.append(
            replace(
                s,
                id=f"{s.id}-{i // len(base.stations)}",
                lat=s.lat + rng.uniform(-0.1, 0.1),
                lon=s.lon + rng.uniform(-0.1, 0.1),
            )
        )
    # A network of its own, so that its broker accounts never touch the real network's.
    return Registry("benchsim", base.zones, tuple(out))


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stations", type=int, default=400)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    registry = network(args.stations)
    scenario = replace(load_scenario("summer-cells"), duration_h=args.hours)
    started = time.perf_counter()
    run = generate(scenario, registry, seed=1)
    elapsed = time.perf_counter() - started
    m = run.manifest
    print(
        f"generate: {args.stations} stations x {args.hours:g} h: {m.messages:,} messages, "
        f"{m.total_sent:,} readings in {elapsed:.2f} s = {m.messages / elapsed:,.0f} msg/s, "
        f"{m.total_sent / elapsed:,.0f} readings/s"
    )
    if args.port is not None:
        stats, elapsed = asyncio.run(_publish(registry, args.port, run.messages))
        print(
            f"publish --speed max (QoS 1, {len({x.gateway for x in run.messages})} zone clients): "
            f"{stats.acked:,} messages in {elapsed:.2f} s = {stats.acked / elapsed:,.0f} msg/s"
        )


if __name__ == "__main__":
    main()

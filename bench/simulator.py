"""How fast the simulator generates and publishes: it must not bottleneck ingest benchmarks.

Usage: ``python bench/simulator.py [--stations N] [--hours H] [--port P]``. Builds a synthetic
network of N stations (the Rio registry repeated with jittered positions), generates the
summer-cells scenario (faults on) and reports messages/s and readings/s for generation
alone; with ``--port``, it also publishes the run at ``--speed max`` to that Mosquitto.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from dataclasses import replace
from pathlib import Path

from ingest.stations import Registry, load_registry
from simulators import generate, load_scenario, publish

REPO = Path(__file__).resolve().parent.parent


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
    return Registry(base.network, base.zones, tuple(out))


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
        started = time.perf_counter()
        stats = asyncio.run(
            publish(
                run.messages, "127.0.0.1", args.port, None, client_prefix=f"bench-{int(started)}"
            )
        )
        elapsed = time.perf_counter() - started
        print(
            f"publish --speed max (QoS 1, {len({x.gateway for x in run.messages})} zone clients): "
            f"{stats.acked:,} messages in {elapsed:.2f} s = {stats.acked / elapsed:,.0f} msg/s"
        )


if __name__ == "__main__":
    main()

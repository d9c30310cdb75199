"""What storing the model's output costs per evaluation cycle (alerts/results.py, migration 0010).

The network: ``bench.evaluator.synthetic`` (the Rio registry repeated, zones of 25), loaded
into a fresh database. The model runs on an in-memory 96 h window of 15-minute steps (dry
weather with a storm over one zone in ten, soil moisture varying per station), as the
evaluator's cycle does; its result is then stored with :func:`alerts.results.store_results`
as the evaluator's role, for ``--cycles`` new steps (insert) and once more over the last step
(the upsert that overwrites a re-evaluated step). Reported side by side in one run: the
model's evaluation, the new-step write, the rewrite, their ratio to the model, and the bytes
per stored station-step (heap + indexes, from PostgreSQL).

Run: ``.venv/bin/python -m bench.results [--sizes 1000,10000] [--cycles 5]``. The local
stack must be up (``make services``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np

from alerts.observations import load_stations
from alerts.results import store_results
from bench import database
from bench.evaluator import NETWORK, synthetic
from encosta import stack
from models import ModelInputs, evaluate, load_preset

STEP_MINUTES = 15
WINDOW_STEPS = 96 * 60 // STEP_MINUTES
START = datetime(2026, 11, 24, tzinfo=UTC)


async def measure(cfg: stack.StackConfig, size: int, cycles: int) -> dict[str, float]:
    """Model time and write times for one network of ``size`` stations."""
    name = f"bench_results_{size}"
    async with database.fresh(cfg, name, synthetic(size)) as owner:
        connection = await asyncpg.connect(cfg.dsn(name, "encosta_alerts"))
        try:
            stations = await load_stations(connection, NETWORK)
            rng = np.random.default_rng(1)
            n = len(stations.ids)
            rain = np.zeros((n, WINDOW_STEPS), np.float32)
            storm = stations.zone % 10 == 0
            rain[storm, -8:] = 15.0  # 60 mm/h over the last two hours
            vwc = rng.uniform(0.2, 0.4, (n, WINDOW_STEPS)).astype(np.float32)
            inputs = ModelInputs.build(
                rain,
                vwc,
                STEP_MINUTES,
                stations.zone,
                stations.x_m,
                stations.y_m,
                stations.params,
                n_zones=len(stations.zone_ids),
            )
            config = load_preset("rio")
            evaluate(inputs, config)  # warm
            model_s, insert_s = [], []
            result = evaluate(inputs, config)
            for cycle in range(cycles):
                began = time.perf_counter()
                result = evaluate(inputs, config)
                model_s.append(time.perf_counter() - began)
                step = START + timedelta(minutes=STEP_MINUTES * cycle)
                began = time.perf_counter()
                rows = await store_results(connection, result, config, stations, step)
                insert_s.append(time.perf_counter() - began)
                assert rows == n + len(stations.zone_ids), rows
            began = time.perf_counter()
            await store_results(connection, result, config, stations, step)
            rewrite_s = time.perf_counter() - began
        finally:
            await connection.close()
        owner_connection = await asyncpg.connect(owner)
        try:
            stored = await owner_connection.fetchval("SELECT count(*) FROM station_results")
            size_bytes = await owner_connection.fetchval(
                "SELECT hypertable_size('station_results') + hypertable_size('zone_results')"
            )
        finally:
            await owner_connection.close()
    model = statistics.median(model_s)
    insert = statistics.median(insert_s)
    return {
        "stations": float(size),
        "model_s": model,
        "insert_s": insert,
        "rewrite_s": rewrite_s,
        "insert_ratio": insert / model,
        "bytes_per_station_step": size_bytes / stored,
    }


async def main() -> int:
    """Measure each size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated station counts")
    parser.add_argument("--cycles", type=int, default=5, help="new steps written per size")
    args = parser.parse_args()
    cfg = stack.StackConfig.from_env(os.environ)
    stack.up(cfg)
    print(f"# bench/results.py sizes={args.sizes} cycles={args.cycles}", flush=True)
    results = [await measure(cfg, int(s), args.cycles) for s in args.sizes.split(",") if s]
    print(
        "| stations | model evaluation | store, new step | store, same step again "
        "| store / model | bytes per station-step |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['stations']:,.0f} | {r['model_s'] * 1000:.0f} ms | "
            f"{r['insert_s'] * 1000:.0f} ms | {r['rewrite_s'] * 1000:.0f} ms | "
            f"{r['insert_ratio']:.1f}x | {r['bytes_per_station_step']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""``encosta demo`` end to end on a short scenario: every reading and webhook accounted for."""

from __future__ import annotations

import argparse
import asyncio
import re
import uuid

import pytest

from encosta import demo, stack

pytestmark = [pytest.mark.services, pytest.mark.slow]


async def test_demo_replays_scores_and_delivers(
    stack_config: stack.StackConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """A replay is stored exactly, rejects match the prediction, every webhook verifies."""
    name = f"encosta_demo_t{uuid.uuid4().hex[:8]}"
    args = argparse.Namespace(scenario="summer-cells", seed=3, speed=None, database=name)
    try:
        code = await demo._demo(args)
    finally:
        pg = stack.Postgres(stack_config)
        await asyncio.to_thread(
            pg.psql, "postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        )
    out = capsys.readouterr().out
    assert code == 0, out
    stored = re.search(r"readings stored (\d+) / expected (\d+)", out)
    assert stored is not None
    assert stored.group(1) == stored.group(2)
    rejects = re.search(r"rejects: (\d+) rows \(the simulator predicted (\d+)\)", out)
    assert rejects is not None
    assert rejects.group(1) == rejects.group(2)
    hooks = re.search(r"Webhooks: (\d+) received .*?, (\d+) with a valid", out)
    assert hooks is not None
    assert hooks.group(1) == hooks.group(2)
    assert "Rocinha" in out

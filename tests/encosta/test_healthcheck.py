"""``encosta <service> --check``: exit 0 when the running service says healthy, else 1."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from encosta import stack
from encosta.cli import main
from encosta.healthcheck import check
from tests.conftest import ingest_config, running_ingest

if TYPE_CHECKING:
    from tests.conftest import Database


@pytest.mark.services
async def test_ingest_check_follows_the_running_service(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Healthy while ingest runs (broker and database up); 1 with a reason once it stopped."""
    port = stack.free_port()
    monkeypatch.setenv("ENCOSTA_INGEST_METRICS_PORT", str(port))
    async with running_ingest(ingest_config(database, metrics_port=port)):
        code = 1
        for _ in range(100):  # /healthz turns healthy once the database probe answered
            code = await asyncio.to_thread(main, ["ingest", "--check"])
            if code == 0:
                break
            await asyncio.sleep(0.1)
        assert code == 0
    out = capsys.readouterr()
    assert "ingest: healthy" in out.out
    assert await asyncio.to_thread(main, ["ingest", "--check"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("ingest: unhealthy:")
    assert f"127.0.0.1:{port}/healthz did not answer" in line


def test_check_without_probes_says_so() -> None:
    """Port 0 turns the probes off: the check fails and names the variable."""
    code, reason = check("alerts", {"ENCOSTA_ALERTS_METRICS_PORT": "0"})
    assert code == 1
    assert "ENCOSTA_ALERTS_METRICS_PORT=0" in reason


def test_api_check_asks_readiness_on_its_port() -> None:
    """The API's check asks /readyz on ENCOSTA_API_PORT; nothing listening is unhealthy."""
    port = stack.free_port()
    code, reason = check("api", {"ENCOSTA_API_PORT": str(port)})
    assert code == 1
    assert f"http://127.0.0.1:{port}/readyz" in reason

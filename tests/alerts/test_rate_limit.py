"""The reports' rate limit in the database: shared by API processes, atomic, keyed, pruned."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

import asyncpg
import pytest

from alerts.api.config import ApiConfig
from alerts.api.rate_limit import ReportRateLimit, client_address
from alerts.errors import ConfigError
from tests.alerts.receiver import free_port
from tests.alerts.test_api import api_config, served

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.conftest import Database

pytestmark = pytest.mark.timeout(60)
KEY = b"k" * 32


def test_clients_are_counted_by_ipv4_or_ipv6_64() -> None:
    """IPv6 by its /64 (a subscriber's block), v4-mapped as IPv4, anything else as given."""
    assert client_address("203.0.113.9") == "203.0.113.9"
    assert client_address("2001:db8:1:2:aaaa::1") == client_address("2001:db8:1:2:ffff::9")
    assert client_address("2001:db8:1:2::1") != client_address("2001:db8:1:3::1")
    assert client_address("::ffff:203.0.113.9") == "203.0.113.9"
    assert client_address("unknown") == "unknown"


def test_key_from_env_file_token_or_none(tmp_path: Path) -> None:
    """The file wins, a short key is refused, the token is the fallback, else None."""
    secret = tmp_path / "rate-key"
    secret.write_text("a-long-enough-secret-key\n")
    env = {"ENCOSTA_REPORTS_RATE_KEY_FILE": str(secret), "ENCOSTA_REPORTS_RATE_KEY": "x" * 20}
    assert ApiConfig.from_env(env).rate_key() == b"a-long-enough-secret-key"
    assert ApiConfig.from_env({"ENCOSTA_REPORTS_RATE_KEY": "y" * 16}).rate_key() == b"y" * 16
    with pytest.raises(ConfigError, match="ENCOSTA_REPORTS_RATE_KEY"):
        ApiConfig.from_env({"ENCOSTA_REPORTS_RATE_KEY": "short"})
    with pytest.raises(ConfigError, match="ENCOSTA_REPORTS_RATE_KEY_FILE"):
        ApiConfig.from_env({"ENCOSTA_REPORTS_RATE_KEY_FILE": str(tmp_path / "missing")})
    one = ApiConfig.from_env({"ENCOSTA_API_TOKEN": "t1"}).rate_key()
    assert one is not None
    assert len(one) == 32
    assert one == ApiConfig.from_env({"ENCOSTA_API_TOKEN": "t1"}).rate_key()
    assert one != ApiConfig.from_env({"ENCOSTA_API_TOKEN": "t2"}).rate_key()
    assert b"t1" not in one
    assert ApiConfig.from_env({}).rate_key() is None


@asynccontextmanager
async def _two_pools(database: Database) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    """Two pools of the API's role: what two API processes hold."""
    dsn = database.dsn_for("api")
    one = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
    two = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
    try:
        yield one, two
    finally:
        await one.close()
        await two.close()


@pytest.mark.services
async def test_two_limiters_on_separate_pools_share_the_limit(database: Database) -> None:
    """Three an hour: two through A, one through B, then neither admits; another client can."""
    async with _two_pools(database) as (pool_a, pool_b):
        a = ReportRateLimit(pool_a, database.network, KEY, 3)
        b = ReportRateLimit(pool_b, database.network, KEY, 3)
        assert await a.allow("198.51.100.7") is None
        assert await a.allow("198.51.100.7") is None
        assert await b.allow("198.51.100.7") is None
        wait_b = await b.allow("198.51.100.7")
        wait_a = await a.allow("198.51.100.7")
        assert wait_a is not None
        assert wait_b is not None
        assert 3500 < wait_a <= 3600
        assert await b.allow("198.51.100.8") is None
        hits = await database.fetchval("SELECT max(hits) FROM report_rate_limits")
        assert hits == 3, "refused requests are not counted"


@pytest.mark.services
async def test_the_window_resets(database: Database) -> None:
    """Once the key's window has ended the client is admitted again, counted from one."""
    async with _two_pools(database) as (pool, _):
        limit = ReportRateLimit(pool, database.network, KEY, 2)
        for _ in range(2):
            assert await limit.allow("198.51.100.7") is None
        assert await limit.allow("198.51.100.7") is not None
        await database.fetchval(
            "UPDATE report_rate_limits SET window_start = window_start - interval '61 minutes'"
        )
        assert await limit.allow("198.51.100.7") is None
        assert await database.fetchval("SELECT hits FROM report_rate_limits") == 1
        assert await limit.allow("198.51.100.7") is None
        assert await limit.allow("198.51.100.7") is not None


@pytest.mark.services
async def test_concurrent_requests_on_two_pools_never_over_admit(database: Database) -> None:
    """60 simultaneous requests over 20 connections of two pools: exactly 5 admitted."""
    async with _two_pools(database) as (pool_a, pool_b):
        limits = [ReportRateLimit(p, database.network, KEY, 5) for p in (pool_a, pool_b)]
        answers = await asyncio.gather(*(limits[i % 2].allow("198.51.100.7") for i in range(60)))
    assert sum(a is None for a in answers) == 5
    assert await database.fetchval("SELECT hits FROM report_rate_limits") == 5


@pytest.mark.services
async def test_the_stored_key_is_a_keyed_hash_not_the_address(database: Database) -> None:
    """What is stored is HMAC-SHA256 of network and address: 32 bytes, no trace of the address."""
    async with _two_pools(database) as (pool, _):
        limit = ReportRateLimit(pool, database.network, KEY, 5)
        assert await limit.allow("198.51.100.7") is None
        other_key = ReportRateLimit(pool, database.network, b"z" * 32, 5)
        assert other_key.client_key("198.51.100.7") != limit.client_key("198.51.100.7")
    rows = await database.fetch(
        "SELECT key, row_to_json(r)::text AS text FROM report_rate_limits r"
    )
    assert len(rows) == 1
    stored = bytes(rows[0]["key"])
    expected = hmac.new(KEY, f"{database.network}\x00198.51.100.7".encode(), "sha256").digest()
    assert stored == expected
    assert stored != hashlib.sha256(b"198.51.100.7").digest()  # not an unkeyed hash
    assert "198.51.100.7" not in rows[0]["text"]
    assert b"198.51.100.7" not in stored


@pytest.mark.services
async def test_prune_deletes_only_ended_windows(database: Database) -> None:
    """The retention task's prune removes rows whose window ended and keeps open ones."""
    async with _two_pools(database) as (pool, _):
        limit = ReportRateLimit(pool, database.network, KEY, 5)
        assert await limit.allow("198.51.100.1") is None
        assert await limit.allow("198.51.100.2") is None
        ended = limit.client_key("198.51.100.1")
        await database.fetchval(
            "UPDATE report_rate_limits SET window_start = now() - interval '2 hours'"
            " WHERE key = $1",
            ended,
        )
        assert await limit.prune() == 1
        keys = {bytes(r["key"]) for r in await database.fetch("SELECT key FROM report_rate_limits")}
    assert keys == {limit.client_key("198.51.100.2")}


@pytest.mark.services
async def test_two_api_instances_share_the_limit(database: Database) -> None:
    """Two API servers on one database: two reports an hour from 127.0.0.1, whichever serves."""
    config = replace(api_config(database), reports_per_hour=2)
    body = {"zone": "rocinha", "category": "drain"}
    async with served(config) as one, served(config) as two:
        assert (await one.post("/public/reports", json=body)).status_code == 201
        assert (await two.post("/public/reports", json=body)).status_code == 201
        refused = await one.post("/public/reports", json=body)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 3500
        assert (await two.post("/public/reports", json=body)).status_code == 429
    assert await database.fetchval("SELECT count(*) FROM community_reports") == 2


@pytest.mark.services
async def test_database_down_answers_503_and_stores_nothing(database: Database) -> None:
    """With no database to count in (or store into), a report is answered 503 Retry-After."""
    dead = f"postgresql://encosta_api@127.0.0.1:{free_port()}/nowhere"
    config = replace(api_config(database), dsn=dead)
    async with served(config) as client:
        answer = await client.post("/public/reports", json={"zone": "rocinha", "category": "crack"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert await database.fetchval("SELECT count(*) FROM report_rate_limits") == 0

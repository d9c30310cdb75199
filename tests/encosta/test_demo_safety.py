"""``encosta demo`` never drops a database it did not create (it once dropped ``encosta``)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from encosta import demo, stack
from encosta.backtest.command import REGISTRY
from encosta.cli import main
from registry.format import load_registry

pytestmark = pytest.mark.services
RIO = load_registry(REGISTRY)


async def _exists(config: stack.StackConfig, name: str) -> bool:
    admin = await asyncpg.connect(config.dsn("postgres"))
    try:
        return bool(await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await admin.close()


@pytest.mark.parametrize(
    "name",
    [
        "encosta",
        "postgres",
        'encosta_demo"; DROP DATABASE encosta; --',
        "encosta_demo' OR '1",
        "Encosta_Demo",
        "encosta_demo_" + "x" * 41,
    ],
)
async def test_demo_refuses_a_database_not_named_like_a_demo(
    stack_config: stack.StackConfig, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    """A non-demo name (quotes, semicolons too) is refused in one line; ``encosta`` survives."""
    assert await _exists(stack_config, "encosta")
    code = await asyncio.to_thread(main, ["demo", "--database", name])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("encosta: error: refusing --database")
    assert err.count("\n") == 1
    assert await _exists(stack_config, "encosta")


async def test_demo_refuses_to_drop_an_unmarked_demo_named_database(
    stack_config: stack.StackConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database named encosta_demo… that the demo did not create (no mark) is kept."""
    name = f"encosta_demo_unmarked_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(stack_config.dsn("postgres"))
    try:
        await admin.execute(f"CREATE DATABASE {name}")  # a generated, plain name
        code = await asyncio.to_thread(main, ["demo", "--database", name])
        err = capsys.readouterr().err
        assert code == 2
        assert "encosta demo did not create it" in err
        assert err.count("\n") == 1
        assert await _exists(stack_config, name)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def test_demo_recreates_only_the_database_it_marked(stack_config: stack.StackConfig) -> None:
    """The demo marks what it creates and drops it again next time: a row put there is gone."""
    name = f"encosta_demo_marked_{uuid.uuid4().hex[:8]}"
    try:
        await demo._fresh_database(stack_config, name, RIO)
        connection = await asyncpg.connect(stack_config.dsn(name))
        try:
            mark = await connection.fetchval(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
                " WHERE datname = current_database()"
            )
            await connection.execute("CREATE TABLE leftover (x int)")
        finally:
            await connection.close()
        assert mark == demo.MARK
        await demo._fresh_database(stack_config, name, RIO)
        connection = await asyncpg.connect(stack_config.dsn(name))
        try:
            assert await connection.fetchval("SELECT to_regclass('leftover')") is None
            assert await connection.fetchval("SELECT count(*) FROM stations") > 0
        finally:
            await connection.close()
    finally:
        admin = await asyncpg.connect(stack_config.dsn("postgres"))
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()


async def test_demo_refuses_an_unknown_scenario_before_creating_anything(
    stack_config: stack.StackConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario that cannot be read is one line, and no demo database was created for it."""
    name = f"encosta_demo_{uuid.uuid4().hex[:12]}"
    code = await asyncio.to_thread(
        main, ["demo", "--database", name, "--scenario", "atlantis-2030"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("encosta: error: ")
    assert "no scenario named 'atlantis-2030'" in err
    assert err.count("\n") == 1
    assert not await _exists(stack_config, name)

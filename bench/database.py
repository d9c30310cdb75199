"""A benchmark's own database: created fresh, migrated, loaded with a registry, dropped after.

Benchmarks run against the local stack next to the demo's and the tests' databases; each uses
a database of its own name, recreated on every run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from encosta import stack
from encosta.migrate import migrate
from encosta.registry import import_registry
from registry.format import Registry, load_registry

RIO = stack.REPO / "deploy" / "stations" / "rio-de-janeiro.toml"


async def create(cfg: stack.StackConfig, name: str, registry: Registry | None = None) -> str:
    """(Re)create ``name``, migrate it, load ``registry`` (default Rio); the owner's DSN."""
    pg = stack.Postgres(cfg)
    pg.psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    pg.psql("postgres", f"CREATE DATABASE {name}")
    dsn = cfg.dsn(name)
    await migrate(dsn)
    await import_registry(dsn, registry or load_registry(RIO))
    return dsn


def drop(cfg: stack.StackConfig, name: str) -> None:
    """Drop ``name`` (connections ended)."""
    stack.Postgres(cfg).psql("postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@asynccontextmanager
async def fresh(
    cfg: stack.StackConfig, name: str, registry: Registry | None = None
) -> AsyncIterator[str]:
    """:func:`create` for the block's duration, then :func:`drop`."""
    dsn = await create(cfg, name, registry)
    try:
        yield dsn
    finally:
        drop(cfg, name)

"""Versioned SQL migrations, applied in order and idempotently by ``encosta migrate``.

Files are ``encosta/migrations/NNNN_name.sql``; each is applied once, in its own transaction,
and recorded in ``schema_migrations``. Concurrent runs serialise on an advisory lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from encosta.errors import MigrationError
from encosta.roles import grant_database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x656E636F  # "enco": serialises concurrent `encosta migrate` runs
_ROLES_VERSION = 5  # 0005_roles creates the roles that grant_database names


@dataclass(frozen=True, slots=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    path: Path


def discover(directory: Path = MIGRATIONS) -> list[Migration]:
    """The migration files in version order; raise on a malformed name or duplicate version."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.fullmatch(path.name)
        if not match:
            raise MigrationError(f"{path.name}: expected NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is used twice", version=version)
        found[version] = Migration(version, match.group(2), path)
    return [found[v] for v in sorted(found)]


async def migrate(dsn: str, directory: Path = MIGRATIONS) -> list[Migration]:
    """Apply the migrations not yet applied; return the ones applied now.

    Every run also (re)asserts the database-level privileges of the roles
    (:func:`encosta.roles.grant_database`).
    """
    connection = await asyncpg.connect(dsn)
    applied_now: list[Migration] = []
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        await connection.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            done = {
                r["version"]
                for r in await connection.fetch("SELECT version FROM schema_migrations")
            }
            for migration in discover(directory):
                if migration.version in done:
                    continue
                try:
                    async with connection.transaction():
                        await connection.execute(migration.path.read_text(encoding="utf-8"))
                        await connection.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                            migration.version,
                            migration.name,
                        )
                except asyncpg.PostgresError as exc:
                    raise MigrationError(
                        f"migration {migration.path.name} failed: {exc}", version=migration.version
                    ) from exc
                applied_now.append(migration)
            if any(m.version >= _ROLES_VERSION for m in discover(directory)):
                await grant_database(connection)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await connection.close()
    return applied_now

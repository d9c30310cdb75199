r"""The services' database logins (migration 0005) and their passwords.

Migration 0005 creates the roles without passwords: the local stack trusts loopback. In a
deployment ``encosta migrate`` then sets each login's password from the environment
(:data:`PASSWORD_VARIABLES`); an unset or empty variable leaves that password as it is.

The password never reaches the server, its logs or ``pg_stat_statements`` as plain text: like
psql's ``\password``, the SCRAM-SHA-256 verifier (RFC 5802, stored as in RFC 5803) is computed
here and sent instead, with the role name quoted by the server (``format('%I')``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    import asyncpg

# role -> the variable holding its password
PASSWORD_VARIABLES = {
    "encosta_ingest": "ENCOSTA_DB_PASSWORD_INGEST",
    "encosta_alerts": "ENCOSTA_DB_PASSWORD_ALERTS",
    "encosta_api": "ENCOSTA_DB_PASSWORD_API",
    "encosta_reader": "ENCOSTA_DB_PASSWORD_GRAFANA",
}
SCRAM_ITERATIONS = 4096  # PostgreSQL's default scram_iterations


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """The ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` of ``password``."""
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


async def grant_database(connection: asyncpg.Connection) -> None:
    """Who may connect to the current database, and who may create temporary tables in it.

    Nobody by default (PostgreSQL grants both to PUBLIC); the four roles may connect, and only
    ingest stages batches in a temporary table (ingest/writer.py). Run by :func:`migrate` every
    time, because database privileges belong to the database's catalog row, which
    ``CREATE DATABASE ... TEMPLATE`` does not copy from its template.
    """
    for build in (
        "SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database())",
        (
            "SELECT format('GRANT CONNECT ON DATABASE %I TO encosta_ingest, encosta_alerts,"
            " encosta_api, encosta_reader', current_database())"
        ),
        "SELECT format('GRANT TEMPORARY ON DATABASE %I TO encosta_ingest', current_database())",
    ):
        await connection.execute(await connection.fetchval(build))


async def set_passwords(connection: asyncpg.Connection, environ: Mapping[str, str]) -> list[str]:
    """Set the password of every role whose variable is set; return those roles' names."""
    changed = []
    for role, variable in PASSWORD_VARIABLES.items():
        password = environ.get(variable)
        if not password:
            continue
        statement = await connection.fetchval(
            "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)",
            role,
            scram_verifier(password),
        )
        await connection.execute(statement)
        changed.append(role)
    return changed

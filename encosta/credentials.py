"""The broker credentials store: a JSON file of ``{username: password}``, readable by its owner.

``encosta broker sync`` adds a random password for every account that has none and applies
them to the broker; clients look their password up in it (``ENCOSTA_MQTT_CREDENTIALS``,
:mod:`ingest.broker`). The local stack keeps it under ``.state/secrets/``; a deployment keeps
it wherever its secrets live, or hands each field device its own line of it.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from ingest.broker import load_credentials


def new_password() -> str:
    """A random password with 192 bits of entropy (URL-safe text)."""
    return secrets.token_urlsafe(24)


def save(path: Path, credentials: Mapping[str, str]) -> None:
    """Write the store atomically with mode 0600 (its directory 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(dict(sorted(credentials.items())), out, indent=1)
        out.write("\n")
    temporary.replace(path)


def ensure(
    path: Path, usernames: Iterable[str], fixed: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The store with a password for each of ``usernames``, generating the missing ones.

    ``fixed`` passwords (given by the deployment, e.g. from its secrets) replace stored ones.
    """
    credentials = load_credentials(path)
    changed = False
    for username in usernames:
        wanted = (fixed or {}).get(username)
        if wanted is not None and credentials.get(username) != wanted:
            credentials[username] = wanted
            changed = True
        elif username not in credentials:
            credentials[username] = new_password()
            changed = True
    if changed or not path.exists():
        save(path, credentials)
    return credentials

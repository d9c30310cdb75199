"""A broker account for benchmarks: the broker refuses anonymous clients.

One account, ``bench``, not bound to a client id (a benchmark runs several clients), allowed to
publish, subscribe and receive on one network's topics, for the benchmark's duration only.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from encosta import dynsec, stack
from ingest.accounts import Account, Acl, AclType
from ingest.broker import BrokerLogin

USERNAME = "bench"


@asynccontextmanager
async def bench_login(network: str) -> AsyncIterator[BrokerLogin]:
    """The ``bench`` account on the local broker, deleted when the block ends."""
    config = stack.StackConfig.from_env(os.environ)
    topics = f"encosta/{network}/#"
    account = Account(
        USERNAME,
        "",
        (
            Acl(AclType.PUBLISH_SEND, topics),
            Acl(AclType.SUBSCRIBE, topics),
            Acl(AclType.PUBLISH_RECEIVE, topics),
        ),
        f"benchmark client of {network}",
    )
    admin = dynsec.admin_login(os.environ, config.credentials_file)
    async with dynsec.temporary(
        "127.0.0.1", config.mqtt_port, admin, f"bench-{network}", [account]
    ) as passwords:
        yield BrokerLogin(USERNAME, passwords[USERNAME])

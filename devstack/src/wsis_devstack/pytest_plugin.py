"""Pytest fixtures for the real infrastructure (registered in `tests/conftest.py`).

`WSIS_KAFKA_BOOTSTRAP` / `WSIS_MONGO_URI` point the suite at an existing broker and mongod (the
docker-compose stack, say); otherwise a broker and a mongod are started once per session on
free ports with throw-away data (side by side, when a test first needs either), and stopped
at the session's end. Each session gets its own topic and database prefixes, so runs never see
each other's data.

Fixtures: `kafka_bootstrap`, `mongo_uri`, `broker` (stop/start/restart the session's broker),
`mongod` (restart the session's mongod),
`local_stack` (the `LocalStack`, None when both are external), `topic_prefix`,
`mongo_db_prefix`.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from wsis_devstack.infrastructure import LocalStack
from wsis_devstack.kafka import drop_topics
from wsis_devstack.mongodb import drop_databases
from wsis_devstack.paths import cache_dir

KAFKA_ENV, MONGO_ENV = "WSIS_KAFKA_BOOTSTRAP", "WSIS_MONGO_URI"


@dataclass
class BrokerControl:
    """Stops and starts the session's broker (same port, same data) for fault tests."""

    stack: LocalStack

    @property
    def bootstrap(self) -> str:
        return self.stack.kafka_bootstrap

    async def stop(self, *, crash: bool = False) -> None:
        """A clean shutdown, or a SIGKILL with `crash`."""
        await asyncio.to_thread(self.stack.stop_kafka, crash=crash)

    async def start(self) -> None:
        """Start again and wait until it serves metadata."""
        await asyncio.to_thread(self.stack.start_kafka)

    async def restart(self, *, crash: bool = False) -> None:
        await asyncio.to_thread(self.stack.restart_kafka, crash=crash)


@dataclass
class MongodControl:
    """Stops and starts the session's mongod (same port, same data) for fault tests."""

    stack: LocalStack

    async def restart(self, *, crash: bool = False) -> None:
        await asyncio.to_thread(self.stack.restart_mongo, crash=crash)


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack | None]:
    """The session's own broker and mongod, or None when both are external."""
    if os.environ.get(KAFKA_ENV) and os.environ.get(MONGO_ENV):
        yield None
        return
    with LocalStack.run(cache_dir(), persistent=False) as stack:
        yield stack


@pytest.fixture(scope="session")
def kafka_bootstrap(local_stack: LocalStack | None) -> str:
    external = os.environ.get(KAFKA_ENV)
    if external:
        return external
    assert local_stack is not None
    return local_stack.kafka_bootstrap


@pytest.fixture(scope="session")
def mongo_uri(local_stack: LocalStack | None) -> str:
    external = os.environ.get(MONGO_ENV)
    if external:
        return external
    assert local_stack is not None
    return local_stack.mongo_uri


@pytest.fixture(scope="session")
def broker(local_stack: LocalStack | None) -> BrokerControl:
    """A handle to stop/start the session's broker; skips when the broker is external."""
    if os.environ.get(KAFKA_ENV) or local_stack is None:
        pytest.skip(f"the broker is external ({KAFKA_ENV}): it cannot be restarted here")
    return BrokerControl(local_stack)


@pytest.fixture(scope="session")
def mongod(local_stack: LocalStack | None) -> MongodControl:
    """A handle to restart the session's mongod; skips when it is external."""
    if os.environ.get(MONGO_ENV) or local_stack is None:
        pytest.skip(f"mongod is external ({MONGO_ENV}): it cannot be restarted here")
    return MongodControl(local_stack)


@pytest.fixture(scope="session")
def topic_prefix(kafka_bootstrap: str) -> Iterator[str]:
    """`t<hex>.`: every topic a session creates starts with it; deleted when the session ends
    on an external broker (as `mongo_db_prefix`'s databases are)."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    yield prefix
    if os.environ.get(KAFKA_ENV):
        drop_topics(kafka_bootstrap, prefix)


@pytest.fixture(scope="session")
def mongo_db_prefix(mongo_uri: str) -> Iterator[str]:
    """`t<hex>_`: every database a session creates starts with it. On an external mongod (a
    running `wsis_devstack infra`) they are dropped when the session ends: hundreds of sessions'
    leftovers would otherwise stay in it for good."""
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    yield prefix
    if os.environ.get(MONGO_ENV):
        drop_databases(mongo_uri, prefix)

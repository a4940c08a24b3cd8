"""Pytest fixtures for the real infrastructure.

`WSIS_KAFKA_BOOTSTRAP` / `WSIS_MONGO_URI` point the suite at an existing broker and mongod (the
docker-compose stack, say); otherwise a broker and a mongod are started once per session on
free ports and removed afterwards. Each session gets its own topic prefix and database prefix, so
runs in parallel never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from wsis_devstack.infrastructure import Infrastructure, ephemeral_infrastructure
from wsis_devstack.paths import cache_dir


@dataclass
class BrokerControl:
    """Stops and starts the session's broker (same port, same data) for fault tests."""

    infra: Infrastructure

    async def stop(self) -> None:
        await asyncio.to_thread(self.infra.kafka.stop)

    async def start(self) -> None:
        await asyncio.to_thread(self.infra.kafka.start)


@pytest.fixture(scope="session")
def _infrastructure() -> Iterator[Infrastructure | None]:
    if os.environ.get("WSIS_KAFKA_BOOTSTRAP") and os.environ.get("WSIS_MONGO_URI"):
        yield None
        return
    with ExitStack() as stack:
        yield stack.enter_context(ephemeral_infrastructure(cache_dir()))


@pytest.fixture(scope="session")
def kafka_bootstrap(_infrastructure: Infrastructure | None) -> str:
    if _infrastructure is None:
        return os.environ["WSIS_KAFKA_BOOTSTRAP"]
    return _infrastructure.kafka_bootstrap


@pytest.fixture(scope="session")
def mongo_uri(_infrastructure: Infrastructure | None) -> str:
    if _infrastructure is None:
        return os.environ["WSIS_MONGO_URI"]
    return _infrastructure.mongo_uri


@pytest.fixture(scope="session")
def broker(_infrastructure: Infrastructure | None) -> BrokerControl:
    if _infrastructure is None:
        pytest.skip("the broker is external (WSIS_KAFKA_BOOTSTRAP): it cannot be restarted here")
    return BrokerControl(_infrastructure)


@pytest.fixture(scope="session")
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}."


@pytest.fixture(scope="session")
def mongo_db_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}_"

"""Fixtures for tests against the real broker and mongod (started by the devstack plugin)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient

from wsis_shared.messaging import ensure_topics
from wsis_shared.mongo import Database, Document, create_client


@pytest.fixture(scope="session")
async def mongo_client(mongo_uri: str) -> AsyncIterator[AsyncMongoClient[Document]]:
    client = create_client(mongo_uri, app_name="wsis-tests")
    yield client
    await client.close()


@pytest.fixture
async def db(
    mongo_client: AsyncMongoClient[Document], mongo_db_prefix: str
) -> AsyncIterator[Database]:
    name = f"{mongo_db_prefix}{uuid.uuid4().hex[:8]}"
    yield mongo_client[name]
    await mongo_client.drop_database(name)


@pytest.fixture
async def topics(kafka_bootstrap: str, topic_prefix: str) -> str:
    """A fresh topic prefix for one test, with every platform topic created under it."""
    prefix = f"{topic_prefix}{uuid.uuid4().hex[:6]}."
    await ensure_topics(kafka_bootstrap, prefix)
    return prefix

"""What every service's API does once started, before its first request."""

from __future__ import annotations

import asyncio
import gc
import uuid
from pathlib import Path
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from pymongo import AsyncMongoClient

from wsis_shared.auth import ensure_dev_keys
from wsis_voting.app import SERVICE, create_app
from wsis_voting.settings import VotingSettings

pytestmark = pytest.mark.integration


async def test_a_started_api_settles_the_garbage_collector(
    tmp_path: Path, mongo_uri: str, kafka_bootstrap: str, mongo_db_prefix: str
) -> None:
    """A full garbage collection walks every tracked object: the modules, the app and its models
    (about 100,000 objects) made each one pause an API process for up to 270 ms under load; and
    at Python's default threshold the youngest generation was collected ~190 times a second."""
    _, public = ensure_dev_keys(tmp_path / "keys")
    settings = VotingSettings(
        mongo_uri=mongo_uri,
        kafka_bootstrap=kafka_bootstrap,
        mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
        jwt_public_key_file=public,
    )
    app = create_app(settings)
    gc.unfreeze()
    python_defaults = gc.get_threshold()
    try:
        async with LifespanManager(app):
            assert gc.get_freeze_count() > 50_000
            assert gc.get_threshold() == (10_000, *python_defaults[1:])
            await app.state.resources.mongo.drop_database(app.state.resources.db.name)
    finally:
        gc.unfreeze()
        gc.set_threshold(*python_defaults)


async def test_a_started_service_drops_the_indexes_an_earlier_version_left(
    tmp_path: Path, mongo_uri: str, mongo_db_prefix: str
) -> None:
    """MongoDB keeps an index, and its cost on every write, until it is dropped: the voting
    service's `not_yet_counted` made each vote's counting cost mongod ~70 µs."""
    settings = VotingSettings(
        mongo_uri=mongo_uri,
        mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
        jwt_public_key_file=ensure_dev_keys(tmp_path / "keys")[1],
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    votes = client[settings.mongo_database]["votes"]
    try:
        await votes.create_index(
            [("edition", 1)], name="not_yet_counted", partialFilterExpression={"counted": False}
        )

        # Two processes starting side by side (the API and its worker) both try to drop it.
        async def start() -> None:
            async with SERVICE.open_resources(settings):
                pass

        await asyncio.gather(start(), start())
        names = set(await votes.index_information())
        assert "not_yet_counted" not in names
        assert "one_vote_per_voter_per_category" in names

        async with SERVICE.open_resources(settings):  # nothing left to drop: starts all the same
            assert "not_yet_counted" not in set(await votes.index_information())
    finally:
        await client.drop_database(settings.mongo_database)
        await client.close()

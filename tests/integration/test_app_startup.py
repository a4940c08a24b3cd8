"""What every service's API does once started, before its first request."""

from __future__ import annotations

import gc
import uuid
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager

from wsis_shared.auth import ensure_dev_keys
from wsis_voting.app import create_app
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

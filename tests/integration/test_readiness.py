"""/readyz says which dependency is down, within the time a Kubernetes probe waits (4 s)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient

from wsis_devstack.processes import free_port
from wsis_shared.mongo import Document
from wsis_shared.web import operations_router

pytestmark = pytest.mark.integration


async def readiness(mongo_uri: str, kafka_bootstrap: str) -> tuple[int, dict[str, bool], float]:
    app = FastAPI()
    app.include_router(operations_router("test"))
    mongo: AsyncMongoClient[Document] = AsyncMongoClient(mongo_uri)
    app.state.resources = SimpleNamespace(
        mongo=mongo, settings=SimpleNamespace(kafka_bootstrap=kafka_bootstrap)
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            started = time.monotonic()
            answer = await http.get("/readyz")
            took = time.monotonic() - started
    finally:
        await mongo.close()
    return answer.status_code, answer.json()["checks"], took


async def test_ready_when_both_answer(mongo_uri: str, kafka_bootstrap: str) -> None:
    status, checks, _ = await readiness(mongo_uri, kafka_bootstrap)

    assert (status, checks) == (200, {"mongodb": True, "kafka": True})


async def test_mongodb_down_is_named_before_the_probe_gives_up(kafka_bootstrap: str) -> None:
    # The client's own server selection would wait 5 s, longer than the probe's 4.
    nobody = f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=5000"

    status, checks, took = await readiness(nobody, f"127.0.0.1:{free_port()}")

    assert (status, checks) == (503, {"mongodb": False, "kafka": False})
    assert took < 3.5, f"{took:.1f} s: both checks run side by side, each within 2 s"

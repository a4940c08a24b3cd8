"""The naive write path as an HTTP endpoint, the reference of the vote storm: the same FastAPI
and uvicorn as the services, and per vote one MongoDB transaction holding the vote (unique
index) and an outbox record — what a transactional outbox does without group commit
(`python -m bench.naive_app PORT PROCESSES MONGO_URI DB`)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, status
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(os.environ["NAIVE_MONGO_URI"])
    app.state.client = client
    app.state.db = client[os.environ["NAIVE_DB"]]
    yield
    await client.close()


app = FastAPI(lifespan=lifespan)


@app.post("/vote", status_code=status.HTTP_201_CREATED)
async def vote(body: dict[str, Any]) -> dict[str, str]:
    db = app.state.db
    receipt = uuid.uuid4().hex

    async def write(session: AsyncClientSession) -> None:
        await db["votes"].insert_one(
            {"_id": receipt, "voter": receipt, "category": body.get("category")}, session=session
        )
        await db["outbox"].insert_one(
            {"_id": receipt, "value": b"x" * 300, "sent_at": None}, session=session
        )

    async with app.state.client.start_session() as session:
        await session.with_transaction(write)
    return {"receipt_id": receipt}


if __name__ == "__main__":
    os.environ["NAIVE_MONGO_URI"], os.environ["NAIVE_DB"] = sys.argv[3], sys.argv[4]
    uvicorn.run(
        "bench.naive_app:app",
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=int(sys.argv[2]),
        log_level="warning",
    )

"""Outbox relay throughput against its ceiling, the raw idempotent producer on the same broker.

The relay reads pending records from MongoDB, produces them with the idempotent producer and
marks them sent; the ceiling produces the same payloads with the same producer settings and
does nothing else. Both on the same machine, in the same run.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from bson import Binary
from pymongo import AsyncMongoClient

from wsis_shared.events import SubmissionWithdrawn, Withdrawal, encode, utcnow
from wsis_shared.messaging import OutboxRelay, ensure_topics, idempotent_producer
from wsis_shared.messaging.headers import cloudevent_headers, to_kafka
from wsis_shared.messaging.outbox import OUTBOX_INDEXES
from wsis_shared.mongo import Document, ensure_indexes
from wsis_shared.vocabulary import Category

N = 5000


def _event(n: int) -> SubmissionWithdrawn:
    return SubmissionWithdrawn(
        aggregate_id=f"entry-{n}",
        aggregate_version=2,
        edition=2027,
        payload=Withdrawal(entry_id=f"entry-{n}", category=Category.C4, reason="benchmark"),
    )


async def raw_produce(bootstrap: str, topic: str, events: list[SubmissionWithdrawn]) -> float:
    producer = idempotent_producer(bootstrap, "bench-raw")
    await producer.start()
    try:
        started = time.perf_counter()
        deliveries = [
            await producer.send(
                topic,
                value=encode(e),
                key=e.aggregate_id.encode(),
                headers=to_kafka(cloudevent_headers(e, "/bench", topic)),
            )
            for e in events
        ]
        await asyncio.gather(*deliveries)
        return len(events) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def relay_publish(
    bootstrap: str, mongo_uri: str, prefix: str, events: list[SubmissionWithdrawn]
) -> float:
    client: AsyncMongoClient[Document] = AsyncMongoClient(mongo_uri, tz_aware=True)
    db = client[f"bench_{uuid.uuid4().hex[:6]}"]
    try:
        await ensure_indexes(db, OUTBOX_INDEXES)
        now = utcnow()
        await db["outbox"].insert_many(
            [
                {
                    "_id": str(e.event_id),
                    "topic": "wsis.submissions.v1",
                    "key": e.aggregate_id,
                    "value": Binary(encode(e)),
                    "headers": cloudevent_headers(e, "/bench", "wsis.submissions.v1"),
                    "created_at": now,
                    "batch_index": n,
                    "sent_at": None,
                }
                for n, e in enumerate(events)
            ]
        )
        relay = OutboxRelay(db, service="bench", bootstrap=bootstrap, topic_prefix=prefix)
        started = time.perf_counter()
        while await relay.publish_pending():
            pass
        elapsed = time.perf_counter() - started
        await relay.close()
        assert await db["outbox"].count_documents({"sent_at": None}) == 0
        return len(events) / elapsed
    finally:
        await client.drop_database(db.name)
        await client.close()


async def run(bootstrap: str, mongo_uri: str) -> dict[str, float]:
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    await ensure_topics(bootstrap, prefix)
    topic = f"{prefix}wsis.submissions.v1"
    raw = await raw_produce(bootstrap, topic, [_event(n) for n in range(N)])
    relay = await relay_publish(bootstrap, mongo_uri, prefix, [_event(n) for n in range(N)])
    return {"raw_produce_per_s": raw, "relay_per_s": relay, "ratio": relay / raw}

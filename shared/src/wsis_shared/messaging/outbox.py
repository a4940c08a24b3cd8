"""Transactional outbox: an event is stored in the same MongoDB transaction as the state change.

The API never talks to Kafka; the relay publishes what the outbox holds. Kafka down ⇒ requests
still succeed and the events go out when it is back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bson import Binary
from pymongo import ASCENDING, IndexModel

from wsis_shared.events import EventBase, encode, topic_of, utcnow
from wsis_shared.messaging.headers import cloudevent_headers
from wsis_shared.mongo import Database, Session
from wsis_shared.tracing import current_trace_headers

OUTBOX: Final = "outbox"
_SENT_RETENTION_S: Final = 7 * 24 * 3600

OUTBOX_INDEXES: Final = {
    OUTBOX: [
        IndexModel(
            [("sent_at", ASCENDING), ("created_at", ASCENDING), ("batch_index", ASCENDING)],
            name="pending_in_order",
        ),
        # Sent records are kept a week for inspection, then expire (a null `sent_at` never does).
        IndexModel(
            [("sent_at", ASCENDING)],
            name="expire_published",
            expireAfterSeconds=_SENT_RETENTION_S,
        ),
    ]
}


class Outbox:
    """Writes events into the service's `outbox` collection inside the caller's transaction."""

    def __init__(self, db: Database, source: str) -> None:
        self._collection = db[OUTBOX]
        self._source = source

    async def add(self, event: EventBase, session: Session, key: str | None = None) -> None:
        await self.add_many([(event, key)], session)

    async def add_many(
        self, events: Sequence[tuple[EventBase, str | None]], session: Session
    ) -> None:
        now = utcnow()
        trace_headers = current_trace_headers()
        documents = []
        for offset, (event, key) in enumerate(events):
            topic = topic_of(event)
            documents.append(
                {
                    "_id": str(event.event_id),
                    "topic": topic,
                    "key": key if key is not None else event.aggregate_id,
                    "value": Binary(encode(event)),
                    "headers": cloudevent_headers(event, self._source, topic) | trace_headers,
                    "created_at": now,
                    "batch_index": offset,
                    "sent_at": None,
                }
            )
        await self._collection.insert_many(documents, session=session, ordered=True)

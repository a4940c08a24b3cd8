"""The outbox relay: publishes pending outbox records with the idempotent producer.

At-least-once: a record is marked sent only after the broker acknowledged it (`acks=all`), so a
crash between the two re-sends it and consumers' inboxes drop the duplicate. One relay per
service holds a lease at a time, so two worker replicas do not publish the same records twice
in the normal case.

(Waking the relay by a change stream of outbox inserts instead of polling was tried and measured
worse under load: one small batch per insert means more reads, marks and produce requests than a
batch per poll.)
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge
from pymongo import ASCENDING
from pymongo.errors import PyMongoError

from wsis_shared.events import utcnow
from wsis_shared.logging import get_logger
from wsis_shared.messaging.headers import to_kafka
from wsis_shared.messaging.kafka import ReconnectingProducer
from wsis_shared.messaging.lease import Lease
from wsis_shared.messaging.outbox import OUTBOX
from wsis_shared.mongo import Database
from wsis_shared.tracing import SpanKind, continued_span

log = get_logger(__name__)


OUTBOX_PUBLISHED = Counter(
    "wsis_outbox_published_total", "Outbox records published to Kafka", ["service", "topic"]
)
OUTBOX_PENDING = Gauge(
    "wsis_outbox_pending", "Outbox records not yet acknowledged by Kafka", ["service"]
)


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        *,
        service: str,
        bootstrap: str,
        topic_prefix: str,
        batch_size: int = 500,
        poll_interval_s: float = 0.1,
        max_backoff_s: float = 5.0,
    ) -> None:
        self._outbox = db[OUTBOX]
        self._service = service
        self._bootstrap = bootstrap
        self._prefix = topic_prefix
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._max_backoff_s = max_backoff_s
        self._lease = Lease(db, "outbox-relay", f"{service}-relay")
        self._owner = self._lease.owner
        self._producer = ReconnectingProducer(bootstrap, self._owner)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = self._poll_interval_s
        log.info("outbox.relay.started", owner=self._owner)
        try:
            while not stop.is_set():
                try:
                    published = await self.publish_pending() if await self._lease.hold() else 0
                    backoff = self._poll_interval_s
                except (KafkaError, PyMongoError, OSError, TimeoutError) as exc:
                    log.warning("outbox.relay.retrying", error=repr(exc), backoff_s=backoff)
                    await self._producer.drop()
                    published = 0
                    backoff = min(backoff * 2, self._max_backoff_s)
                if published < self._batch_size:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), backoff)
        finally:
            await self._producer.drop()
            await self._lease.release()
            log.info("outbox.relay.stopped", owner=self._owner)

    async def close(self) -> None:
        """Stops the producer (for callers of `publish_pending` outside `run`)."""
        await self._producer.drop()

    async def publish_pending(self) -> int:
        """Publish one batch of pending records in order; returns how many were published."""
        records = (
            await self._outbox.find({"sent_at": None})
            .sort([("created_at", ASCENDING), ("batch_index", ASCENDING)])
            .limit(self._batch_size)
            .to_list()
        )
        # A batch short of full is the whole backlog: counting it again would be a second query
        # on every poll.
        pending = (
            len(records)
            if len(records) < self._batch_size
            else await self._outbox.count_documents({"sent_at": None})
        )
        OUTBOX_PENDING.labels(self._service).set(pending)
        if not records:
            return 0
        producer = await self._producer.get()
        deliveries = []
        for record in records:
            topic = self._prefix + record["topic"]
            with continued_span(
                f"publish {record['topic']}", record["headers"], SpanKind.PRODUCER
            ) as span:
                span.set_attribute("messaging.destination.name", topic)
                deliveries.append(
                    await producer.send(
                        topic,
                        value=bytes(record["value"]),
                        key=record["key"].encode(),
                        headers=to_kafka(record["headers"]),
                    )
                )
        results = await asyncio.gather(*deliveries, return_exceptions=True)
        sent_ids = [r["_id"] for r, res in zip(records, results, strict=True) if _ok(res)]
        if sent_ids:
            await self._outbox.update_many(
                {"_id": {"$in": sent_ids}}, {"$set": {"sent_at": utcnow()}}
            )
        for record, result in zip(records, results, strict=True):
            if _ok(result):
                OUTBOX_PUBLISHED.labels(self._service, record["topic"]).inc()
        OUTBOX_PENDING.labels(self._service).set(pending - len(sent_ids))
        failures = [res for res in results if isinstance(res, BaseException)]
        if failures:
            raise failures[0]
        if sent_ids:
            log.debug("outbox.relay.published", count=len(sent_ids))
        return len(sent_ids)


def _ok(result: Any) -> bool:
    return not isinstance(result, BaseException)

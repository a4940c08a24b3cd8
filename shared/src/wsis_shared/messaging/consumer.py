"""The consumer runner: idempotent handlers, manual commits, bounded retries, dead letters.

For each message, in partition order:
1. decode it (upcasting old versions); undecodable ⇒ straight to `<topic>.dlq` (poison);
2. in one MongoDB transaction, record `event_id` in the unique-indexed inbox and run the
   handler — a redelivered event finds itself in the inbox and changes nothing;
3. a handler error is retried with backoff `max_attempts` times, then dead-lettered;
   an infrastructure error (MongoDB unreachable) is retried until it heals, never dead-lettered,
   because the event is fine and the next attempt will succeed;
4. only then is the offset committed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from prometheus_client import Counter, Gauge
from pymongo import ASCENDING, AsyncMongoClient, IndexModel
from pymongo.errors import DuplicateKeyError, PyMongoError

from wsis_shared import context
from wsis_shared.events import EventBase, UndecodableEvent, decode, event_type_of, topic_of, utcnow
from wsis_shared.logging import get_logger
from wsis_shared.messaging.dlq import dead_letter_headers
from wsis_shared.messaging.headers import from_kafka
from wsis_shared.messaging.kafka import idempotent_producer
from wsis_shared.messaging.outbox import Outbox
from wsis_shared.mongo import Database, Document, Session, in_transaction, is_transient
from wsis_shared.tracing import SpanKind, continued_span

log = get_logger(__name__)

INBOX: Final = "inbox"
INBOX_INDEXES: Final = {
    INBOX: [IndexModel([("consumer", ASCENDING), ("event_id", ASCENDING)], unique=True)]
}

CONSUMED = Counter(
    "wsis_consumer_events_total",
    "Events handled by a consumer, by outcome",
    ["consumer", "topic", "outcome"],
)
CONSUMER_LAG = Gauge(
    "wsis_consumer_lag", "Messages not yet consumed", ["consumer", "topic", "partition"]
)

E = TypeVar("E", bound=EventBase)
T = TypeVar("T")


@dataclass(frozen=True)
class Tx:
    """What a handler gets: the service database, the session of the running transaction and
    the outbox, so that what it writes and the events it emits commit with the inbox record."""

    db: Database
    session: Session
    outbox: Outbox


Handler = Callable[[Any, Tx], Awaitable[None]]
BatchHandler = Callable[[list[Any], Tx], Awaitable[None]]


GATHER_BYTES: Final = 256 * 1024


class Handlers:
    """The handlers of one consumer group, keyed by event type.

    `gather_ms`: how long the broker may hold a fetch until `GATHER_BYTES` of events are
    waiting. 0 (the default) hands each event over as soon as it is there. For a high-volume
    stream (votes), a few hundred ms turn a peak's transactions of ~25 events into transactions
    of a few hundred: a fraction of the round trips, commits and CPU per event — paid for by an
    event arriving alone, which then waits up to `gather_ms`."""

    def __init__(self, consumer: str, *, gather_ms: int = 0) -> None:
        self.consumer = consumer
        self.gather_ms = gather_ms
        self._by_type: dict[str, Handler] = {}
        self._batch_by_type: dict[str, BatchHandler] = {}
        self._topics: set[str] = set()

    def on(
        self, *event_classes: type[E]
    ) -> Callable[[Callable[[E, Tx], Awaitable[None]]], Callable[[E, Tx], Awaitable[None]]]:
        def register(
            fn: Callable[[E, Tx], Awaitable[None]],
        ) -> Callable[[E, Tx], Awaitable[None]]:
            for event_class in event_classes:
                event_type = event_type_of(event_class)
                if event_type in self._by_type:
                    raise ValueError(f"{self.consumer} already handles {event_type}")
                self._by_type[event_type] = fn
                self._topics.add(topic_of(event_class))
            return fn

        return register

    def on_batch(
        self, event_class: type[E]
    ) -> Callable[
        [Callable[[list[E], Tx], Awaitable[None]]], Callable[[list[E], Tx], Awaitable[None]]
    ]:
        """A handler given all the new events of its type in a partition's batch at once, in
        order — for projections that gain from bulk writes (the vote tally). It must not depend
        on the order relative to events of other types in the same batch; alone (the fallback
        path), an event is handed over as a list of one."""

        def register(
            fn: Callable[[list[E], Tx], Awaitable[None]],
        ) -> Callable[[list[E], Tx], Awaitable[None]]:
            event_type = event_type_of(event_class)

            async def one(event: E, tx: Tx) -> None:
                await fn([event], tx)

            self.on(event_class)(one)
            self._batch_by_type[event_type] = fn
            return fn

        return register

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._topics)

    def for_type(self, event_type: str) -> Handler | None:
        return self._by_type.get(event_type)

    def batch_for_type(self, event_type: str) -> BatchHandler | None:
        return self._batch_by_type.get(event_type)


class HandlerFailed(Exception):
    def __init__(self, attempts: int, cause: BaseException) -> None:
        super().__init__(f"failed after {attempts} attempts: {cause!r}")
        self.attempts = attempts
        self.cause = cause


class ConsumerRunner:
    def __init__(
        self,
        handlers: Handlers,
        *,
        client: AsyncMongoClient[Document],
        db: Database,
        outbox: Outbox,
        bootstrap: str,
        topic_prefix: str,
        max_attempts: int = 4,
        retry_backoff_s: float = 0.2,
        max_infra_backoff_s: float = 5.0,
        replaying: bool = False,
    ) -> None:
        self._handlers = handlers
        # A projection rebuild replays history: poison events were dead-lettered when they first
        # came (and come back at a later offset once replayed), so they are skipped, and a
        # handler that fails aborts the rebuild rather than dead-letter an event a second time.
        self._replaying = replaying
        self.skipped_poison = 0
        self._client = client
        self._db = db
        self._outbox = outbox
        self._bootstrap = bootstrap
        self._prefix = topic_prefix
        self._max_attempts = max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._max_infra_backoff_s = max_infra_backoff_s
        self._inbox = db[INBOX]
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq_producer: AIOKafkaProducer | None = None
        self._dlq_starting = asyncio.Lock()

    @property
    def group_id(self) -> str:
        return f"{self._prefix}{self._handlers.consumer}"

    async def run(self, stop: asyncio.Event) -> None:
        topics = sorted(self._prefix + topic for topic in self._handlers.topics)
        backoff = 0.5
        while not stop.is_set():
            try:
                await self._consume(topics, stop)
                backoff = 0.5
            except KafkaError as exc:
                log.warning("consumer.kafka.retrying", group=self.group_id, error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, self._max_infra_backoff_s)

    async def _consume(self, topics: list[str], stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=self._bootstrap,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_interval_ms=600_000,
            **(
                {"fetch_min_bytes": GATHER_BYTES, "fetch_max_wait_ms": self._handlers.gather_ms}
                if self._handlers.gather_ms
                else {}
            ),
        )
        await consumer.start()
        self._consumer = consumer
        log.info("consumer.started", group=self.group_id, topics=topics)
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=200)
                if stop.is_set():
                    return  # the uncommitted rest is redelivered to whoever comes next
                # Partitions never share a key, so their batches are applied side by side, each
                # in its own transaction and each partition in order: a partition's batch does
                # not wait for the round trips of the others'.
                outcomes = await asyncio.gather(
                    *(self.process_batch(records) for records in batches.values()),
                    return_exceptions=True,
                )
                done = {
                    partition: records[-1].offset + 1
                    for (partition, records), outcome in zip(batches.items(), outcomes, strict=True)
                    if not isinstance(outcome, BaseException)
                }
                # One commit for the batches applied: a crash before it redelivers at most
                # them, which the inbox turns into no-ops.
                if done:
                    await self._commit(consumer, done)
                    for partition, at in done.items():
                        self._report_lag(consumer, partition, at)
                for outcome in outcomes:
                    if isinstance(outcome, BaseException):
                        raise outcome
        finally:
            self._consumer = None
            await consumer.stop()
            if self._dlq_producer is not None:
                await self._dlq_producer.stop()
                self._dlq_producer = None
            log.info("consumer.stopped", group=self.group_id)

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        try:
            await consumer.commit(offsets)
        except CommitFailedError as exc:
            # The group rebalanced: the new owner re-reads from the last commit; the inbox makes
            # that harmless.
            log.warning("consumer.commit.failed", group=self.group_id, error=repr(exc))

    def _report_lag(
        self, consumer: AIOKafkaConsumer, partition: TopicPartition, next_offset: int
    ) -> None:
        highwater = consumer.highwater(partition)
        if highwater is not None:
            CONSUMER_LAG.labels(self.group_id, partition.topic, str(partition.partition)).set(
                max(0, highwater - next_offset)
            )

    async def process_batch(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Apply a partition's batch in one transaction when all of it goes well — the common
        case, and many times faster than a transaction per event; otherwise event by event, so a
        poison or failing event is isolated, retried and dead-lettered alone."""
        ready: list[tuple[ConsumerRecord[bytes, bytes], EventBase, Handler]] = []
        for record in records:
            topic = record.topic.removeprefix(self._prefix)
            try:
                event = decode(topic, record.value)
            except UndecodableEvent:
                break
            handler = self._handlers.for_type(event.event_type)
            if handler is None:
                CONSUMED.labels(self._handlers.consumer, topic, "ignored").inc()
                continue
            ready.append((record, event, handler))
        else:
            if not ready:
                return
            try:
                applied = await self._with_infra_retries(lambda: self._apply_together(ready))
            except Exception as exc:
                log.info("consumer.batch.one_by_one", size=len(ready), reason=repr(exc))
            else:
                for record, done, _ in ready:
                    outcome = "applied" if str(done.event_id) in applied else "duplicate"
                    CONSUMED.labels(
                        self._handlers.consumer, record.topic.removeprefix(self._prefix), outcome
                    ).inc()
                return
        for record in records:
            await self.process(record)

    async def _apply_together(
        self, ready: list[tuple[ConsumerRecord[bytes, bytes], EventBase, Handler]]
    ) -> set[str]:
        async def work(session: Session) -> set[str]:
            ids = [str(event.event_id) for _, event, _ in ready]
            seen = {
                document["event_id"]
                async for document in self._inbox.find(
                    {"consumer": self._handlers.consumer, "event_id": {"$in": ids}},
                    {"event_id": 1},
                    session=session,
                )
            }
            applied: set[str] = set()
            now = utcnow()
            tx = Tx(db=self._db, session=session, outbox=self._outbox)
            batched: dict[str, list[EventBase]] = {}
            for record, event, handler in ready:
                event_id = str(event.event_id)
                if event_id in seen or event_id in applied:
                    continue
                event_type = event_type_of(type(event))
                if self._handlers.batch_for_type(event_type) is not None:
                    batched.setdefault(event_type, []).append(event)
                else:
                    with self._event_scope(record, event):
                        await handler(event, tx)
                applied.add(event_id)
            for event_type, events in batched.items():
                batch_handler = self._handlers.batch_for_type(event_type)
                assert batch_handler is not None
                await batch_handler(events, tx)
            if applied:
                await self._inbox.insert_many(
                    [
                        {"consumer": self._handlers.consumer, "event_id": i, "processed_at": now}
                        for i in applied
                    ],
                    session=session,
                )
            return applied

        return await in_transaction(self._client, work)

    async def _with_infra_retries(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Retry while MongoDB is unreachable: the events are fine, the database will return."""
        backoff = 0.2
        while True:
            try:
                return await attempt()
            except PyMongoError as exc:
                if not is_transient(exc):
                    raise
                log.warning("consumer.mongo.unreachable", error=repr(exc), backoff_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_infra_backoff_s)

    @contextlib.contextmanager
    def _event_scope(
        self, record: ConsumerRecord[bytes, bytes], event: EventBase
    ) -> Iterator[None]:
        """The event's correlation id for the logs and events it causes, and its consumer span
        in the trace the producer started."""
        with (
            context.bound(event.correlation_id, causation=event.event_id),
            continued_span(
                f"consume {getattr(event, 'event_type', '?')}",
                from_kafka(record.headers),
                SpanKind.CONSUMER,
                **{"messaging.destination.name": record.topic, "wsis.consumer": self.group_id},
            ),
        ):
            yield

    async def process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Handle one message fully: applied once, or dead-lettered, or retried until healthy."""
        topic = record.topic.removeprefix(self._prefix)
        try:
            event = decode(topic, record.value)
        except UndecodableEvent as exc:
            CONSUMED.labels(self._handlers.consumer, topic, "poison").inc()
            log.error("consumer.event.poison", topic=topic, offset=record.offset, error=str(exc))
            if self._replaying:
                self.skipped_poison += 1
                return
            await self._dead_letter(record, "poison", str(exc), attempts=0)
            return
        handler = self._handlers.for_type(event.event_type)
        if handler is None:
            CONSUMED.labels(self._handlers.consumer, topic, "ignored").inc()
            return
        with self._event_scope(record, event):
            try:
                applied = await self._apply_with_retries(event, handler)
            except HandlerFailed as exc:
                if self._replaying:
                    raise
                CONSUMED.labels(self._handlers.consumer, topic, "dead-lettered").inc()
                log.error(
                    "consumer.event.dead_lettered",
                    event_type=event.event_type,
                    event_id=str(event.event_id),
                    error=repr(exc.cause),
                )
                await self._dead_letter(
                    record, "handler-failed", repr(exc.cause), exc.attempts, event
                )
                return
            outcome = "applied" if applied else "duplicate"
            CONSUMED.labels(self._handlers.consumer, topic, outcome).inc()
            log.debug(f"consumer.event.{outcome}", event_type=event.event_type)

    async def _apply_with_retries(self, event: EventBase, handler: Handler) -> bool:
        attempt = 0
        while True:
            try:
                return await self._with_infra_retries(lambda: self._apply_once(event, handler))
            except Exception as exc:
                attempt += 1
                if attempt >= self._max_attempts:
                    raise HandlerFailed(attempt, exc) from exc
                log.warning(
                    "consumer.event.retrying",
                    event_type=getattr(event, "event_type", "?"),
                    attempt=attempt,
                    error=repr(exc),
                )
                await asyncio.sleep(self._retry_backoff_s * 2 ** (attempt - 1))

    async def _apply_once(self, event: EventBase, handler: Handler) -> bool:
        async def work(session: Session) -> bool:
            key = {"consumer": self._handlers.consumer, "event_id": str(event.event_id)}
            if await self._inbox.find_one(key, session=session) is not None:
                return False
            await self._inbox.insert_one(key | {"processed_at": utcnow()}, session=session)
            await handler(event, Tx(db=self._db, session=session, outbox=self._outbox))
            return True

        try:
            return await in_transaction(self._client, work)
        except DuplicateKeyError as exc:
            if "inbox" in str(exc):
                return False  # a concurrent delivery of the same event won
            raise

    async def _started_dlq_producer(self) -> AIOKafkaProducer:
        # Partitions' batches run side by side: two dead letters at once must not start two.
        async with self._dlq_starting:
            if self._dlq_producer is None:
                producer = idempotent_producer(self._bootstrap, f"{self.group_id}-dlq")
                await producer.start()
                self._dlq_producer = producer
            return self._dlq_producer

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        reason: str,
        error: str,
        attempts: int,
        event: EventBase | None = None,
    ) -> None:
        headers = dead_letter_headers(
            record,
            consumer=self._handlers.consumer,
            original_topic=record.topic.removeprefix(self._prefix),
            reason=reason,
            error=error,
            attempts=attempts,
            event_id=str(event.event_id) if event else None,
            event_type=getattr(event, "event_type", None),
        )
        backoff = 0.5
        while True:
            try:
                producer = await self._started_dlq_producer()
                await producer.send_and_wait(
                    f"{record.topic}.dlq", value=record.value, key=record.key, headers=headers
                )
                return
            except KafkaError as exc:
                # Never commit past a message that is neither handled nor safely dead-lettered.
                log.warning("consumer.dlq.retrying", error=repr(exc), backoff_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_infra_backoff_s)

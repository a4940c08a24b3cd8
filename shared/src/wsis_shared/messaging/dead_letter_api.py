"""An admin's read-only view of the dead-letter topics, for a service's HTTP API.

`GET /dead-letters` answers, for every platform topic, how many dead letters wait in its
`<prefix><topic>.dlq` and the latest few: which consumer failed, why, when, the event type and
the offset. Never the event itself, nor the error text: either may hold personal data. Replaying
stays an operator's command (`python -m wsis_shared dlq replay --topic …`), run once the cause is
fixed; the answer names it for each topic.

The read is bounded in time: a broker that does not answer gives a 503 problem, never a request
left hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, ClassVar

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from wsis_shared.auth import require_role
from wsis_shared.errors import WsisError
from wsis_shared.events import TOPICS, utcnow
from wsis_shared.logging import get_logger
from wsis_shared.messaging.headers import from_kafka, int_header
from wsis_shared.settings import ServiceSettings
from wsis_shared.vocabulary import Role

log = get_logger(__name__)

DEFAULT_TIMEOUT_S = 5.0
MAX_LATEST = 50


class BrokerUnavailable(WsisError):
    """The broker did not answer in time: try again later."""

    status: ClassVar[int] = 503
    code: ClassVar[str] = "unavailable"
    title: ClassVar[str] = "Temporarily unavailable"


class DeadLetterSummary(BaseModel):
    """One dead letter, without its event (which may hold personal data)."""

    topic: str = Field(description="the original topic, without the deployment's prefix")
    offset: int = Field(description="its offset in the dead-letter topic")
    partition: int
    consumer: str = Field(description="the consumer group that could not handle it")
    reason: str = Field(description="`poison` (unreadable) or `handler-failed` (after retries)")
    attempts: int
    failed_at: str = Field(description="when it was dead-lettered (ISO 8601)")
    event_type: str | None
    event_id: str | None


class TopicDeadLetters(BaseModel):
    topic: str
    dead_letter_topic: str
    exists: bool = Field(description="false: the dead-letter topic is not on the broker yet")
    count: int = Field(description="dead letters held (replayed ones stay until retention)")
    latest: list[DeadLetterSummary] = Field(description="the most recent first")
    replay_command: str


class DeadLetterOverview(BaseModel):
    checked_at: datetime
    total: int
    topics: list[TopicDeadLetters]


def replay_command(topic: str, prefix: str) -> str:
    command = f"python -m wsis_shared dlq replay --topic {topic}"
    return f"{command} --prefix {prefix}" if prefix else command


def _summary(topic: str, record: ConsumerRecord[bytes, bytes]) -> DeadLetterSummary:
    headers = from_kafka(record.headers)
    attempts = int_header(headers, "dlq_attempts", 0)
    return DeadLetterSummary(
        topic=topic,
        offset=record.offset,
        partition=record.partition,
        consumer=headers.get("dlq_consumer", "?"),
        reason=headers.get("dlq_reason", "?"),
        attempts=attempts,
        failed_at=headers.get("dlq_failed_at", ""),
        event_type=headers.get("dlq_event_type")
        or headers.get("ce_type", "").removeprefix("org.itu.wsis.")
        or None,
        event_id=headers.get("dlq_event_id") or headers.get("ce_id") or None,
    )


async def _latest_of(
    consumer: AIOKafkaConsumer,
    partitions: Sequence[TopicPartition],
    begin: dict[TopicPartition, int],
    end: dict[TopicPartition, int],
    latest: int,
) -> list[ConsumerRecord[bytes, bytes]]:
    """The last `latest` records of each partition (the caller keeps the newest overall)."""
    wanted = [tp for tp in partitions if end[tp] > begin[tp]]
    if not wanted or latest == 0:
        return []
    consumer.assign(wanted)
    for tp in wanted:
        consumer.seek(tp, max(begin[tp], end[tp] - latest))
    records: list[ConsumerRecord[bytes, bytes]] = []
    while [tp for tp in wanted if await consumer.position(tp) < end[tp]]:
        batch = await consumer.getmany(*wanted, timeout_ms=500)
        for tp, found in batch.items():
            records.extend(r for r in found if r.offset < end[tp])
    return records


async def _partitions(bootstrap: str, topics: list[str]) -> dict[str, list[int]]:
    """The partition numbers of each of `topics` that exists, in one metadata request."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="wsis-dead-letter-overview", request_timeout_ms=4000
    )
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(admin.close(), 2.0)
    return {
        d["topic"]: sorted(p["partition"] for p in d["partitions"])
        for d in described
        if d.get("error_code", 0) == 0 and d.get("partitions")
    }


async def read_dead_letters(bootstrap: str, prefix: str, latest: int = 5) -> DeadLetterOverview:
    """Counts and the latest dead letters of every platform topic (no time limit of its own)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="wsis-dead-letter-overview",
        request_timeout_ms=4000,
    )
    names = {prefix + spec.dead_letter: spec.name for spec in TOPICS.values()}
    partitions_of = await _partitions(bootstrap, list(names))
    partitions = sorted(
        TopicPartition(name, number)
        for name, numbers in partitions_of.items()
        for number in numbers
    )
    begin: dict[TopicPartition, int] = {}
    end: dict[TopicPartition, int] = {}
    records: list[ConsumerRecord[bytes, bytes]] = []
    if partitions:
        await consumer.start()
        try:
            # One request each for every topic: asked topic by topic, each waits for metadata.
            begin = await consumer.beginning_offsets(partitions)
            end = await consumer.end_offsets(partitions)
            records = await _latest_of(consumer, partitions, begin, end, latest)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(consumer.stop(), 2.0)
    overview: list[TopicDeadLetters] = []
    for name, topic in names.items():
        mine = [tp for tp in partitions if tp.topic == name]
        newest = sorted(
            (r for r in records if r.topic == name),
            key=lambda r: (r.timestamp or 0, r.partition, r.offset),
            reverse=True,
        )[:latest]
        overview.append(
            TopicDeadLetters(
                topic=topic,
                dead_letter_topic=name,
                exists=bool(mine),
                count=sum(end[tp] - begin[tp] for tp in mine),
                latest=[_summary(topic, r) for r in newest],
                replay_command=replay_command(topic, prefix),
            )
        )
    return DeadLetterOverview(
        checked_at=utcnow(), total=sum(t.count for t in overview), topics=overview
    )


def dead_letter_router(
    settings: ServiceSettings,
    *,
    roles: Sequence[Role] = (Role.ADMIN,),
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> APIRouter:
    """`GET /dead-letters` for `roles` (admins), reading the broker of `settings`."""
    router = APIRouter(tags=["operations"])

    @router.get(
        "/dead-letters",
        summary="Dead letters per topic: counts and the latest, without their events (admin)",
        description=(
            "For every platform topic, the number of dead letters in its `.dlq` topic and the "
            "latest few (consumer, reason, time, event type, offset). Event payloads and error "
            "texts are left out: they may hold personal data. Replay is an operator command, "
            "named in `replay_command`. 503 when the broker does not answer in time."
        ),
        responses={503: {"description": "the broker did not answer in time"}},
        dependencies=[Depends(require_role(*roles))],  # the door: admins
    )
    async def dead_letters(
        latest: Annotated[int, Query(ge=0, le=MAX_LATEST)] = 5,
    ) -> DeadLetterOverview:
        try:
            return await asyncio.wait_for(
                read_dead_letters(settings.kafka_bootstrap, settings.topic_prefix, latest),
                timeout_s,
            )
        except (TimeoutError, KafkaError, OSError) as error:
            log.warning("dead_letters.broker_unavailable", error=type(error).__name__)
            raise BrokerUnavailable(
                f"the message broker did not answer within {timeout_s:g} s: try again shortly"
            ) from None

    return router

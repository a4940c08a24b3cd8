"""Dead letters: the headers that explain a failure, and the list/replay operations of the CLI.

A dead letter keeps the original key, value and headers and adds `dlq_*` headers saying which
consumer failed, why, after how many attempts, and where the message came from. Replay sends it
back to its original topic once the cause is fixed; a replay group remembers what was replayed,
so each dead letter is replayed once.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from wsis_shared.events import utcnow
from wsis_shared.messaging.headers import Headers, from_kafka, int_header
from wsis_shared.messaging.kafka import idempotent_producer, partitions_of

_MAX_ERROR_CHARS = 2000


def dead_letter_headers(
    record: ConsumerRecord[bytes, bytes],
    *,
    consumer: str,
    original_topic: str,
    reason: str,
    error: str,
    attempts: int,
    event_id: str | None = None,
    event_type: str | None = None,
) -> Headers:
    original = [(k, v) for k, v in record.headers or () if not k.startswith("dlq_")]
    added = {
        "dlq_reason": reason,
        "dlq_error": error[:_MAX_ERROR_CHARS],
        "dlq_consumer": consumer,
        "dlq_attempts": str(attempts),
        "dlq_original_topic": original_topic,
        "dlq_original_partition": str(record.partition),
        "dlq_original_offset": str(record.offset),
        "dlq_failed_at": utcnow().isoformat(),
    }
    if event_id is not None and event_type is not None:
        added |= {"dlq_event_id": event_id, "dlq_event_type": event_type}
    return original + [(k, v.encode()) for k, v in added.items()]


@dataclass(frozen=True)
class DeadLetter:
    offset: int
    reason: str
    error: str
    consumer: str
    attempts: int
    original_topic: str
    original_partition: int
    original_offset: int
    failed_at: str
    event_type: str | None
    event_id: str | None

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _as_dead_letter(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    headers = from_kafka(record.headers)
    return DeadLetter(
        offset=record.offset,
        reason=headers.get("dlq_reason", "?"),
        error=headers.get("dlq_error", ""),
        consumer=headers.get("dlq_consumer", "?"),
        attempts=int_header(headers, "dlq_attempts", 0),
        original_topic=headers.get("dlq_original_topic", "?"),
        original_partition=int_header(headers, "dlq_original_partition", -1),
        original_offset=int_header(headers, "dlq_original_offset", -1),
        failed_at=headers.get("dlq_failed_at", ""),
        event_type=headers.get("dlq_event_type")
        or headers.get("ce_type", "").removeprefix("org.itu.wsis.")
        or None,
        event_id=headers.get("dlq_event_id") or headers.get("ce_id"),
    )


async def _read_all(
    bootstrap: str, dlq_topic: str, group_id: str | None
) -> tuple[AIOKafkaConsumer, list[ConsumerRecord[bytes, bytes]]]:
    partitions = await partitions_of(bootstrap, dlq_topic)
    if not partitions:
        raise LookupError(f"no topic {dlq_topic!r} on the broker")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    try:
        await consumer.start()
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        if group_id is None:
            await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(*partitions, timeout_ms=1000)
            for tp_records in batch.values():
                records.extend(
                    r for r in tp_records if r.offset < end[TopicPartition(r.topic, r.partition)]
                )
    except BaseException:
        await consumer.stop()  # the caller stops it only when it gets it back
        raise
    return consumer, records


async def list_dead_letters(bootstrap: str, dlq_topic: str) -> list[DeadLetter]:
    consumer, records = await _read_all(bootstrap, dlq_topic, group_id=None)
    await consumer.stop()
    return [_as_dead_letter(record) for record in records]


async def replay_dead_letters(
    bootstrap: str, dlq_topic: str, topic_prefix: str, include_poison: bool = False
) -> list[DeadLetter]:
    """Re-publish not-yet-replayed dead letters to their original topics; returns them."""
    group_id = f"{topic_prefix}wsis.dlq-replay"
    consumer, records = await _read_all(bootstrap, dlq_topic, group_id=group_id)
    producer = idempotent_producer(bootstrap, client_id=group_id)
    await producer.start()
    replayed: list[DeadLetter] = []
    try:
        for record in records:
            letter = _as_dead_letter(record)
            if letter.reason == "poison" and not include_poison:
                continue
            headers = [(k, v) for k, v in record.headers or () if not k.startswith("dlq_")]
            await producer.send_and_wait(
                topic_prefix + letter.original_topic,
                value=record.value,
                key=record.key,
                headers=[*headers, ("dlq_replayed_from", f"{dlq_topic}@{record.offset}".encode())],
            )
            replayed.append(letter)
        if records:
            last = records[-1]
            await consumer.commit({TopicPartition(last.topic, last.partition): last.offset + 1})
    finally:
        await producer.stop()
        await consumer.stop()
    return replayed

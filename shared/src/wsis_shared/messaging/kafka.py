"""aiokafka producers and admin helpers configured the way every service needs them."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaClient, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from wsis_shared.events import TOPICS
from wsis_shared.logging import get_logger

log = get_logger(__name__)


def idempotent_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    """`acks=all` + idempotence: a retried send never duplicates or reorders within a partition."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=15000,
        retry_backoff_ms=200,
    )


async def ensure_topics(bootstrap: str, prefix: str, client_id: str = "wsis-topics") -> list[str]:
    """Create every platform topic and its dead-letter topic if missing; returns those created."""
    wanted: list[NewTopic] = []
    for spec in TOPICS.values():
        config = {"retention.ms": str(spec.retention_ms)}
        wanted.append(NewTopic(prefix + spec.name, spec.partitions, 1, topic_configs=config))
        wanted.append(NewTopic(prefix + spec.dead_letter, 1, 1, topic_configs=config))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id=client_id)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in wanted if topic.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another replica was first
                await admin.create_topics(missing)
            log.info("kafka.topics.created", topics=[topic.name for topic in missing])
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    """The partitions of `topic` (empty if it does not exist), asked of the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="wsis-describe")
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(TopicPartition(topic, p["partition"]) for p in description["partitions"])


async def broker_reachable(bootstrap: str, timeout_s: float = 2.0) -> bool:
    """True when the broker answers a metadata request (used by `/readyz`)."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(client.bootstrap(), timeout_s)
        return True
    except Exception:
        return False
    finally:
        await client.close()


class ReconnectingProducer:
    """An idempotent producer started on first use and dropped after an error, so the next use
    starts a fresh one (the relays' way through a broker outage)."""

    def __init__(self, bootstrap: str, client_id: str) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None

    async def get(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = idempotent_producer(self._bootstrap, client_id=self._client_id)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def drop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

"""What the platform relies on from Kafka, proved with aiokafka against the real broker.

Runs against the session's own broker, or any broker named by WSIS_KAFKA_BOOTSTRAP (the
docker-compose stack, say); the restart test needs the session's own broker.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.integration.helpers import eventually, read_topic
from wsis_devstack.pytest_plugin import BrokerControl
from wsis_shared.messaging import idempotent_producer
from wsis_shared.messaging.kafka import partitions_of

pytestmark = pytest.mark.integration

NewTopicName = Callable[[int], Awaitable[str]]


@pytest.fixture
async def new_topic(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[NewTopicName]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()

    async def create(partitions: int) -> str:
        name = f"{topic_prefix}contract.{uuid.uuid4().hex[:8]}"
        await admin.create_topics([NewTopic(name, partitions, 1)])
        return name

    yield create
    await admin.close()


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = idempotent_producer(kafka_bootstrap, client_id="contract")
    await producer.start()
    yield producer
    await producer.stop()


async def test_a_topic_is_created_with_its_partitions(
    kafka_bootstrap: str, new_topic: NewTopicName, producer: AIOKafkaProducer
) -> None:
    topic = await new_topic(4)
    assert [tp.partition for tp in await partitions_of(kafka_bootstrap, topic)] == [0, 1, 2, 3]
    # A client's metadata request sees it too (what a producer routes by).
    assert await producer.partitions_for(topic) == {0, 1, 2, 3}


async def test_keys_and_headers_round_trip(
    kafka_bootstrap: str, new_topic: NewTopicName, producer: AIOKafkaProducer
) -> None:
    topic = await new_topic(1)
    headers = [("ce_id", b"42"), ("traceparent", b"00-abc-def-01"), ("empty", b"")]
    await producer.send_and_wait(topic, value=b'{"x": 1}', key=b"entry-1", headers=headers)
    (record,) = await read_topic(kafka_bootstrap, topic)
    assert record.key == b"entry-1"
    assert record.value == b'{"x": 1}'
    assert list(record.headers) == headers


async def test_one_key_stays_in_one_partition_in_order(
    kafka_bootstrap: str, new_topic: NewTopicName, producer: AIOKafkaProducer
) -> None:
    topic = await new_topic(3)
    deliveries = []
    for n in range(200):
        key = f"key-{n % 4}".encode()
        deliveries.append(await producer.send(topic, value=str(n).encode(), key=key))
    await asyncio.gather(*deliveries)
    by_key: dict[bytes, list[ConsumerRecord[bytes, bytes]]] = defaultdict(list)
    for record in await read_topic(kafka_bootstrap, topic):
        assert record.key is not None
        by_key[record.key].append(record)
    assert len(by_key) == 4
    for key, records in by_key.items():
        assert len({r.partition for r in records}) == 1, f"{key!r} spread over partitions"
        records.sort(key=lambda r: r.offset)
        values = [int(r.value or b"-1") for r in records]
        assert values == sorted(values), f"{key!r} out of order"
        assert len(values) == 50


async def test_a_group_of_two_shares_partitions_and_rebalances_when_one_leaves(
    kafka_bootstrap: str, new_topic: NewTopicName, producer: AIOKafkaProducer
) -> None:
    topic = await new_topic(4)
    group = f"contract-group-{uuid.uuid4().hex[:6]}"

    def member() -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=6000,
            heartbeat_interval_ms=500,
        )

    first, second = member(), member()
    await first.start()
    await second.start()
    try:

        async def split() -> bool:
            await asyncio.gather(first.getmany(timeout_ms=200), second.getmany(timeout_ms=200))
            a, b = first.assignment(), second.assignment()
            return len(a) == 2 and len(b) == 2 and not a & b

        await eventually(split, what="the two members to split the four partitions")
        await second.stop()

        async def all_to_first() -> bool:
            await first.getmany(timeout_ms=200)
            return len(first.assignment()) == 4

        await eventually(all_to_first, what="the remaining member to take all partitions")
        for n in range(8):
            await producer.send_and_wait(topic, value=str(n).encode(), key=str(n).encode())
        seen: set[bytes] = set()

        async def consumed_everything() -> bool:
            for records in (await first.getmany(timeout_ms=200)).values():
                seen.update(r.value or b"" for r in records)
            return len(seen) == 8

        await eventually(consumed_everything, what="the remaining member to consume everything")
    finally:
        await first.stop()


async def test_a_consumer_resumes_exactly_after_the_last_commit(
    kafka_bootstrap: str, new_topic: NewTopicName, producer: AIOKafkaProducer
) -> None:
    topic = await new_topic(1)
    group = f"contract-commit-{uuid.uuid4().hex[:6]}"
    for n in range(10):
        await producer.send_and_wait(topic, value=str(n).encode())

    async def consume(count: int, commit_after: int | None) -> list[int]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        values: list[int] = []
        try:
            while len(values) < count:
                for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                    for record in records:
                        if len(values) == count:
                            break
                        values.append(int(record.value or b"-1"))
                        if commit_after is not None and len(values) == commit_after:
                            await consumer.commit({tp: record.offset + 1})
        finally:
            await consumer.stop()
        return values

    # Reads 0..5, commits after 0..3: the next member must resume at 4, so 4 and 5 come again.
    assert await consume(6, commit_after=4) == [0, 1, 2, 3, 4, 5]
    assert await consume(6, commit_after=None) == [4, 5, 6, 7, 8, 9]


async def test_the_idempotent_producer_writes_each_message_once_in_order(
    kafka_bootstrap: str, new_topic: NewTopicName, producer: AIOKafkaProducer
) -> None:
    topic = await new_topic(1)
    deliveries = [
        await producer.send(topic, value=str(n).encode(), key=b"one-key") for n in range(500)
    ]
    metadata = await asyncio.gather(*deliveries)
    assert [m.offset for m in metadata] == list(range(500))
    values = [int(r.value or b"-1") for r in await read_topic(kafka_bootstrap, topic)]
    assert values == list(range(500))


@pytest.mark.parametrize("crash", [False, True], ids=["clean-stop", "sigkill"])
async def test_acknowledged_messages_survive_a_broker_restart(
    kafka_bootstrap: str, new_topic: NewTopicName, broker: BrokerControl, crash: bool
) -> None:
    topic = await new_topic(3)
    producer = idempotent_producer(kafka_bootstrap, client_id="contract-restart")
    await producer.start()
    try:
        for n in range(300):
            await producer.send_and_wait(topic, value=str(n).encode(), key=str(n % 7).encode())
    finally:
        await producer.stop()
    await broker.stop(crash=crash)
    await broker.start()
    values = sorted(int(r.value or b"-1") for r in await read_topic(kafka_bootstrap, topic))
    assert values == list(range(300))


async def test_the_idempotent_producer_retries_across_a_restart_without_duplicates(
    kafka_bootstrap: str, new_topic: NewTopicName, broker: BrokerControl
) -> None:
    """Sends in flight while the broker goes down are retried once it is back: each message
    is written exactly once, in order."""
    topic = await new_topic(1)
    # The platform's producer settings, with a delivery timeout that outlasts a restart on a
    # busy machine (the platform's outbox relay retries a send that timed out instead).
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap,
        client_id="contract-retry",
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=120_000,
        retry_backoff_ms=200,
    )
    await producer.start()
    try:
        before = [await producer.send(topic, value=str(n).encode(), key=b"k") for n in range(200)]
        await asyncio.gather(*before)
        stopping = asyncio.create_task(broker.stop())
        during = []
        for n in range(200, 400):
            during.append(await producer.send(topic, value=str(n).encode(), key=b"k"))
            await asyncio.sleep(0.005)
        await stopping
        in_flight_across_the_restart = sum(not delivery.done() for delivery in during)
        await broker.start()
        metadata = await asyncio.gather(*during)
        assert in_flight_across_the_restart > 0
        assert [m.offset for m in metadata] == sorted(m.offset for m in metadata)
    finally:
        await producer.stop()
    values = [int(r.value or b"-1") for r in await read_topic(kafka_bootstrap, topic)]
    assert values == list(range(400))

"""Consumers apply each event once, dead-letter what they cannot handle, and replay it later."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from tests.integration.helpers import eventually, read_topic
from wsis_shared.events import (
    EntryPublic,
    SubmissionAmended,
    SubmissionWithdrawn,
    Withdrawal,
    encode,
)
from wsis_shared.messaging import (
    INBOX_INDEXES,
    ConsumerRunner,
    Handlers,
    Outbox,
    Tx,
    list_dead_letters,
    replay_dead_letters,
)
from wsis_shared.messaging.kafka import partitions_of
from wsis_shared.mongo import Database, Document, ensure_indexes
from wsis_shared.vocabulary import ActionLine, Category, Region, StakeholderType

pytestmark = pytest.mark.integration


class Switch:
    broken = True


def make_handlers(name: str, switch: Switch) -> Handlers:
    handlers = Handlers(name)

    @handlers.on(SubmissionWithdrawn)
    async def count_withdrawal(event: SubmissionWithdrawn, tx: Tx) -> None:
        await tx.db["applied"].update_one(
            {"_id": str(event.event_id)}, {"$inc": {"times": 1}}, upsert=True, session=tx.session
        )

    @handlers.on(SubmissionAmended)
    async def flaky(event: SubmissionAmended, tx: Tx) -> None:
        await tx.db["applied"].update_one(
            {"_id": str(event.event_id)}, {"$inc": {"times": 1}}, upsert=True, session=tx.session
        )
        if switch.broken:
            raise RuntimeError("handler bug")  # rolls back the write above

    return handlers


def amended() -> SubmissionAmended:
    return SubmissionAmended(
        aggregate_id="entry-9",
        aggregate_version=3,
        edition=2027,
        payload=EntryPublic(
            entry_id="entry-9",
            category=Category.C4,
            title="Digital skills for rural schools",
            short_description="A programme.",
            organisation_id="org-1",
            organisation_name="Org",
            country="KE",
            region=Region.AFRICA,
            stakeholder_type=StakeholderType.CIVIL_SOCIETY,
            action_lines=(ActionLine.C4,),
            sdgs=(4,),
        ),
    )


def withdrawal_of(entry_id: str) -> SubmissionWithdrawn:
    return SubmissionWithdrawn(
        aggregate_id=entry_id,
        aggregate_version=2,
        edition=2027,
        payload=Withdrawal(entry_id=entry_id, category=Category.C4),
    )


def runner_for(
    handlers: Handlers,
    client: AsyncMongoClient[Document],
    db: Database,
    bootstrap: str,
    prefix: str,
) -> ConsumerRunner:
    return ConsumerRunner(
        handlers,
        client=client,
        db=db,
        outbox=Outbox(db, "/tests"),
        bootstrap=bootstrap,
        topic_prefix=prefix,
        max_attempts=3,
        retry_backoff_s=0.05,
    )


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


@contextlib.asynccontextmanager
async def running(runner: ConsumerRunner) -> AsyncIterator[None]:
    """The runner consumes until the block ends, then stops cleanly."""
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def run_until(runner: ConsumerRunner, done: asyncio.Event | None, seconds: float) -> None:
    async with running(runner):
        if done is not None:
            await asyncio.wait_for(done.wait(), seconds)
        else:
            await asyncio.sleep(seconds)


async def test_each_event_applied_once_poison_dead_lettered_and_replayed(
    mongo_client: AsyncMongoClient[Document],
    db: Database,
    kafka_bootstrap: str,
    topics: str,
    producer: AIOKafkaProducer,
) -> None:
    await ensure_indexes(db, {**INBOX_INDEXES, "applied": []})
    switch = Switch()
    handlers = make_handlers(f"tests-{uuid.uuid4().hex[:6]}", switch)
    topic = f"{topics}wsis.submissions.v1"
    withdrawn = withdrawal_of("entry-1")
    failing = amended()
    unknown_type = json.loads(encode(withdrawn)) | {"event_type": "submission.teleported"}
    for value in (
        encode(withdrawn),
        encode(withdrawn),  # the same event delivered twice
        b"{not json",
        json.dumps(unknown_type).encode(),
        encode(failing),
    ):
        await producer.send_and_wait(topic, value=value, key=b"entry-1")

    def new_runner() -> ConsumerRunner:
        return runner_for(handlers, mongo_client, db, kafka_bootstrap, topics)

    async def three_dead_letters() -> bool:
        return len(await read_topic(kafka_bootstrap, f"{topic}.dlq")) >= 3

    runner = new_runner()
    async with running(runner):
        await eventually(three_dead_letters, what="three dead letters")

    applied = {d["_id"]: d["times"] async for d in db["applied"].find()}
    assert applied == {str(withdrawn.event_id): 1}

    letters = await list_dead_letters(kafka_bootstrap, f"{topic}.dlq")
    assert [(letter.reason, letter.attempts) for letter in letters] == [
        ("poison", 0),
        ("poison", 0),
        ("handler-failed", 3),
    ]
    assert "not JSON" in letters[0].error
    assert "submission.teleported" in letters[1].error
    assert "handler bug" in letters[2].error
    assert letters[2].event_id == str(failing.event_id)
    assert letters[2].original_topic == "wsis.submissions.v1"

    # The bug is fixed; the operator replays: the failed event is applied, once.
    switch.broken = False
    replayed = await replay_dead_letters(kafka_bootstrap, f"{topic}.dlq", topics)
    assert [letter.event_id for letter in replayed] == [str(failing.event_id)]
    assert await replay_dead_letters(kafka_bootstrap, f"{topic}.dlq", topics) == []

    async def failing_applied() -> bool:
        return await db["applied"].find_one({"_id": str(failing.event_id)}) is not None

    async with running(new_runner()):
        await eventually(failing_applied, what="the replayed event to be applied")

    # A crash that loses the committed offsets redelivers everything: nothing changes.
    rewind = AIOKafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=runner.group_id, enable_auto_commit=False
    )
    partitions = await partitions_of(kafka_bootstrap, topic)
    await rewind.start()
    rewind.assign(partitions)
    await rewind.commit(dict.fromkeys(partitions, 0))
    await rewind.stop()
    await run_until(new_runner(), None, 4.0)

    applied = {d["_id"]: d["times"] async for d in db["applied"].find()}
    assert applied == {str(withdrawn.event_id): 1, str(failing.event_id): 1}


async def test_a_header_without_a_value_or_json_nested_too_deep_never_stops_the_consumer(
    mongo_client: AsyncMongoClient[Document],
    db: Database,
    kafka_bootstrap: str,
    topics: str,
    producer: AIOKafkaProducer,
) -> None:
    """Either used to end the runner, and with it the worker, which met the same message again
    after every restart. The first is an event like any other; the second is poison."""
    await ensure_indexes(db, {**INBOX_INDEXES, "applied": []})
    handlers = make_handlers(f"tests-{uuid.uuid4().hex[:6]}", Switch())
    topic = f"{topics}wsis.submissions.v1"
    with_empty_header, after = withdrawal_of("entry-1"), withdrawal_of("entry-2")
    for value in (encode(with_empty_header), b"[" * 100_000, encode(after)):
        await producer.send_and_wait(topic, value=value, key=b"k", headers=[("x-empty", None)])

    async def both_applied() -> bool:
        return await db["applied"].count_documents({}) == 2

    async with running(runner_for(handlers, mongo_client, db, kafka_bootstrap, topics)):
        await eventually(both_applied, what="the events around the poison")

    [letter] = await list_dead_letters(kafka_bootstrap, f"{topic}.dlq")
    assert letter.reason == "poison"
    assert "not JSON" in letter.error


async def test_a_clean_batch_is_applied_once_per_event_and_redelivery_changes_nothing(
    mongo_client: AsyncMongoClient[Document],
    db: Database,
    kafka_bootstrap: str,
    topics: str,
    producer: AIOKafkaProducer,
) -> None:
    await ensure_indexes(db, {**INBOX_INDEXES, "applied": []})
    handlers = make_handlers(f"tests-{uuid.uuid4().hex[:6]}", Switch())
    topic = f"{topics}wsis.submissions.v1"
    events = [withdrawal_of(f"entry-{n}") for n in range(120)]
    for event in [*events, events[0], events[-1]]:  # two delivered twice, in the same batch
        await producer.send_and_wait(topic, value=encode(event), key=b"one-partition")

    async def all_applied() -> bool:
        return await db["applied"].count_documents({}) == len(events)

    runner = runner_for(handlers, mongo_client, db, kafka_bootstrap, topics)
    async with running(runner):
        await eventually(all_applied, what="every event of the batch")
    assert {d["times"] async for d in db["applied"].find()} == {1}
    assert await db["inbox"].count_documents({}) == len(events)


async def test_partitions_fetched_together_are_applied_side_by_side(
    mongo_client: AsyncMongoClient[Document],
    db: Database,
    kafka_bootstrap: str,
    topics: str,
    producer: AIOKafkaProducer,
) -> None:
    await ensure_indexes(db, {**INBOX_INDEXES, "applied": []})
    handlers = Handlers(f"tests-{uuid.uuid4().hex[:6]}")
    started = {"entry-a": asyncio.Event(), "entry-b": asyncio.Event()}
    met: set[str] = set()

    @handlers.on(SubmissionWithdrawn)
    async def apply(event: SubmissionWithdrawn, tx: Tx) -> None:
        # Each partition's transaction waits for the other's to begin: applied one after the
        # other, the first would wait in vain.
        me = event.aggregate_id
        other = next(entry for entry in started if entry != me)
        started[me].set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(started[other].wait(), 5)
            met.add(me)
        await tx.db["applied"].update_one(
            {"_id": me}, {"$inc": {"times": 1}}, upsert=True, session=tx.session
        )

    topic = f"{topics}wsis.submissions.v1"
    for partition, entry_id in enumerate(started):
        await producer.send_and_wait(
            topic, value=encode(withdrawal_of(entry_id)), partition=partition
        )

    async def both_applied() -> bool:
        return await db["applied"].count_documents({}) == 2

    runner = runner_for(handlers, mongo_client, db, kafka_bootstrap, topics)
    async with running(runner):
        await eventually(both_applied, what="both partitions' events")
    assert met == set(started)
    assert {d["times"] async for d in db["applied"].find()} == {1}


async def test_a_gathering_consumer_takes_a_trickle_of_events_in_few_batches(
    mongo_client: AsyncMongoClient[Document],
    db: Database,
    kafka_bootstrap: str,
    topics: str,
    producer: AIOKafkaProducer,
) -> None:
    await ensure_indexes(db, INBOX_INDEXES)
    handlers = Handlers(f"tests-{uuid.uuid4().hex[:6]}", gather_ms=1500)
    batches: list[list[str]] = []

    @handlers.on_batch(SubmissionWithdrawn)
    async def apply(events: list[SubmissionWithdrawn], tx: Tx) -> None:
        batches.append([event.aggregate_id for event in events])

    topic = f"{topics}wsis.submissions.v1"

    async def send(entry_id: str) -> None:
        await producer.send_and_wait(topic, value=encode(withdrawal_of(entry_id)), partition=0)

    async def applied(count: int) -> bool:
        return sum(map(len, batches)) == count

    runner = runner_for(handlers, mongo_client, db, kafka_bootstrap, topics)
    async with running(runner):
        # A lone event is not held back for ever: it comes once the gathering time is over.
        await send("lone")
        await eventually(lambda: applied(1), what="the lone event")
        # A trickle — one event every 30 ms — is gathered: without gathering, each fetch
        # would bring the one or two events that arrived since the last.
        for n in range(10):
            await send(f"trickle-{n}")
            await asyncio.sleep(0.03)
        await eventually(lambda: applied(11), what="the trickle")
    assert batches[0] == ["lone"]
    assert len(batches) <= 3, batches

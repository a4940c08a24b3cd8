"""The outbox delivers every event, also when the broker was down while they were written."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from pymongo import AsyncMongoClient

from tests.integration.helpers import eventually, read_topic
from wsis_devstack.pytest_plugin import BrokerControl
from wsis_shared.events import SubmissionWithdrawn, Withdrawal
from wsis_shared.messaging import Outbox, OutboxRelay
from wsis_shared.mongo import Database, Document, Session, in_transaction
from wsis_shared.vocabulary import Category

pytestmark = pytest.mark.integration


def withdrawal(n: int) -> SubmissionWithdrawn:
    entry_id = f"entry-{n}"
    return SubmissionWithdrawn(
        aggregate_id=entry_id,
        aggregate_version=2,
        edition=2027,
        payload=Withdrawal(entry_id=entry_id, category=Category.C4, reason=f"test {n}"),
    )


async def write_state_and_events(
    client: AsyncMongoClient[Document],
    db: Database,
    outbox: Outbox,
    events: list[SubmissionWithdrawn],
) -> None:
    """What a request does: a state change and its event in one transaction."""
    for event in events:

        async def work(session: Session, event: SubmissionWithdrawn = event) -> None:
            await db["entries"].insert_one({"_id": event.aggregate_id}, session=session)
            await outbox.add(event, session)

        await in_transaction(client, work)


async def test_an_aborted_transaction_leaves_no_event(
    mongo_client: AsyncMongoClient[Document], db: Database
) -> None:
    outbox = Outbox(db, "/tests")
    await db.create_collection("outbox")

    async def work(session: Session) -> None:
        await outbox.add(withdrawal(1), session)
        raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        await in_transaction(mongo_client, work)
    assert await db["outbox"].count_documents({}) == 0


async def test_every_event_is_published_after_the_broker_was_down(
    mongo_client: AsyncMongoClient[Document],
    db: Database,
    kafka_bootstrap: str,
    topics: str,
    broker: BrokerControl,
) -> None:
    await db.create_collection("entries")
    await db.create_collection("outbox")
    outbox = Outbox(db, "/tests")
    relay = OutboxRelay(
        db, service="tests", bootstrap=kafka_bootstrap, topic_prefix=topics, poll_interval_s=0.05
    )
    stop = asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop))

    async def all_sent() -> bool:
        return await db["outbox"].count_documents({"sent_at": None}) == 0

    try:
        before = [withdrawal(n) for n in range(40)]
        await write_state_and_events(mongo_client, db, outbox, before)
        await eventually(all_sent, what="the first events to be published")

        await broker.stop()
        during = [withdrawal(n) for n in range(40, 80)]
        # Requests keep succeeding while Kafka is down: the events wait in the outbox.
        await write_state_and_events(mongo_client, db, outbox, during)
        await asyncio.sleep(1.0)
        assert await db["outbox"].count_documents({"sent_at": None}) == len(during)

        await broker.start()
        await eventually(all_sent, timeout_s=90, what="the backlog to be published")
    finally:
        stop.set()
        await relay_task

    records = await read_topic(kafka_bootstrap, f"{topics}wsis.submissions.v1")
    published_ids = {json.loads(r.value or b"{}")["event_id"] for r in records}
    assert published_ids == {str(e.event_id) for e in before + during}
    for record in records:
        headers = dict(record.headers)
        assert headers["ce_type"] == b"org.itu.wsis.submission.withdrawn"
        assert record.key is not None
        assert uuid.UUID(headers["ce_id"].decode())

"""`GET /dead-letters` on the submissions service: an admin sees how many dead letters wait on
each topic and the latest ones (consumer, reason, time, event type, offset), never the event
itself; a broker that is down is a prompt 503, not a request left hanging."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from pymongo import AsyncMongoClient

from tests.integration.helpers import eventually, read_topic
from wsis_devstack.processes import free_ports
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.events import EntryPublic, SubmissionAmended, encode
from wsis_shared.messaging import INBOX_INDEXES, ConsumerRunner, Handlers, Outbox, Tx
from wsis_shared.mongo import Database, Document, ensure_indexes
from wsis_shared.vocabulary import ActionLine, Category, Region, Role, StakeholderType
from wsis_submissions.app import create_app
from wsis_submissions.settings import SubmissionsSettings

pytestmark = pytest.mark.integration

SECRET_NAME = "Ada Lovelace-Byron"  # personal data in an event: must never be shown


@pytest.fixture
def keys(tmp_path: Path) -> tuple[bytes, Path]:
    private, public = ensure_dev_keys(tmp_path / "keys")
    return private.read_bytes(), public


def token(private: bytes, role: Role) -> dict[str, str]:
    signed = sign_dev_token(
        private,
        subject=f"dlq-{role.value}",
        roles=[role],
        organisation_id="org-dlq" if role is Role.SUBMITTER else None,
    )
    return {"Authorization": f"Bearer {signed}"}


async def client_for(
    settings: SubmissionsSettings,
) -> AsyncIterator[tuple[httpx.AsyncClient, SubmissionsSettings]]:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        try:
            yield http, settings
        finally:
            await app.state.resources.mongo.drop_database(app.state.resources.db.name)


def amended() -> SubmissionAmended:
    return SubmissionAmended(
        aggregate_id="entry-dlq-1",
        aggregate_version=2,
        edition=2034,
        payload=EntryPublic(
            entry_id="entry-dlq-1",
            category=Category.C4,
            title="Digital skills for rural schools",
            short_description=f"A programme led by {SECRET_NAME}.",
            organisation_id="org-dlq",
            organisation_name=SECRET_NAME,
            country="KE",
            region=Region.AFRICA,
            stakeholder_type=StakeholderType.CIVIL_SOCIETY,
            action_lines=(ActionLine.C4,),
            sdgs=(4,),
        ),
    )


async def dead_letter_some(
    mongo_client: AsyncMongoClient[Document], db: Database, bootstrap: str, prefix: str
) -> SubmissionAmended:
    """Two dead letters on `wsis.submissions.v1`: one unreadable, one whose handler fails."""
    await ensure_indexes(db, {**INBOX_INDEXES})
    handlers = Handlers(f"tests-dlq-{uuid.uuid4().hex[:6]}")

    @handlers.on(SubmissionAmended)
    async def broken(event: SubmissionAmended, tx: Tx) -> None:
        raise RuntimeError(f"handler bug about {SECRET_NAME}")

    failing = amended()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        topic = f"{prefix}wsis.submissions.v1"
        poison = json.dumps({"name": SECRET_NAME}).encode() + b"{not json"
        await producer.send_and_wait(topic, value=poison, key=b"entry-dlq-1")
        await producer.send_and_wait(topic, value=encode(failing), key=b"entry-dlq-1")
    finally:
        await producer.stop()
    runner = ConsumerRunner(
        handlers,
        client=mongo_client,
        db=db,
        outbox=Outbox(db, "/tests"),
        bootstrap=bootstrap,
        topic_prefix=prefix,
        max_attempts=2,
        retry_backoff_s=0.05,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))

    async def two_dead_letters() -> bool:
        return len(await read_topic(bootstrap, f"{topic}.dlq")) >= 2

    try:
        await eventually(two_dead_letters, what="two dead letters")
    finally:
        stop.set()
        await task
    return failing


async def test_an_admin_sees_counts_and_the_latest_without_payloads(
    mongo_client: AsyncMongoClient[Document],
    db: Database,
    kafka_bootstrap: str,
    topics: str,
    mongo_uri: str,
    mongo_db_prefix: str,
    keys: tuple[bytes, Path],
) -> None:
    private, public = keys
    failing = await dead_letter_some(mongo_client, db, kafka_bootstrap, topics)
    settings = SubmissionsSettings(
        mongo_uri=mongo_uri,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topics,
        mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
        jwt_public_key_file=public,
    )
    async for http, _ in client_for(settings):
        assert (await http.get("/dead-letters")).status_code == 401
        for role in (Role.SUBMITTER, Role.REVIEWER, Role.CHAIR, Role.VOTER):
            refused = await http.get("/dead-letters", headers=token(private, role))
            assert refused.status_code == 403, role
            assert refused.headers["content-type"] == "application/problem+json"

        answer = await http.get("/dead-letters", headers=token(private, Role.ADMIN))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        by_topic = {t["topic"]: t for t in body["topics"]}
        assert set(by_topic) == {
            "wsis.editions.v1",
            "wsis.submissions.v1",
            "wsis.review.v1",
            "wsis.votes.v1",
            "wsis.voting.v1",
            "wsis.stocktaking.v1",
        }
        submissions = by_topic["wsis.submissions.v1"]
        assert submissions["exists"] is True
        assert submissions["count"] == 2
        assert submissions["dead_letter_topic"] == f"{topics}wsis.submissions.v1.dlq"
        assert body["total"] == 2
        assert all(t["count"] == 0 for name, t in by_topic.items() if name != submissions["topic"])
        latest = submissions["latest"]
        # the most recent first: the handler failure, then the unreadable message
        assert [(d["reason"], d["offset"]) for d in latest] == [
            ("handler-failed", 1),
            ("poison", 0),
        ]
        assert latest[0]["event_type"] == "submission.amended"
        assert latest[0]["event_id"] == str(failing.event_id)
        assert latest[0]["attempts"] == 2
        assert latest[0]["consumer"].startswith("tests-dlq-")
        assert latest[0]["failed_at"]
        assert submissions["replay_command"] == (
            f"python -m wsis_shared dlq replay --topic wsis.submissions.v1 --prefix {topics}"
        )
        # neither the event nor the error text (both may hold personal data)
        assert SECRET_NAME not in answer.text
        assert "handler bug" not in answer.text

        one = await http.get("/dead-letters?latest=1", headers=token(private, Role.ADMIN))
        assert [d["offset"] for d in one.json()["topics"][1]["latest"]] == [1]


async def test_a_broker_that_is_down_is_a_prompt_503(
    mongo_uri: str, mongo_db_prefix: str, keys: tuple[bytes, Path]
) -> None:
    private, public = keys
    (nobody,) = free_ports(1)
    settings = SubmissionsSettings(
        mongo_uri=mongo_uri,
        kafka_bootstrap=f"127.0.0.1:{nobody}",
        mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
        jwt_public_key_file=public,
    )
    async for http, _ in client_for(settings):
        started = time.monotonic()
        answer = await http.get("/dead-letters", headers=token(private, Role.ADMIN))
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == "unavailable"
        assert time.monotonic() - started < 10

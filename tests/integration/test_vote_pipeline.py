"""Votes on the real mongod and broker: one per voter and category under a burst, group-committed
writes each with their own answer, and the path votes → change-stream relay → Kafka → tally that
neither loses nor doubles a vote, even when the relay starts over from scratch."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pymongo import AsyncMongoClient, monitoring

from tests.integration.helpers import eventually
from wsis_devstack.processes import free_port
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.events import EditionSchedule, NomineeCard, utcnow
from wsis_shared.runtime import Resources, run_worker
from wsis_shared.uow import MongoUnitOfWorkRunner
from wsis_shared.vocabulary import Category, Phase, Region, Role, StakeholderType
from wsis_voting.adapters import vote_relay
from wsis_voting.adapters.repositories import VotingUnitOfWork
from wsis_voting.adapters.vote_store import MongoVoteStore
from wsis_voting.app import SERVICE, create_app
from wsis_voting.domain.ballot import Nominee, VotingEdition
from wsis_voting.service_layer import tally_audit
from wsis_voting.settings import VotingSettings

pytestmark = pytest.mark.integration

YEAR = 2036
NOMINEES = {Category.C4: ["c4-a", "c4-b", "c4-c"], Category.C9: ["c9-a", "c9-b"]}


@dataclass
class VotingApi:
    http: httpx.AsyncClient
    resources: Resources
    settings: VotingSettings
    private_key: bytes

    def voter(self, name: str) -> dict[str, str]:
        token = sign_dev_token(self.private_key, subject=name, roles=[Role.VOTER])
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(
    mongo_uri: str,
    mongo_db_prefix: str,
    kafka_bootstrap: str,
    topics: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[VotingApi]:
    private_key, public_key = ensure_dev_keys(tmp_path_factory.mktemp("keys"))
    settings = VotingSettings(
        mongo_uri=mongo_uri,
        mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topics,
        jwt_public_key_file=public_key,
        # The unique index is under test here, not the per-voter limit (tested with the voters).
        rate_limits_enabled=False,
    )
    app = create_app(settings)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http,
    ):
        resources: Resources = app.state.resources
        now = utcnow()
        edition = VotingEdition(
            year=YEAR,
            phase=Phase.VOTING,
            schedule=EditionSchedule(
                submission_opens=now - timedelta(days=90),
                submission_closes=now - timedelta(days=60),
                review_closes=now - timedelta(days=30),
                voting_opens=now - timedelta(days=1),
                voting_closes=now + timedelta(days=10),
                results_at=now + timedelta(days=20),
            ),
            categories=tuple(NOMINEES),
        )
        await resources.db["editions"].insert_one(edition.model_dump() | {"_id": YEAR})
        for category, entries in NOMINEES.items():
            for entry_id in entries:
                nominee = Nominee(
                    card=NomineeCard(
                        entry_id=entry_id,
                        category=category,
                        title=entry_id,
                        short_description="…",
                        organisation_name="Org",
                        country="KE",
                        region=Region.AFRICA,
                        stakeholder_type=StakeholderType.ACADEMIA,
                    ),
                    edition=YEAR,
                    nominated=True,
                )
                await resources.db["nominees"].insert_one(nominee.model_dump() | {"_id": entry_id})
        yield VotingApi(http, resources, settings, private_key.read_bytes())
        await resources.mongo.drop_database(resources.db.name)


async def test_200_concurrent_attempts_of_one_voter_in_one_category_make_one_vote(
    api: VotingApi,
) -> None:
    headers = api.voter("eager-voter")

    responses = await asyncio.gather(
        *(
            api.http.post(
                f"/editions/{YEAR}/votes",
                json={"category": "C4", "entry_id": NOMINEES[Category.C4][n % 3]},
                headers=headers,
            )
            for n in range(200)
        )
    )

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 199, codes
    receipt = next(r.json()["receipt_id"] for r in responses if r.status_code == 201)
    assert {r.json()["receipt_id"] for r in responses if r.status_code == 409} == {receipt}
    assert await api.resources.db["votes"].count_documents({}) == 1


async def test_a_retry_with_the_same_idempotency_key_gets_the_first_receipt(
    api: VotingApi,
) -> None:
    headers = api.voter("retrying-voter") | {"Idempotency-Key": "tap-1"}
    body = {"category": "C9", "entry_id": "c9-a"}

    first = await api.http.post(f"/editions/{YEAR}/votes", json=body, headers=headers)
    again = await api.http.post(f"/editions/{YEAR}/votes", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()


async def _worker_until_counted(api: VotingApi, expected: int) -> None:
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(SERVICE, api.settings, stop))
    runner = MongoUnitOfWorkRunner(api.resources, VotingUnitOfWork)
    try:

        async def all_counted() -> bool:
            check = await tally_audit.verify(runner, edition=YEAR)
            return check.ok and check.uncounted == 0 and check.counted_votes == expected

        await eventually(all_counted, timeout_s=60, what=f"{expected} votes to be counted")
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)


async def test_every_accepted_vote_is_counted_once_even_when_the_relay_starts_over(
    api: VotingApi,
) -> None:
    ballots = [
        (f"voter-{n}", category, entries[n % len(entries)])
        for n in range(150)
        for category, entries in NOMINEES.items()
    ]
    responses = await asyncio.gather(
        *(
            api.http.post(
                f"/editions/{YEAR}/votes",
                json={"category": category, "entry_id": entry_id},
                headers=api.voter(voter),
            )
            for voter, category, entry_id in ballots
        )
    )
    assert {r.status_code for r in responses} == {201}

    await _worker_until_counted(api, len(ballots))
    tallies = {d["_id"]: d["votes"] async for d in api.resources.db["tallies"].find()}
    assert sum(tallies.values()) == len(ballots)
    assert tallies[f"{YEAR}:C4:c4-a"] == 50

    # The relay forgets where it was: it re-publishes every vote; the tally does not move.
    await api.resources.db["relay_state"].delete_many({})
    more = await api.http.post(
        f"/editions/{YEAR}/votes",
        json={"category": "C4", "entry_id": "c4-b"},
        headers=api.voter("late-voter"),
    )
    assert more.status_code == 201
    await _worker_until_counted(api, len(ballots) + 1)
    after = {d["_id"]: d["votes"] async for d in api.resources.db["tallies"].find()}
    assert after == tallies | {f"{YEAR}:C4:c4-b": tallies[f"{YEAR}:C4:c4-b"] + 1}


async def _operator(api: VotingApi, *command: str, mongo_uri: str | None = None) -> tuple[int, str]:
    """`python -m wsis_voting …` as an operator runs it: the environment names MongoDB and the
    databases, nothing else (no token key: the command serves no HTTP)."""
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("WSIS_")
    } | {
        "WSIS_MONGO_URI": mongo_uri or api.settings.mongo_uri,
        "WSIS_MONGO_DB_PREFIX": api.settings.mongo_db_prefix,
        "WSIS_LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wsis_voting",
        *command,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_the_operator_finds_a_tally_difference_and_rebuilds_it_from_the_command_line(
    api: VotingApi,
) -> None:
    ballots = [(f"voter-{n}", "C4", NOMINEES[Category.C4][n % 3]) for n in range(9)]
    for voter, category, entry_id in ballots:
        cast = await api.http.post(
            f"/editions/{YEAR}/votes",
            json={"category": category, "entry_id": entry_id},
            headers=api.voter(voter),
        )
        assert cast.status_code == 201
    await _worker_until_counted(api, len(ballots))

    assert await _operator(api, "tally", "verify", "--edition", str(YEAR)) == (
        0,
        "counted votes: 9; not yet counted (tally lag): 0; differences: 0\n",
    )

    await api.resources.db["tallies"].update_one({"_id": f"{YEAR}:C4:c4-b"}, {"$inc": {"votes": 2}})
    status, report = await _operator(api, "tally", "verify")
    assert status == 1
    assert report.splitlines() == [
        "counted votes: 9; not yet counted (tally lag): 0; differences: 1",
        f"  {YEAR} C4 c4-b: tally 5, votes 3",
    ]

    status, report = await _operator(api, "tally", "rebuild", "--edition", str(YEAR))
    assert status == 0, report
    assert (await _operator(api, "tally", "verify"))[0] == 0
    tallies = {d["_id"]: d["votes"] async for d in api.resources.db["tallies"].find()}
    assert tallies == {f"{YEAR}:C4:{entry_id}": 3 for entry_id in NOMINEES[Category.C4]}


async def test_the_operator_reads_one_line_when_mongodb_is_out_of_reach(api: VotingApi) -> None:
    port = free_port()
    status, report = await _operator(
        api,
        "tally",
        "verify",
        mongo_uri=f"mongodb://operator:hunter2@127.0.0.1:{port}/?serverSelectionTimeoutMS=500",
    )
    assert status == 2
    assert report.startswith(
        f"wsis_voting: cannot reach MongoDB at mongodb://127.0.0.1:{port}/"
        "?serverSelectionTimeoutMS=500 (WSIS_MONGO_URI): "
    )
    assert len(report.splitlines()) == 1
    assert "hunter2" not in report


class _Commands(monitoring.CommandListener):
    """The commands a client sent, as (name, collection)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append((event.command_name, str(event.command.get(event.command_name))))

    def of(self, name: str) -> list[str]:
        return [collection for command, collection in self.sent if command == name]

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_a_quiet_relay_leaves_its_state_alone_while_the_rest_of_the_cluster_writes(
    api: VotingApi, mongo_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The token only has to be kept now and then while no vote comes; the interval is shortened
    # so that the test sees one such save.
    monkeypatch.setattr(vote_relay, "IDLE_TOKEN_SAVE_INTERVAL_S", 1.5)
    listener = _Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_uri, tz_aware=True, event_listeners=[listener]
    )
    relay = vote_relay.VoteRelay(
        client[api.resources.db.name],
        bootstrap=api.settings.kafka_bootstrap,
        topic_prefix=api.settings.topic_prefix,
        pseudonym_key=b"k" * 32,
    )
    saves: list[object] = []
    save = relay._save

    async def counted_save(token: object) -> None:
        saves.append(token)
        await save(token)

    monkeypatch.setattr(relay, "_save", counted_save)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        await eventually(_state_stored(api), timeout_s=30, what="the relay to start following")
        started, polls_before = len(saves), len(listener.of("getMore"))
        elsewhere = api.resources.db["unrelated_writes"]
        for n in range(40):  # two seconds of other writes: the stream's token keeps moving
            await elsewhere.insert_one({"n": n})
            await asyncio.sleep(0.05)
        assert 1 <= len(saves) - started <= 2  # at most once per interval, not once per write
        # Quiet, it pauses up to a quarter of a second between polls: a few polls a second, not
        # one every few milliseconds.
        assert len(listener.of("getMore")) - polls_before <= 12

        before_vote = len(saves)
        vote = await api.http.post(
            f"/editions/{YEAR}/votes",
            json={"category": "C9", "entry_id": "c9-a"},
            headers=api.voter("quiet-voter"),
        )
        assert vote.status_code == 201

        async def saved_after_the_vote() -> bool:
            return len(saves) > before_vote

        await eventually(saved_after_the_vote, timeout_s=30, what="the relayed vote's token")
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
        await client.close()


def _state_stored(api: VotingApi) -> Callable[[], Awaitable[bool]]:
    async def stored() -> bool:
        return (
            await api.resources.db["relay_state"].find_one({"_id": vote_relay.STATE_ID}) is not None
        )

    return stored


async def test_a_peak_of_votes_reads_the_window_and_the_ballot_once_per_expiry(
    api: VotingApi, mongo_uri: str
) -> None:
    listener = _Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_uri, tz_aware=True, event_listeners=[listener]
    )
    store = MongoVoteStore(client[api.resources.db.name], cache_seconds=0.5)
    try:
        for expiry in range(2):
            editions = await asyncio.gather(*(store.edition(YEAR) for _ in range(100)))
            nominees = await asyncio.gather(*(store.nominee("c4-a") for _ in range(100)))
            assert {e.phase for e in editions} == {Phase.VOTING}
            assert {n.card.entry_id for n in nominees if n} == {"c4-a"}
            assert listener.of("find") == ["editions", "nominees"] * (expiry + 1)
            await asyncio.sleep(0.6)  # past the cache's life: the next peak reads once more
        assert await store.nominee("no-such-entry") is None
    finally:
        await store.close()
        await client.close()

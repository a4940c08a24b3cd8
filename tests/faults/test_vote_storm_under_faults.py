"""A public vote storm while the infrastructure fails under it.

During STORM_VOTES votes the broker is SIGKILLed and restarted twice, the voting worker is
SIGKILLed mid-batch and restarted, and mongod is restarted once. Voters do what a voting page
does: retry with the same Idempotency-Key until they get an answer. Afterwards every accepted
vote is counted exactly once (tally, `tally verify`, and Stocktaking's public counts), every
refused one not at all, and the champions are the ones the planned votes make.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.faults.conftest import SplitPlatform
from tests.integration.helpers import eventually, read_topic
from wsis_devstack.demo import DEMO_YEAR, DemoTokens, load_demo_data
from wsis_devstack.pytest_plugin import BrokerControl, MongodControl
from wsis_shared.events import ChampionsAnnounced, decode
from wsis_shared.vocabulary import Role

# A storm paced over minutes plus restarts of a JVM and mongod on 2 shared cores.
pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(1200)]

STORM_VOTES = int(os.environ.get("WSIS_FAULTS_VOTES", "20000"))
# Paced, so that the storm outlasts the faults (a broker takes tens of seconds to start here).
STORM_SECONDS = float(os.environ.get("WSIS_FAULTS_STORM_SECONDS", "150"))
CATEGORIES_PER_VOTER = 3
CONCURRENCY = 32


@dataclass
class Ballot:
    voter: str
    token: str
    category: str
    entry_id: str


@dataclass
class Outcomes:
    accepted: dict[tuple[str, str], str] = field(default_factory=dict)  # (voter, cat) -> entry
    refused: Counter[int] = field(default_factory=Counter)  # final 4xx answers by status
    retries: int = 0
    retried: Counter[int] = field(default_factory=Counter)  # answers that made a voter retry
    accepted_at: list[float] = field(default_factory=list)


@dataclass
class Fault:
    name: str
    began: float
    down_s: float = 0.0
    first_vote_after_s: float | None = None  # from the end of the fault to the next accepted
    backlog: int = 0  # accepted votes the tally had not counted when the fault ended
    drained_s: float | None = None  # from the end of the fault until that backlog was counted


async def cast_until_answered(
    http: aiohttp.ClientSession, voting: str, ballot: Ballot, outcomes: Outcomes, *, key: str
) -> int:
    """What a voting page does: the same Idempotency-Key until the platform answers."""
    first = True
    while True:
        try:
            async with http.post(
                f"{voting}/editions/{DEMO_YEAR}/votes",
                json={"category": ballot.category, "entry_id": ballot.entry_id},
                headers={"Authorization": f"Bearer {ballot.token}", "Idempotency-Key": key},
            ) as response:
                body = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status, body = 0, "no answer"
        if status == 201:
            outcomes.accepted[(ballot.voter, ballot.category)] = ballot.entry_id
            outcomes.accepted_at.append(time.monotonic())
            return status
        if status == 409 and "already voted" in body and not first:
            # An earlier attempt was stored but its answer lost, and its idempotency record
            # with it: the vote stands.
            outcomes.accepted[(ballot.voter, ballot.category)] = ballot.entry_id
            outcomes.accepted_at.append(time.monotonic())
            return 201
        if status in (0, 500, 502, 503, 504):
            outcomes.retries += 1
            outcomes.retried[status] += 1
            first = False
            await asyncio.sleep(0.2)
            continue
        outcomes.refused[status] += 1
        return status


def plan(nominees: dict[str, list[str]], tokens: list[str]) -> list[Ballot]:
    rng = random.Random(20)
    categories = sorted(nominees)
    # Skewed preferences, so that the ranks are clear (no ties for the tie rule to decide).
    weights = {c: [2.0**-i for i in range(len(nominees[c]))] for c in categories}
    ballots = [
        Ballot(f"storm-{v}", token, c, rng.choices(nominees[c], weights[c])[0])
        for v, token in enumerate(tokens)
        for c in rng.sample(categories, CATEGORIES_PER_VOTER)
    ]
    rng.shuffle(ballots)
    return ballots


async def inject_faults(
    outcomes: Outcomes,
    started: float,
    broker: BrokerControl,
    mongod: MongodControl,
    platform: SplitPlatform,
    faults: list[Fault],
    uncounted: Callable[[], Awaitable[int]],
    rate: float,
) -> None:
    async def when(fraction: float) -> None:
        await asyncio.sleep(max(0.0, started + fraction * STORM_SECONDS - time.monotonic()))

    async def timed(name: str, action: Any) -> None:
        fault = Fault(name, time.monotonic())
        faults.append(fault)
        await action()
        fault.down_s = time.monotonic() - fault.began
        ended, seen = time.monotonic(), len(outcomes.accepted_at)
        while len(outcomes.accepted_at) == seen and time.monotonic() < ended + 60:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if len(outcomes.accepted_at) > seen:
            fault.first_vote_after_s = max(0.0, outcomes.accepted_at[seen] - ended)
        # Recovered when the tally is back to less than a second of votes behind.
        fault.backlog = await uncounted()
        while time.monotonic() < ended + 120:
            if await uncounted() <= rate:
                fault.drained_s = time.monotonic() - ended
                break
            await asyncio.sleep(0.5)

    async def broker_crash() -> None:
        await broker.stop(crash=True)
        await asyncio.sleep(3)
        await broker.start()

    async def worker_crash() -> None:
        await asyncio.to_thread(platform.kill_worker, "voting")

    async def mongod_restart() -> None:
        await mongod.restart()

    await when(0.10)
    await timed("broker SIGKILL + restart (1)", broker_crash)
    await when(0.30)
    await timed("voting worker SIGKILL + restart", worker_crash)
    await when(0.50)
    await timed("mongod restart", mongod_restart)
    await when(0.70)
    await timed("broker SIGKILL + restart (2)", broker_crash)


async def test_every_accepted_vote_counts_exactly_once_through_broker_worker_and_mongod_faults(
    split_platform: SplitPlatform,
    broker: BrokerControl,
    mongod: MongodControl,
    kafka_bootstrap: str,
    mongo_uri: str,
    topic_prefix: str,
) -> None:
    platform = split_platform
    urls = {service: platform.url(service) for service in platform.ports}
    voting = urls["voting"]
    admin_token = platform.token(Role.ADMIN, "faults-admin")
    admin = {"Authorization": f"Bearer {admin_token}"}
    await load_demo_data(
        urls,
        DemoTokens(
            admin=admin_token,
            chair=platform.token(Role.CHAIR, "faults-chair"),
            voters=[],  # no demo votes: every vote counted is the storm's
            team=lambda org: platform.token(Role.SUBMITTER, f"team-{org}", org),
            reviewer=lambda subject: platform.token(Role.REVIEWER, subject),
        ),
    )
    async with httpx.AsyncClient(timeout=30) as client:

        async def whole_ballot() -> bool:
            ballot = (await client.get(f"{voting}/editions/{DEMO_YEAR}/ballot")).json()
            return sum(len(c["nominees"]) for c in ballot) >= 8

        await eventually(whole_ballot, timeout_s=60, what="the demo ballot")
        ballot = (await client.get(f"{voting}/editions/{DEMO_YEAR}/ballot")).json()
    nominees = {c["category"]: [n["entry_id"] for n in c["nominees"]] for c in ballot}
    voters = STORM_VOTES // CATEGORIES_PER_VOTER
    tokens = [platform.token(Role.VOTER, f"storm-{v}") for v in range(voters)]
    ballots = plan(nominees, tokens)
    outcomes = Outcomes()
    faults: list[Fault] = []
    queue: asyncio.Queue[tuple[int, Ballot]] = asyncio.Queue()
    for n, b in enumerate(ballots):
        queue.put_nowait((n, b))
    rate = len(ballots) / STORM_SECONDS

    async def uncounted() -> int:
        async with httpx.AsyncClient(timeout=30) as client:
            check = await client.get(f"{voting}/editions/{DEMO_YEAR}/tally/verify", headers=admin)
            return int(check.json()["uncounted_votes"])

    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as http:

        async def client_loop() -> None:
            while not queue.empty():
                n, b = queue.get_nowait()
                await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
                await cast_until_answered(http, voting, b, outcomes, key=f"{b.voter}:{b.category}")

        injector = asyncio.create_task(
            inject_faults(outcomes, started, broker, mongod, platform, faults, uncounted, rate)
        )
        await asyncio.gather(*(client_loop() for _ in range(CONCURRENCY)))
        await asyncio.wait_for(injector, timeout=120)  # the last fault ends before the storm
        storm_s = time.monotonic() - started

        # Refusals that must never count: a second vote in a category, a vote for no nominee.
        category = max(nominees, key=lambda c: len(nominees[c]))
        voted_in = [b for b in ballots if b.category == category][:200]
        for b in voted_in:
            second = Ballot(b.voter, b.token, category, nominees[category][-1])
            assert (
                await cast_until_answered(http, voting, second, outcomes, key=f"2:{b.voter}") == 409
            )
            stray = Ballot(b.voter, b.token, sorted(nominees)[1], "not-a-nominee")
            assert (
                await cast_until_answered(http, voting, stray, outcomes, key=f"3:{b.voter}") == 422
            )

    assert len(faults) == 4, f"the storm ended before every fault was injected: {faults}"
    assert len(outcomes.accepted) == len(ballots)  # every voter got through in the end
    assert outcomes.refused == Counter({409: 200, 422: 200})
    # A fault is a 503 with Retry-After (or no answer), never an internal error.
    assert outcomes.retried[500] == 0, outcomes.retried

    expected: dict[str, Counter[str]] = defaultdict(Counter)
    for (_, cat), entry_id in outcomes.accepted.items():
        expected[cat][entry_id] += 1

    caught_up_from = time.monotonic()
    async with httpx.AsyncClient(timeout=60) as client:

        async def tally_settled() -> bool:
            check = (
                await client.get(f"{voting}/editions/{DEMO_YEAR}/tally/verify", headers=admin)
            ).json()
            return bool(check["ok"]) and check["uncounted_votes"] == 0

        await eventually(tally_settled, timeout_s=180, what="the tally to count every vote")
        tally_caught_up_s = time.monotonic() - caught_up_from
        check = (
            await client.get(f"{voting}/editions/{DEMO_YEAR}/tally/verify", headers=admin)
        ).json()
        assert check["differences"] == []
        counted = 0
        for cat, entries in nominees.items():
            results = (
                await client.get(f"{voting}/editions/{DEMO_YEAR}/results/{cat}", headers=admin)
            ).json()
            tally = {n["nominee"]["entry_id"]: n["votes"] for n in results["nominees"]}
            for entry_id in entries:
                want = expected[cat][entry_id]
                assert tally[entry_id] == want, (cat, entry_id, tally[entry_id], want)
                counted += tally[entry_id]
        assert check["counted_votes"] == counted

        # Stocktaking counts the same votes from the topic, once each.
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
        try:
            catalogue = mongo[platform.database("stocktaking")]["catalogue"]

            async def stocktaking_counts_match() -> bool:
                for cat, entries in nominees.items():
                    for entry_id in entries:
                        record = await catalogue.find_one({"_id": entry_id})
                        want = expected[cat][entry_id]
                        if record is None or record.get("votes", 0) != want:
                            return False
                return True

            await eventually(stocktaking_counts_match, timeout_s=120, what="stocktaking's counts")
        finally:
            await mongo.close()

        # The window closes: the champions are the ones the planned votes make, announced once.
        closed = await client.post(
            f"{urls['submissions']}/editions/{DEMO_YEAR}/phase",
            json={"phase": "selection"},
            headers=admin,
        )
        assert closed.status_code == 200, closed.text

        async def champions_out() -> bool:
            response = await client.get(f"{voting}/editions/{DEMO_YEAR}/champions")
            return response.status_code == 200 and len(response.json()) == len(nominees)

        await eventually(champions_out, timeout_s=60, what="the champions")
        # The counts: an admin sees them at once (the public, with the results).
        champions = (
            await client.get(f"{voting}/editions/{DEMO_YEAR}/champions", headers=admin)
        ).json()
    for result in champions:
        cat = result["category"]
        totals = {e: expected[cat][e] for e in nominees[cat]}
        assert len(set(totals.values())) == len(totals), "the plan has a tie: change its seed"
        planned = sorted(totals, key=lambda e: -totals[e])[:5]
        assert [f["entry_id"] for f in result["finalists"]] == planned
        assert [f["votes"] for f in result["finalists"]] == [totals[e] for e in planned]

    async def announced_once() -> bool:
        records = await read_topic(kafka_bootstrap, f"{topic_prefix}wsis.voting.v1")
        ids_by_category: dict[str, set[str]] = defaultdict(set)
        for record in records:
            event = decode("wsis.voting.v1", record.value)
            if isinstance(event, ChampionsAnnounced) and event.edition == DEMO_YEAR:
                ids_by_category[event.payload.category].add(str(event.event_id))
        return set(ids_by_category) == set(nominees) and all(
            len(ids) == 1 for ids in ids_by_category.values()
        )

    await eventually(announced_once, timeout_s=60, what="champions.announced once per category")

    print(  # the figures for the note (pytest -s shows them)
        f"\nvote storm under faults: {len(ballots):,} votes in {storm_s:.0f} s, "
        f"{outcomes.retries:,} retries ({dict(outcomes.retried)}); "
        f"accepted {len(outcomes.accepted):,}, counted "
        f"{sum(sum(c.values()) for c in expected.values()):,}, lost 0, doubled 0, refused "
        f"{sum(outcomes.refused.values())} (none counted); tally caught up "
        f"{tally_caught_up_s:.1f} s after the last vote"
    )
    for fault in faults:
        after = "-" if fault.first_vote_after_s is None else f"{fault.first_vote_after_s:.1f} s"
        drained = "not within 120 s" if fault.drained_s is None else f"{fault.drained_s:.1f} s"
        print(
            f"  {fault.name}: down {fault.down_s:.1f} s; next accepted vote {after} after; "
            f"tally backlog {fault.backlog:,} votes, counted {drained} after"
        )

"""The Stocktaking catalogue from a real history of events: late, out-of-order and redelivered
events change nothing they should not, and a rebuild from the topics equals the live projection.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tests.integration.helpers import eventually, service_resources
from wsis_shared.events import (
    CastVote,
    ChampionsAnnounced,
    ChampionsList,
    EditionCreated,
    EditionPayload,
    EditionPhaseChanged,
    EditionSchedule,
    EligibilityDecided,
    EligibilityDecision,
    EntryPublic,
    EventBase,
    Finalist,
    NominationDecided,
    NominationDecision,
    NomineeCard,
    PhaseChange,
    ReviewSummary,
    RuledOutVotes,
    SubmissionAmended,
    SubmissionSubmitted,
    SubmissionWithdrawn,
    VoteCast,
    VotesRuledOut,
    WinnerSelected,
    WinnerSelection,
    Withdrawal,
    encode,
    topic_of,
)
from wsis_shared.messaging import ConsumerRunner
from wsis_shared.messaging.kafka import partitions_of
from wsis_shared.messaging.rebuild import ConsumerGroupBusy, rebuild_projection
from wsis_shared.runtime import Resources
from wsis_shared.vocabulary import ActionLine, Category, Phase, Region, StakeholderType
from wsis_stocktaking.adapters.catalogue import INDEXES, Catalogue
from wsis_stocktaking.app import SERVICE
from wsis_stocktaking.entrypoints.consumers import handlers
from wsis_stocktaking.settings import StocktakingSettings

pytestmark = pytest.mark.integration

YEAR = 2031
T0 = datetime(2031, 1, 10, 9, 0, tzinfo=UTC)
CATEGORY = Category.C7_E_LEARNING
ENTRIES = [f"entry-{n:02d}" for n in range(12)]


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _entry(entry_id: str, title: str) -> EntryPublic:
    return EntryPublic(
        entry_id=entry_id,
        category=CATEGORY,
        title=title,
        short_description="Open courses for teachers in remote districts.",
        organisation_id=f"org-{entry_id}",
        organisation_name=f"Organisation of {entry_id}",
        country="KE",
        region=Region.AFRICA,
        stakeholder_type=StakeholderType.CIVIL_SOCIETY,
        action_lines=(ActionLine.C4,),
        sdgs=(4, 10),
    )


def _card(entry_id: str) -> NomineeCard:
    return NomineeCard(
        entry_id=entry_id,
        category=CATEGORY,
        title=entry_id,
        short_description="Open courses.",
        organisation_name="Org",
        country="KE",
        region=Region.AFRICA,
        stakeholder_type=StakeholderType.CIVIL_SOCIETY,
    )


def history() -> list[EventBase]:
    """An edition's life, in the order it happened."""
    schedule = EditionSchedule(
        submission_opens=_at(0),
        submission_closes=_at(100),
        review_closes=_at(200),
        voting_opens=_at(300),
        voting_closes=_at(400),
        results_at=_at(500),
    )
    events: list[EventBase] = [
        EditionCreated(
            aggregate_id=str(YEAR),
            aggregate_version=1,
            edition=YEAR,
            occurred_at=_at(0),
            payload=EditionPayload(
                year=YEAR,
                title="WSIS Prizes 2031",
                schedule=schedule,
                categories=tuple(Category),
                show_running_counts=True,
            ),
        )
    ]
    for n, entry_id in enumerate(ENTRIES):
        events.append(
            SubmissionSubmitted(
                aggregate_id=entry_id,
                aggregate_version=1,
                edition=YEAR,
                occurred_at=_at(1 + n),
                payload=_entry(entry_id, f"Teachers online {n}"),
            )
        )
    events.append(
        SubmissionAmended(
            aggregate_id=ENTRIES[0],
            aggregate_version=2,
            edition=YEAR,
            occurred_at=_at(50),
            payload=_entry(ENTRIES[0], "Teachers online, amended"),
        )
    )
    events.append(
        SubmissionWithdrawn(
            aggregate_id=ENTRIES[11],
            aggregate_version=2,
            edition=YEAR,
            occurred_at=_at(60),
            payload=Withdrawal(entry_id=ENTRIES[11], category=CATEGORY),
        )
    )
    for n, entry_id in enumerate(ENTRIES[:11]):
        eligible = entry_id != ENTRIES[10]
        events.append(
            EligibilityDecided(
                aggregate_id=entry_id,
                aggregate_version=1,
                edition=YEAR,
                occurred_at=_at(120 + n),
                payload=EligibilityDecision(
                    entry_id=entry_id,
                    category=CATEGORY,
                    eligible=eligible,
                    reason=None if eligible else "project_not_completed",
                ),
            )
        )
    for n, entry_id in enumerate(ENTRIES[:10]):
        events.append(
            NominationDecided(
                aggregate_id=entry_id,
                aggregate_version=1,
                edition=YEAR,
                occurred_at=_at(210 + n),
                payload=NominationDecision(
                    nominated=n < 8,
                    nominee=_card(entry_id),
                    review_summary=ReviewSummary(reviews=3, weighted_mean=7.5 - n / 10),
                ),
            )
        )
    for version, (at, phase, previous) in enumerate(
        ((250, Phase.REVIEW, Phase.SUBMISSION), (300, Phase.VOTING, Phase.REVIEW)), start=2
    ):
        events.append(
            EditionPhaseChanged(
                aggregate_id=str(YEAR),
                aggregate_version=version,
                edition=YEAR,
                occurred_at=_at(at),
                payload=PhaseChange(
                    year=YEAR,
                    phase=phase,
                    previous_phase=previous,
                    changed_by="schedule",
                    schedule=schedule,
                ),
            )
        )
    rng = random.Random(7)
    for n in range(300):
        entry_id = ENTRIES[min(7, int(rng.expovariate(0.5)))]
        events.append(
            VoteCast(
                aggregate_id=CATEGORY,
                aggregate_version=1,
                edition=YEAR,
                occurred_at=_at(300) + timedelta(seconds=n),
                payload=CastVote(
                    receipt_id=f"r{n}",
                    category=CATEGORY,
                    entry_id=entry_id,
                    voter_pseudonym=f"v{n}",
                ),
            )
        )
    events.append(
        VotesRuledOut(
            aggregate_id="invalidation-1",
            aggregate_version=1,
            edition=YEAR,
            occurred_at=_at(390),
            payload=RuledOutVotes(
                category=CATEGORY,
                invalidation_id="invalidation-1",
                reason="bot farm",
                votes_by_entry={ENTRIES[0]: 5, ENTRIES[1]: 2},
            ),
        )
    )
    finalists = tuple(
        Finalist(entry_id=entry_id, votes=10, rank=rank)
        for rank, entry_id in enumerate(ENTRIES[:5], start=1)
    )
    events.append(
        ChampionsAnnounced(
            aggregate_id=f"{YEAR}:{CATEGORY}",
            aggregate_version=1,
            edition=YEAR,
            occurred_at=_at(410),
            payload=ChampionsList(category=CATEGORY, finalists=finalists, tie_break_rule="rule"),
        )
    )
    events.append(
        WinnerSelected(
            aggregate_id=f"{YEAR}:{CATEGORY}",
            aggregate_version=1,
            edition=YEAR,
            occurred_at=_at(450),
            payload=WinnerSelection(
                category=CATEGORY,
                winner_entry_id=ENTRIES[2],
                champion_entry_ids=(ENTRIES[0], ENTRIES[1], ENTRIES[3], ENTRIES[4]),
            ),
        )
    )
    return events


def disordered(events: list[EventBase]) -> list[EventBase]:
    """What the broker may really hold: a handful of events published twice (a relay that
    crashed before marking them sent), and a submission and the edition's move to review
    replayed from a dead-letter queue after their successors."""
    rng = random.Random(11)
    result = list(events)
    for event in rng.sample(events, 25):
        result.insert(rng.randrange(result.index(event), len(result)) + 1, event)
    first_submission = next(e for e in events if isinstance(e, SubmissionSubmitted))
    result.remove(first_submission)
    amendment = next(e for e in result if isinstance(e, SubmissionAmended))
    result.insert(result.index(amendment) + 1, first_submission)
    to_review, to_voting = (e for e in events if isinstance(e, EditionPhaseChanged))
    result = [e for e in result if e is not to_review]
    result.insert(result.index(to_voting) + 1, to_review)
    return result


async def publish(bootstrap: str, prefix: str, events: list[EventBase]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for event in events:
            key = event.payload.category if isinstance(event, VoteCast) else event.aggregate_id
            await producer.send_and_wait(prefix + topic_of(event), encode(event), key=key.encode())
        # A message no one can read: skipped live (dead-lettered) and in the rebuild alike.
        await producer.send_and_wait(prefix + "wsis.submissions.v1", b"{not json", key=b"x")
    finally:
        await producer.stop()


@pytest.fixture
async def resources(
    mongo_uri: str, mongo_db_prefix: str, tmp_path: Any
) -> AsyncIterator[Resources]:
    async with service_resources(
        SERVICE,
        StocktakingSettings,
        mongo_uri=mongo_uri,
        mongo_db_prefix=mongo_db_prefix,
        keys_dir=tmp_path / "keys",
    ) as opened:
        yield opened


@contextlib.asynccontextmanager
async def live_worker(resources: Resources, bootstrap: str, prefix: str) -> AsyncIterator[None]:
    runner = ConsumerRunner(
        handlers,
        client=resources.mongo,
        db=resources.db,
        outbox=resources.outbox,
        bootstrap=bootstrap,
        topic_prefix=prefix,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def caught_up(bootstrap: str, prefix: str) -> bool:
    """The live group has committed every partition of every topic it reads up to its end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=f"{prefix}stocktaking")
    await consumer.start()
    try:
        partitions = [
            tp
            for topic in sorted(handlers.topics)
            for tp in await partitions_of(bootstrap, prefix + topic)
        ]
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            committed = await consumer.committed(tp)
            if (committed or 0) < ends[tp]:
                return False
        return True
    finally:
        await consumer.stop()


async def snapshot(resources: Resources) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [doc async for doc in resources.db[name].find().sort("_id", 1)]
        for name in ("catalogue", "editions")
    }


async def test_late_and_redelivered_events_change_nothing_and_a_rebuild_equals_live(
    resources: Resources, kafka_bootstrap: str, topics: str
) -> None:
    events = history()
    await publish(kafka_bootstrap, topics, disordered(events))

    async with live_worker(resources, kafka_bootstrap, topics):
        await eventually(
            lambda: caught_up(kafka_bootstrap, topics), timeout_s=60, what="live projection"
        )
        with pytest.raises(ConsumerGroupBusy):
            await rebuild_projection(
                handlers,
                client=resources.mongo,
                db=resources.db,
                collections=("catalogue", "editions"),
                indexes=INDEXES,
                bootstrap=kafka_bootstrap,
                topic_prefix=topics,
            )

    catalogue = Catalogue(resources.db)
    amended = await catalogue.get(ENTRIES[0])
    assert amended is not None
    assert amended.entry is not None
    assert amended.entry.title == "Teachers online, amended"  # the late v1 did not overwrite v2
    votes = [e for e in events if isinstance(e, VoteCast)]
    for entry_id, ruled_out in ((ENTRIES[0], 5), (ENTRIES[1], 2), (ENTRIES[3], 0)):
        record = await catalogue.get(entry_id)
        assert record is not None
        cast = sum(1 for v in votes if v.payload.entry_id == entry_id)
        assert record.votes == cast - ruled_out  # each vote once, duplicates ignored
    statuses = {e: (await catalogue.get(e)).status for e in ENTRIES}  # type: ignore[union-attr]
    assert statuses[ENTRIES[2]] == "winner"
    assert statuses[ENTRIES[0]] == "champion"
    assert statuses[ENTRIES[7]] == "nominated"
    assert statuses[ENTRIES[9]] == "not_nominated"
    assert statuses[ENTRIES[10]] == "ineligible"
    assert statuses[ENTRIES[11]] == "withdrawn"
    assert max(doc["updated_at"] for doc in (await snapshot(resources))["catalogue"]) == _at(450)
    assert (await catalogue.edition(YEAR)).phase == Phase.VOTING  # not back to review
    live = await snapshot(resources)

    progress_seen: list[int] = []
    report = await rebuild_projection(
        handlers,
        client=resources.mongo,
        db=resources.db,
        collections=("catalogue", "editions"),
        indexes=INDEXES,
        bootstrap=kafka_bootstrap,
        topic_prefix=topics,
        on_progress=lambda r: progress_seen.append(sum(p.done for p in r.progress.values())),
    )
    assert report.switched
    assert report.skipped_poison == 1
    assert report.applied_events == len(events)
    assert progress_seen
    assert progress_seen[-1] == sum(p.total for p in report.progress.values())
    assert await snapshot(resources) == live
    assert f"{resources.db.name}__rebuild" not in await resources.mongo.list_database_names()

    # Workers started again continue after the replay: an old event re-delivered (a relay
    # retry) is still recognised, a new vote is counted once.
    before = await catalogue.get(ENTRIES[3])
    assert before is not None
    new_vote = VoteCast(
        aggregate_id=CATEGORY,
        aggregate_version=1,
        edition=YEAR,
        occurred_at=_at(399),
        payload=CastVote(
            receipt_id="late", category=CATEGORY, entry_id=ENTRIES[3], voter_pseudonym="late"
        ),
    )
    old_vote = next(v for v in votes if v.payload.entry_id == ENTRIES[3])
    await publish(kafka_bootstrap, topics, [old_vote, new_vote])
    async with live_worker(resources, kafka_bootstrap, topics):
        await eventually(lambda: caught_up(kafka_bootstrap, topics), timeout_s=60, what="catch-up")
    after = await catalogue.get(ENTRIES[3])
    assert after is not None
    assert after.votes == before.votes + 1

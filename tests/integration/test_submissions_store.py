"""The submissions service's use cases on the real mongod: events leave with the state change
or not at all, and two schedulers racing change a phase once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.helpers import service_resources
from wsis_shared.auth import Principal
from wsis_shared.errors import PhaseClosed
from wsis_shared.events import EditionSchedule
from wsis_shared.runtime import Resources
from wsis_shared.uow import MongoUnitOfWorkRunner
from wsis_shared.vocabulary import Category, Phase, ProjectStatus, Role, StakeholderType
from wsis_submissions.adapters import repositories
from wsis_submissions.adapters.repositories import SubmissionsUnitOfWork
from wsis_submissions.app import SERVICE
from wsis_submissions.domain.entries import EntryContent
from wsis_submissions.domain.similarity import NORMALISER_VERSION
from wsis_submissions.entrypoints.scheduler import refresh_fingerprints
from wsis_submissions.service_layer import admin, editions, entries
from wsis_submissions.service_layer.entries import NearDuplicate
from wsis_submissions.service_layer.unit_of_work import EntryFilter, Runner
from wsis_submissions.settings import SubmissionsSettings

pytestmark = pytest.mark.integration

NOW = datetime(2030, 2, 1, tzinfo=UTC)


@pytest.fixture
async def resources(
    mongo_uri: str, mongo_db_prefix: str, tmp_path: Path
) -> AsyncIterator[Resources]:
    async with service_resources(
        SERVICE,
        SubmissionsSettings,
        mongo_uri=mongo_uri,
        mongo_db_prefix=mongo_db_prefix,
        keys_dir=tmp_path,
    ) as opened:
        yield opened


def clock(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def schedule(opens: datetime) -> EditionSchedule:
    return EditionSchedule(
        submission_opens=opens,
        submission_closes=opens + timedelta(days=30),
        review_closes=opens + timedelta(days=60),
        voting_opens=opens + timedelta(days=61),
        voting_closes=opens + timedelta(days=90),
        results_at=opens + timedelta(days=100),
    )


def content(title: str, seed: str) -> EntryContent:
    description = " ".join(f"{seed}{i % 40} word{i}" for i in range(85))
    return EntryContent(
        title=title,
        short_description=description,
        full_description="The whole story.",
        category=Category.C3,
        sdgs=(4,),
        country="BR",
        stakeholder_type=StakeholderType.ACADEMIA,
        organisation_name="Universidade",
        impact_qualitative="Libraries opened.",
        beneficiaries="students",
        start_date=NOW.date() - timedelta(days=400),
        project_status=ProjectStatus.COMPLETED,
        contact_name="Ana",
        contact_email="ana@uni.example.org",
    )


async def edition_2030(runner: Runner, created_at: datetime) -> None:
    """Edition 2030, planned, its submissions due to open a day before NOW."""
    await editions.create_edition(
        runner,
        clock(created_at),
        year=2030,
        title="WSIS Prizes 2030",
        schedule=schedule(NOW - timedelta(days=1)),
        categories=tuple(Category),
        show_running_counts=False,
    )


async def outbox_types(resources: Resources) -> list[str]:
    return [
        json.loads(bytes(record["value"]))["event_type"]
        async for record in resources.db["outbox"].find().sort("created_at", 1)
    ]


async def test_two_schedulers_racing_change_the_phase_once(resources: Resources) -> None:
    runner = MongoUnitOfWorkRunner(resources, SubmissionsUnitOfWork)
    await edition_2030(runner, created_at=NOW - timedelta(days=10))
    moved = await asyncio.gather(*(editions.apply_schedule(runner, clock(NOW)) for _ in range(4)))
    assert sum(len(m) for m in moved) == 1
    assert await outbox_types(resources) == ["edition.created", "edition.phase_changed"]
    edition = await editions.get_edition(runner, year=2030)
    assert edition.phase == Phase.SUBMISSION
    # Nothing more is due until the next boundary of the schedule.
    assert await editions.apply_schedule(runner, clock(NOW + timedelta(days=1))) == []
    changed = await editions.apply_schedule(runner, clock(NOW + timedelta(days=31)))
    assert [e.phase for e in changed] == [Phase.REVIEW]


async def test_an_event_leaves_with_its_state_change_or_not_at_all(resources: Resources) -> None:
    runner = MongoUnitOfWorkRunner(resources, SubmissionsUnitOfWork)
    await edition_2030(runner, created_at=NOW)
    await editions.apply_schedule(runner, clock(NOW))
    team = Principal(subject="t1", roles=frozenset({Role.SUBMITTER}), organisation_id="org-1")
    rival = Principal(subject="t2", roles=frozenset({Role.SUBMITTER}), organisation_id="org-2")

    draft = await entries.create_draft(
        runner, clock(NOW), year=2030, content=content("Open libraries", "a"), author=team
    )
    await entries.submit_entry(runner, clock(NOW), entry_id=draft.entry_id, author=team)
    record = await resources.db["outbox"].find_one(
        {"_id": {"$exists": True}, "key": draft.entry_id}
    )
    assert record is not None
    event = json.loads(bytes(record["value"]))
    assert event["event_type"] == "submission.submitted"
    assert "contact_email" not in event["payload"]
    assert event["payload"]["region"] == "Americas"

    copy = await entries.create_draft(
        runner, clock(NOW), year=2030, content=content("Open Libraries", "a"), author=rival
    )
    before = await outbox_types(resources)
    with pytest.raises(NearDuplicate):
        await entries.submit_entry(runner, clock(NOW), entry_id=copy.entry_id, author=rival)
    assert await outbox_types(resources) == before
    refused = await entries.get_entry(runner, entry_id=copy.entry_id, reader=rival)
    assert refused.status == "draft"


async def test_a_team_sees_an_opening_at_once_and_a_close_elsewhere_at_most_a_second_late(
    resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = MongoUnitOfWorkRunner(resources, SubmissionsUnitOfWork)
    await edition_2030(runner, created_at=NOW - timedelta(days=10))
    teams = [
        Principal(subject=f"t{n}", roles=frozenset({Role.SUBMITTER}), organisation_id=f"org-{n}")
        for n in range(4)
    ]
    drafts = [
        await entries.create_draft(
            runner, clock(NOW), year=2030, content=content(f"Project {seed}", seed), author=team
        )
        for seed, team in zip("pqrs", teams, strict=True)
    ]

    async def submit(n: int) -> str:
        entry = await entries.submit_entry(
            runner, clock(NOW), entry_id=drafts[n].entry_id, author=teams[n]
        )
        return entry.status

    async def phase_changed_by_another_process(phase: Phase) -> None:
        await resources.db["editions"].update_one({"_id": 2030}, {"$set": {"phase": phase}})

    monkeypatch.setattr(repositories, "RECENT_EDITION_SECONDS", 60.0)
    with pytest.raises(PhaseClosed):
        await submit(0)  # planned: read as stored, and not kept
    await phase_changed_by_another_process(Phase.SUBMISSION)
    assert await submit(0) == "submitted"  # the opening is seen at once
    await phase_changed_by_another_process(Phase.REVIEW)
    assert await submit(1) == "submitted"  # the open edition as read within the last second
    monkeypatch.setattr(repositories, "RECENT_EDITION_SECONDS", 0.0)
    with pytest.raises(PhaseClosed):
        await submit(2)  # once the second is up, the close is seen

    # A close saved by this process is seen at once.
    await phase_changed_by_another_process(Phase.SUBMISSION)
    monkeypatch.setattr(repositories, "RECENT_EDITION_SECONDS", 60.0)
    assert await submit(2) == "submitted"
    assert [
        e.phase for e in await editions.apply_schedule(runner, clock(NOW + timedelta(days=31)))
    ] == [Phase.REVIEW]
    with pytest.raises(PhaseClosed):
        await submit(3)


async def test_a_close_saved_here_is_seen_here_at_once_even_by_a_read_before_its_commit(
    resources: Resources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team's request reading the edition while the close is being committed reads the open
    edition (the close is not committed yet) and must not keep it for the next second."""
    runner = MongoUnitOfWorkRunner(resources, SubmissionsUnitOfWork)
    await edition_2030(runner, created_at=NOW - timedelta(days=10))
    await editions.change_phase(runner, clock(NOW), year=2030, phase=Phase.SUBMISSION, by="a")
    monkeypatch.setattr(repositories, "RECENT_EDITION_SECONDS", 60.0)
    read_during_the_close: list[Phase] = []

    async def close_with_a_team_reading_before_the_commit(uow: SubmissionsUnitOfWork) -> None:
        edition = await uow.editions.get(2030)
        edition.change_phase(Phase.REVIEW, by="admin", now=NOW)
        await uow.editions.save(edition)
        read_during_the_close.append((await uow.editions.get_recent(2030)).phase)

    await runner.run(close_with_a_team_reading_before_the_commit)

    assert read_during_the_close == [Phase.SUBMISSION]  # outside the uncommitted transaction

    async def read(uow: SubmissionsUnitOfWork) -> Phase:
        return (await uow.editions.get_recent(2030)).phase

    assert await runner.run(read) == Phase.REVIEW


async def test_fingerprints_of_an_earlier_normaliser_are_made_again_once(
    resources: Resources,
) -> None:
    """An entry submitted before the normaliser learnt Hindi words is found by a new submission of
    the same project once the worker has refreshed its fingerprint."""
    runner = MongoUnitOfWorkRunner(resources, SubmissionsUnitOfWork)
    await edition_2030(runner, created_at=NOW)
    await editions.apply_schedule(runner, clock(NOW))
    team = Principal(subject="t1", roles=frozenset({Role.SUBMITTER}), organisation_id="org-1")
    rival = Principal(subject="t2", roles=frozenset({Role.SUBMITTER}), organisation_id="org-2")
    hindi = content("किसानों के लिए डिजिटल कौशल", "क")
    draft = await entries.create_draft(runner, clock(NOW), year=2030, content=hindi, author=team)
    await entries.submit_entry(runner, clock(NOW), entry_id=draft.entry_id, author=team)
    stored = resources.db["entries"]
    current = (await stored.find_one({"_id": draft.entry_id}))["similarity"]  # type: ignore[index]
    assert current["normaliser"] == NORMALISER_VERSION
    # As version 1 left it: other band keys, no version.
    await stored.update_one(
        {"_id": draft.entry_id},
        {"$set": {"similarity.bands": ["t0:stale"]}, "$unset": {"similarity.normaliser": ""}},
    )

    assert refresh_fingerprints in SERVICE.tasks, "the worker runs it"
    stop = asyncio.Event()
    refreshing = asyncio.create_task(refresh_fingerprints(resources, stop))
    await asyncio.sleep(0.5)
    stop.set()
    await asyncio.wait_for(refreshing, 5)
    assert await repositories.refresh_stale_fingerprints(resources.db) == 0, "once"
    refreshed = (await stored.find_one({"_id": draft.entry_id}))["similarity"]  # type: ignore[index]
    assert refreshed == current
    copy = await entries.create_draft(runner, clock(NOW), year=2030, content=hindi, author=rival)
    with pytest.raises(NearDuplicate):
        await entries.submit_entry(runner, clock(NOW), entry_id=copy.entry_id, author=rival)


async def test_the_admins_pages_end_with_the_entries_made_while_paging(
    resources: Resources,
) -> None:
    runner = MongoUnitOfWorkRunner(resources, SubmissionsUnitOfWork)
    await edition_2030(runner, created_at=NOW)
    await editions.apply_schedule(runner, clock(NOW))
    made: list[str] = []

    async def make(n: int) -> None:
        team = Principal(
            subject=f"t{n}", roles=frozenset({Role.SUBMITTER}), organisation_id=f"org-{n}"
        )
        draft = await entries.create_draft(
            runner, clock(NOW), year=2030, content=content(f"Project {n}", f"s{n}"), author=team
        )
        made.append(draft.entry_id)

    for n in range(6):
        await make(n)
    # Entries made before ids were time-ordered: random ids, some sorting after every new one.
    first = await resources.db["entries"].find_one({"_id": made[0]})
    assert first is not None
    for n in range(2):
        legacy = f"ffffffff-0000-4000-8000-00000000000{n}"
        older = first | {"_id": legacy, "created_at": first["created_at"] - timedelta(days=2 - n)}
        await resources.db["entries"].insert_one(older | {"organisation_id": f"org-legacy-{n}"})
        made.insert(n, legacy)
    seen: list[str] = []
    after: str | None = None
    while True:
        page, after = await admin.page(
            runner, edition=2030, where=EntryFilter(), after=after, limit=2
        )
        seen += [entry.entry_id for entry in page]
        if after is None:
            break
        await make(len(made))  # a team saves a new draft while the admin reads on

    assert sorted(seen) == sorted(made), "every entry once, the new ones too"
    assert seen == made, "in the order they were made"


async def test_the_same_project_submitted_at_the_same_moment_is_stored_once(
    resources: Resources,
) -> None:
    """Four organisations submit one project at once: each submission looked for near-duplicates
    before the others were stored, yet only one gets in."""
    runner = MongoUnitOfWorkRunner(resources, SubmissionsUnitOfWork)
    await edition_2030(runner, created_at=NOW)
    await editions.apply_schedule(runner, clock(NOW))
    teams = [
        Principal(subject=f"t{n}", roles=frozenset({Role.SUBMITTER}), organisation_id=f"org-{n}")
        for n in range(4)
    ]
    drafts = [
        await entries.create_draft(
            runner, clock(NOW), year=2030, content=content("Open libraries", "a"), author=team
        )
        for team in teams
    ]

    outcomes = await asyncio.gather(
        *(
            entries.submit_entry(runner, clock(NOW), entry_id=draft.entry_id, author=team)
            for draft, team in zip(drafts, teams, strict=True)
        ),
        return_exceptions=True,
    )

    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, NearDuplicate) for o in outcomes if isinstance(o, BaseException))
    assert (await outbox_types(resources)).count("submission.submitted") == 1

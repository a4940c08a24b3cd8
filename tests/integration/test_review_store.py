"""The review service's use cases on the real mongod: decisions taken at the same moment by two
people (or two replicas) count once, and events leave with their state change."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.integration.helpers import service_resources
from wsis_review.adapters.repositories import ReviewUnitOfWork
from wsis_review.app import SERVICE
from wsis_review.domain.candidates import Candidate
from wsis_review.domain.editions import EditionReview, ReviewRules
from wsis_review.domain.reviewers import ReviewerFields
from wsis_review.service_layer import assignments, reviewers, winners
from wsis_review.service_layer.unit_of_work import UnitOfWork
from wsis_review.settings import ReviewSettings
from wsis_shared.auth import Principal
from wsis_shared.errors import WsisError
from wsis_shared.events import ChampionsList, EntryPublic, Finalist
from wsis_shared.runtime import Resources
from wsis_shared.uow import MongoUnitOfWorkRunner
from wsis_shared.vocabulary import ActionLine, Category, Phase, Region, Role, StakeholderType

pytestmark = pytest.mark.integration

YEAR = 2034
NOW = datetime(2034, 3, 1, tzinfo=UTC)
CHAIR = Principal(subject="chair", roles=frozenset({Role.CHAIR}))


@pytest.fixture
async def resources(
    mongo_uri: str, mongo_db_prefix: str, tmp_path: Path
) -> AsyncIterator[Resources]:
    async with service_resources(
        SERVICE,
        ReviewSettings,
        mongo_uri=mongo_uri,
        mongo_db_prefix=mongo_db_prefix,
        keys_dir=tmp_path,
    ) as opened:
        yield opened


@pytest.fixture
def runner(resources: Resources) -> MongoUnitOfWorkRunner[ReviewUnitOfWork]:
    return MongoUnitOfWorkRunner(resources, ReviewUnitOfWork)


async def outbox_types(resources: Resources) -> list[str]:
    return [
        json.loads(bytes(record["value"]))["event_type"]
        async for record in resources.db["outbox"].find().sort("created_at", 1)
    ]


async def settle(*calls: asyncio.Future[object] | object) -> list[object]:
    return await asyncio.gather(*calls, return_exceptions=True)  # type: ignore[arg-type]


async def test_two_chairs_selecting_a_winner_at_once_make_one_winner(
    runner: MongoUnitOfWorkRunner[ReviewUnitOfWork], resources: Resources
) -> None:
    finalists = tuple(Finalist(entry_id=f"f{n}", votes=50 - n, rank=n) for n in range(1, 6))

    async def announce(uow: UnitOfWork) -> None:
        await winners.record_finalists(
            uow,
            YEAR,
            ChampionsList(category=Category.C9, finalists=finalists, tie_break_rule="-"),
            NOW,
        )

    await runner.run(announce)
    outcomes = await settle(
        *(
            winners.select_winner(
                runner, year=YEAR, category=Category.C9, entry_id=f"f{n}", chair=CHAIR, now=NOW
            )
            for n in (1, 2, 3)
        )
    )

    assert sum(not isinstance(o, BaseException) for o in outcomes) == 1, outcomes
    assert all(isinstance(o, WsisError) for o in outcomes if isinstance(o, BaseException))
    assert await outbox_types(resources) == ["winner.selected"]


async def test_two_assignment_runs_at_once_assign_each_pair_once(
    runner: MongoUnitOfWorkRunner[ReviewUnitOfWork], resources: Resources
) -> None:
    async def prepare(uow: UnitOfWork) -> None:
        await uow.editions.save(
            EditionReview(year=YEAR, phase=Phase.REVIEW, rules=ReviewRules(reviewers_per_entry=2))
        )
        for n in range(6):
            await uow.candidates.upsert(
                Candidate(
                    entry=EntryPublic(
                        entry_id=f"e{n}",
                        category=Category.C4,
                        title=f"Entry {n}",
                        short_description="Digital skills.",
                        organisation_id=f"org-{n}",
                        organisation_name=f"Org {n}",
                        country="KE",
                        region=Region.AFRICA,
                        stakeholder_type=StakeholderType.ACADEMIA,
                        action_lines=(ActionLine.C4,),
                        sdgs=(4,),
                    ),
                    edition=YEAR,
                    status="eligible",
                    received_at=NOW,
                )
            )

    await runner.run(prepare)
    for n in range(4):
        await reviewers.add_reviewer(
            runner,
            reviewer_id=f"r{n}",
            fields=ReviewerFields(
                name=f"Reviewer {n}",
                email="r@example.org",
                organisation=f"University {n}",
                country="FR",
                categories=(Category.C4,),
                max_load=10,
            ),
            by=CHAIR,
            now=NOW,
        )

    outcomes = await settle(
        *(assignments.run_assignment(runner, year=YEAR, by=CHAIR, now=NOW) for _ in range(3))
    )

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    active = await resources.db["assignments"].count_documents({"status": "active"})
    assert active == 12
    assert (await outbox_types(resources)).count("review.assigned") == 12, "one event per pair"

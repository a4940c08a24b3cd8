"""Use cases of public voting: the ballot, casting a vote, the tally and the results."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from wsis_shared.events import EditionPayload, NominationDecision, PhaseChange, VoteCast
from wsis_shared.vocabulary import Category
from wsis_voting.domain.ballot import Nominee, Vote, check_ballot_choice, tally_key
from wsis_voting.service_layer.unit_of_work import Runner, UnitOfWork


async def record_edition(uow: UnitOfWork, payload: EditionPayload) -> None:
    edition = await uow.editions.get(payload.year)
    edition.schedule = payload.schedule
    edition.categories = payload.categories
    edition.show_running_counts = payload.show_running_counts
    await uow.editions.save(edition)


async def record_phase(uow: UnitOfWork, change: PhaseChange) -> None:
    edition = await uow.editions.get(change.year)
    edition.phase = change.phase
    edition.schedule = change.schedule
    await uow.editions.save(edition)


async def record_nomination(uow: UnitOfWork, edition: int, decision: NominationDecision) -> None:
    await uow.nominees.save(
        Nominee(card=decision.nominee, edition=edition, nominated=decision.nominated)
    )


async def count_vote(uow: UnitOfWork, event: VoteCast) -> None:
    await uow.tallies.increment(event.edition, event.payload.category, event.payload.entry_id)


async def cast_vote(
    runner: Runner,
    *,
    edition: int,
    category: Category,
    entry_id: str,
    voter: str,
    now: datetime,
    pseudonym_key: bytes,
) -> Vote:
    async def work(uow: UnitOfWork) -> Vote:
        (await uow.editions.get(edition)).require_open_window()
        check_ballot_choice(await uow.nominees.find(entry_id), edition, category, entry_id)
        vote = Vote(
            receipt_id=uuid.uuid4().hex,
            edition=edition,
            category=category,
            entry_id=entry_id,
            voter=voter,
            cast_at=now,
        )
        await uow.votes.add(vote)
        await uow.publish(vote.event(pseudonym_key), key=tally_key(edition, category))
        return vote

    return await runner.run(work)


async def votes_of(runner: Runner, *, edition: int, voter: str) -> list[Vote]:
    async def work(uow: UnitOfWork) -> list[Vote]:
        return await uow.votes.of_voter(edition, voter)

    return await runner.run(work)


class BallotCategory(BaseModel):
    category: Category
    nominees: list[Nominee]


async def ballot(runner: Runner, *, edition: int) -> list[BallotCategory]:
    async def work(uow: UnitOfWork) -> list[BallotCategory]:
        by_category: dict[Category, list[Nominee]] = {}
        for nominee in await uow.nominees.on_ballot(edition):
            by_category.setdefault(nominee.card.category, []).append(nominee)
        return [
            BallotCategory(category=category, nominees=by_category[category])
            for category in Category
            if category in by_category
        ]

    return await runner.run(work)


class CategoryResult(BaseModel):
    category: Category
    counts_public: bool
    nominees: list[tuple[Nominee, int | None]]


async def results(
    runner: Runner, *, edition: int, category: Category, privileged: bool
) -> CategoryResult:
    async def work(uow: UnitOfWork) -> CategoryResult:
        voting_edition = await uow.editions.get(edition)
        public = privileged or voting_edition.counts_are_public()
        counts = await uow.tallies.counts(edition, category) if public else {}
        nominees = [n for n in await uow.nominees.on_ballot(edition) if n.card.category == category]
        ranked = sorted(
            nominees, key=lambda n: (-counts.get(n.entry_id, 0), n.card.title, n.entry_id)
        )
        return CategoryResult(
            category=category,
            counts_public=public,
            nominees=[(n, counts.get(n.entry_id, 0) if public else None) for n in ranked],
        )

    return await runner.run(work)

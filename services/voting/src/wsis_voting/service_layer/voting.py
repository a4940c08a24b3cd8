"""Use cases of public voting: the ballot, casting a vote, the tally and the results."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pydantic import BaseModel

from wsis_shared.errors import NotFound
from wsis_shared.events import EditionPayload, NominationDecision, PhaseChange, VoteCast
from wsis_shared.logging import get_logger
from wsis_shared.vocabulary import Category, Phase
from wsis_voting.domain.ballot import Nominee, Vote
from wsis_voting.service_layer.unit_of_work import Runner, UnitOfWork

log = get_logger(__name__)


async def record_edition(uow: UnitOfWork, payload: EditionPayload, version: int) -> None:
    edition = await uow.editions.get(payload.year)
    if not edition.applies(version):
        return
    edition.version = version
    edition.schedule = payload.schedule
    edition.categories = payload.categories
    edition.show_running_counts = payload.show_running_counts
    await uow.editions.save(edition)


async def record_phase(
    uow: UnitOfWork, change: PhaseChange, *, version: int, changed_at: datetime, now: datetime
) -> None:
    """The edition's new phase, unless this event is older than the one applied last. Results
    wait a grace period counted from `now`, when this service learnt of the change: an event
    handled late (a consumer's lag, a restart) must not cut short the votes still in flight."""
    edition = await uow.editions.get(change.year)
    if not edition.applies(version):
        log.info(
            "edition.phase.stale_event_ignored",
            edition=change.year,
            phase=change.phase,
            version=version,
            applied_version=edition.version,
        )
        return
    if edition.finalised_at is not None and change.phase == Phase.VOTING:
        log.warning(
            "edition.phase.voting_after_results",
            edition=change.year,
            detail="the results were decided; votes stay refused",
        )
    edition.version = version
    edition.phase = change.phase
    edition.schedule = change.schedule
    if change.show_running_counts is not None:
        edition.show_running_counts = change.show_running_counts
    edition.phase_changed_at = changed_at
    edition.phase_recorded_at = now
    await uow.editions.save(edition)


async def record_nomination(uow: UnitOfWork, edition: int, decision: NominationDecision) -> None:
    await uow.nominees.save(
        Nominee(card=decision.nominee, edition=edition, nominated=decision.nominated)
    )


async def count_votes(uow: UnitOfWork, events: list[VoteCast]) -> None:
    """Counts each vote once: votes are marked counted in the same transaction as the
    increments, so a redelivered event, a re-published vote or a vote ruled invalid before it
    was counted changes nothing. A batch costs three round trips, whatever its size."""
    votes = await uow.votes.mark_counted([event.payload.receipt_id for event in events])
    increments = Counter((vote.edition, vote.category, vote.entry_id) for vote in votes)
    await uow.tallies.increment_many(increments)


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
        if not voting_edition.known:
            raise NotFound(f"no edition {edition} is known to public voting")
        public = voting_edition.counts_shown_to(privileged)
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

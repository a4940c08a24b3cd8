"""Use cases of the review: receiving entries from submissions, the chair's decisions."""

from __future__ import annotations

from datetime import datetime

from wsis_review.domain.candidates import Candidate
from wsis_review.service_layer.unit_of_work import Runner, UnitOfWork
from wsis_shared.auth import Principal
from wsis_shared.events import EntryPublic, Withdrawal
from wsis_shared.vocabulary import Phase


async def receive_entry(uow: UnitOfWork, entry: EntryPublic, edition: int, now: datetime) -> None:
    """A submitted or amended entry arrives; a decided one keeps its decision."""
    existing = await uow.candidates.find(entry.entry_id)
    if existing is None:
        candidate = Candidate(entry=entry, edition=edition, received_at=now)
    else:
        candidate = existing.model_copy(update={"entry": entry, "version": existing.version + 1})
    await uow.candidates.upsert(candidate)


async def withdraw_entry(uow: UnitOfWork, withdrawal: Withdrawal) -> None:
    candidate = await uow.candidates.find(withdrawal.entry_id)
    if candidate is not None:
        candidate.status = "withdrawn"
        candidate.version += 1
        await uow.candidates.upsert(candidate)


async def record_phase(uow: UnitOfWork, year: int, phase: Phase) -> None:
    edition = await uow.editions.get(year)
    edition.phase = phase
    await uow.editions.save(edition)


async def decide_nomination(
    runner: Runner,
    *,
    entry_id: str,
    nominated: bool,
    reason: str | None,
    chair: Principal,
    now: datetime,
) -> Candidate:
    async def work(uow: UnitOfWork) -> Candidate:
        candidate = await uow.candidates.get(entry_id)
        edition = await uow.editions.get(candidate.edition)
        event = candidate.decide(
            nominated=nominated, reason=reason, by=chair.subject, edition=edition, now=now
        )
        await uow.candidates.upsert(candidate)
        await uow.publish(event)
        return candidate

    return await runner.run(work)


async def list_candidates(runner: Runner, *, edition: int) -> list[Candidate]:
    async def work(uow: UnitOfWork) -> list[Candidate]:
        return await uow.candidates.list(edition)

    return await runner.run(work)

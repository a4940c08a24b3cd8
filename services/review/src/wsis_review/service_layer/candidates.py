"""Use cases of the review's entries: arrival from submissions, eligibility, nominations."""

from __future__ import annotations

from datetime import datetime

from wsis_review.domain.candidates import Candidate, CandidateStatus
from wsis_review.service_layer.assignments import end_assignments_of_entry
from wsis_review.service_layer.ranking import category_ranking, summary_of
from wsis_review.service_layer.unit_of_work import Runner, UnitOfWork
from wsis_shared.auth import Principal
from wsis_shared.errors import InvalidInput
from wsis_shared.events import EditionSchedule, EntryPublic, IneligibilityReason, Withdrawal
from wsis_shared.vocabulary import Category, Phase


async def receive_entry(uow: UnitOfWork, entry: EntryPublic, edition: int, now: datetime) -> None:
    """A submitted or amended entry arrives; its place in the review is kept."""
    existing = await uow.candidates.find(entry.entry_id)
    if existing is None:
        candidate = Candidate(entry=entry, edition=edition, received_at=now)
    else:
        candidate = existing.model_copy(update={"entry": entry, "version": existing.version + 1})
    await uow.candidates.upsert(candidate)


async def withdraw_entry(uow: UnitOfWork, withdrawal: Withdrawal, now: datetime) -> None:
    candidate = await uow.candidates.find(withdrawal.entry_id)
    if candidate is None:
        return
    candidate.status = "withdrawn"
    candidate.version += 1
    await uow.candidates.upsert(candidate)
    await end_assignments_of_entry(uow, candidate, now)


async def record_phase(
    uow: UnitOfWork,
    year: int,
    phase: Phase,
    schedule: EditionSchedule,
    *,
    version: int,
    changed_at: datetime | None = None,
) -> None:
    edition = await uow.editions.get(year)
    if not edition.applies(version):
        return
    edition.version = version
    if phase.order > Phase.REVIEW.order >= edition.phase.order and changed_at is not None:
        edition.review_ended_at = changed_at  # by the schedule, or early by an admin
    elif phase.order <= Phase.REVIEW.order:
        edition.review_ended_at = None  # sent back: the review goes on
    edition.phase = phase
    edition.review_closes = schedule.review_closes
    await uow.editions.save(edition)


async def record_schedule(
    uow: UnitOfWork, year: int, schedule: EditionSchedule, *, version: int
) -> None:
    """An admin moved the edition's dates: the review's close is said with its new date."""
    edition = await uow.editions.get(year)
    if not edition.applies(version):
        return
    edition.version = version
    edition.review_closes = schedule.review_closes
    await uow.editions.save(edition)


async def decide_eligibility(
    runner: Runner,
    *,
    entry_id: str,
    eligible: bool,
    reason: IneligibilityReason | None,
    note: str | None,
    by: Principal,
    now: datetime,
) -> Candidate:
    async def work(uow: UnitOfWork) -> Candidate:
        candidate = await uow.candidates.get(entry_id)
        edition = await uow.editions.get(candidate.edition)
        event = candidate.decide_eligibility(
            eligible=eligible, reason=reason, note=note, by=by.subject, edition=edition, now=now
        )
        await uow.candidates.upsert(candidate)
        await uow.publish(event)
        if not eligible:
            await end_assignments_of_entry(uow, candidate, now)
        return candidate

    return await runner.run(work)


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
        summary = await summary_of(uow, edition, candidate.entry_id)
        event = candidate.decide(
            nominated=nominated,
            reason=reason,
            by=chair.subject,
            edition=edition,
            now=now,
            summary=summary,
        )
        await uow.candidates.upsert(candidate)
        await uow.publish(event)
        return candidate

    return await runner.run(work)


async def nominate_in_bulk(
    runner: Runner,
    *,
    edition_year: int,
    top_per_category: int | None,
    min_normalised_score: float | None,
    categories: tuple[Category, ...] | None,
    reason: str | None,
    dry_run: bool,
    chair: Principal,
    now: datetime,
) -> list[Candidate]:
    """Nominates, per category, the top N ranked eligible entries and/or those at or above a
    normalised score. Entries with a decision already are left as they are."""
    if top_per_category is None and min_normalised_score is None:
        raise InvalidInput("give top_per_category, min_normalised_score, or both")

    async def work(uow: UnitOfWork) -> list[Candidate]:
        edition = await uow.editions.get(edition_year)
        edition.require_review("nominating")
        chosen: list[Candidate] = []
        # A category named twice is ranked once: a dry run must list what the real run does,
        # and the real run decides each entry once.
        for category in dict.fromkeys(categories or tuple(Category)):
            ranking = await category_ranking(uow, edition, category)
            ranked = [r for r in ranking if r.score.rank is not None]
            if top_per_category is not None:
                ranked = ranked[:top_per_category]
            if min_normalised_score is not None:
                ranked = [
                    r for r in ranked if (r.score.normalised_score or 0) >= min_normalised_score
                ]
            for row in ranked:
                if row.candidate.status != "eligible":
                    continue
                candidate = row.candidate
                if not dry_run:
                    event = candidate.decide(
                        nominated=True,
                        reason=reason,
                        by=chair.subject,
                        edition=edition,
                        now=now,
                        summary=row.summary,
                    )
                    await uow.candidates.upsert(candidate)
                    await uow.publish(event)
                chosen.append(candidate)
        return chosen

    return await runner.run(work)


async def list_candidates(
    runner: Runner,
    *,
    edition: int,
    category: Category | None = None,
    statuses: tuple[CandidateStatus, ...] | None = None,
) -> list[Candidate]:
    async def work(uow: UnitOfWork) -> list[Candidate]:
        return await uow.candidates.list(edition, category=category, statuses=statuses)

    return await runner.run(work)

"""Use cases of scoring: a reviewer saves and submits their review until the review closes;
the chair reads every review of an entry with its audit trail."""

from __future__ import annotations

from datetime import datetime

from wsis_review.domain.reviews import Review, ReviewChanges
from wsis_review.service_layer.assignments import MyAssignment
from wsis_review.service_layer.unit_of_work import AuditRecord, Runner, UnitOfWork
from wsis_shared.auth import Principal
from wsis_shared.errors import NotFound


async def _open_review(
    uow: UnitOfWork, entry_id: str, reviewer: Principal, now: datetime
) -> tuple[Review, MyAssignment]:
    record = await uow.assignments.find(entry_id, reviewer.subject)
    if record is None or record.status != "active":
        raise NotFound(f"you have no assignment for entry {entry_id}")
    edition = await uow.editions.get(record.edition)
    edition.require_review("scoring")
    review = await uow.reviews.find(entry_id, reviewer.subject) or Review(
        entry_id=entry_id,
        reviewer_id=reviewer.subject,
        edition=record.edition,
        category=record.category,
        updated_at=now,
    )
    candidate = await uow.candidates.get(entry_id)
    return review, MyAssignment(record, candidate, review, edition.rules.blind)


async def save_review(
    runner: Runner, *, entry_id: str, changes: ReviewChanges, reviewer: Principal, now: datetime
) -> Review:
    async def work(uow: UnitOfWork) -> Review:
        review, _ = await _open_review(uow, entry_id, reviewer, now)
        edition = await uow.editions.get(review.edition)
        changed = review.apply(changes, edition.rubric, now)
        if changed:
            await uow.reviews.save(review)
            await _audit(uow, review, "saved", reviewer, now, changed)
        return review

    return await runner.run(work)


async def submit_review(
    runner: Runner, *, entry_id: str, reviewer: Principal, now: datetime
) -> Review:
    async def work(uow: UnitOfWork) -> Review:
        review, _ = await _open_review(uow, entry_id, reviewer, now)
        edition = await uow.editions.get(review.edition)
        already = review.status == "submitted"
        review.submit(edition.rubric, now)
        if not already:
            await uow.reviews.save(review)
            await _audit(uow, review, "submitted", reviewer, now, {})
        return review

    return await runner.run(work)


async def reviews_of_entry(runner: Runner, *, entry_id: str) -> list[Review]:
    async def work(uow: UnitOfWork) -> list[Review]:
        candidate = await uow.candidates.get(entry_id)
        return await uow.reviews.list(candidate.edition, entry_id=entry_id)

    return await runner.run(work)


async def review_trail(runner: Runner, *, entry_id: str) -> list[AuditRecord]:
    async def work(uow: UnitOfWork) -> list[AuditRecord]:
        candidate = await uow.candidates.get(entry_id)
        return [
            *await uow.audit.list(candidate.edition, f"assignment:{entry_id}:"),
            *await uow.audit.list(candidate.edition, f"review:{entry_id}:"),
        ]

    return await runner.run(work)


async def _audit(
    uow: UnitOfWork,
    review: Review,
    action: str,
    by: Principal,
    now: datetime,
    changes: dict[str, object],
) -> None:
    await uow.audit.add(
        AuditRecord(
            edition=review.edition,
            subject=f"review:{review.review_id}",
            action=action,
            by=by.subject,
            at=now,
            changes=changes,
        )
    )

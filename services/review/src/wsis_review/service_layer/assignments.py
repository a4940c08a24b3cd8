"""Use cases of assignment: the solver's runs, declines, declared conflicts, chair overrides."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from wsis_review.domain.assignment import (
    AssignmentPlan,
    AssignmentRules,
    ReviewerProfile,
    conflict_reason,
    plan_assignment,
)
from wsis_review.domain.assignment_records import AssignmentRecord, RemovalReason
from wsis_review.domain.candidates import Candidate
from wsis_review.domain.editions import EditionReview
from wsis_review.domain.reviewers import DeclaredConflict, Reviewer
from wsis_review.domain.reviews import Review
from wsis_review.service_layer.unit_of_work import AuditRecord, Runner, UnitOfWork
from wsis_shared.auth import Principal
from wsis_shared.errors import Conflict, InvalidInput, NotFound


@dataclass(frozen=True)
class AssignmentRun:
    plan: AssignmentPlan
    entries_considered: int
    reviewers_considered: int


def _rules(edition: EditionReview) -> AssignmentRules:
    return AssignmentRules(
        reviewers_per_entry=edition.rules.reviewers_per_entry,
        same_country_is_conflict=edition.rules.same_country_is_conflict,
    )


async def _plan_and_store(
    uow: UnitOfWork,
    edition: EditionReview,
    entries: list[Candidate],
    now: datetime,
) -> AssignmentRun:
    """Plans reviewers for `entries` around every assignment already standing in the edition:
    existing ones never move, and count toward every reviewer's load and maximum."""
    reviewers = await uow.reviewers.list(active_only=True)
    records = await uow.assignments.list(edition.year, statuses=("active", "declined"))
    planned = {c.entry_id for c in entries}
    active = [r for r in records if r.status == "active"]
    load_elsewhere = Counter(r.reviewer_id for r in active if r.entry_id not in planned)
    profiles = [
        _with_room(reviewer.profile(), load_elsewhere[reviewer.reviewer_id])
        for reviewer in reviewers
    ]
    plan = plan_assignment(
        [c.to_assign() for c in entries],
        [p for p in profiles if p.max_load > 0],
        _rules(edition),
        existing=[r.pair for r in active if r.entry_id in planned],
        declined=[r.pair for r in records if r.status == "declined"],
    )
    categories = {c.entry_id: c.entry.category for c in entries}
    for pair in plan.new_pairs:
        record = await uow.assignments.find(pair.entry_id, pair.reviewer_id)
        if record is None:
            record = AssignmentRecord(
                entry_id=pair.entry_id,
                reviewer_id=pair.reviewer_id,
                edition=edition.year,
                category=categories[pair.entry_id],
                assigned_by="solver",
                assigned_at=now,
            )
        else:  # removed earlier (e.g. by the chair), now chosen again
            record = record.model_copy(
                update={
                    "status": "active",
                    "assigned_by": "solver",
                    "assigned_at": now,
                    "ended_at": None,
                    "ended_reason": None,
                    "version": record.version + 1,
                }
            )
        await uow.assignments.save(record)
        await uow.publish(record.assigned_event())
        await uow.audit.add(
            AuditRecord(
                edition=edition.year,
                subject=f"assignment:{record.assignment_id}",
                action="assigned_by_solver",
                by="solver",
                at=now,
            )
        )
    loads = dict(plan.loads)
    for reviewer_id, elsewhere in load_elsewhere.items():
        if reviewer_id in loads:
            loads[reviewer_id] += elsewhere
    full_plan = AssignmentPlan(new_pairs=plan.new_pairs, uncovered=plan.uncovered, loads=loads)
    return AssignmentRun(full_plan, len(entries), len(profiles))


def _with_room(profile: ReviewerProfile, load_elsewhere: int) -> ReviewerProfile:
    if not load_elsewhere:
        return profile
    return ReviewerProfile(
        reviewer_id=profile.reviewer_id,
        organisation=profile.organisation,
        country=profile.country,
        categories=profile.categories,
        max_load=max(0, profile.max_load - load_elsewhere),
        conflict_organisations=profile.conflict_organisations,
        conflict_entries=profile.conflict_entries,
        languages=profile.languages,
    )


async def run_assignment(
    runner: Runner, *, year: int, by: Principal, now: datetime
) -> AssignmentRun:
    """Gives every eligible entry still short of reviewers its k reviewers. Deterministic, and
    incremental: standing assignments are kept, so a re-run moves nothing that is in place."""

    async def work(uow: UnitOfWork) -> AssignmentRun:
        edition = await uow.editions.get(year)
        edition.require_review("assigning reviewers")
        entries = await uow.candidates.list(year, statuses=("eligible",))
        run = await _plan_and_store(uow, edition, entries, now)
        await uow.audit.add(
            AuditRecord(
                edition=year,
                subject=f"assignment-run:{now.isoformat()}",
                action="assignment_run",
                by=by.subject,
                at=now,
                changes={
                    "new": len(run.plan.new_pairs),
                    "uncovered": [u.entry_id for u in run.plan.uncovered],
                },
            )
        )
        return run

    return await runner.run(work)


async def _end(
    uow: UnitOfWork,
    record: AssignmentRecord,
    reason: RemovalReason,
    by: str,
    now: datetime,
    note: str | None = None,
) -> None:
    event = record.end(reason, now, note)
    await uow.assignments.save(record)
    await uow.publish(event)
    await uow.audit.add(
        AuditRecord(
            edition=record.edition,
            subject=f"assignment:{record.assignment_id}",
            action=reason,
            by=by,
            at=now,
            changes={"note": note} if note else {},
        )
    )


async def _has_submitted_review(uow: UnitOfWork, record: AssignmentRecord) -> bool:
    review = await uow.reviews.find(record.entry_id, record.reviewer_id)
    return review is not None and review.status == "submitted"


async def end_assignments_of_entry(uow: UnitOfWork, candidate: Candidate, now: datetime) -> None:
    """An entry that leaves the review (withdrawn, ineligible) frees its reviewers."""
    for record in await uow.assignments.list(
        candidate.edition, entry_id=candidate.entry_id, statuses=("active",)
    ):
        await _end(uow, record, "entry_left_review", "system", now)


async def _active_record(uow: UnitOfWork, entry_id: str, reviewer_id: str) -> AssignmentRecord:
    record = await uow.assignments.find(entry_id, reviewer_id)
    if record is None or record.status != "active":
        # Another reviewer's assignment and a missing one look the same from outside.
        raise NotFound(f"you have no assignment for entry {entry_id}")
    return record


async def decline(
    runner: Runner, *, entry_id: str, reviewer: Principal, reason: str, now: datetime
) -> AssignmentRun:
    """The reviewer gives the entry back with a reason; the solver finds a replacement at once
    for this entry only."""

    async def work(uow: UnitOfWork) -> AssignmentRun:
        record = await _active_record(uow, entry_id, reviewer.subject)
        edition = await uow.editions.get(record.edition)
        edition.require_review("declining an assignment")
        if await _has_submitted_review(uow, record):
            raise Conflict(
                "you already submitted your review of this entry; ask the chair to remove the "
                "assignment instead"
            )
        await _end(uow, record, "declined", reviewer.subject, now, reason)
        candidate = await uow.candidates.get(entry_id)
        return await _plan_and_store(uow, edition, [candidate] if candidate.in_review else [], now)

    return await runner.run(work)


async def declare_conflict(
    runner: Runner, *, reviewer: Principal, conflict: DeclaredConflict, now: datetime
) -> Reviewer:
    """Recorded for every future assignment; an open assignment it touches is handed to
    someone else (a submitted review stays, the chair decides about it)."""

    async def work(uow: UnitOfWork) -> Reviewer:
        profile = await uow.reviewers.get(reviewer.subject)
        profile.declare(conflict, now)
        await uow.reviewers.save(profile)
        await uow.audit.add(
            AuditRecord(
                edition=0,
                subject=f"reviewer:{profile.reviewer_id}",
                action="conflict_declared",
                by=reviewer.subject,
                at=now,
                changes=conflict.model_dump(exclude_none=True),
            )
        )
        as_profile = profile.profile()
        touched: dict[int, list[Candidate]] = {}
        for record in await _open_records_of(uow, profile.reviewer_id):
            candidate = await uow.candidates.get(record.entry_id)
            edition = await uow.editions.get(record.edition)
            if conflict_reason(as_profile, candidate.to_assign(), _rules(edition)) is None:
                continue
            if await _has_submitted_review(uow, record):
                continue
            await _end(uow, record, "conflict_declared", reviewer.subject, now)
            if candidate.in_review and edition.phase == "review":
                touched.setdefault(record.edition, []).append(candidate)
        for year, entries in touched.items():
            await _plan_and_store(uow, await uow.editions.get(year), entries, now)
        return profile

    return await runner.run(work)


async def hand_over_open_assignments(
    uow: UnitOfWork, reviewer_id: str, reason: RemovalReason, by: str, now: datetime
) -> None:
    """Ends a reviewer's open assignments (a submitted review stays, the chair decides about
    it) and finds replacements for the entries still in review."""
    touched: dict[int, list[Candidate]] = {}
    for record in await _open_records_of(uow, reviewer_id):
        if await _has_submitted_review(uow, record):
            continue
        await _end(uow, record, reason, by, now)
        candidate = await uow.candidates.get(record.entry_id)
        edition = await uow.editions.get(record.edition)
        if candidate.in_review and edition.phase == "review":
            touched.setdefault(record.edition, []).append(candidate)
    for year, entries in touched.items():
        await _plan_and_store(uow, await uow.editions.get(year), entries, now)


async def _open_records_of(uow: UnitOfWork, reviewer_id: str) -> list[AssignmentRecord]:
    return await uow.assignments.list(None, reviewer_id=reviewer_id, statuses=("active",))


async def override(
    runner: Runner,
    *,
    entry_id: str,
    add_reviewer_id: str | None,
    remove_reviewer_id: str | None,
    chair: Principal,
    now: datetime,
) -> list[AssignmentRecord]:
    """The chair moves one assignment by hand: adds a reviewer, removes one, or both. A
    conflicted, declined, inactive or overloaded reviewer is refused with the reason."""
    if add_reviewer_id is None and remove_reviewer_id is None:
        raise InvalidInput("name add_reviewer_id, remove_reviewer_id, or both")

    async def work(uow: UnitOfWork) -> list[AssignmentRecord]:
        candidate = await uow.candidates.get(entry_id)
        edition = await uow.editions.get(candidate.edition)
        edition.require_review("changing an assignment")
        if remove_reviewer_id is not None:
            record = await uow.assignments.find(entry_id, remove_reviewer_id)
            if record is None or record.status != "active":
                raise NotFound(f"reviewer {remove_reviewer_id} is not assigned to {entry_id}")
            await _end(uow, record, "chair_override", chair.subject, now)
        if add_reviewer_id is not None:
            if not candidate.in_review:
                raise Conflict(
                    f"entry {entry_id} is {candidate.status.replace('_', ' ')}: reviewers are "
                    "assigned to eligible entries only"
                )
            await _add_by_chair(uow, edition, candidate, add_reviewer_id, chair, now)
        return await uow.assignments.list(
            candidate.edition, entry_id=entry_id, statuses=("active",)
        )

    return await runner.run(work)


async def _add_by_chair(
    uow: UnitOfWork,
    edition: EditionReview,
    candidate: Candidate,
    reviewer_id: str,
    chair: Principal,
    now: datetime,
) -> None:
    reviewer = await uow.reviewers.get(reviewer_id)
    if not reviewer.active:
        raise Conflict(f"reviewer {reviewer_id} is not active")
    reason = conflict_reason(reviewer.profile(), candidate.to_assign(), _rules(edition))
    if reason is not None:
        raise Conflict(f"reviewer {reviewer_id} is in conflict with this entry: {reason}")
    existing = await uow.assignments.find(candidate.entry_id, reviewer_id)
    if existing is not None and existing.status == "active":
        raise Conflict(f"reviewer {reviewer_id} is already assigned to this entry")
    if existing is not None and existing.status == "declined":
        raise Conflict(f"reviewer {reviewer_id} declined this entry: {existing.decline_reason}")
    load = len(
        await uow.assignments.list(edition.year, reviewer_id=reviewer_id, statuses=("active",))
    )
    if load >= reviewer.max_load:
        raise Conflict(f"reviewer {reviewer_id} is at their maximum load ({reviewer.max_load})")
    record = AssignmentRecord(
        entry_id=candidate.entry_id,
        reviewer_id=reviewer_id,
        edition=edition.year,
        category=candidate.entry.category,
        assigned_by="chair",
        assigned_at=now,
        version=existing.version + 1 if existing else 1,
    )
    await uow.assignments.save(record)
    await uow.publish(record.assigned_event())
    await uow.audit.add(
        AuditRecord(
            edition=edition.year,
            subject=f"assignment:{record.assignment_id}",
            action="chair_added",
            by=chair.subject,
            at=now,
        )
    )


@dataclass(frozen=True)
class MyAssignment:
    record: AssignmentRecord
    candidate: Candidate
    review: Review | None
    blind: bool


async def my_assignments(runner: Runner, *, year: int, reviewer: Principal) -> list[MyAssignment]:
    async def work(uow: UnitOfWork) -> list[MyAssignment]:
        edition = await uow.editions.get(year)
        found = []
        for record in await uow.assignments.list(
            year, reviewer_id=reviewer.subject, statuses=("active",)
        ):
            found.append(
                MyAssignment(
                    record,
                    await uow.candidates.get(record.entry_id),
                    await uow.reviews.find(record.entry_id, reviewer.subject),
                    edition.rules.blind,
                )
            )
        return found

    return await runner.run(work)


async def my_assignment(runner: Runner, *, entry_id: str, reviewer: Principal) -> MyAssignment:
    async def work(uow: UnitOfWork) -> MyAssignment:
        record = await _active_record(uow, entry_id, reviewer.subject)
        edition = await uow.editions.get(record.edition)
        return MyAssignment(
            record,
            await uow.candidates.get(entry_id),
            await uow.reviews.find(entry_id, reviewer.subject),
            edition.rules.blind,
        )

    return await runner.run(work)


async def assignments_of_edition(
    runner: Runner, *, year: int, entry_id: str | None = None, reviewer_id: str | None = None
) -> list[AssignmentRecord]:
    async def work(uow: UnitOfWork) -> list[AssignmentRecord]:
        return await uow.assignments.list(year, entry_id=entry_id, reviewer_id=reviewer_id)

    return await runner.run(work)

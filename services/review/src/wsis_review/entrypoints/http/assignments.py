"""Assignment of reviewers: the chair runs the solver and adjusts by hand; each reviewer sees
and declines only their own assignments."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from wsis_review.entrypoints.http.dependencies import ChairOrAdmin, UoW
from wsis_review.entrypoints.http.dependencies import Reviewer as ReviewerRole
from wsis_review.entrypoints.http.public_models import AssignmentPublic, MyAssignmentPublic
from wsis_review.service_layer import assignments as use_cases
from wsis_review.service_layer.assignments import AssignmentRun
from wsis_shared.events import utcnow
from wsis_shared.vocabulary import EditionYear

router = APIRouter(tags=["assignments"])


class UncoveredPublic(BaseModel):
    entry_id: str
    category: str
    missing: int
    reason: str


class AssignmentRunPublic(BaseModel):
    entries_considered: int
    reviewers_considered: int
    new_assignments: int
    uncovered: list[UncoveredPublic]
    load_min: int
    load_max: int
    load_spread: int
    loads: dict[str, int]

    @classmethod
    def of(cls, run: AssignmentRun) -> AssignmentRunPublic:
        loads = run.plan.loads
        return cls(
            entries_considered=run.entries_considered,
            reviewers_considered=run.reviewers_considered,
            new_assignments=len(run.plan.new_pairs),
            uncovered=[
                UncoveredPublic(
                    entry_id=u.entry_id, category=u.category, missing=u.missing, reason=u.reason
                )
                for u in run.plan.uncovered
            ],
            load_min=min(loads.values(), default=0),
            load_max=max(loads.values(), default=0),
            load_spread=max(loads.values(), default=0) - min(loads.values(), default=0),
            loads=loads,
        )


class AssignmentOverride(BaseModel):
    add_reviewer_id: str | None = Field(default=None, max_length=200)
    remove_reviewer_id: str | None = Field(default=None, max_length=200)


class Decline(BaseModel):
    reason: str = Field(min_length=3, max_length=2000, description="why, for the chair")


@router.post(
    "/editions/{year}/assignments/run",
    summary="Assign k reviewers to every eligible entry still short of them (chair, admin)",
    description=(
        "Deterministic and incremental: standing assignments never move; entries that could "
        "not be covered are listed with the reason."
    ),
)
async def run_assignment(year: EditionYear, by: ChairOrAdmin, uow: UoW) -> AssignmentRunPublic:
    return AssignmentRunPublic.of(
        await use_cases.run_assignment(uow, year=year, by=by, now=utcnow())
    )


@router.get("/editions/{year}/assignments", summary="All assignments (chair, admin)")
async def list_assignments(
    year: EditionYear,
    reader: ChairOrAdmin,
    uow: UoW,
    entry_id: str | None = None,
    reviewer_id: str | None = None,
) -> list[AssignmentPublic]:
    records = await use_cases.assignments_of_edition(
        uow, year=year, entry_id=entry_id, reviewer_id=reviewer_id
    )
    return [AssignmentPublic.of(r) for r in records]


@router.post(
    "/candidates/{entry_id}/assignments",
    summary="Override one assignment: add and/or remove a reviewer (chair, admin)",
)
async def override_assignment(
    entry_id: str, body: AssignmentOverride, chair: ChairOrAdmin, uow: UoW
) -> list[AssignmentPublic]:
    records = await use_cases.override(
        uow,
        entry_id=entry_id,
        add_reviewer_id=body.add_reviewer_id,
        remove_reviewer_id=body.remove_reviewer_id,
        chair=chair,
        now=utcnow(),
    )
    return [AssignmentPublic.of(r) for r in records]


@router.get("/me/assignments", summary="My assignments in an edition (reviewer)")
async def my_assignments(
    year: EditionYear, reviewer: ReviewerRole, uow: UoW
) -> list[MyAssignmentPublic]:
    mine = await use_cases.my_assignments(uow, year=year, reviewer=reviewer)
    return [MyAssignmentPublic.of(m) for m in mine]


@router.get("/me/assignments/{entry_id}", summary="One of my assignments (reviewer)")
async def my_assignment(entry_id: str, reviewer: ReviewerRole, uow: UoW) -> MyAssignmentPublic:
    return MyAssignmentPublic.of(
        await use_cases.my_assignment(uow, entry_id=entry_id, reviewer=reviewer)
    )


@router.post(
    "/me/assignments/{entry_id}/decline",
    summary="Give an assignment back with a reason; another reviewer is found (reviewer)",
)
async def decline(
    entry_id: str, body: Decline, reviewer: ReviewerRole, uow: UoW
) -> AssignmentRunPublic:
    run = await use_cases.decline(
        uow, entry_id=entry_id, reviewer=reviewer, reason=body.reason, now=utcnow()
    )
    return AssignmentRunPublic.of(run)

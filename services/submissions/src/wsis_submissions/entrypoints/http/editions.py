"""Editions and phases: created and moved by admins, readable by everyone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from fastapi import APIRouter, status
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from wsis_shared.events import EditionSchedule
from wsis_shared.text import single_line
from wsis_shared.vocabulary import Category, EditionYear, Phase
from wsis_submissions.domain.editions import Edition, schedule_problem, stored_schedule
from wsis_submissions.entrypoints.http.dependencies import Admin, Now, UoW
from wsis_submissions.service_layer import editions as use_cases

router = APIRouter(prefix="/editions", tags=["editions"])


# One line of visible text, outer spaces dropped before its length is checked.
EditionTitle = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=200),
    AfterValidator(single_line),
]


class EditionCreate(BaseModel):
    year: int = Field(ge=2000, le=2100)
    title: EditionTitle
    schedule: EditionSchedule
    categories: tuple[Category, ...] = tuple(Category)
    show_running_counts: StrictBool = Field(
        default=False, description="show running vote counts to the public during voting"
    )

    @model_validator(mode="after")
    def schedule_in_order(self) -> Self:
        problem = schedule_problem(self.year, self.schedule)
        if problem is not None:
            raise ValueError(problem[1])
        self.schedule = stored_schedule(self.schedule)
        if not self.categories:
            raise ValueError("an edition needs at least one category")
        return self


class ScheduleChange(BaseModel):
    """The dates to move; a date left out stays. Only dates still to come move, to moments
    still to come."""

    model_config = ConfigDict(extra="forbid")

    submission_opens: AwareDatetime | None = None
    submission_closes: AwareDatetime | None = None
    review_closes: AwareDatetime | None = None
    voting_opens: AwareDatetime | None = None
    voting_closes: AwareDatetime | None = None
    results_at: AwareDatetime | None = None
    ceremony_at: AwareDatetime | None = Field(
        default=None, description="null removes the ceremony (the edition then stays in results)"
    )

    @field_validator(
        "submission_opens",
        "submission_closes",
        "review_closes",
        "voting_opens",
        "voting_closes",
        "results_at",
    )
    @classmethod
    def only_the_ceremony_can_be_removed(
        cls, value: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        if value is None:  # sent as null (a date left out is not validated)
            raise ValueError(
                f"schedule.{info.field_name} cannot be removed: give its new date or leave it out"
            )
        return value


class EditionUpdate(BaseModel):
    """What an admin may change in an edition at any time; its categories stay as created (the
    entries are in them), its phase moves by the schedule or `POST /editions/{year}/phase`."""

    model_config = ConfigDict(extra="forbid")

    title: EditionTitle | None = None
    schedule: ScheduleChange | None = None
    show_running_counts: StrictBool | None = Field(
        default=None, description="show running vote counts to the public during voting"
    )


class PhaseOverride(BaseModel):
    phase: Phase


class ScheduledChange(BaseModel):
    at: datetime
    phase: Phase


class EditionPublic(BaseModel):
    year: int
    title: str
    schedule: EditionSchedule
    categories: tuple[Category, ...]
    show_running_counts: bool
    phase: Phase
    next_change: ScheduledChange | None = Field(
        description="when the schedule will next move the edition by itself, and to which phase "
        "(an admin's override holds until then: after sending an edition back to submissions, "
        "this says when it would go on — to voting, say, skipping a review not yet done)"
    )
    created_at: datetime

    @classmethod
    def of(cls, edition: Edition, now: datetime) -> EditionPublic:
        upcoming = edition.next_change(now)
        return cls.model_validate(
            edition.model_dump()
            | {
                "next_change": ScheduledChange(at=upcoming[0], phase=upcoming[1])
                if upcoming
                else None
            }
        )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create an edition (admin)")
async def create_edition(body: EditionCreate, admin: Admin, uow: UoW, now: Now) -> EditionPublic:
    edition = await use_cases.create_edition(
        uow,
        now,
        year=body.year,
        title=body.title,
        schedule=body.schedule,
        categories=body.categories,
        show_running_counts=body.show_running_counts,
    )
    return EditionPublic.of(edition, now())


@router.get("", summary="List editions (public)")
async def list_editions(uow: UoW, now: Now) -> list[EditionPublic]:
    at = now()
    return [EditionPublic.of(edition, at) for edition in await use_cases.list_editions(uow)]


@router.get("/{year}", summary="One edition with its phase and schedule (public)")
async def get_edition(year: EditionYear, uow: UoW, now: Now) -> EditionPublic:
    return EditionPublic.of(await use_cases.get_edition(uow, year=year), now())


@router.patch(
    "/{year}",
    summary="Change an edition's title, dates still to come or running counts (admin)",
    responses={
        422: {
            "description": "a date that has passed, a date moved into the past, or the "
            "schedule out of order (`errors[].pointer` names the date)"
        }
    },
)
async def change_edition(
    year: EditionYear, body: EditionUpdate, admin: Admin, uow: UoW, now: Now
) -> EditionPublic:
    dates = body.schedule.model_dump(exclude_unset=True) if body.schedule is not None else {}
    edition = await use_cases.change_edition(
        uow,
        now,
        year=year,
        title=body.title,
        dates=dates,
        show_running_counts=body.show_running_counts,
    )
    return EditionPublic.of(edition, now())


@router.post("/{year}/phase", summary="Move the edition to another phase now (admin override)")
async def override_phase(
    year: EditionYear, body: PhaseOverride, admin: Admin, uow: UoW, now: Now
) -> EditionPublic:
    edition = await use_cases.change_phase(uow, now, year=year, phase=body.phase, by=admin.subject)
    return EditionPublic.of(edition, now())

"""Editions and phases: created and moved by admins, readable by everyone."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from fastapi import APIRouter, Header, Response, status
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

from wsis_shared.errors import InvalidInput
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
    version: int = Field(description="bumped by every change; also the ETag, for If-Match")
    next_change: ScheduledChange | None = Field(
        description="when the schedule will next move the edition by itself, and to which phase "
        "(an admin's override holds until then: after sending an edition back to submissions, "
        "this says when it would go on — to voting, say, skipping a review not yet done); a "
        "moment just past when the change is due and the scheduler's next pass makes it"
    )
    fixed_dates: list[str] = Field(
        description="the schedule's dates an admin can no longer move (PATCH): passed — unless "
        "the edition is again in the phase the date ends — or ending a phase the edition has left"
    )
    created_at: datetime

    @classmethod
    def of(cls, edition: Edition, now: datetime) -> EditionPublic:
        upcoming = edition.next_change(now)
        fixed = edition.fixed_dates(now)
        return cls.model_validate(
            edition.model_dump()
            | {
                "next_change": ScheduledChange(at=upcoming[0], phase=upcoming[1])
                if upcoming
                else None,
                "fixed_dates": [name for name in EditionSchedule.model_fields if name in fixed],
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
async def get_edition(year: EditionYear, uow: UoW, now: Now, response: Response) -> EditionPublic:
    edition = await use_cases.get_edition(uow, year=year)
    response.headers["ETag"] = _etag(edition)  # for `If-Match` on PATCH
    return EditionPublic.of(edition, now())


@router.patch(
    "/{year}",
    summary="Change an edition's title, dates still to come or running counts (admin)",
    responses={
        412: {
            "description": "`If-Match` names a version the edition no longer has: another "
            "change came first (changed-meanwhile)"
        },
        422: {
            "description": "a date that can no longer move (`fixed_dates`), a date moved into "
            "the past or less than a minute ahead, or the schedule out of order "
            "(`errors[].pointer` names the date)"
        },
    },
)
async def change_edition(
    year: EditionYear,
    body: EditionUpdate,
    admin: Admin,
    uow: UoW,
    now: Now,
    response: Response,
    if_match: Annotated[
        str | None,
        Header(
            description='the `ETag` of `GET /editions/{year}` (its version, e.g. `"7"`): the '
            "change is made only if nobody changed the edition since"
        ),
    ] = None,
) -> EditionPublic:
    dates = body.schedule.model_dump(exclude_unset=True) if body.schedule is not None else {}
    edition = await use_cases.change_edition(
        uow,
        now,
        year=year,
        title=body.title,
        dates=dates,
        show_running_counts=body.show_running_counts,
        expected_version=_version_in(if_match),
    )
    response.headers["ETag"] = _etag(edition)
    return EditionPublic.of(edition, now())


def _etag(edition: Edition) -> str:
    return f'"{edition.version}"'


def _version_in(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdecimal() and len(tag) <= 12):
        raise InvalidInput(
            f'If-Match is {if_match!r}: send the ETag of GET /editions/{{year}}, such as "7"',
            errors=[{"in": "header", "parameter": "If-Match", "detail": "not an edition's ETag"}],
        )
    return int(tag)


@router.post("/{year}/phase", summary="Move the edition to another phase now (admin override)")
async def override_phase(
    year: EditionYear, body: PhaseOverride, admin: Admin, uow: UoW, now: Now
) -> EditionPublic:
    edition = await use_cases.change_phase(uow, now, year=year, phase=body.phase, by=admin.subject)
    return EditionPublic.of(edition, now())

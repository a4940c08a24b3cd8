"""Editions and phases: created and moved by admins, readable by everyone."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Final, Self

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, model_validator

from wsis_shared.events import EditionSchedule, utc_year
from wsis_shared.vocabulary import Category, EditionYear, Phase
from wsis_submissions.domain.editions import Edition
from wsis_submissions.entrypoints.http.dependencies import Admin, Now, UoW
from wsis_submissions.service_layer import editions as use_cases

router = APIRouter(prefix="/editions", tags=["editions"])


SCHEDULE_YEARS_AROUND: Final = 2


class EditionCreate(BaseModel):
    year: int = Field(ge=2000, le=2100)
    title: str = Field(min_length=3, max_length=200)
    schedule: EditionSchedule
    categories: tuple[Category, ...] = tuple(Category)
    show_running_counts: bool = Field(
        default=False, description="show running vote counts to the public during voting"
    )

    @model_validator(mode="after")
    def schedule_in_order(self) -> Self:
        s = self.schedule
        steps = [
            ("submission_opens", s.submission_opens),
            ("submission_closes", s.submission_closes),
            ("review_closes", s.review_closes),
            ("voting_opens", s.voting_opens),
            ("voting_closes", s.voting_closes),
            ("results_at", s.results_at),
        ]
        if s.ceremony_at is not None:  # the edition closes then: before the results, it skips them
            steps.append(("ceremony_at", s.ceremony_at))
        for name, moment in steps:
            # Also keeps out dates MongoDB cannot store (past 9999 once in UTC).
            year = utc_year(moment)
            if year is None or abs(year - self.year) > SCHEDULE_YEARS_AROUND:
                raise ValueError(
                    f"schedule.{name} is {moment.isoformat()}: the dates of edition {self.year} "
                    f"fall within {SCHEDULE_YEARS_AROUND} years of {self.year}"
                )
        for (earlier, a), (later, b) in itertools.pairwise(steps):
            if a > b:
                raise ValueError(f"schedule.{earlier} must not be after schedule.{later}")
        if not self.categories:
            raise ValueError("an edition needs at least one category")
        return self


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


@router.post("/{year}/phase", summary="Move the edition to another phase now (admin override)")
async def override_phase(
    year: EditionYear, body: PhaseOverride, admin: Admin, uow: UoW, now: Now
) -> EditionPublic:
    edition = await use_cases.change_phase(uow, now, year=year, phase=body.phase, by=admin.subject)
    return EditionPublic.of(edition, now())

"""Entries under review: the eligibility pass and the chair's nominations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from wsis_review.domain.candidates import CandidateStatus
from wsis_review.entrypoints.http.dependencies import Chair, ChairOrAdmin, UoW
from wsis_review.entrypoints.http.public_models import CandidatePublic
from wsis_review.service_layer import candidates as use_cases
from wsis_shared.events import IneligibilityReason, utcnow
from wsis_shared.vocabulary import Category, EditionYear

router = APIRouter(tags=["candidates"])


class EligibilityCreate(BaseModel):
    eligible: bool
    reason: IneligibilityReason | None = Field(
        default=None, description="required when not eligible"
    )
    note: str | None = Field(default=None, max_length=2000)


class NominationCreate(BaseModel):
    nominated: bool = Field(description="true: on the public ballot; false: not nominated")
    reason: str | None = Field(default=None, max_length=2000)


class BulkNomination(BaseModel):
    top_per_category: int | None = Field(default=None, ge=1, le=1000)
    min_normalised_score: float | None = Field(default=None, ge=-10, le=10)
    categories: tuple[Category, ...] | None = Field(default=None, description="all when absent")
    reason: str | None = Field(default=None, max_length=2000)
    dry_run: bool = Field(default=False, description="list who would be nominated, change nothing")


class BulkNominationResult(BaseModel):
    dry_run: bool
    nominated: list[CandidatePublic]


@router.get("/editions/{year}/candidates", summary="Entries received for review (chair, admin)")
async def list_candidates(
    year: EditionYear,
    reader: ChairOrAdmin,
    uow: UoW,
    category: Category | None = None,
    status: Annotated[list[CandidateStatus] | None, Query()] = None,
) -> list[CandidatePublic]:
    found = await use_cases.list_candidates(
        uow, edition=year, category=category, statuses=tuple(status) if status else None
    )
    return [CandidatePublic.of(c) for c in found]


@router.post(
    "/candidates/{entry_id}/eligibility",
    summary="Mark an entry eligible or not, with a reason (chair, review phase)",
)
async def decide_eligibility(
    entry_id: str, body: EligibilityCreate, chair: Chair, uow: UoW
) -> CandidatePublic:
    candidate = await use_cases.decide_eligibility(
        uow,
        entry_id=entry_id,
        eligible=body.eligible,
        reason=body.reason,
        note=body.note,
        by=chair,
        now=utcnow(),
    )
    return CandidatePublic.of(candidate)


@router.post(
    "/candidates/{entry_id}/nomination",
    summary="Nominate an eligible entry for public voting, or not (chair, review phase)",
)
async def decide_nomination(
    entry_id: str, body: NominationCreate, chair: Chair, uow: UoW
) -> CandidatePublic:
    candidate = await use_cases.decide_nomination(
        uow,
        entry_id=entry_id,
        nominated=body.nominated,
        reason=body.reason,
        chair=chair,
        now=utcnow(),
    )
    return CandidatePublic.of(candidate)


@router.post(
    "/editions/{year}/nominations",
    summary="Nominate in bulk: the top N per category and/or above a normalised score (chair)",
)
async def nominate_in_bulk(
    year: EditionYear, body: BulkNomination, chair: Chair, uow: UoW
) -> BulkNominationResult:
    chosen = await use_cases.nominate_in_bulk(
        uow,
        edition_year=year,
        top_per_category=body.top_per_category,
        min_normalised_score=body.min_normalised_score,
        categories=body.categories,
        reason=body.reason,
        dry_run=body.dry_run,
        chair=chair,
        now=utcnow(),
    )
    return BulkNominationResult(
        dry_run=body.dry_run, nominated=[CandidatePublic.of(c) for c in chosen]
    )

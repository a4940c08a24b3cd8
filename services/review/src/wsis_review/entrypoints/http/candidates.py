"""Entries under review and the chair's nomination decisions."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from wsis_review.domain.candidates import Candidate, CandidateStatus
from wsis_review.entrypoints.http.dependencies import Chair, ReviewTeam, UoW
from wsis_review.service_layer import candidates as use_cases
from wsis_shared.events import EntryPublic, utcnow

router = APIRouter(tags=["candidates"])


class NominationCreate(BaseModel):
    nominated: bool = Field(description="true: on the public ballot; false: not nominated")
    reason: str | None = Field(default=None, max_length=2000)


class CandidatePublic(BaseModel):
    entry: EntryPublic
    edition: int
    status: CandidateStatus
    received_at: datetime
    decided_at: datetime | None
    decision_reason: str | None

    @classmethod
    def of(cls, candidate: Candidate) -> CandidatePublic:
        return cls.model_validate(candidate.model_dump())


@router.get("/editions/{year}/candidates", summary="Entries received for review (review team)")
async def list_candidates(year: int, reader: ReviewTeam, uow: UoW) -> list[CandidatePublic]:
    return [CandidatePublic.of(c) for c in await use_cases.list_candidates(uow, edition=year)]


@router.post(
    "/candidates/{entry_id}/nomination",
    summary="Nominate an entry for public voting, or not (chair, review phase)",
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

"""Scoring: a reviewer saves drafts and submits; the chair reads reviews, trails and rankings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from wsis_review.adapters.exports import to_csv, to_xlsx
from wsis_review.domain.reviews import ReviewChanges
from wsis_review.entrypoints.http.dependencies import Chair, ChairOrAdmin, UoW
from wsis_review.entrypoints.http.dependencies import Reviewer as ReviewerRole
from wsis_review.entrypoints.http.public_models import CandidatePublic, ReviewPublic
from wsis_review.service_layer import progress as progress_cases
from wsis_review.service_layer import ranking as ranking_cases
from wsis_review.service_layer import reviews as use_cases
from wsis_shared.events import utcnow
from wsis_shared.vocabulary import Category, EditionYear

router = APIRouter(tags=["reviews"])


@router.patch(
    "/me/assignments/{entry_id}/review",
    summary="Save my review, any part of it, as often as needed until the review closes (reviewer)",
)
async def save_review(
    entry_id: str, body: ReviewChanges, reviewer: ReviewerRole, uow: UoW
) -> ReviewPublic:
    review = await use_cases.save_review(
        uow, entry_id=entry_id, changes=body, reviewer=reviewer, now=utcnow()
    )
    return ReviewPublic.of(review)


@router.post(
    "/me/assignments/{entry_id}/review/submit",
    summary="Submit my review: every criterion scored and a recommendation (reviewer)",
)
async def submit_review(entry_id: str, reviewer: ReviewerRole, uow: UoW) -> ReviewPublic:
    return ReviewPublic.of(
        await use_cases.submit_review(uow, entry_id=entry_id, reviewer=reviewer, now=utcnow())
    )


@router.get("/candidates/{entry_id}/reviews", summary="Every review of an entry (chair, admin)")
async def reviews_of_entry(entry_id: str, reader: ChairOrAdmin, uow: UoW) -> list[ReviewPublic]:
    return [ReviewPublic.of(r) for r in await use_cases.reviews_of_entry(uow, entry_id=entry_id)]


class TrailRecord(BaseModel):
    subject: str
    action: str
    by: str
    at: datetime
    changes: dict[str, object]


@router.get(
    "/candidates/{entry_id}/trail",
    summary="Audit trail of an entry's assignments and reviews (chair, admin)",
)
async def review_trail(entry_id: str, reader: ChairOrAdmin, uow: UoW) -> list[TrailRecord]:
    return [
        TrailRecord.model_validate(r.model_dump())
        for r in await use_cases.review_trail(uow, entry_id=entry_id)
    ]


class RankedEntry(BaseModel):
    rank: int | None
    candidate: CandidatePublic
    reviews: int
    weighted_mean: float | None
    normalised_score: float | None
    spread: float | None
    disagreement: bool


@router.get(
    "/editions/{year}/ranking",
    summary="Ranking of a category by normalised score, with disagreement flags (chair)",
)
async def ranking(
    year: EditionYear, category: Category, chair: Chair, uow: UoW
) -> list[RankedEntry]:
    rows = await ranking_cases.ranking(uow, year=year, category=category)
    return [
        RankedEntry(
            rank=row.score.rank,
            candidate=CandidatePublic.of(row.candidate),
            reviews=row.score.reviews,
            weighted_mean=row.score.weighted_mean,
            normalised_score=row.score.normalised_score,
            spread=row.score.spread,
            disagreement=row.score.disagreement,
        )
        for row in rows
    ]


class ProgressPublic(BaseModel):
    assigned: int
    submitted: int
    drafts: int
    pending: int
    declined: int


class ReviewerProgress(ProgressPublic):
    name: str | None


class EditionProgressPublic(BaseModel):
    by_reviewer: dict[str, ReviewerProgress]
    by_category: dict[str, ProgressPublic]


@router.get(
    "/editions/{year}/progress",
    summary="Reviews done and pending per reviewer and per category (chair, admin)",
)
async def progress(year: EditionYear, reader: ChairOrAdmin, uow: UoW) -> EditionProgressPublic:
    found = await progress_cases.review_progress(uow, year=year)

    def counts(p: progress_cases.Progress) -> dict[str, int]:
        return {
            "assigned": p.assigned,
            "submitted": p.submitted,
            "drafts": p.drafts,
            "pending": p.pending,
            "declined": p.declined,
        }

    return EditionProgressPublic(
        by_reviewer={
            r: ReviewerProgress(name=found.reviewer_names.get(r), **counts(p))
            for r, p in found.by_reviewer.items()
        },
        by_category={c: ProgressPublic(**counts(p)) for c, p in found.by_category.items()},
    )


@router.get(
    "/editions/{year}/reviews/export",
    summary="Every score and comment as CSV or XLSX (chair, admin)",
    response_class=Response,
    responses={
        200: {
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
async def export(
    year: EditionYear,
    reader: ChairOrAdmin,
    uow: UoW,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
) -> Response:
    table = await progress_cases.score_export(uow, year=year)
    if format == "xlsx":
        body = to_xlsx(table)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, media = to_csv(table), "text/csv; charset=utf-8"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="wsis-{year}-reviews.{format}"',
            "Cache-Control": "no-store",
        },
    )

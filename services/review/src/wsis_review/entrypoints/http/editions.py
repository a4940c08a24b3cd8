"""An edition's review settings: reviewers per entry, conflict rules, blind review, rubric."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from wsis_review.domain.editions import EditionReview, ReviewRules
from wsis_review.domain.rubric import Rubric
from wsis_review.entrypoints.http.dependencies import ChairOrAdmin, ReviewTeam, UoW
from wsis_review.service_layer import editions as use_cases
from wsis_shared.vocabulary import EditionYear, Phase

router = APIRouter(tags=["review settings"])


class EditionReviewPublic(BaseModel):
    year: int
    phase: Phase
    review_closes: datetime | None
    rules: ReviewRules
    rubric: Rubric

    @classmethod
    def of(cls, edition: EditionReview) -> EditionReviewPublic:
        return cls.model_validate(edition.model_dump())


@router.get(
    "/editions/{year}/review-settings",
    summary="The edition's review rules and rubric (reviewer, chair, admin)",
)
async def get_settings(year: EditionYear, reader: ReviewTeam, uow: UoW) -> EditionReviewPublic:
    return EditionReviewPublic.of(await use_cases.get_edition(uow, year=year))


@router.put("/editions/{year}/review-settings/rules", summary="Set the review rules (chair, admin)")
async def set_rules(
    year: EditionYear, body: ReviewRules, by: ChairOrAdmin, uow: UoW
) -> EditionReviewPublic:
    return EditionReviewPublic.of(await use_cases.set_rules(uow, year=year, rules=body))


@router.put(
    "/editions/{year}/review-settings/rubric",
    summary="Set the rubric, before any score is saved (chair, admin)",
)
async def set_rubric(
    year: EditionYear, body: Rubric, by: ChairOrAdmin, uow: UoW
) -> EditionReviewPublic:
    return EditionReviewPublic.of(await use_cases.set_rubric(uow, year=year, rubric=body))

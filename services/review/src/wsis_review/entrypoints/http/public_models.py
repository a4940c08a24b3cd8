"""What the review API answers: separate from the stored models so that nothing internal (and,
in a blind review, nothing identifying) leaks by accident."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from wsis_review.domain.assignment_records import AssignmentRecord, AssignmentStatus
from wsis_review.domain.candidates import Candidate, CandidateStatus
from wsis_review.domain.reviews import CriterionScore, Recommendation, Review, ReviewStatus
from wsis_review.service_layer.assignments import MyAssignment
from wsis_shared.events import EntryPublic, IneligibilityReason

BLIND_FIELDS = ("organisation_id", "organisation_name", "partners", "website")


class CandidatePublic(BaseModel):
    entry: EntryPublic
    edition: int
    status: CandidateStatus
    received_at: datetime
    ineligibility_reason: IneligibilityReason | None
    eligibility_note: str | None
    decided_at: datetime | None
    decision_reason: str | None

    @classmethod
    def of(cls, candidate: Candidate) -> CandidatePublic:
        return cls.model_validate(candidate.model_dump())


class ReviewPublic(BaseModel):
    entry_id: str
    reviewer_id: str
    scores: dict[str, CriterionScore]
    overall_comment: str | None
    recommendation: Recommendation | None
    status: ReviewStatus
    version: int
    updated_at: datetime
    submitted_at: datetime | None

    @classmethod
    def of(cls, review: Review) -> ReviewPublic:
        return cls.model_validate(review.model_dump())


class AssignmentPublic(BaseModel):
    entry_id: str
    reviewer_id: str
    category: str
    status: AssignmentStatus
    assigned_by: str
    assigned_at: datetime
    ended_at: datetime | None
    ended_reason: str | None
    decline_reason: str | None

    @classmethod
    def of(cls, record: AssignmentRecord) -> AssignmentPublic:
        return cls.model_validate(record.model_dump())


class MyAssignmentPublic(BaseModel):
    """An entry as its reviewer sees it; in a blind review without who submitted it."""

    entry: dict[str, Any]
    blind: bool
    assigned_at: datetime
    review_status: ReviewStatus | None
    review: ReviewPublic | None

    @classmethod
    def of(cls, mine: MyAssignment) -> MyAssignmentPublic:
        entry = mine.candidate.entry.model_dump(mode="json")
        if mine.blind:
            for name in BLIND_FIELDS:
                entry.pop(name, None)
        return cls(
            entry=entry,
            blind=mine.blind,
            assigned_at=mine.record.assigned_at,
            review_status=mine.review.status if mine.review else None,
            review=ReviewPublic.of(mine.review) if mine.review else None,
        )

"""A reviewer's assignment to an entry, as stored: who assigned it, and how it ended if it did."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from wsis_review.domain.assignment import Pair
from wsis_shared.events import (
    ReviewAssigned,
    ReviewAssignment,
    ReviewUnassigned,
    ReviewUnassignment,
)
from wsis_shared.vocabulary import Category

AssignmentStatus = Literal["active", "declined", "removed"]
RemovalReason = Literal[
    "declined", "conflict_declared", "chair_override", "entry_left_review", "reviewer_deactivated"
]


class AssignmentRecord(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    entry_id: str
    reviewer_id: str
    edition: int
    category: Category
    status: AssignmentStatus = "active"
    assigned_by: Literal["solver", "chair"]
    assigned_at: datetime
    ended_at: datetime | None = None
    ended_reason: RemovalReason | None = None
    decline_reason: str | None = None
    version: int = 1

    @property
    def assignment_id(self) -> str:
        return f"{self.entry_id}:{self.reviewer_id}"

    @property
    def pair(self) -> Pair:
        return Pair(self.entry_id, self.reviewer_id)

    def assigned_event(self) -> ReviewAssigned:
        return ReviewAssigned(
            occurred_at=self.assigned_at,
            aggregate_id=self.assignment_id,
            aggregate_version=self.version,
            edition=self.edition,
            payload=ReviewAssignment(
                entry_id=self.entry_id,
                category=self.category,
                reviewer_id=self.reviewer_id,
                by=self.assigned_by,
            ),
        )

    def end(
        self, reason: RemovalReason, now: datetime, note: str | None = None
    ) -> ReviewUnassigned:
        self.status = "declined" if reason == "declined" else "removed"
        self.ended_at, self.ended_reason, self.decline_reason = now, reason, note
        self.version += 1
        return ReviewUnassigned(
            occurred_at=now,
            aggregate_id=self.assignment_id,
            aggregate_version=self.version,
            edition=self.edition,
            payload=ReviewUnassignment(
                entry_id=self.entry_id,
                category=self.category,
                reviewer_id=self.reviewer_id,
                reason=reason,
            ),
        )

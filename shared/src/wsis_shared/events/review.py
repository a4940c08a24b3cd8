"""Events of the `wsis.review.v1` topic, published by the review service."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from wsis_shared.events.envelope import EventBase, Frozen
from wsis_shared.vocabulary import Category, Region, StakeholderType

IneligibilityReason = Literal[
    "incomplete",
    "out_of_scope",
    "wrong_category",
    "project_not_completed",
    "duplicate",
    "previous_winner",
    "other",
]


class EligibilityDecision(Frozen):
    """The first pass: an ineligible entry leaves the flow (its team and stocktaking see why)."""

    entry_id: str
    category: Category
    eligible: bool
    reason: IneligibilityReason | None = None
    note: str | None = None


class EligibilityDecided(EventBase):
    event_type: Literal["eligibility.decided"] = "eligibility.decided"
    payload: EligibilityDecision


class ReviewAssignment(Frozen):
    """A reviewer assigned to an entry (or taken off it). Internal to the expert group's
    tooling: consumers must not publish the reviewer's identity."""

    entry_id: str
    category: Category
    reviewer_id: str
    by: Literal["solver", "chair"]


class ReviewAssigned(EventBase):
    event_type: Literal["review.assigned"] = "review.assigned"
    payload: ReviewAssignment


class ReviewUnassignment(Frozen):
    entry_id: str
    category: Category
    reviewer_id: str
    reason: Literal[
        "declined",
        "conflict_declared",
        "chair_override",
        "entry_left_review",
        "reviewer_deactivated",
    ]


class ReviewUnassigned(EventBase):
    event_type: Literal["review.unassigned"] = "review.unassigned"
    payload: ReviewUnassignment


class ReviewSummary(Frozen):
    """Aggregate figures of an entry's review: never an individual score or a reviewer."""

    reviews: int = Field(ge=0)
    weighted_mean: float | None = Field(default=None, description="on a 0–10 scale")
    normalised_score: float | None = Field(
        default=None, description="mean of the reviewers' z-scores"
    )


class NomineeCard(Frozen):
    """What a voter sees of a nominee: enough for the ballot without asking another service."""

    entry_id: str
    category: Category
    title: str
    short_description: str
    organisation_name: str
    country: str
    region: Region
    stakeholder_type: StakeholderType


class NominationDecision(Frozen):
    nominated: bool
    nominee: NomineeCard
    reason: str | None = None
    review_summary: ReviewSummary | None = None


class NominationDecided(EventBase):
    event_type: Literal["nomination.decided"] = "nomination.decided"
    payload: NominationDecision


class WinnerSelection(Frozen):
    category: Category
    winner_entry_id: str
    champion_entry_ids: tuple[str, ...]


class WinnerSelected(EventBase):
    event_type: Literal["winner.selected"] = "winner.selected"
    payload: WinnerSelection

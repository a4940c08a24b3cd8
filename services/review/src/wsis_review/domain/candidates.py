"""A submitted entry as the review sees it: the eligibility pass, then the chair's nomination."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from wsis_review.domain.assignment import EntryToAssign
from wsis_review.domain.editions import EditionReview
from wsis_shared.errors import Conflict, InvalidInput
from wsis_shared.events import (
    EligibilityDecided,
    EligibilityDecision,
    EntryPublic,
    IneligibilityReason,
    NominationDecided,
    NominationDecision,
    NomineeCard,
    ReviewSummary,
)

CandidateStatus = Literal[
    "received", "eligible", "ineligible", "withdrawn", "nominated", "not_nominated"
]


class Candidate(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    entry: EntryPublic
    edition: int
    status: CandidateStatus = "received"
    version: int = 1
    received_at: datetime
    ineligibility_reason: IneligibilityReason | None = None
    eligibility_note: str | None = None
    eligibility_decided_by: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None

    @property
    def entry_id(self) -> str:
        return self.entry.entry_id

    @property
    def in_review(self) -> bool:
        """Eligible and not yet decided: the entries reviewers are assigned to."""
        return self.status == "eligible"

    def to_assign(self) -> EntryToAssign:
        return EntryToAssign(
            entry_id=self.entry_id,
            category=self.entry.category,
            organisation=self.entry.organisation_name,
            country=self.entry.country,
        )

    def decide_eligibility(
        self,
        *,
        eligible: bool,
        reason: IneligibilityReason | None,
        note: str | None,
        by: str,
        edition: EditionReview,
        now: datetime,
    ) -> EligibilityDecided:
        edition.require_review("deciding eligibility")
        if self.status == "withdrawn":
            raise Conflict(f"entry {self.entry_id} was withdrawn by its team")
        if self.status in ("nominated", "not_nominated"):
            raise Conflict(
                f"entry {self.entry_id} already has a nomination decision; eligibility is the "
                "first pass and cannot change after it"
            )
        if not eligible and reason is None:
            raise InvalidInput(
                "say why the entry is not eligible",
                errors=[{"pointer": "/reason", "detail": "required when eligible is false"}],
            )
        self.status = "eligible" if eligible else "ineligible"
        self.ineligibility_reason = None if eligible else reason
        self.eligibility_note = note
        self.eligibility_decided_by = by
        self.version += 1
        return EligibilityDecided(
            occurred_at=now,
            aggregate_id=self.entry_id,
            aggregate_version=self.version,
            edition=self.edition,
            payload=EligibilityDecision(
                entry_id=self.entry_id,
                category=self.entry.category,
                eligible=eligible,
                reason=self.ineligibility_reason,
                note=note,
            ),
        )

    def decide(
        self,
        *,
        nominated: bool,
        reason: str | None,
        by: str,
        edition: EditionReview,
        now: datetime,
        summary: ReviewSummary | None = None,
    ) -> NominationDecided:
        edition.require_review("deciding a nomination")
        if self.status == "withdrawn":
            raise Conflict(f"entry {self.entry_id} was withdrawn by its team")
        if self.status in ("received", "ineligible"):
            raise Conflict(
                f"entry {self.entry_id} is {self.status.replace('_', ' ')}: only eligible "
                "entries can be nominated (decide its eligibility first)"
            )
        self.status = "nominated" if nominated else "not_nominated"
        self.version += 1
        self.decided_at, self.decided_by, self.decision_reason = now, by, reason
        entry = self.entry
        return NominationDecided(
            occurred_at=now,
            aggregate_id=entry.entry_id,
            aggregate_version=self.version,
            edition=self.edition,
            payload=NominationDecision(
                nominated=nominated,
                reason=reason,
                review_summary=summary,
                nominee=NomineeCard(
                    entry_id=entry.entry_id,
                    category=entry.category,
                    title=entry.title,
                    short_description=entry.short_description,
                    organisation_name=entry.organisation_name,
                    country=entry.country,
                    region=entry.region,
                    stakeholder_type=entry.stakeholder_type,
                ),
            ),
        )

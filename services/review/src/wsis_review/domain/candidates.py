"""A submitted entry as the review sees it, and the chair's nomination decision."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from wsis_shared.errors import Conflict, PhaseClosed
from wsis_shared.events import EntryPublic, NominationDecided, NominationDecision, NomineeCard
from wsis_shared.vocabulary import Phase

CandidateStatus = Literal["received", "withdrawn", "nominated", "not_nominated"]


class EditionPhase(BaseModel):
    """The phase of an edition as the editions topic last said."""

    year: int
    phase: Phase = Phase.PLANNED

    def require_review(self, action: str) -> None:
        if self.phase != Phase.REVIEW:
            raise PhaseClosed(
                f"{action} is possible only in the review phase; edition {self.year} is in the "
                f"{self.phase} phase",
                current_phase=self.phase,
                required_phase=Phase.REVIEW,
            )


class Candidate(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    entry: EntryPublic
    edition: int
    status: CandidateStatus = "received"
    version: int = 1
    received_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_reason: str | None = None

    @property
    def entry_id(self) -> str:
        return self.entry.entry_id

    def decide(
        self, *, nominated: bool, reason: str | None, by: str, edition: EditionPhase, now: datetime
    ) -> NominationDecided:
        edition.require_review("deciding a nomination")
        if self.status == "withdrawn":
            raise Conflict(f"entry {self.entry_id} was withdrawn by its team")
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

"""What the review use cases need from storage; MongoDB implements it, unit tests fake it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from wsis_review.domain.assignment_records import AssignmentRecord, AssignmentStatus
from wsis_review.domain.candidates import Candidate, CandidateStatus
from wsis_review.domain.editions import EditionReview
from wsis_review.domain.reviewers import Reviewer
from wsis_review.domain.reviews import Review
from wsis_review.domain.winners import CategoryFinalists
from wsis_shared.events import EventBase
from wsis_shared.uow import UnitOfWorkRunner
from wsis_shared.vocabulary import Category


class AuditRecord(BaseModel):
    """One change in the review: who did what to which review or assignment, and when."""

    edition: int
    subject: str  # "review:<entry>:<reviewer>", "assignment:<entry>:<reviewer>", "reviewer:<id>"
    action: str
    by: str
    at: datetime
    changes: dict[str, Any] = {}


class CandidateRepository(Protocol):
    async def get(self, entry_id: str) -> Candidate: ...
    async def find(self, entry_id: str) -> Candidate | None: ...
    async def upsert(self, candidate: Candidate) -> None: ...
    async def list(
        self,
        edition: int,
        *,
        category: Category | None = None,
        statuses: tuple[CandidateStatus, ...] | None = None,
    ) -> list[Candidate]: ...


class EditionRepository(Protocol):
    async def get(self, year: int) -> EditionReview: ...
    async def save(self, edition: EditionReview) -> None: ...


class ReviewerRepository(Protocol):
    async def get(self, reviewer_id: str) -> Reviewer: ...
    async def find(self, reviewer_id: str) -> Reviewer | None: ...
    async def save(self, reviewer: Reviewer) -> None: ...
    async def list(self, *, active_only: bool = False) -> list[Reviewer]: ...


class AssignmentRepository(Protocol):
    async def find(self, entry_id: str, reviewer_id: str) -> AssignmentRecord | None: ...
    async def save(self, record: AssignmentRecord) -> None: ...
    async def list(
        self,
        edition: int | None,
        *,
        reviewer_id: str | None = None,
        entry_id: str | None = None,
        statuses: tuple[AssignmentStatus, ...] | None = None,
    ) -> list[AssignmentRecord]: ...


class ReviewRepository(Protocol):
    async def find(self, entry_id: str, reviewer_id: str) -> Review | None: ...
    async def save(self, review: Review) -> None: ...
    async def list(
        self, edition: int, *, entry_id: str | None = None, submitted_only: bool = False
    ) -> list[Review]: ...
    async def any_in(self, edition: int) -> bool: ...


class AuditRepository(Protocol):
    async def add(self, record: AuditRecord) -> None: ...
    async def list(self, edition: int, subject_prefix: str) -> list[AuditRecord]: ...


class FinalistsRepository(Protocol):
    async def find(self, edition: int, category: Category) -> CategoryFinalists | None: ...
    async def save(self, finalists: CategoryFinalists) -> None: ...
    async def list(self, edition: int) -> list[CategoryFinalists]: ...


class UnitOfWork(Protocol):
    @property
    def candidates(self) -> CandidateRepository: ...
    @property
    def editions(self) -> EditionRepository: ...
    @property
    def reviewers(self) -> ReviewerRepository: ...
    @property
    def assignments(self) -> AssignmentRepository: ...
    @property
    def reviews(self) -> ReviewRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def finalists(self) -> FinalistsRepository: ...

    async def publish(self, event: EventBase, key: str | None = None) -> None: ...


Runner = UnitOfWorkRunner[UnitOfWork]

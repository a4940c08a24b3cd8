"""In-memory repositories and unit of work of the review service (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.unit.in_memory import EventRecorder, InMemoryRunner
from wsis_review.domain.assignment_records import AssignmentRecord, AssignmentStatus
from wsis_review.domain.candidates import Candidate, CandidateStatus
from wsis_review.domain.editions import EditionReview
from wsis_review.domain.reviewers import Reviewer
from wsis_review.domain.reviews import Review, review_id
from wsis_review.domain.winners import CategoryFinalists
from wsis_review.service_layer.unit_of_work import AuditRecord
from wsis_shared.errors import NotFound
from wsis_shared.vocabulary import Category


@dataclass
class ReviewState:
    candidates: dict[str, Candidate] = field(default_factory=dict)
    editions: dict[int, EditionReview] = field(default_factory=dict)
    reviewers: dict[str, Reviewer] = field(default_factory=dict)
    assignments: dict[str, AssignmentRecord] = field(default_factory=dict)
    reviews: dict[str, Review] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)
    finalists: dict[str, CategoryFinalists] = field(default_factory=dict)


class InMemoryCandidates:
    def __init__(self, items: dict[str, Candidate]) -> None:
        self.items = items

    async def get(self, entry_id: str) -> Candidate:
        candidate = await self.find(entry_id)
        if candidate is None:
            raise NotFound(f"no submitted entry {entry_id} has reached the review")
        return candidate

    async def find(self, entry_id: str) -> Candidate | None:
        found = self.items.get(entry_id)
        return found.model_copy(deep=True) if found else None

    async def upsert(self, candidate: Candidate) -> None:
        self.items[candidate.entry_id] = candidate.model_copy(deep=True)

    async def list(
        self,
        edition: int,
        *,
        category: Category | None = None,
        statuses: tuple[CandidateStatus, ...] | None = None,
    ) -> list[Candidate]:
        found = [
            c.model_copy(deep=True)
            for c in self.items.values()
            if c.edition == edition
            and (category is None or c.entry.category == category)
            and (statuses is None or c.status in statuses)
        ]
        return sorted(found, key=lambda c: (c.entry.category, c.received_at))


class InMemoryEditions:
    def __init__(self, items: dict[int, EditionReview]) -> None:
        self.items = items

    async def get(self, year: int) -> EditionReview:
        found = self.items.get(year)
        return found.model_copy(deep=True) if found else EditionReview(year=year)

    async def save(self, edition: EditionReview) -> None:
        self.items[edition.year] = edition.model_copy(deep=True)


class InMemoryReviewers:
    def __init__(self, items: dict[str, Reviewer]) -> None:
        self.items = items

    async def find(self, reviewer_id: str) -> Reviewer | None:
        found = self.items.get(reviewer_id)
        return found.model_copy(deep=True) if found else None

    async def get(self, reviewer_id: str) -> Reviewer:
        found = await self.find(reviewer_id)
        if found is None:
            raise NotFound(f"no reviewer {reviewer_id}")
        return found

    async def save(self, reviewer: Reviewer) -> None:
        self.items[reviewer.reviewer_id] = reviewer.model_copy(deep=True)

    async def list(self, *, active_only: bool = False) -> list[Reviewer]:
        return [
            r.model_copy(deep=True)
            for _, r in sorted(self.items.items())
            if r.active or not active_only
        ]


class InMemoryAssignments:
    def __init__(self, items: dict[str, AssignmentRecord]) -> None:
        self.items = items

    async def find(self, entry_id: str, reviewer_id: str) -> AssignmentRecord | None:
        found = self.items.get(f"{entry_id}:{reviewer_id}")
        return found.model_copy(deep=True) if found else None

    async def save(self, record: AssignmentRecord) -> None:
        self.items[record.assignment_id] = record.model_copy(deep=True)

    async def list(
        self,
        edition: int | None,
        *,
        reviewer_id: str | None = None,
        entry_id: str | None = None,
        statuses: tuple[AssignmentStatus, ...] | None = None,
    ) -> list[AssignmentRecord]:
        return [
            r.model_copy(deep=True)
            for _, r in sorted(self.items.items())
            if (edition is None or r.edition == edition)
            and (reviewer_id is None or r.reviewer_id == reviewer_id)
            and (entry_id is None or r.entry_id == entry_id)
            and (statuses is None or r.status in statuses)
        ]


class InMemoryReviews:
    def __init__(self, items: dict[str, Review]) -> None:
        self.items = items

    async def find(self, entry_id: str, reviewer_id: str) -> Review | None:
        found = self.items.get(review_id(entry_id, reviewer_id))
        return found.model_copy(deep=True) if found else None

    async def save(self, review: Review) -> None:
        self.items[review.review_id] = review.model_copy(deep=True)

    async def list(
        self, edition: int, *, entry_id: str | None = None, submitted_only: bool = False
    ) -> list[Review]:
        return [
            r.model_copy(deep=True)
            for _, r in sorted(self.items.items())
            if r.edition == edition
            and (entry_id is None or r.entry_id == entry_id)
            and (not submitted_only or r.status == "submitted")
        ]

    async def any_in(self, edition: int) -> bool:
        return any(r.edition == edition for r in self.items.values())


class InMemoryAudit:
    def __init__(self, items: list[AuditRecord]) -> None:
        self.items = items

    async def add(self, record: AuditRecord) -> None:
        self.items.append(record)

    async def list(self, edition: int, subject_prefix: str) -> list[AuditRecord]:
        return [
            r for r in self.items if r.edition == edition and r.subject.startswith(subject_prefix)
        ]


class InMemoryFinalists:
    def __init__(self, items: dict[str, CategoryFinalists]) -> None:
        self.items = items

    async def find(self, edition: int, category: Category) -> CategoryFinalists | None:
        found = self.items.get(f"{edition}:{category}")
        return found.model_copy(deep=True) if found else None

    async def save(self, finalists: CategoryFinalists) -> None:
        self.items[finalists.key] = finalists.model_copy(deep=True)

    async def list(self, edition: int) -> list[CategoryFinalists]:
        return [f for f in self.items.values() if f.edition == edition]


class FakeUnitOfWork(EventRecorder):
    def __init__(self, state: ReviewState) -> None:
        super().__init__()
        self.candidates = InMemoryCandidates(state.candidates)
        self.editions = InMemoryEditions(state.editions)
        self.reviewers = InMemoryReviewers(state.reviewers)
        self.assignments = InMemoryAssignments(state.assignments)
        self.reviews = InMemoryReviews(state.reviews)
        self.audit = InMemoryAudit(state.audit)
        self.finalists = InMemoryFinalists(state.finalists)


class FakeRunner(InMemoryRunner[ReviewState, FakeUnitOfWork]):
    def __init__(self, state: ReviewState | None = None) -> None:
        super().__init__(state or ReviewState(), FakeUnitOfWork)

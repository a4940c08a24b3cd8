"""MongoDB repositories of the review service and the unit of work that binds them to one
transaction."""

from __future__ import annotations

import re
from typing import Any, Final, TypeVar

from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel

from wsis_review.domain.assignment_records import AssignmentRecord, AssignmentStatus
from wsis_review.domain.candidates import Candidate, CandidateStatus
from wsis_review.domain.editions import EditionReview
from wsis_review.domain.reviewers import Reviewer
from wsis_review.domain.reviews import Review, review_id
from wsis_review.domain.winners import CategoryFinalists
from wsis_review.service_layer.unit_of_work import AuditRecord
from wsis_shared.errors import NotFound
from wsis_shared.messaging import Outbox
from wsis_shared.mongo import Database, Session
from wsis_shared.uow import MongoUnitOfWork
from wsis_shared.vocabulary import Category

INDEXES: Final = {
    "candidates": [
        IndexModel([("edition", ASCENDING), ("entry.category", ASCENDING)]),
        IndexModel([("edition", ASCENDING), ("status", ASCENDING)]),
    ],
    "editions": [],
    "reviewers": [],
    "assignments": [
        IndexModel([("edition", ASCENDING), ("reviewer_id", ASCENDING), ("status", ASCENDING)]),
        IndexModel([("edition", ASCENDING), ("entry_id", ASCENDING)]),
        IndexModel([("reviewer_id", ASCENDING), ("status", ASCENDING)]),
    ],
    "reviews": [
        IndexModel([("edition", ASCENDING), ("entry_id", ASCENDING)]),
        IndexModel([("edition", ASCENDING), ("status", ASCENDING)]),
    ],
    "audit": [IndexModel([("edition", ASCENDING), ("subject", ASCENDING), ("at", ASCENDING)])],
    "finalists": [],
}

M = TypeVar("M", bound=BaseModel)


def _document(model: BaseModel, key: Any) -> dict[str, Any]:
    return model.model_dump(mode="python") | {"_id": key}


class _Collection:
    def __init__(self, db: Database, session: Session, name: str) -> None:
        self._collection = db[name]
        self._session = session

    async def _replace(self, key: Any, model: BaseModel) -> None:
        await self._collection.replace_one(
            {"_id": key}, _document(model, key), upsert=True, session=self._session
        )

    async def _one(self, model: type[M], key: Any) -> M | None:
        document = await self._collection.find_one({"_id": key}, session=self._session)
        return model.model_validate(document) if document else None

    async def _many(
        self, model: type[M], query: dict[str, Any], sort: list[tuple[str, int]]
    ) -> list[M]:
        cursor = self._collection.find(query, session=self._session).sort(sort)
        return [model.model_validate(document) async for document in cursor]


class MongoCandidateRepository(_Collection):
    def __init__(self, db: Database, session: Session) -> None:
        super().__init__(db, session, "candidates")

    async def find(self, entry_id: str) -> Candidate | None:
        return await self._one(Candidate, entry_id)

    async def get(self, entry_id: str) -> Candidate:
        candidate = await self.find(entry_id)
        if candidate is None:
            raise NotFound(f"no submitted entry {entry_id} has reached the review")
        return candidate

    async def upsert(self, candidate: Candidate) -> None:
        await self._replace(candidate.entry_id, candidate)

    async def list(
        self,
        edition: int,
        *,
        category: Category | None = None,
        statuses: tuple[CandidateStatus, ...] | None = None,
    ) -> list[Candidate]:
        query: dict[str, Any] = {"edition": edition}
        if category is not None:
            query["entry.category"] = category
        if statuses is not None:
            query["status"] = {"$in": list(statuses)}
        return await self._many(
            Candidate, query, [("entry.category", ASCENDING), ("received_at", ASCENDING)]
        )


class MongoEditionRepository(_Collection):
    def __init__(self, db: Database, session: Session) -> None:
        super().__init__(db, session, "editions")

    async def get(self, year: int) -> EditionReview:
        return await self._one(EditionReview, year) or EditionReview(year=year)

    async def save(self, edition: EditionReview) -> None:
        await self._replace(edition.year, edition)


class MongoReviewerRepository(_Collection):
    def __init__(self, db: Database, session: Session) -> None:
        super().__init__(db, session, "reviewers")

    async def find(self, reviewer_id: str) -> Reviewer | None:
        return await self._one(Reviewer, reviewer_id)

    async def get(self, reviewer_id: str) -> Reviewer:
        reviewer = await self.find(reviewer_id)
        if reviewer is None:
            raise NotFound(f"no reviewer {reviewer_id}")
        return reviewer

    async def save(self, reviewer: Reviewer) -> None:
        await self._replace(reviewer.reviewer_id, reviewer)

    async def list(self, *, active_only: bool = False) -> list[Reviewer]:
        query = {"active": True} if active_only else {}
        return await self._many(Reviewer, query, [("_id", ASCENDING)])


class MongoAssignmentRepository(_Collection):
    def __init__(self, db: Database, session: Session) -> None:
        super().__init__(db, session, "assignments")

    async def find(self, entry_id: str, reviewer_id: str) -> AssignmentRecord | None:
        return await self._one(AssignmentRecord, f"{entry_id}:{reviewer_id}")

    async def save(self, record: AssignmentRecord) -> None:
        await self._replace(record.assignment_id, record)

    async def list(
        self,
        edition: int | None,
        *,
        reviewer_id: str | None = None,
        entry_id: str | None = None,
        statuses: tuple[AssignmentStatus, ...] | None = None,
    ) -> list[AssignmentRecord]:
        query: dict[str, Any] = {} if edition is None else {"edition": edition}
        if reviewer_id is not None:
            query["reviewer_id"] = reviewer_id
        if entry_id is not None:
            query["entry_id"] = entry_id
        if statuses is not None:
            query["status"] = {"$in": list(statuses)}
        return await self._many(AssignmentRecord, query, [("_id", ASCENDING)])


class MongoReviewRepository(_Collection):
    def __init__(self, db: Database, session: Session) -> None:
        super().__init__(db, session, "reviews")

    async def find(self, entry_id: str, reviewer_id: str) -> Review | None:
        return await self._one(Review, review_id(entry_id, reviewer_id))

    async def save(self, review: Review) -> None:
        await self._replace(review.review_id, review)

    async def list(
        self, edition: int, *, entry_id: str | None = None, submitted_only: bool = False
    ) -> list[Review]:
        query: dict[str, Any] = {"edition": edition}
        if entry_id is not None:
            query["entry_id"] = entry_id
        if submitted_only:
            query["status"] = "submitted"
        return await self._many(Review, query, [("_id", ASCENDING)])

    async def any_in(self, edition: int) -> bool:
        found = await self._collection.find_one(
            {"edition": edition}, {"_id": 1}, session=self._session
        )
        return found is not None


class MongoAuditRepository(_Collection):
    def __init__(self, db: Database, session: Session) -> None:
        super().__init__(db, session, "audit")

    async def add(self, record: AuditRecord) -> None:
        await self._collection.insert_one(record.model_dump(mode="python"), session=self._session)

    async def list(self, edition: int, subject_prefix: str) -> list[AuditRecord]:
        query = {"edition": edition, "subject": {"$regex": f"^{re.escape(subject_prefix)}"}}
        return await self._many(AuditRecord, query, [("at", ASCENDING), ("_id", ASCENDING)])


class MongoFinalistsRepository(_Collection):
    def __init__(self, db: Database, session: Session) -> None:
        super().__init__(db, session, "finalists")

    async def find(self, edition: int, category: Category) -> CategoryFinalists | None:
        return await self._one(CategoryFinalists, f"{edition}:{category}")

    async def save(self, finalists: CategoryFinalists) -> None:
        await self._replace(finalists.key, finalists)

    async def list(self, edition: int) -> list[CategoryFinalists]:
        return await self._many(CategoryFinalists, {"edition": edition}, [("_id", ASCENDING)])


class ReviewUnitOfWork(MongoUnitOfWork):
    def __init__(self, db: Database, session: Session, outbox: Outbox) -> None:
        super().__init__(db, session, outbox)
        self.candidates = MongoCandidateRepository(db, session)
        self.editions = MongoEditionRepository(db, session)
        self.reviewers = MongoReviewerRepository(db, session)
        self.assignments = MongoAssignmentRepository(db, session)
        self.reviews = MongoReviewRepository(db, session)
        self.audit = MongoAuditRepository(db, session)
        self.finalists = MongoFinalistsRepository(db, session)

"""MongoDB repositories of the review service."""

from __future__ import annotations

from typing import Final

from pymongo import ASCENDING, IndexModel

from wsis_review.domain.candidates import Candidate, EditionPhase
from wsis_shared.errors import NotFound
from wsis_shared.messaging import Outbox
from wsis_shared.mongo import Database, Session
from wsis_shared.uow import MongoUnitOfWork

INDEXES: Final = {
    "candidates": [IndexModel([("edition", ASCENDING), ("entry.category", ASCENDING)])],
    "editions": [],
}


class MongoCandidateRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["candidates"]
        self._session = session

    async def find(self, entry_id: str) -> Candidate | None:
        document = await self._collection.find_one({"_id": entry_id}, session=self._session)
        return Candidate.model_validate(document) if document else None

    async def get(self, entry_id: str) -> Candidate:
        candidate = await self.find(entry_id)
        if candidate is None:
            raise NotFound(f"no submitted entry {entry_id} has reached the review")
        return candidate

    async def upsert(self, candidate: Candidate) -> None:
        document = candidate.model_dump(mode="python") | {"_id": candidate.entry_id}
        await self._collection.replace_one(
            {"_id": candidate.entry_id}, document, upsert=True, session=self._session
        )

    async def list(self, edition: int) -> list[Candidate]:
        cursor = self._collection.find({"edition": edition}, session=self._session).sort(
            [("entry.category", ASCENDING), ("received_at", ASCENDING)]
        )
        return [Candidate.model_validate(document) async for document in cursor]


class MongoEditionPhaseRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["editions"]
        self._session = session

    async def get(self, year: int) -> EditionPhase:
        document = await self._collection.find_one({"_id": year}, session=self._session)
        return EditionPhase.model_validate(document) if document else EditionPhase(year=year)

    async def save(self, edition: EditionPhase) -> None:
        await self._collection.replace_one(
            {"_id": edition.year},
            edition.model_dump(mode="python") | {"_id": edition.year},
            upsert=True,
            session=self._session,
        )


class ReviewUnitOfWork(MongoUnitOfWork):
    def __init__(self, db: Database, session: Session, outbox: Outbox) -> None:
        super().__init__(db, session, outbox)
        self.candidates = MongoCandidateRepository(db, session)
        self.editions = MongoEditionPhaseRepository(db, session)

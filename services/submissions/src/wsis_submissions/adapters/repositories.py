"""MongoDB repositories and the unit of work that binds them to one transaction."""

from __future__ import annotations

from typing import Any, Final

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from wsis_shared.errors import AlreadyExists, Conflict, NotFound
from wsis_shared.messaging import Outbox
from wsis_shared.mongo import Database, Session
from wsis_shared.uow import MongoUnitOfWork
from wsis_submissions.domain.editions import Edition
from wsis_submissions.domain.entries import Entry

INDEXES: Final = {
    "editions": [],
    "entries": [
        IndexModel([("edition", ASCENDING), ("organisation_id", ASCENDING)]),
        # One project per category per organisation (DESIGN.md §1): the index is the rule.
        IndexModel(
            [
                ("edition", ASCENDING),
                ("organisation_id", ASCENDING),
                ("content.category", ASCENDING),
            ],
            name="one_submitted_entry_per_category_per_organisation",
            unique=True,
            partialFilterExpression={"status": "submitted"},
        ),
    ],
}


def _doc(model: Edition | Entry, key: str) -> dict[str, Any]:
    document = model.model_dump(mode="python")
    document["_id"] = document[key]
    return document


class MongoEditionRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["editions"]
        self._session = session

    async def get(self, year: int) -> Edition:
        document = await self._collection.find_one({"_id": year}, session=self._session)
        if document is None:
            raise NotFound(f"no edition {year}: an admin creates it first")
        return Edition.model_validate(document)

    async def add(self, edition: Edition) -> None:
        try:
            await self._collection.insert_one(_doc(edition, "year"), session=self._session)
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"edition {edition.year} already exists") from exc

    async def save(self, edition: Edition) -> None:
        result = await self._collection.replace_one(
            {"_id": edition.year, "version": edition.version - 1},
            _doc(edition, "year"),
            session=self._session,
        )
        if result.matched_count != 1:
            raise Conflict(f"edition {edition.year} changed meanwhile: reload and try again")

    async def list(self) -> list[Edition]:
        cursor = self._collection.find({}, session=self._session).sort("_id", -1)
        return [Edition.model_validate(document) async for document in cursor]


class MongoEntryRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["entries"]
        self._session = session

    async def get(self, entry_id: str) -> Entry:
        document = await self._collection.find_one({"_id": entry_id}, session=self._session)
        if document is None:
            raise NotFound(f"no entry {entry_id}")
        return Entry.model_validate(document)

    async def add(self, entry: Entry) -> None:
        await self._collection.insert_one(_doc(entry, "entry_id"), session=self._session)

    async def save(self, entry: Entry) -> None:
        try:
            result = await self._collection.replace_one(
                {"_id": entry.entry_id, "version": entry.version - 1},
                _doc(entry, "entry_id"),
                session=self._session,
            )
        except DuplicateKeyError as exc:
            raise AlreadyExists(
                "your organisation already submitted an entry in category "
                f"{entry.content.category} of edition {entry.edition}: one project per category",
                category=entry.content.category,
            ) from exc
        if result.matched_count != 1:
            raise Conflict(f"entry {entry.entry_id} changed meanwhile: reload and try again")

    async def list_for_organisation(self, edition: int, organisation_id: str) -> list[Entry]:
        cursor = self._collection.find(
            {"edition": edition, "organisation_id": organisation_id}, session=self._session
        ).sort("created_at", ASCENDING)
        return [Entry.model_validate(document) async for document in cursor]


class SubmissionsUnitOfWork(MongoUnitOfWork):
    def __init__(self, db: Database, session: Session, outbox: Outbox) -> None:
        super().__init__(db, session, outbox)
        self.editions = MongoEditionRepository(db, session)
        self.entries = MongoEntryRepository(db, session)

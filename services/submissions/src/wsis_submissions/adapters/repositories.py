"""MongoDB repositories and the unit of work that binds them to one transaction."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Final

from bson import Binary
from pymongo import ASCENDING, IndexModel, UpdateOne
from pymongo.errors import DuplicateKeyError

from wsis_shared.errors import AlreadyExists, Conflict, NotFound
from wsis_shared.geography import known_region
from wsis_shared.messaging import Outbox
from wsis_shared.mongo import Database, Session
from wsis_shared.uow import MongoUnitOfWork
from wsis_shared.vocabulary import Phase
from wsis_submissions.domain.editions import Edition
from wsis_submissions.domain.entries import Eligibility, Entry
from wsis_submissions.domain.similarity import NORMALISER_VERSION, Fingerprint
from wsis_submissions.service_layer.unit_of_work import EntryFilter, HistoryRecord, SimilarEntry

NEAR_DUPLICATE_CLAIMS: Final = "near_duplicate_claims"
_CREATION_ORDER: Final = [("created_at", ASCENDING), ("_id", ASCENDING)]

INDEXES: Final = {
    "editions": [],
    "entries": [
        IndexModel([("edition", ASCENDING), ("organisation_id", ASCENDING)]),
        IndexModel([("edition", ASCENDING), ("status", ASCENDING), ("_id", ASCENDING)]),
        # The admins' list, in the order the entries were created.
        IndexModel([("edition", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)]),
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
        IndexModel([("similarity.bands", ASCENDING)], name="near_duplicate_bands"),
    ],
    "entry_history": [IndexModel([("entry_id", ASCENDING), ("version", ASCENDING)])],
    NEAR_DUPLICATE_CLAIMS: [],  # by `_id`, a band key (MongoEntryRepository._claim)
}


def similarity_fields(fingerprint: Fingerprint) -> dict[str, Any]:
    return {
        "title": Binary(fingerprint.title),
        "description": Binary(fingerprint.description),
        "bands": fingerprint.band_keys(),
        "normaliser": NORMALISER_VERSION,
    }


async def refresh_stale_fingerprints(
    db: Database, batch: int = 200, stop: asyncio.Event | None = None
) -> int:
    """Fingerprints made by an earlier normaliser, made again from their entries' texts (which
    the entry keeps); returns how many this call changed. Idempotent, and safe beside
    submissions and a second worker: an entry whose fingerprint was renewed meanwhile no longer
    matches the filter. Returns early, between batches, once `stop` is set."""
    entries = db["entries"]
    stale = {"similarity": {"$exists": True}, "similarity.normaliser": {"$ne": NORMALISER_VERSION}}
    refreshed = 0
    while stop is None or not stop.is_set():
        found = await entries.find(
            stale, {"content.title": 1, "content.short_description": 1}
        ).to_list(batch)
        if not found:
            return refreshed
        for document in found:
            content = document.get("content") or {}
            fingerprint = Fingerprint.of(
                content.get("title") or "", content.get("short_description") or ""
            )
            result = await entries.update_one(
                {"_id": document["_id"]} | stale,
                {"$set": {"similarity": similarity_fields(fingerprint)}},
            )
            refreshed += result.modified_count
    return refreshed


def _edition_document(edition: Edition) -> dict[str, Any]:
    return edition.model_dump(mode="python") | {"_id": edition.year}


def _edition(year: int, document: dict[str, Any] | None) -> Edition:
    if document is None:
        raise NotFound(f"no edition {year}: an admin creates it first")
    return Edition.model_validate(document)


def _entry_fields(entry: Entry) -> dict[str, Any]:
    document = entry.model_dump(mode="python")
    document.pop("entry_id")
    document["region"] = known_region(entry.content.country)
    return document


def _entry(document: dict[str, Any]) -> Entry:
    return Entry.model_validate(document | {"entry_id": document["_id"]})


# An edition open for submissions, as this process last read it: (monotonic time, document).
# Every draft and submission needs the edition, and each MongoDB command costs ~0.2 ms of the
# API's CPU and ~0.15 ms of mongod's (docs/benchmarks.md), while an edition changes a handful of
# times a year. Only the open phase is kept: an opening is seen at once, a close at most
# RECENT_EDITION_SECONDS late — against the scheduler's own lag of up to `scheduler_interval_s`.
RECENT_EDITION_SECONDS: Final = 1.0
_recent_editions: dict[tuple[str, int], tuple[float, dict[str, Any]]] = {}
# Editions this process is changing: (the version being written, monotonic time). A read made
# while the change is not yet committed shows the edition it replaces, and must not be kept: a
# close saved here is then seen here at once. A change that never commits (a conflict) stops
# counting after MongoDB's own limit on a transaction's life.
TRANSACTION_LIFETIME_SECONDS: Final = 60.0
_editions_changing: dict[tuple[str, int], tuple[int, float]] = {}


def _keepable(key: tuple[str, int], document: dict[str, Any]) -> bool:
    changing = _editions_changing.get(key)
    if changing is None:
        return True
    version, since = changing
    if document.get("version", 1) >= version:
        return True
    if time.monotonic() - since > TRANSACTION_LIFETIME_SECONDS:
        _editions_changing.pop(key, None)
        return True
    return False


class MongoEditionRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["editions"]
        self._session = session

    async def get(self, year: int) -> Edition:
        document = await self._collection.find_one({"_id": year}, session=self._session)
        return _edition(year, document)

    async def get_recent(self, year: int) -> Edition:
        key = (self._collection.database.name, year)
        recent = _recent_editions.get(key)
        if recent is not None and time.monotonic() - recent[0] < RECENT_EDITION_SECONDS:
            return _edition(year, recent[1])
        # Outside the transaction: a read of the shared edition, not part of the use case's writes.
        document = await self._collection.find_one({"_id": year})
        if (
            document is not None
            and document.get("phase") == Phase.SUBMISSION
            and _keepable(key, document)
        ):
            _recent_editions[key] = (time.monotonic(), document)
        else:
            _recent_editions.pop(key, None)
        return _edition(year, document)

    async def add(self, edition: Edition) -> None:
        try:
            await self._collection.insert_one(_edition_document(edition), session=self._session)
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"edition {edition.year} already exists") from exc

    async def save(self, edition: Edition) -> None:
        key = (self._collection.database.name, edition.year)
        _editions_changing[key] = (edition.version, time.monotonic())
        _recent_editions.pop(key, None)
        result = await self._collection.replace_one(
            {"_id": edition.year, "version": edition.version - 1},
            _edition_document(edition),
            session=self._session,
        )
        if result.matched_count != 1:
            raise Conflict(f"edition {edition.year} changed meanwhile: reload and try again")

    async def list(self) -> list[Edition]:
        cursor = self._collection.find({}, session=self._session).sort("_id", -1)
        return [Edition.model_validate(document) async for document in cursor]


def _filter_query(edition: int, where: EntryFilter) -> dict[str, Any]:
    query: dict[str, Any] = {"edition": edition}
    if where.category is not None:
        query["content.category"] = where.category
    if where.country is not None:
        query["content.country"] = where.country
    if where.region is not None:
        query["region"] = where.region
    if where.stakeholder_type is not None:
        query["content.stakeholder_type"] = where.stakeholder_type
    if where.status is not None:
        query["status"] = where.status
    return query


class MongoEntryRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["entries"]
        self._claims = db[NEAR_DUPLICATE_CLAIMS]
        self._session = session

    async def get(self, entry_id: str) -> Entry:
        document = await self._collection.find_one({"_id": entry_id}, session=self._session)
        if document is None:
            raise NotFound(f"no entry {entry_id}")
        return _entry(document)

    async def add(self, entry: Entry) -> None:
        await self._collection.insert_one(
            _entry_fields(entry) | {"_id": entry.entry_id}, session=self._session
        )

    async def save(self, entry: Entry, fingerprint: Fingerprint | None = None) -> None:
        update: dict[str, Any] = _entry_fields(entry)
        if fingerprint is not None:
            update["similarity"] = similarity_fields(fingerprint)
            await self._claim(fingerprint.claim_keys())
        try:
            result = await self._collection.update_one(
                {"_id": entry.entry_id, "version": {"$lt": entry.version}},
                {"$set": update},
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

    async def _claim(self, band_keys: list[str]) -> None:
        """Two submissions of one project at the same moment each looked for near-duplicates in
        a snapshot without the other, and would both be stored. Each writes band keys here, in
        its own transaction: near-duplicates share bands, so the second write conflicts, and its
        transaction runs again — and then finds the first (`Fingerprint.claim_keys`)."""
        await self._claims.bulk_write(
            [UpdateOne({"_id": key}, {"$inc": {"claims": 1}}, upsert=True) for key in band_keys],
            ordered=False,
            session=self._session,
        )

    async def list_for_organisation(self, edition: int, organisation_id: str) -> list[Entry]:
        cursor = self._collection.find(
            {"edition": edition, "organisation_id": organisation_id},
            {"similarity": 0},
            session=self._session,
        ).sort("created_at", ASCENDING)
        return [_entry(document) async for document in cursor]

    async def similar(
        self, edition: int, fingerprint: Fingerprint, exclude: str
    ) -> list[SimilarEntry]:
        # Driven by the band index alone (a hint, so the planner never walks every submitted
        # entry of the edition instead); shared bands are rare, the rest is filtered here.
        cursor = self._collection.find(
            {"_id": {"$ne": exclude}, "similarity.bands": {"$in": fingerprint.band_keys()}},
            {
                "organisation_id": 1,
                "edition": 1,
                "status": 1,
                "content.title": 1,
                "won_edition": 1,
                "similarity.title": 1,
                "similarity.description": 1,
            },
            session=self._session,
        ).hint("near_duplicate_bands")
        return [
            SimilarEntry(
                entry_id=document["_id"],
                organisation_id=document["organisation_id"],
                title=document["content"]["title"],
                edition=document["edition"],
                won_edition=document.get("won_edition"),
                fingerprint=Fingerprint(
                    title=bytes(document["similarity"]["title"]),
                    description=bytes(document["similarity"]["description"]),
                ),
            )
            async for document in cursor
            if document.get("won_edition") is not None
            or (document["edition"] == edition and document["status"] == "submitted")
        ]

    async def mark_winner(self, entry_id: str, edition: int) -> None:
        await self._collection.update_one(
            {"_id": entry_id}, {"$set": {"won_edition": edition}}, session=self._session
        )

    async def record_eligibility(self, entry_id: str, eligibility: Eligibility) -> None:
        await self._collection.update_one(
            {"_id": entry_id},
            {"$set": {"eligibility": eligibility.model_dump(mode="python")}},
            session=self._session,
        )

    async def search(
        self, edition: int, where: EntryFilter, after: str | None, limit: int
    ) -> list[Entry]:
        """In the order the entries were created (then by id): a draft saved while an admin
        pages comes on a later page — whatever its id, also beside entries with random ids."""
        query = _filter_query(edition, where)
        if after is not None:
            last = await self._collection.find_one(
                {"_id": after}, {"created_at": 1}, session=self._session
            )
            if last is None:  # deleted meanwhile (entries are not, but a cursor may be made up)
                query["_id"] = {"$gt": after}
            else:
                created = last["created_at"]
                query["$or"] = [
                    {"created_at": {"$gt": created}},
                    {"created_at": created, "_id": {"$gt": after}},
                ]
        cursor = (
            self._collection.find(query, {"similarity": 0}, session=self._session)
            .sort(_CREATION_ORDER)
            .limit(limit)
        )
        return [_entry(document) async for document in cursor]

    async def stream(self, edition: int, where: EntryFilter) -> AsyncIterator[Entry]:
        cursor = self._collection.find(
            _filter_query(edition, where), {"similarity": 0}, session=self._session
        ).sort(_CREATION_ORDER)
        async for document in cursor:
            yield _entry(document)


class MongoHistoryRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["entry_history"]
        self._session = session

    async def add(self, record: HistoryRecord) -> None:
        await self._collection.insert_one(record.model_dump(mode="python"), session=self._session)

    async def of_entry(self, entry_id: str) -> list[HistoryRecord]:
        cursor = self._collection.find(
            {"entry_id": entry_id}, {"_id": 0}, session=self._session
        ).sort([("version", ASCENDING), ("at", ASCENDING)])
        return [HistoryRecord.model_validate(document) async for document in cursor]


class SubmissionsUnitOfWork(MongoUnitOfWork):
    def __init__(self, db: Database, session: Session, outbox: Outbox) -> None:
        super().__init__(db, session, outbox)
        self.editions = MongoEditionRepository(db, session)
        self.entries = MongoEntryRepository(db, session)
        self.history = MongoHistoryRepository(db, session)

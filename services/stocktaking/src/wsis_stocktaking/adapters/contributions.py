"""Contributions in MongoDB (`contributions`) and their uploaded originals in GridFS
(`contribution_originals`).

A document is the `Contribution` model with `_id` = its id, plus fields kept only for queries
(`fingerprint`, `organisation_key`, `codes_in_effect`, `codes_suggested`, `awaits_review`,
`excerpt`); readers of the collection validate it with `Contribution` and ignore them.
"""

from __future__ import annotations

import contextlib
from typing import Any, Final

from gridfs import AsyncGridFSBucket, NoFile
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from wsis_shared.errors import AlreadyExists, NotFound
from wsis_shared.messaging import Outbox
from wsis_shared.mongo import Database, Session
from wsis_shared.uow import MongoUnitOfWork
from wsis_stocktaking.domain.contributions import Contribution
from wsis_stocktaking.service_layer.contributions import (
    ContributionQuery,
    ContributionSummary,
    PageCursor,
)

COLLECTION: Final = "contributions"
ORIGINALS_BUCKET: Final = "contribution_originals"
_NEWEST_FIRST: Final = [("submitted_at", DESCENDING), ("_id", DESCENDING)]

INDEXES: Final = {
    COLLECTION: [
        IndexModel([("fingerprint", ASCENDING)], name="one_per_text", unique=True),
        IndexModel(_NEWEST_FIRST, name="newest"),
        IndexModel([("edition", ASCENDING), *_NEWEST_FIRST], name="by_edition"),
        IndexModel([("codes_in_effect", ASCENDING), *_NEWEST_FIRST], name="by_code"),
        IndexModel([("codes_suggested", ASCENDING), *_NEWEST_FIRST], name="by_suggested_code"),
        IndexModel([("organisation_key", ASCENDING), *_NEWEST_FIRST], name="by_organisation"),
        IndexModel([("organisation_id", ASCENDING), *_NEWEST_FIRST], name="by_organisation_id"),
        IndexModel(
            [("awaits_review", ASCENDING), *_NEWEST_FIRST],
            name="review_queue",
            partialFilterExpression={"awaits_review": True},
        ),
    ],
}
_SUMMARY_FIELDS: Final = {
    "_id": 1,
    "edition": 1,
    "organisation": 1,
    "organisation_id": 1,
    "title": 1,
    "format": 1,
    "submitted_at": 1,
    "excerpt": 1,
    "tags": 1,
}


def organisation_key(name: str) -> str:
    return " ".join(name.casefold().split())


def _document(contribution: Contribution) -> dict[str, Any]:
    return contribution.model_dump(mode="python") | {
        "_id": contribution.contribution_id,
        "fingerprint": contribution.fingerprint,
        "organisation_key": organisation_key(contribution.organisation),
        "codes_in_effect": contribution.codes_in_effect(),
        "codes_suggested": contribution.codes_suggested(),
        "awaits_review": contribution.awaits_review,
        "excerpt": contribution.excerpt(),
    }


def _contribution(document: dict[str, Any]) -> Contribution:
    return Contribution.model_validate(document | {"contribution_id": document["_id"]})


class MongoContributionRepository:
    def __init__(self, db: Database, session: Session | None = None) -> None:
        self._collection = db[COLLECTION]
        self._session = session

    async def add(self, contribution: Contribution) -> None:
        try:
            await self._collection.insert_one(_document(contribution), session=self._session)
        except DuplicateKeyError as exc:
            # Two filings of one text raced past the fingerprint check: the index decides.
            raise AlreadyExists(
                "this text was already filed for this organisation and year; nothing was added"
            ) from exc

    async def get(self, contribution_id: str) -> Contribution:
        document = await self._collection.find_one({"_id": contribution_id}, session=self._session)
        if document is None:
            raise NotFound(f"no contribution {contribution_id}")
        return _contribution(document)

    async def save(self, contribution: Contribution) -> None:
        await self._collection.replace_one(
            {"_id": contribution.contribution_id}, _document(contribution), session=self._session
        )

    async def find_by_fingerprint(self, fingerprint: str) -> Contribution | None:
        document = await self._collection.find_one(
            {"fingerprint": fingerprint}, session=self._session
        )
        return _contribution(document) if document else None

    async def latest_of_organisation(self, organisation_id: str) -> Contribution | None:
        document = await self._collection.find_one(
            {"organisation_id": organisation_id}, sort=_NEWEST_FIRST, session=self._session
        )
        return _contribution(document) if document else None

    @staticmethod
    def _filter(query: ContributionQuery) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if query.edition is not None:
            found["edition"] = query.edition
        if query.code is not None:
            found["codes_suggested" if query.include_suggested else "codes_in_effect"] = query.code
        if query.organisation is not None:
            found["organisation_key"] = organisation_key(query.organisation)
        if query.organisation_id is not None:
            found["organisation_id"] = query.organisation_id
        if query.awaiting_review is True:
            found["awaits_review"] = True
        elif query.awaiting_review is False:
            found["awaits_review"] = {"$ne": True}
        return found

    async def search(
        self, query: ContributionQuery, *, limit: int, after: PageCursor | None
    ) -> list[ContributionSummary]:
        found = self._filter(query)
        if after is not None:
            found["$or"] = [
                {"submitted_at": {"$lt": after.submitted_at}},
                {"submitted_at": after.submitted_at, "_id": {"$lt": after.contribution_id}},
            ]
        cursor = (
            self._collection.find(found, _SUMMARY_FIELDS, session=self._session)
            .sort(_NEWEST_FIRST)
            .limit(limit)
        )
        return [
            ContributionSummary.model_validate(document | {"contribution_id": document["_id"]})
            async for document in cursor
        ]

    async def count(self, query: ContributionQuery) -> int:
        return await self._collection.count_documents(self._filter(query), session=self._session)


class MongoContributionsUnitOfWork(MongoUnitOfWork):
    def __init__(self, db: Database, session: Session, outbox: Outbox) -> None:
        super().__init__(db, session, outbox)
        self.contributions = MongoContributionRepository(db, session)


class GridFSOriginals:
    """Uploaded originals, by contribution id."""

    def __init__(self, db: Database) -> None:
        self._bucket = AsyncGridFSBucket(db, bucket_name=ORIGINALS_BUCKET)

    async def put(self, file_id: str, data: bytes, metadata: dict[str, str]) -> None:
        await self._bucket.upload_from_stream_with_id(file_id, file_id, data, metadata=metadata)

    async def get(self, file_id: str) -> bytes:
        try:
            stream = await self._bucket.open_download_stream(file_id)
        except NoFile as exc:
            raise NotFound(f"the original of contribution {file_id} is missing") from exc
        data: bytes = await stream.read()
        return data

    async def delete(self, file_id: str) -> None:
        with contextlib.suppress(NoFile):
            await self._bucket.delete(file_id)

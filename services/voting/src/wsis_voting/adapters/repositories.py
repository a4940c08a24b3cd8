"""MongoDB repositories of the voting service.

The unique index (edition, category, voter) on `votes` is the source of truth for "one vote per
voter per category"; `tallies` is a projection of `wsis.votes.v1` that must always equal it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pymongo import ASCENDING, IndexModel, UpdateOne

from wsis_shared.messaging import Outbox
from wsis_shared.mongo import Database, Session
from wsis_shared.uow import MongoUnitOfWork
from wsis_shared.vocabulary import Category
from wsis_voting.domain.ballot import CategoryResults, Nominee, Vote, VotingEdition
from wsis_voting.domain.invalidation import Invalidation
from wsis_voting.domain.results import NomineeCount

INDEXES: Final = {
    "editions": [],
    "nominees": [IndexModel([("edition", ASCENDING), ("card.category", ASCENDING)])],
    "votes": [
        IndexModel(
            [("edition", ASCENDING), ("category", ASCENDING), ("voter", ASCENDING)],
            name="one_vote_per_voter_per_category",
            unique=True,
        ),
        IndexModel([("edition", ASCENDING), ("voter", ASCENDING)]),
        IndexModel([("edition", ASCENDING), ("category", ASCENDING), ("entry_id", ASCENDING)]),
        IndexModel([("edition", ASCENDING), ("cast_at", ASCENDING)]),
    ],
    "tallies": [IndexModel([("edition", ASCENDING), ("category", ASCENDING)])],
    "results": [],
    "invalidations": [IndexModel([("edition", ASCENDING), ("at", ASCENDING)])],
    "relay_state": [],
}
# `not_yet_counted` (votes with `counted: false`, for the lag `tally verify` reports) made the
# tally's marking of votes counted cost mongod ~70 µs per vote — every uncounted vote had the
# same key, and WiredTiger steps over the deleted ones on each change — for a count an operator
# asks for now and then (docs/benchmarks.md, 2026-12-07 night).
RETIRED_INDEXES: Final = {"votes": ["not_yet_counted"]}
RULE_OUT_SLICE: Final = 10_000


class MongoEditionRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["editions"]
        self._session = session

    async def get(self, year: int) -> VotingEdition:
        document = await self._collection.find_one({"_id": year}, session=self._session)
        return VotingEdition.model_validate(document) if document else VotingEdition(year=year)

    async def save(self, edition: VotingEdition) -> None:
        await self._collection.replace_one(
            {"_id": edition.year},
            edition.model_dump(mode="python") | {"_id": edition.year},
            upsert=True,
            session=self._session,
        )


class MongoNomineeRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["nominees"]
        self._session = session

    async def find(self, entry_id: str) -> Nominee | None:
        document = await self._collection.find_one({"_id": entry_id}, session=self._session)
        return Nominee.model_validate(document) if document else None

    async def save(self, nominee: Nominee) -> None:
        await self._collection.replace_one(
            {"_id": nominee.entry_id},
            nominee.model_dump(mode="python") | {"_id": nominee.entry_id},
            upsert=True,
            session=self._session,
        )

    async def on_ballot(self, edition: int) -> list[Nominee]:
        cursor = self._collection.find(
            {"edition": edition, "nominated": True}, session=self._session
        ).sort([("card.category", ASCENDING), ("card.title", ASCENDING)])
        return [Nominee.model_validate(document) async for document in cursor]


class MongoVoteRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["votes"]
        self._session = session

    async def find(self, edition: int, category: Category, voter: str) -> Vote | None:
        document = await self._collection.find_one(
            {"edition": edition, "category": category, "voter": voter}, session=self._session
        )
        return vote_of(document) if document else None

    async def of_voter(self, edition: int, voter: str) -> list[Vote]:
        cursor = self._collection.find(
            {"edition": edition, "voter": voter}, session=self._session
        ).sort("cast_at", ASCENDING)
        return [vote_of(document) async for document in cursor]

    async def mark_counted(self, receipt_ids: list[str]) -> list[Vote]:
        """Marks the valid, not yet counted votes among these counted; returns them. Read and
        write in one transaction: a concurrent ruling on the same votes conflicts and retries."""
        query = {"_id": {"$in": receipt_ids}, "counted": False, "invalid": {"$ne": True}}
        votes = [vote_of(d) async for d in self._collection.find(query, session=self._session)]
        if votes:
            await self._collection.update_many(
                {"_id": {"$in": [v.receipt_id for v in votes]}},
                {"$set": {"counted": True}},
                session=self._session,
            )
        return votes

    async def matching(
        self,
        edition: int,
        *,
        voters: tuple[str, ...],
        categories: tuple[Category, ...],
        cast_from: datetime | None,
        cast_until: datetime | None,
        ip_prefix: str | None = None,
        limit: int | None = None,
    ) -> list[tuple[Vote, bool]]:
        """Valid votes matching the criteria, each with whether the tally counted it; with
        `ip_prefix`, only votes whose address begins so (a superset of a range: the caller
        checks the range itself)."""
        query: dict[str, Any] = {"edition": edition, "invalid": {"$ne": True}}
        if ip_prefix is not None:
            query["ip"] = {"$regex": "^" + re.escape(ip_prefix)}
        if voters:
            query["voter"] = {"$in": list(voters)}
        if categories:
            query["category"] = {"$in": list(categories)}
        window: dict[str, datetime] = {}
        if cast_from is not None:
            window["$gte"] = cast_from
        if cast_until is not None:
            window["$lt"] = cast_until
        if window:
            query["cast_at"] = window
        cursor = self._collection.find(query, session=self._session).limit(limit or 0)
        return [(vote_of(d), bool(d.get("counted"))) async for d in cursor]

    async def rule_out(self, receipt_ids: list[str], invalidation_id: str) -> None:
        # In slices: a bot farm's hundreds of thousands of receipts in one `$in` would pass
        # MongoDB's 16 MB limit on a command.
        for start in range(0, len(receipt_ids), RULE_OUT_SLICE):
            await self._collection.update_many(
                {"_id": {"$in": receipt_ids[start : start + RULE_OUT_SLICE]}},
                {"$set": {"invalid": True, "invalidation_id": invalidation_id}},
                session=self._session,
            )

    async def valid_counts(self, edition: int, category: Category) -> list[NomineeCount]:
        """Counts from the source of truth: the valid votes themselves."""
        cursor = await self._collection.aggregate(
            [
                {"$match": {"edition": edition, "category": category, "invalid": {"$ne": True}}},
                {
                    "$group": {
                        "_id": "$entry_id",
                        "votes": {"$sum": 1},
                        "last_vote_at": {"$max": "$cast_at"},
                    }
                },
            ],
            session=self._session,
        )
        return [
            NomineeCount(d["_id"], d["votes"], d["last_vote_at"].replace(tzinfo=UTC))
            async for d in cursor
        ]

    async def counted_by_entry(self, edition: int | None) -> dict[tuple[int, str, str], int]:
        """(edition, category, entry) -> valid votes the tally has counted."""
        match: dict[str, Any] = {"counted": True, "invalid": {"$ne": True}}
        if edition is not None:
            match["edition"] = edition
        cursor = await self._collection.aggregate(
            [
                {"$match": match},
                {
                    "$group": {
                        "_id": {"e": "$edition", "c": "$category", "n": "$entry_id"},
                        "votes": {"$sum": 1},
                    }
                },
            ],
            session=self._session,
        )
        return {(d["_id"]["e"], d["_id"]["c"], d["_id"]["n"]): d["votes"] async for d in cursor}

    async def uncounted(self, edition: int | None) -> int:
        """Reads every vote of the edition (no index on `counted`: see `RETIRED_INDEXES`), as
        `counted_by_entry` does: an operator's check, not a request of the vote path."""
        query: dict[str, Any] = {"counted": False, "invalid": {"$ne": True}}
        if edition is not None:
            query["edition"] = edition
        return await self._collection.count_documents(query, session=self._session)

    async def receipts_of(self, edition: int, category: Category) -> AsyncIterator[tuple[str, str]]:
        """(entry_id, receipt_id) of every valid vote of a category."""
        cursor = self._collection.find(
            {"edition": edition, "category": category, "invalid": {"$ne": True}},
            {"entry_id": 1},
            session=self._session,
        )
        async for document in cursor:
            yield document["entry_id"], document["_id"]


async def erase_vote_addresses(db: Database, year: int, now: datetime) -> int:
    """Removes the client address from every vote of a decided edition, then notes it on the
    edition. Outside a transaction on purpose: it touches every vote of the edition, and doing
    it twice (a crash before the note) changes nothing."""
    erased = await db["votes"].update_many(
        {"edition": year, "ip": {"$exists": True}}, {"$unset": {"ip": ""}}
    )
    await db["editions"].update_one({"_id": year}, {"$set": {"addresses_erased_at": now}})
    return erased.modified_count


def vote_document(vote: Vote) -> dict[str, Any]:
    """A new vote as stored: `counted` is set by the tally consumer in its transaction."""
    document = vote.model_dump(mode="python", exclude={"receipt_id"})
    return document | {"_id": vote.receipt_id, "counted": False}


def vote_of(document: dict[str, Any]) -> Vote:
    return Vote.model_validate(document | {"receipt_id": document["_id"]})


class MongoTallyRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["tallies"]
        self._session = session

    async def increment(self, edition: int, category: Category, entry_id: str, by: int = 1) -> None:
        await self._collection.update_one(
            {"_id": f"{edition}:{category}:{entry_id}"},
            {
                "$inc": {"votes": by},
                "$setOnInsert": {"edition": edition, "category": category, "entry_id": entry_id},
            },
            upsert=True,
            session=self._session,
        )

    async def increment_many(self, increments: Mapping[tuple[int, Category, str], int]) -> None:
        if not increments:
            return
        await self._collection.bulk_write(
            [
                UpdateOne(
                    {"_id": f"{edition}:{category}:{entry_id}"},
                    {
                        "$inc": {"votes": by},
                        "$setOnInsert": {
                            "edition": edition,
                            "category": category,
                            "entry_id": entry_id,
                        },
                    },
                    upsert=True,
                )
                for (edition, category, entry_id), by in increments.items()
            ],
            ordered=False,
            session=self._session,
        )

    async def counts(self, edition: int, category: Category) -> dict[str, int]:
        cursor = self._collection.find(
            {"edition": edition, "category": category}, session=self._session
        )
        return {document["entry_id"]: document["votes"] async for document in cursor}

    async def all(self, edition: int | None) -> dict[tuple[int, str, str], int]:
        query = {} if edition is None else {"edition": edition}
        cursor = self._collection.find(query, session=self._session)
        return {(d["edition"], d["category"], d["entry_id"]): d["votes"] async for d in cursor}

    async def replace_all(
        self, edition: int | None, counts: dict[tuple[int, str, str], int]
    ) -> None:
        await self._collection.delete_many(
            {} if edition is None else {"edition": edition}, session=self._session
        )
        documents = [
            {"_id": f"{e}:{c}:{n}", "edition": e, "category": c, "entry_id": n, "votes": votes}
            for (e, c, n), votes in counts.items()
        ]
        if documents:
            await self._collection.insert_many(documents, session=self._session)


class MongoResultsRepository:
    """Per edition and category, the finalists computed when the window closed."""

    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["results"]
        self._session = session

    async def add(self, results: CategoryResults) -> None:
        await self._collection.insert_one(
            results.model_dump(mode="python") | {"_id": results.key}, session=self._session
        )

    async def of_edition(self, edition: int) -> list[CategoryResults]:
        cursor = self._collection.find({"edition": edition}, session=self._session).sort(
            "_id", ASCENDING
        )
        return [CategoryResults.model_validate(d) async for d in cursor]

    async def find(self, edition: int, category: Category) -> CategoryResults | None:
        document = await self._collection.find_one(
            {"_id": f"{edition}:{category}"}, session=self._session
        )
        return CategoryResults.model_validate(document) if document else None


class MongoInvalidationRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["invalidations"]
        self._session = session

    async def add(self, invalidation: Invalidation) -> None:
        await self._collection.insert_one(
            invalidation.model_dump(mode="python") | {"_id": invalidation.invalidation_id},
            session=self._session,
        )

    async def of_edition(self, edition: int) -> list[Invalidation]:
        cursor = self._collection.find({"edition": edition}, session=self._session).sort(
            "at", ASCENDING
        )
        return [Invalidation.model_validate(d) async for d in cursor]


class VotingUnitOfWork(MongoUnitOfWork):
    def __init__(self, db: Database, session: Session, outbox: Outbox) -> None:
        super().__init__(db, session, outbox)
        self.editions = MongoEditionRepository(db, session)
        self.nominees = MongoNomineeRepository(db, session)
        self.votes = MongoVoteRepository(db, session)
        self.tallies = MongoTallyRepository(db, session)
        self.results = MongoResultsRepository(db, session)
        self.invalidations = MongoInvalidationRepository(db, session)

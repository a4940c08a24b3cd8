"""MongoDB repositories of the voting service.

The unique index (edition, category, voter) on `votes` is the source of truth for "one vote per
voter per category"; `tallies` is a projection of `wsis.votes.v1` that must always equal it.
"""

from __future__ import annotations

from typing import Final

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from wsis_shared.messaging import Outbox
from wsis_shared.mongo import Database, Session
from wsis_shared.uow import MongoUnitOfWork
from wsis_shared.vocabulary import Category
from wsis_voting.domain.ballot import AlreadyVoted, Nominee, Vote, VotingEdition

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
    ],
    "tallies": [IndexModel([("edition", ASCENDING), ("category", ASCENDING)])],
}


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

    async def add(self, vote: Vote) -> None:
        key = {"edition": vote.edition, "category": vote.category, "voter": vote.voter}
        existing = await self._collection.find_one(key, session=self._session)
        if existing is not None:
            raise AlreadyVoted(
                f"you already voted in category {vote.category}: one vote per category",
                category=vote.category,
                receipt_id=existing["_id"],
            )
        try:
            await self._collection.insert_one(
                vote.model_dump(mode="python") | {"_id": vote.receipt_id}, session=self._session
            )
        except DuplicateKeyError as exc:
            raise AlreadyVoted(
                f"you already voted in category {vote.category}: one vote per category",
                category=vote.category,
            ) from exc

    async def of_voter(self, edition: int, voter: str) -> list[Vote]:
        cursor = self._collection.find(
            {"edition": edition, "voter": voter}, session=self._session
        ).sort("cast_at", ASCENDING)
        return [
            Vote.model_validate(document | {"receipt_id": document["_id"]})
            async for document in cursor
        ]


class MongoTallyRepository:
    def __init__(self, db: Database, session: Session) -> None:
        self._collection = db["tallies"]
        self._session = session

    async def increment(self, edition: int, category: Category, entry_id: str) -> None:
        await self._collection.update_one(
            {"_id": f"{edition}:{category}:{entry_id}"},
            {
                "$inc": {"votes": 1},
                "$setOnInsert": {"edition": edition, "category": category, "entry_id": entry_id},
            },
            upsert=True,
            session=self._session,
        )

    async def counts(self, edition: int, category: Category) -> dict[str, int]:
        cursor = self._collection.find(
            {"edition": edition, "category": category}, session=self._session
        )
        return {document["entry_id"]: document["votes"] async for document in cursor}


class VotingUnitOfWork(MongoUnitOfWork):
    def __init__(self, db: Database, session: Session, outbox: Outbox) -> None:
        super().__init__(db, session, outbox)
        self.editions = MongoEditionRepository(db, session)
        self.nominees = MongoNomineeRepository(db, session)
        self.votes = MongoVoteRepository(db, session)
        self.tallies = MongoTallyRepository(db, session)

"""The hot path of casting a vote: cached reads of the window and the ballot, group-committed
writes.

The edition (its phase and schedule) and the nominees are read from MongoDB at most once per
second per process: they change a handful of times per edition, while a peak brings thousands
of votes a second. A cached phase is at most a second old; the window also closes by the clock
at `voting_closes` (VotingEdition.require_open_window), and results are computed from the votes
only after a grace period past the close, so a vote accepted in that second is still counted.
"""

from __future__ import annotations

from typing import Any, Final

from async_lru import alru_cache

from wsis_shared.mongo import Database
from wsis_shared.vocabulary import Category
from wsis_voting.adapters.repositories import vote_document, vote_of
from wsis_voting.adapters.vote_writer import DuplicateVote, VoteWriter
from wsis_voting.domain.ballot import Nominee, Vote, VotingEdition
from wsis_voting.service_layer.casting import AlreadyCast

CACHE_SECONDS: Final = 1.0


class MongoVoteStore:
    def __init__(self, db: Database, cache_seconds: float = CACHE_SECONDS) -> None:
        self._db = db
        self._writer = VoteWriter(db["votes"])
        # One read in flight per key: when an entry expires under a peak, the requests arriving
        # meanwhile wait for that read instead of each sending their own (dozens per expiry).
        # The LRU bound keeps a flood of made-up entry ids from growing the cache.
        self.edition = alru_cache(maxsize=64, ttl=cache_seconds)(self._read_edition)
        self.nominee = alru_cache(maxsize=10_000, ttl=cache_seconds)(self._read_nominee)

    async def _read_edition(self, year: int) -> VotingEdition:
        document = await self._db["editions"].find_one({"_id": year})
        return VotingEdition.model_validate(document) if document else VotingEdition(year=year)

    async def _read_nominee(self, entry_id: str) -> Nominee | None:
        document = await self._db["nominees"].find_one({"_id": entry_id})
        return Nominee.model_validate(document) if document else None

    async def add(self, vote: Vote) -> None:
        try:
            await self._writer.insert(vote_document(vote))
        except DuplicateVote:
            raise AlreadyCast from None

    async def existing(self, edition: int, category: Category, voter: str) -> Vote | None:
        document: dict[str, Any] | None = await self._db["votes"].find_one(
            {"edition": edition, "category": category, "voter": voter}
        )
        return vote_of(document) if document else None

    async def close(self) -> None:
        await self._writer.close()
        await self.edition.cache_close()
        await self.nominee.cache_close()

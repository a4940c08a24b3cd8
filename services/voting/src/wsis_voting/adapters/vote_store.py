"""The hot path of casting a vote: cached reads of the window and the ballot, group-committed
writes.

The edition (its phase and schedule) and the nominees are read from MongoDB at most once per
second per process: they change a handful of times per edition, while a peak brings thousands
of votes a second. A cached phase is at most a second old; the window also closes by the clock
at `voting_closes` (VotingEdition.require_open_window), and results are computed from the votes
only after a grace period past the close, so a vote accepted in that second is still counted.
"""

from __future__ import annotations

import time
from typing import Any, Final

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
        self._cache_seconds = cache_seconds
        self._editions: dict[int, tuple[float, VotingEdition]] = {}
        self._nominees: dict[str, tuple[float, Nominee | None]] = {}

    async def edition(self, year: int) -> VotingEdition:
        cached = self._editions.get(year)
        if cached and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        document = await self._db["editions"].find_one({"_id": year})
        edition = VotingEdition.model_validate(document) if document else VotingEdition(year=year)
        self._editions[year] = (time.monotonic(), edition)
        return edition

    async def nominee(self, entry_id: str) -> Nominee | None:
        cached = self._nominees.get(entry_id)
        if cached and time.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        document = await self._db["nominees"].find_one({"_id": entry_id})
        nominee = Nominee.model_validate(document) if document else None
        if len(self._nominees) > 100_000:  # a flood of made-up ids must not grow it forever
            self._nominees.clear()
        self._nominees[entry_id] = (time.monotonic(), nominee)
        return nominee

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

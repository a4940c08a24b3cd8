"""The MongoDB read model of Stocktaking: written by the projections, read by the public API.

Projections write with update operators (never whole documents) so facts from different topics
merge whatever order they arrive in: `updated_at` only moves forward (`$max`), and an entry's
public fields are replaced only by a newer version of the entry, so a replayed or late
`submission.submitted` never overwrites an amendment. A rebuild that replays the topics in
another interleaving therefore builds the same documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne

from wsis_shared.events import EntryPublic, ReviewSummary
from wsis_shared.mongo import Database, Session
from wsis_shared.vocabulary import Phase
from wsis_stocktaking.domain.catalogue import CatalogueRecord, EditionView

INDEXES: Final = {
    "catalogue": [
        IndexModel([("edition", DESCENDING), ("entry.category", ASCENDING)]),
    ],
    "editions": [],
}


class Catalogue:
    def __init__(self, db: Database, session: Session | None = None) -> None:
        self._records = db["catalogue"]
        self._editions = db["editions"]
        self._session = session

    async def _update(
        self, entry_id: str, edition: int, update: dict[str, Any], at: datetime
    ) -> None:
        update.setdefault("$max", {})["updated_at"] = at
        update.setdefault("$setOnInsert", {})["edition"] = edition
        await self._records.update_one(
            {"_id": entry_id}, update, upsert=True, session=self._session
        )

    async def put_entry(self, entry: EntryPublic, edition: int, version: int, at: datetime) -> None:
        """The entry's public fields as of `version`, unless a newer version is already here."""
        newer = {"$lt": [{"$ifNull": ["$entry_version", 0]}, version]}
        await self._records.update_one(
            {"_id": entry.entry_id},
            [
                {
                    "$set": {
                        # $literal: the user's text must never be read as a field path.
                        "entry": {
                            "$cond": [
                                newer,
                                {"$literal": entry.model_dump(mode="python")},
                                "$entry",
                            ]
                        },
                        "entry_version": {"$cond": [newer, version, "$entry_version"]},
                        "updated_at": {"$max": ["$updated_at", at]},
                        "edition": {"$ifNull": ["$edition", edition]},
                    }
                }
            ],
            upsert=True,
            session=self._session,
        )

    async def set_fact(
        self, entry_id: str, edition: int, fact: str, value: bool, at: datetime
    ) -> None:
        await self._update(entry_id, edition, {"$set": {fact: value}}, at)

    async def put_review_summary(
        self, entry_id: str, edition: int, summary: ReviewSummary, at: datetime
    ) -> None:
        await self._update(
            entry_id, edition, {"$set": {"review_summary": summary.model_dump(mode="python")}}, at
        )

    async def add_votes(self, votes: Mapping[tuple[str, int], tuple[int, datetime]]) -> None:
        """(entry, edition) -> (votes to add, time of the newest): one bulk write per batch."""
        if not votes:
            return
        await self._records.bulk_write(
            [
                UpdateOne(
                    {"_id": entry_id},
                    {
                        "$inc": {"votes": count},
                        "$max": {"updated_at": at},
                        "$setOnInsert": {"edition": edition},
                    },
                    upsert=True,
                )
                for (entry_id, edition), (count, at) in votes.items()
            ],
            ordered=False,
            session=self._session,
        )

    async def put_edition(
        self,
        year: int,
        *,
        version: int,
        phase: Phase | None = None,
        show_running_counts: bool | None = None,
    ) -> bool:
        """Applies an edition event unless one at least as recent was applied (a replay from
        the dead letters, say, must not take the edition back); whether it was applied."""
        current = await self._editions.find_one(
            {"_id": year}, {"version": 1}, session=self._session
        )
        if current is not None and current.get("version", 0) >= version:
            return False
        changes: dict[str, Any] = {"version": version}
        if phase is not None:
            changes["phase"] = phase
        if show_running_counts is not None:
            changes["show_running_counts"] = show_running_counts
        await self._editions.update_one(
            {"_id": year}, {"$set": changes}, upsert=True, session=self._session
        )
        return True

    async def edition(self, year: int) -> EditionView:
        document = await self._editions.find_one({"_id": year}, session=self._session)
        return (
            EditionView.model_validate(document | {"year": year})
            if document
            else EditionView(year=year)
        )

    async def get(self, entry_id: str) -> CatalogueRecord | None:
        document = await self._records.find_one(
            {"_id": entry_id, "entry": {"$exists": True}}, session=self._session
        )
        return _record(document) if document else None

    async def records(self, entry_ids: list[str]) -> dict[str, CatalogueRecord]:
        """The searchable records among `entry_ids`, in one query (a page of search results)."""
        cursor = self._records.find(
            {"_id": {"$in": entry_ids}, "entry": {"$exists": True}}, session=self._session
        )
        return {document["_id"]: _record(document) async for document in cursor}

    async def editions(self) -> dict[int, EditionView]:
        """Every edition seen (one a year: a handful of small documents, read in one query)."""
        return {
            document["_id"]: EditionView.model_validate(document | {"year": document["_id"]})
            async for document in self._editions.find({}, session=self._session)
        }


def _record(document: dict[str, Any]) -> CatalogueRecord:
    return CatalogueRecord.model_validate(document | {"entry_id": document["_id"]})

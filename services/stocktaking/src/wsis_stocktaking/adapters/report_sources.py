"""What a report reads from the Stocktaking database, streamed.

A report of a hundred thousand entries must not hold them all, and reading them is most of its
cost, which is decoding BSON in Python. So the server flattens each entry to one array of the
counted fields (no field names to decode, nothing else sent), times are decoded without a time
zone (they are UTC; attaching the zone costs more than the rest of the entry), and the arrays
come in large batches and become `ReportEntry` tuples by plain look-ups, with no model
validation per entry. Contributions are read without their full text, which may be a whole
extracted PDF.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Final

from bson.codec_options import CodecOptions
from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection

from wsis_shared.mongo import Database, Document
from wsis_shared.vocabulary import ActionLine, Category, Region, StakeholderType
from wsis_stocktaking.domain.catalogue import CatalogueRecord
from wsis_stocktaking.domain.reports import ContributionDigest, ReportEntry

BATCH_SIZE: Final = 5_000

# The order of ReportEntry's fields.
_ENTRY_AS_ARRAY: Final = [
    "$_id",
    "$entry.category",
    "$entry.action_lines",
    "$entry.sdgs",
    "$entry.region",
    "$entry.stakeholder_type",
    "$entry.country",
    "$withdrawn",
    "$nominated",
    "$champion",
    "$winner",
    "$updated_at",
]
_CONTRIBUTION_FIELDS: Final = {
    "_id": 1,
    "edition": 1,
    "organisation": 1,
    "title": 1,
    "submitted_at": 1,
    "tags": 1,
}
_CATEGORIES: Final = {category.value: category for category in Category}
_ACTION_LINES: Final = {line.value: line for line in ActionLine}
_REGIONS: Final = {region.value: region for region in Region}
_STAKEHOLDERS: Final = {kind.value: kind for kind in StakeholderType}
# Most entries name no further action line: their set is the category's own, made once.
_LINES_OF_CATEGORY: Final = {
    category.value: ReportEntry.action_lines_of(category, ()) for category in Category
}


class UnreadableRecord(ValueError):
    """A stored record does not have the shape the report needs: the job fails naming it."""


def _submitted_entries(edition: int) -> dict[str, Any]:
    # A record holds facts from every topic; until its submission is seen it has no `entry`.
    return {"edition": edition, "entry": {"$exists": True}}


def _report_entry(fields: Sequence[Any]) -> ReportEntry:
    """Plain look-ups on purpose: this runs once per entry of the catalogue."""
    (
        entry_id,
        category,
        named,
        sdgs,
        region,
        stakeholder_type,
        country,
        withdrawn,
        nominated,
        champion,
        winner,
        updated_at,
    ) = fields
    try:
        return ReportEntry(
            str(entry_id),
            _CATEGORIES[category],
            (
                _LINES_OF_CATEGORY[category].union([_ACTION_LINES[line] for line in named])
                if named
                else _LINES_OF_CATEGORY[category]
            ),
            frozenset(sdgs or ()),
            _REGIONS[region],
            _STAKEHOLDERS[stakeholder_type],
            str(country),
            withdrawn is True,
            nominated is True,
            champion is True,
            winner is True,
            updated_at,
        )
    except (KeyError, TypeError) as exc:
        raise UnreadableRecord(
            f"catalogue entry {entry_id!r} cannot be counted: missing or unknown value {exc}"
        ) from exc


class ReportSources:
    def __init__(self, db: Database) -> None:
        self._catalogue = db["catalogue"]
        self._plain_catalogue: AsyncCollection[Document] = db["catalogue"].with_options(
            codec_options=CodecOptions(document_class=dict)
        )
        self._contributions = db["contributions"]

    async def count_entries(self, edition: int) -> int:
        return await self._catalogue.count_documents(_submitted_entries(edition))

    async def entries(self, edition: int) -> AsyncIterator[ReportEntry]:
        """Every submitted entry of the edition, withdrawn ones included (the report says how
        many it left out), in no particular order: the figures do not depend on it. Times are
        UTC without their zone."""
        cursor = await self._plain_catalogue.aggregate(
            [
                {"$match": _submitted_entries(edition)},
                {"$project": {"_id": 0, "e": _ENTRY_AS_ARRAY}},
            ],
            batchSize=BATCH_SIZE,
        )
        async with cursor:
            async for document in cursor:
                yield _report_entry(document["e"])

    async def contributions(self, edition: int) -> AsyncIterator[ContributionDigest]:
        cursor = self._contributions.find(
            {"edition": edition}, _CONTRIBUTION_FIELDS, batch_size=BATCH_SIZE
        )
        async with cursor:
            async for document in cursor:
                try:
                    yield ContributionDigest.model_validate(
                        {**document, "contribution_id": str(document["_id"])}
                    )
                except ValidationError as exc:
                    raise UnreadableRecord(
                        f"contribution {document.get('_id')!r} cannot be read: {exc}"
                    ) from exc

    async def success_story_records(self, edition: int) -> list[CatalogueRecord]:
        """Winners and champions: at most a few per category, read whole."""
        query = _submitted_entries(edition) | {"$or": [{"winner": True}, {"champion": True}]}
        return [
            CatalogueRecord.model_validate(document | {"entry_id": document["_id"]})
            async for document in self._catalogue.find(query).sort("_id", 1)
        ]

"""The public WSIS Stocktaking database: search and entry pages (no sign-in)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from wsis_shared.errors import NotFound
from wsis_shared.events import EntryPublic, ReviewSummary
from wsis_shared.vocabulary import Category
from wsis_stocktaking.adapters.catalogue import Catalogue
from wsis_stocktaking.domain.catalogue import CatalogueRecord, LifecycleStatus

router = APIRouter(tags=["catalogue"])


class CatalogueEntryPublic(BaseModel):
    entry_id: str
    edition: int
    status: LifecycleStatus
    entry: EntryPublic
    votes: int | None
    review_summary: ReviewSummary | None = Field(
        default=None,
        description="aggregate figures of the expert review, once the chair decided (never an "
        "individual score or a reviewer)",
    )


class CataloguePage(BaseModel):
    items: list[CatalogueEntryPublic]
    next_cursor: str | None
    total: int


def _catalogue(request: Request) -> Catalogue:
    return Catalogue(request.app.state.resources.db)


async def _public(catalogue: Catalogue, record: CatalogueRecord) -> CatalogueEntryPublic:
    assert record.entry is not None
    edition = await catalogue.edition(record.edition)
    return CatalogueEntryPublic(
        entry_id=record.entry_id,
        edition=record.edition,
        status=record.status,
        entry=record.entry,
        votes=record.votes if edition.vote_counts_public() else None,
        review_summary=record.review_summary,
    )


@router.get("/entries", summary="Search the Stocktaking database (public)")
async def search_entries(
    request: Request,
    edition: int | None = None,
    category: Category | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> CataloguePage:
    catalogue = _catalogue(request)
    records = await catalogue.search(
        edition=edition, category=category, text=q, limit=limit + 1, after=cursor
    )
    page = records[:limit]
    return CataloguePage(
        items=[await _public(catalogue, record) for record in page],
        next_cursor=page[-1].entry_id if len(records) > limit else None,
        total=await catalogue.count(edition=edition, category=category, text=q),
    )


@router.get("/entries/{entry_id}", summary="One entry of the Stocktaking database (public)")
async def get_entry(entry_id: str, request: Request) -> CatalogueEntryPublic:
    catalogue = _catalogue(request)
    record = await catalogue.get(entry_id)
    if record is None:
        raise NotFound(f"no entry {entry_id} in the Stocktaking database")
    return await _public(catalogue, record)

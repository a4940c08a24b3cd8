"""The public WSIS Stocktaking database: search with facet counts, and entry pages (no sign-in).

`GET /entries` asks this API process's in-memory search index (`domain.search_index`: what
matches, in which order, how many per facet value), then reads the page's records in one query,
beside the editions (whose phase says whether vote counts are public). Every API process holds
its own index, loaded before it serves its first request — the router's lifespan below, nested
in the app's by FastAPI, so `/readyz` cannot answer before — and following the catalogue while
it serves (`adapters.search_index_sync`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Final

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import AfterValidator, BaseModel, Field

from wsis_shared.errors import NotFound
from wsis_shared.events import EntryPublic, ReviewSummary
from wsis_shared.geography import country as known_country
from wsis_shared.runtime import Resources
from wsis_shared.vocabulary import ActionLine, Category, Region, StakeholderType
from wsis_stocktaking.adapters.catalogue import Catalogue
from wsis_stocktaking.adapters.search_index_sync import SearchIndexSync
from wsis_stocktaking.domain.catalogue import CatalogueRecord, LifecycleStatus
from wsis_stocktaking.domain.search_index import (
    Cursor,
    Facet,
    FacetValue,
    SearchQuery,
)


@asynccontextmanager
async def _search_index(app: FastAPI) -> AsyncIterator[None]:
    resources: Resources = app.state.resources
    async with SearchIndexSync(resources.db).running() as sync:
        app.state.search_index = sync
        yield


router = APIRouter(tags=["catalogue"], lifespan=_search_index)

_MAX_VALUES: Final = 50  # per filter: more would only make a URL no one writes

Year = Annotated[int, Field(ge=1, le=9999)]
Sdg = Annotated[int, Field(ge=1, le=17)]
CountryCode = Annotated[str, AfterValidator(lambda code: known_country(code).code)]


class CatalogueEntryPublic(BaseModel):
    entry_id: str
    edition: int
    status: LifecycleStatus
    entry: EntryPublic
    votes: int | None = Field(
        description="the entry's valid votes; null while the edition keeps running counts private"
    )
    review_summary: ReviewSummary | None = Field(
        default=None,
        description="aggregate figures of the expert review, once the chair decided (never an "
        "individual score or a reviewer)",
    )


class FacetValueCount(BaseModel):
    value: int | str
    count: int = Field(
        description="entries matching the search with this value, counting every filter but "
        "those of this facet"
    )


class CataloguePage(BaseModel):
    items: list[CatalogueEntryPublic]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page"
    )
    total: int = Field(description="entries matching the search, on every page together")
    facets: dict[Facet, list[FacetValueCount]] = Field(
        description="for each facet, its values with their counts, most entries first; a "
        "selected value is listed even when no entry has it"
    )


def _catalogue(request: Request) -> Catalogue:
    return Catalogue(request.app.state.resources.db)


def _search_index_of(request: Request) -> SearchIndexSync:
    sync: SearchIndexSync | None = getattr(request.app.state, "search_index", None)
    if sync is None:
        raise RuntimeError("the catalogue router's lifespan did not run: include the router")
    return sync


def _public(record: CatalogueRecord, *, votes_public: bool) -> CatalogueEntryPublic:
    assert record.entry is not None
    return CatalogueEntryPublic(
        entry_id=record.entry_id,
        edition=record.edition,
        status=record.status,
        entry=record.entry,
        votes=record.votes if votes_public else None,
        review_summary=record.review_summary,
    )


@router.get(
    "/entries",
    summary="Search the Stocktaking database (public)",
    description="Full text and filters, with the number of entries for each facet value. "
    "Values of one filter are alternatives (`region=Africa&region=Europe`); different filters "
    "must all match. Results come newest edition first, then by entry id; follow `next_cursor` "
    "for the next page. Withdrawn entries are part of the public record: filter on `status` "
    "to leave them out.",
    responses={400: {"description": "the cursor is not valid: start again from the first page"}},
)
async def search_entries(
    request: Request,
    q: Annotated[
        str,
        Query(
            max_length=200,
            description="words to find in the title, short description, organisation and "
            "partners; every word must match; the last one also matches longer words it "
            'begins ("sola" finds "solar") unless the query ends with a space',
        ),
    ] = "",
    edition: Annotated[list[Year] | None, Query(max_length=_MAX_VALUES)] = None,
    action_line: Annotated[
        list[ActionLine] | None,
        Query(
            max_length=_MAX_VALUES,
            description="the action line of the entry's category (C7 for every C7.*) or one "
            "the entry names",
        ),
    ] = None,
    category: Annotated[list[Category] | None, Query(max_length=_MAX_VALUES)] = None,
    sdg: Annotated[list[Sdg] | None, Query(max_length=_MAX_VALUES)] = None,
    region: Annotated[list[Region] | None, Query(max_length=_MAX_VALUES)] = None,
    country: Annotated[
        list[CountryCode] | None,
        Query(max_length=_MAX_VALUES, description="ISO 3166-1 alpha-2 code, e.g. KE"),
    ] = None,
    stakeholder_type: Annotated[list[StakeholderType] | None, Query(max_length=_MAX_VALUES)] = None,
    status: Annotated[list[LifecycleStatus] | None, Query(max_length=_MAX_VALUES)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=500, description="`next_cursor` of the previous page")
    ] = None,
) -> CataloguePage:
    chosen: dict[Facet, Sequence[FacetValue] | None] = {
        "edition": edition,
        "action_line": action_line,
        "category": category,
        "sdg": sdg,
        "region": region,
        "country": country,
        "stakeholder_type": stakeholder_type,
        "status": status,
    }
    query = SearchQuery(
        text=q,
        filters={facet: frozenset(values) for facet, values in chosen.items() if values},
        limit=limit,
        after=Cursor.decode(cursor) if cursor is not None else None,
    )
    result = _search_index_of(request).index.search(query)
    catalogue = _catalogue(request)
    records: dict[str, CatalogueRecord] = {}
    votes_public: dict[int, bool] = {}
    if result.entry_ids:
        # Side by side: each query waits mostly on the round trip.
        records, editions = await asyncio.gather(
            catalogue.records(result.entry_ids), catalogue.editions()
        )
        votes_public = {year: edition.vote_counts_public() for year, edition in editions.items()}
    return CataloguePage(
        # An entry deleted between the search and this read is left out; an edition never
        # announced keeps its vote counts private.
        items=[
            _public(
                records[entry_id],
                votes_public=votes_public.get(records[entry_id].edition, False),
            )
            for entry_id in result.entry_ids
            if entry_id in records
        ],
        next_cursor=result.next_cursor.encode() if result.next_cursor else None,
        total=result.total,
        facets={
            # Hundreds of values: plain dicts, validated in one go with the page (in Rust).
            facet: [{"value": c.value, "count": c.count} for c in counts]
            for facet, counts in result.facets.items()
        },
    )


@router.get("/entries/{entry_id}", summary="One entry of the Stocktaking database (public)")
async def get_entry(entry_id: str, request: Request) -> CatalogueEntryPublic:
    catalogue = _catalogue(request)
    record = await catalogue.get(entry_id)
    if record is None:
        raise NotFound(f"no entry {entry_id} in the Stocktaking database")
    edition = await catalogue.edition(record.edition)
    return _public(record, votes_public=edition.vote_counts_public())

"""The public WSIS Stocktaking database: search with facet counts, and entry pages (no sign-in).

`GET /entries` asks this API process's in-memory search index (`domain.search_index`: what
matches, in which order, how many per facet value), then reads the page's records in one query,
beside the editions (whose phase says whether vote counts are public). Every API process holds
its own index, loaded before it serves its first request — the router's lifespan below, nested
in the app's by FastAPI, so `/readyz` cannot answer before — and following the catalogue while
it serves (`adapters.search_index_sync`).
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Final

from fastapi import APIRouter, FastAPI, Query, Request, Response
from pydantic import BaseModel, Field

from wsis_shared.errors import NotFound
from wsis_shared.events import EntryPublic, ReviewSummary
from wsis_shared.geography import CountryCode
from wsis_shared.runtime import Resources
from wsis_shared.vocabulary import ActionLine, Category, Region, StakeholderType
from wsis_stocktaking.adapters.catalogue import Catalogue
from wsis_stocktaking.adapters.search_index_sync import SearchIndexSync
from wsis_stocktaking.domain.catalogue import CatalogueRecord, LifecycleStatus
from wsis_stocktaking.domain.search_index import (
    Cursor,
    Facet,
    FacetCount,
    FacetValue,
    SearchQuery,
)


class _KeptJson:
    """The JSON of what searches showed lately, so that the popular pages and facet counts are
    not read, validated and serialised again for every visitor.

    An entry's JSON is dropped as soon as the search index sync sees the entry change (and all
    of them when it loads again), and is kept `ENTRY_SECONDS` at most: so vote counts, which the
    sync does not follow (thousands a second at a peak), lag by that much at worst, as does a
    change that lands while the entry is being read. Facet counts are kept with the index's own
    counts object: when the index counts again, that object is new.
    """

    ENTRY_SECONDS: Final = 5.0
    EDITIONS_SECONDS: Final = 1.0
    ENTRIES_KEPT: Final = 5000
    FACET_SETS_KEPT: Final = 256

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple[str, bool], tuple[float, bytes]] = OrderedDict()
        self._facets: OrderedDict[int, tuple[object, bytes]] = OrderedDict()
        self._votes_public: tuple[float, dict[int, bool]] | None = None
        self.entry_hits = 0
        self.entry_misses = 0

    async def votes_public(self, catalogue: Catalogue) -> dict[int, bool]:
        """Whether each edition shows its vote counts (read again after `EDITIONS_SECONDS`:
        it changes once a year, when the results are published)."""
        if self._votes_public is None or self._votes_public[0] < time.monotonic():
            editions = await catalogue.editions()
            public = {year: edition.vote_counts_public() for year, edition in editions.items()}
            self._votes_public = (time.monotonic() + self.EDITIONS_SECONDS, public)
        return self._votes_public[1]

    def forget(self, entry_id: str | None) -> None:
        if entry_id is None:
            self._entries.clear()
            return
        self._entries.pop((entry_id, True), None)
        self._entries.pop((entry_id, False), None)

    def entry(self, entry_id: str, votes_public: bool) -> bytes | None:
        kept = self._entries.get((entry_id, votes_public))
        if kept is None or kept[0] < time.monotonic():
            self.entry_misses += 1
            return None
        self.entry_hits += 1
        return kept[1]

    def keep_entry(self, entry_id: str, votes_public: bool, document: bytes) -> None:
        expires = time.monotonic() + self.ENTRY_SECONDS
        self._entries[(entry_id, votes_public)] = (expires, document)
        self._entries.move_to_end((entry_id, votes_public))
        if len(self._entries) > self.ENTRIES_KEPT:
            self._entries.popitem(last=False)

    def facets(self, counts: dict[Facet, list[FacetCount]]) -> bytes:
        kept = self._facets.get(id(counts))
        if kept is not None and kept[0] is counts:
            self._facets.move_to_end(id(counts))
            return kept[1]
        # The shape of `CataloguePage.facets`, written by the json module: a search may list
        # hundreds of values, and a model object for each cost more than the counting.
        document = json.dumps(
            {
                facet: [{"value": value, "count": count} for value, count in values]
                for facet, values in counts.items()
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        # The counts object is held with its JSON, so its id cannot be reused meanwhile.
        self._facets[id(counts)] = (counts, document)
        if len(self._facets) > self.FACET_SETS_KEPT:
            self._facets.popitem(last=False)
        return document


@asynccontextmanager
async def _search_index(app: FastAPI) -> AsyncIterator[None]:
    resources: Resources = app.state.resources
    kept = _KeptJson()
    async with SearchIndexSync(resources.db).running() as sync:
        sync.on_change.append(kept.forget)
        app.state.search_index = sync
        app.state.kept_json = kept
        yield


router = APIRouter(tags=["catalogue"], lifespan=_search_index)

_MAX_VALUES: Final = 50  # per filter: more would only make a URL no one writes

Year = Annotated[int, Field(ge=1, le=9999)]
Sdg = Annotated[int, Field(ge=1, le=17)]


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


class SearchParameters(BaseModel):
    """The query string of a search, validated as one model: one validation per request instead
    of one per parameter (a sixth of the API's time per search before)."""

    q: str = Field(
        default="",
        max_length=200,
        description="words to find in the title, short description, organisation and "
        "partners; every word must match; the last one also matches longer words it "
        'begins ("sola" finds "solar") unless the query ends with a space',
    )
    edition: list[Year] | None = Field(default=None, max_length=_MAX_VALUES)
    action_line: list[ActionLine] | None = Field(
        default=None,
        max_length=_MAX_VALUES,
        description="the action line of the entry's category (C7 for every C7.*) or one "
        "the entry names",
    )
    category: list[Category] | None = Field(default=None, max_length=_MAX_VALUES)
    sdg: list[Sdg] | None = Field(default=None, max_length=_MAX_VALUES)
    region: list[Region] | None = Field(default=None, max_length=_MAX_VALUES)
    country: list[CountryCode] | None = Field(
        default=None, max_length=_MAX_VALUES, description="ISO 3166-1 alpha-2 code, e.g. KE"
    )
    stakeholder_type: list[StakeholderType] | None = Field(default=None, max_length=_MAX_VALUES)
    status: list[LifecycleStatus] | None = Field(default=None, max_length=_MAX_VALUES)
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(
        default=None, max_length=500, description="`next_cursor` of the previous page"
    )

    def filters(self) -> dict[Facet, frozenset[FacetValue]]:
        chosen: dict[Facet, Sequence[FacetValue] | None] = {
            "edition": self.edition,
            "action_line": self.action_line,
            "category": self.category,
            "sdg": self.sdg,
            "region": self.region,
            "country": self.country,
            "stakeholder_type": self.stakeholder_type,
            "status": self.status,
        }
        return {facet: frozenset(values) for facet, values in chosen.items() if values}


@router.get(
    "/entries",
    summary="Search the Stocktaking database (public)",
    description="Full text and filters, with the number of entries for each facet value. "
    "Values of one filter are alternatives (`region=Africa&region=Europe`); different filters "
    "must all match. Results come newest edition first, then by entry id; follow `next_cursor` "
    "for the next page. Withdrawn entries are part of the public record: filter on `status` "
    "to leave them out.",
    responses={400: {"description": "the cursor is not valid: start again from the first page"}},
    response_model=CataloguePage,
)
async def search_entries(
    request: Request, parameters: Annotated[SearchParameters, Query()]
) -> Response:
    cursor = parameters.cursor
    query = SearchQuery(
        text=parameters.q,
        filters=parameters.filters(),
        limit=parameters.limit,
        after=Cursor.decode(cursor) if cursor is not None else None,
    )
    index = _search_index_of(request).index
    result = index.search(query)
    kept: _KeptJson = request.app.state.kept_json
    items: list[bytes] = []
    if result.entry_ids:
        catalogue = _catalogue(request)
        # An edition never announced keeps its vote counts private.
        votes_public = await kept.votes_public(catalogue)
        shown = {
            entry_id: votes_public.get(index.edition_of(entry_id) or 0, False)
            for entry_id in result.entry_ids
        }
        json_of = {
            entry_id: document
            for entry_id, public in shown.items()
            if (document := kept.entry(entry_id, public)) is not None
        }
        missing = [entry_id for entry_id in result.entry_ids if entry_id not in json_of]
        if missing:
            for entry_id, record in (await catalogue.records(missing)).items():
                public = votes_public.get(record.edition, False)
                json_of[entry_id] = _public(record, votes_public=public).model_dump_json().encode()
                kept.keep_entry(entry_id, public, json_of[entry_id])
        # An entry deleted between the search and this read is left out.
        items = [json_of[entry_id] for entry_id in result.entry_ids if entry_id in json_of]
    next_cursor = result.next_cursor.encode() if result.next_cursor else None
    # Written out here rather than through the response model: the items and the facet counts
    # are JSON already (the response model still documents the shape).
    body = b"".join(
        (
            b'{"items":[',
            b",".join(items),
            b'],"next_cursor":',
            json.dumps(next_cursor).encode(),
            b',"total":',
            str(result.total).encode(),
            b',"facets":',
            kept.facets(result.facets),
            b"}",
        )
    )
    return Response(body, media_type="application/json")


@router.get("/entries/{entry_id}", summary="One entry of the Stocktaking database (public)")
async def get_entry(entry_id: str, request: Request) -> CatalogueEntryPublic:
    catalogue = _catalogue(request)
    record = await catalogue.get(entry_id)
    if record is None:
        raise NotFound(f"no entry {entry_id} in the Stocktaking database")
    edition = await catalogue.edition(record.edition)
    return _public(record, votes_public=edition.vote_counts_public())

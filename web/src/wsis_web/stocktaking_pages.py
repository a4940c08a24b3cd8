"""The Stocktaking database: search with facets (a GET form, so it works without JavaScript and
every result page has its own address), entry pages, and the published reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from wsis_web.rendering import ENTRY_ID, not_found, render, site_of
from wsis_web.services import Problem

router = APIRouter()

# The facets the search form offers, in its order; the API's own names.
FACETS: Final = (
    "edition",
    "category",
    "action_line",
    "sdg",
    "region",
    "stakeholder_type",
    "country",
    "status",
)
PAGE_SIZE: Final = 20
REPORT_FORMATS: Final = frozenset({"html", "pdf", "csv", "json"})


@router.get("/stocktaking")
async def search(request: Request) -> Response:
    text = request.query_params.get("q", "").strip()[:200]
    chosen = {facet: [v for v in request.query_params.getlist(facet) if v][:20] for facet in FACETS}
    cursor = request.query_params.get("cursor")
    params = [("q", text), ("limit", str(PAGE_SIZE))]
    params += [(facet, value) for facet, values in chosen.items() for value in values]
    if cursor:
        params.append(("cursor", cursor[:500]))
    try:
        page = await site_of(request).services.search(params)
    except Problem as problem:
        if problem.status not in (400, 422):
            raise
        # A filter value the database does not know (an edited address) or a stale cursor.
        return render(
            request,
            "search.html",
            400,
            text=text,
            chosen=chosen,
            page=None,
            facets=FACETS,
            invalid=True,
            next_url=None,
        )
    next_url = None
    if page.next_cursor:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        query.append(("cursor", page.next_cursor))
        next_url = "/stocktaking?" + urlencode(query)
    return render(
        request,
        "search.html",
        text=text,
        chosen=chosen,
        page=page,
        facets=FACETS,
        invalid=False,
        next_url=next_url,
    )


@router.get("/stocktaking/entries/{entry_id}")
async def entry_page(request: Request, entry_id: str) -> Response:
    if not ENTRY_ID.match(entry_id):  # "." or "?limit=1" would reach another route of the service
        return not_found(request)
    try:
        record = await site_of(request).services.catalogue_entry(entry_id)
    except Problem as problem:
        if problem.status in (404, 422):
            return not_found(request)
        raise
    return render(request, "entry.html", record=record, entry=record.entry)


@router.get("/stocktaking/reports")
async def reports_page(request: Request) -> Response:
    reports = await site_of(request).services.reports()
    return render(request, "reports.html", reports=reports)


@router.get("/stocktaking/reports/{report_id}/report.{fmt}")
async def download(request: Request, report_id: str, fmt: str) -> Response:
    """A report's file, relayed from the stocktaking service so downloads stay on this origin."""
    if (
        fmt not in REPORT_FORMATS
        or not report_id.replace("-", "").isalnum()
        or len(report_id) > 100
    ):
        return not_found(request)
    services = site_of(request).services
    upstream = services.http.build_request(
        "GET", f"{services.urls['stocktaking']}/reports/{report_id}/report.{fmt}"
    )
    try:
        answer = await services.http.send(upstream, stream=True)
    except httpx.TransportError:
        return render(request, "error.html", 503, kind="unavailable")
    if answer.status_code != 200:
        await answer.aclose()
        return not_found(request)

    headers = {
        name: answer.headers[name]
        for name in ("content-type", "content-disposition", "etag")
        if name in answer.headers
    }

    async def chunks() -> AsyncIterator[bytes]:
        try:
            async for chunk in answer.aiter_bytes():
                yield chunk
        finally:
            await answer.aclose()

    return StreamingResponse(chunks(), headers=headers)

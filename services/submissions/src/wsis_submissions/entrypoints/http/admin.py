"""Admins' view of all entries of an edition: filters, cursor pages, a CSV export.

The CSV is opened in spreadsheets, and its cells are what project teams typed: a cell a
spreadsheet would run as a formula is neutralised (`formula_safe`), and the file starts with a
byte-order mark, without which Excel reads UTF-8 as its local code page (mangling every
non-Latin title).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from wsis_shared.spreadsheets import BYTE_ORDER_MARK, formula_safe
from wsis_shared.vocabulary import EditionYear
from wsis_submissions.entrypoints.http.dependencies import Admin, UoW
from wsis_submissions.entrypoints.http.entries import EntryOwnerView
from wsis_submissions.service_layer import admin as use_cases
from wsis_submissions.service_layer.unit_of_work import EntryFilter

router = APIRouter(prefix="/admin", tags=["admin"])


class EntryPage(BaseModel):
    items: list[EntryOwnerView]
    next_cursor: str | None


@router.get("/editions/{year}/entries", summary="All entries, filtered, by pages (admin)")
async def list_all(
    year: EditionYear,
    admin: Admin,
    uow: UoW,
    where: Annotated[EntryFilter, Query()],
    cursor: Annotated[
        uuid.UUID | None,
        Query(
            description="the `next_cursor` of the page before (the last entry's id; entries "
            "come in the order they were created)"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EntryPage:
    entries, next_cursor = await use_cases.page(
        uow, edition=year, where=where, after=str(cursor) if cursor else None, limit=limit
    )
    return EntryPage(items=[EntryOwnerView.of(e) for e in entries], next_cursor=next_cursor)


@router.get(
    "/editions/{year}/entries.csv",
    summary="All entries, filtered, as CSV (admin)",
    response_class=StreamingResponse,
)
async def export_csv(
    year: EditionYear, admin: Admin, uow: UoW, where: Annotated[EntryFilter, Query()]
) -> StreamingResponse:
    # Read before the answer starts: an unknown edition is still a 404.
    snapshot = await use_cases.csv_rows(uow, edition=year, where=where)

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        buffer.write(BYTE_ORDER_MARK)
        writer = csv.writer(buffer)
        writer.writerow(use_cases.CSV_COLUMNS)
        for row in snapshot:
            writer.writerow([formula_safe(cell) for cell in row])
            if buffer.tell() > 64 * 1024:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="wsis-{year}-entries.csv"'},
    )

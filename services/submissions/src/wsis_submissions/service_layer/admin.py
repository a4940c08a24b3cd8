"""Admins' use cases over all entries of an edition."""

from __future__ import annotations

from typing import Final

from wsis_shared.geography import known_region
from wsis_submissions.domain.entries import Entry
from wsis_submissions.service_layer.unit_of_work import EntryFilter, Runner, UnitOfWork

CSV_COLUMNS: Final = (
    "entry_id",
    "status",
    "category",
    "title",
    "organisation_id",
    "organisation_name",
    "country",
    "region",
    "stakeholder_type",
    "sdgs",
    "project_status",
    "contact_name",
    "contact_email",
    "submitted_at",
    "attachments",
)


async def page(
    runner: Runner, *, edition: int, where: EntryFilter, after: str | None, limit: int
) -> tuple[list[Entry], str | None]:
    async def work(uow: UnitOfWork) -> list[Entry]:
        await uow.editions.get(edition)  # a year mistyped is a 404, not an empty list
        return await uow.entries.search(edition, where, after, limit + 1)

    entries = await runner.run(work)
    more = len(entries) > limit
    entries = entries[:limit]
    return entries, entries[-1].entry_id if more and entries else None


def csv_row(entry: Entry) -> list[str]:
    c = entry.content
    return [
        entry.entry_id,
        entry.status,
        c.category or "",
        c.title or "",
        entry.organisation_id,
        c.organisation_name or "",
        c.country or "",
        known_region(c.country) or "",
        c.stakeholder_type or "",
        " ".join(str(s) for s in c.sdgs),
        c.project_status or "",
        c.contact_name or "",
        c.contact_email or "",
        entry.submitted_at.isoformat() if entry.submitted_at else "",
        str(len(entry.attachments)),
    ]


async def csv_rows(runner: Runner, *, edition: int, where: EntryFilter) -> list[list[str]]:
    """One consistent snapshot of the filtered entries as CSV rows."""

    async def work(uow: UnitOfWork) -> list[list[str]]:
        await uow.editions.get(edition)  # a year mistyped is a 404, not an empty file
        return [csv_row(entry) async for entry in uow.entries.stream(edition, where)]

    return await runner.run(work)

"""Use cases of project teams: drafts, editing, submission."""

from __future__ import annotations

import uuid

from wsis_shared.auth import Principal
from wsis_shared.errors import Forbidden, NotFound
from wsis_shared.vocabulary import Role
from wsis_submissions.domain.entries import Entry, EntryContent
from wsis_submissions.service_layer.clock import Clock
from wsis_submissions.service_layer.unit_of_work import Runner, UnitOfWork


def _organisation_of(principal: Principal) -> str:
    if not principal.organisation_id:
        raise Forbidden("your account belongs to no organisation: ask an admin to add you to one")
    return principal.organisation_id


def _check_owner(entry: Entry, principal: Principal) -> None:
    if principal.has(Role.ADMIN):
        return
    if entry.organisation_id != principal.organisation_id:
        # Same answer as a missing entry: do not reveal other organisations' entries.
        raise NotFound(f"no entry {entry.entry_id}")


async def create_draft(
    runner: Runner, clock: Clock, *, year: int, content: EntryContent, author: Principal
) -> Entry:
    organisation_id = _organisation_of(author)

    async def work(uow: UnitOfWork) -> Entry:
        edition = await uow.editions.get(year)
        if content.category is not None:
            edition.require_category(content.category)
        now = clock()
        entry = Entry(
            entry_id=str(uuid.uuid4()),
            edition=year,
            organisation_id=organisation_id,
            created_by=author.subject,
            content=content,
            created_at=now,
            updated_at=now,
        )
        await uow.entries.add(entry)
        return entry

    return await runner.run(work)


async def edit_draft(
    runner: Runner, clock: Clock, *, entry_id: str, changes: EntryContent, author: Principal
) -> Entry:
    async def work(uow: UnitOfWork) -> Entry:
        entry = await uow.entries.get(entry_id)
        _check_owner(entry, author)
        entry.edit(changes, now=clock())
        await uow.entries.save(entry)
        return entry

    return await runner.run(work)


async def get_entry(runner: Runner, *, entry_id: str, reader: Principal) -> Entry:
    async def work(uow: UnitOfWork) -> Entry:
        entry = await uow.entries.get(entry_id)
        _check_owner(entry, reader)
        return entry

    return await runner.run(work)


async def list_entries(runner: Runner, *, year: int, reader: Principal) -> list[Entry]:
    organisation_id = _organisation_of(reader)

    async def work(uow: UnitOfWork) -> list[Entry]:
        return await uow.entries.list_for_organisation(year, organisation_id)

    return await runner.run(work)


async def submit_entry(runner: Runner, clock: Clock, *, entry_id: str, author: Principal) -> Entry:
    async def work(uow: UnitOfWork) -> Entry:
        entry = await uow.entries.get(entry_id)
        _check_owner(entry, author)
        edition = await uow.editions.get(entry.edition)
        event = entry.submit(edition, now=clock())
        await uow.entries.save(entry)
        await uow.publish(event)
        return entry

    return await runner.run(work)

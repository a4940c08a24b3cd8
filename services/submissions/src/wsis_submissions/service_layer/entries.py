"""Use cases of project teams: drafts, submission, amendment, withdrawal, the audit trail."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_jsonable_python

from wsis_shared.auth import Principal
from wsis_shared.errors import Conflict, Forbidden, NotFound
from wsis_shared.identifiers import time_ordered_uuid
from wsis_shared.vocabulary import Role
from wsis_submissions.domain.entries import Eligibility, Entry, EntryContent
from wsis_submissions.domain.similarity import Fingerprint
from wsis_submissions.service_layer.clock import Clock
from wsis_submissions.service_layer.unit_of_work import (
    HistoryAction,
    HistoryRecord,
    Runner,
    UnitOfWork,
)


class NearDuplicate(Conflict):
    code = "near-duplicate"
    title = "The same project was already submitted"


class PreviousWinner(Conflict):
    code = "previous-winner"
    title = "Previous winners are not eligible"


def _organisation_of(principal: Principal) -> str:
    if not principal.organisation_id:
        raise Forbidden("your account belongs to no organisation: ask an admin to add you to one")
    return principal.organisation_id


def check_owner(entry: Entry, principal: Principal) -> None:
    if principal.has(Role.ADMIN):
        return
    if entry.organisation_id != principal.organisation_id:
        # The same answer as a missing entry: other organisations' entries stay invisible.
        raise NotFound(f"no entry {entry.entry_id}")


async def record_history(
    uow: UnitOfWork, entry: Entry, by: Principal, action: HistoryAction, changes: dict[str, Any]
) -> None:
    await uow.history.add(
        HistoryRecord(
            entry_id=entry.entry_id,
            version=entry.version,
            at=entry.updated_at,
            by=by.subject,
            action=action,
            # As JSON, dates as dates: MongoDB has no date without a time, and a start date
            # stored as midnight UTC read back as the day before west of Greenwich.
            changes=to_jsonable_python(changes),
        )
    )


async def _fingerprint_checked(uow: UnitOfWork, entry: Entry) -> Fingerprint:
    """The entry's fingerprint, after making sure no other submission or winner is the same."""
    content = entry.content
    assert content.title
    assert content.short_description
    fingerprint = Fingerprint.of(content.title, content.short_description)
    for other in await uow.entries.similar(entry.edition, fingerprint, exclude=entry.entry_id):
        if not fingerprint.is_near_duplicate_of(other.fingerprint):
            continue
        if other.won_edition is not None:
            raise PreviousWinner(
                f"this entry looks like “{other.title}”, a winner of the WSIS Prizes "
                f"{other.won_edition}: previous winners are not eligible",
                similar_entry_id=other.entry_id,
            )
        whose = (
            "your organisation"
            if other.organisation_id == entry.organisation_id
            else "another organisation"
        )
        raise NearDuplicate(
            f"this entry looks like “{other.title}”, already submitted in this edition by "
            f"{whose}: the same project can be submitted only once",
            similar_entry_id=other.entry_id if whose == "your organisation" else None,
        )
    return fingerprint


async def create_draft(
    runner: Runner, clock: Clock, *, year: int, content: EntryContent, author: Principal
) -> Entry:
    organisation_id = _organisation_of(author)

    async def work(uow: UnitOfWork) -> Entry:
        edition = await uow.editions.get_recent(year)
        edition.require_drafts_open()
        if content.category is not None:
            edition.require_category(content.category)
        now = clock()
        entry = Entry(
            entry_id=str(
                time_ordered_uuid()
            ),  # new entries sort last: the admin's pages end with them
            edition=year,
            organisation_id=organisation_id,
            created_by=author.subject,
            content=content,
            created_at=now,
            updated_at=now,
        )
        await uow.entries.add(entry)
        await record_history(
            uow, entry, author, "created", content.model_dump(exclude_defaults=True)
        )
        return entry

    return await runner.run(work)


async def edit_draft(
    runner: Runner, clock: Clock, *, entry_id: str, changes: EntryContent, author: Principal
) -> Entry:
    async def work(uow: UnitOfWork) -> Entry:
        entry = await uow.entries.get(entry_id)
        check_owner(entry, author)
        if changes.category is not None:  # refused now, as a new draft's, not only at submit
            (await uow.editions.get_recent(entry.edition)).require_category(changes.category)
        changed = entry.edit(changes, now=clock())
        if changed:
            await uow.entries.save(entry)
            await record_history(uow, entry, author, "edited", changed)
        return entry

    return await runner.run(work)


async def submit_entry(runner: Runner, clock: Clock, *, entry_id: str, author: Principal) -> Entry:
    async def work(uow: UnitOfWork) -> Entry:
        entry = await uow.entries.get(entry_id)
        check_owner(entry, author)
        edition = await uow.editions.get_recent(entry.edition)
        event = entry.submit(edition, now=clock())
        fingerprint = await _fingerprint_checked(uow, entry)
        await uow.entries.save(entry, fingerprint)
        await uow.publish(event)
        await record_history(uow, entry, author, "submitted", {})
        return entry

    return await runner.run(work)


async def amend_entry(
    runner: Runner, clock: Clock, *, entry_id: str, changes: EntryContent, author: Principal
) -> Entry:
    async def work(uow: UnitOfWork) -> Entry:
        entry = await uow.entries.get(entry_id)
        check_owner(entry, author)
        edition = await uow.editions.get_recent(entry.edition)
        event, changed = entry.amend(changes, edition, now=clock())
        if not changed:
            return entry  # nothing to amend: no event
        fingerprint = await _fingerprint_checked(uow, entry)
        await uow.entries.save(entry, fingerprint)
        await uow.publish(event)
        await record_history(uow, entry, author, "amended", changed)
        return entry

    return await runner.run(work)


async def withdraw_entry(
    runner: Runner, clock: Clock, *, entry_id: str, reason: str | None, author: Principal
) -> Entry:
    async def work(uow: UnitOfWork) -> Entry:
        entry = await uow.entries.get(entry_id)
        check_owner(entry, author)
        edition = await uow.editions.get_recent(entry.edition)
        event = entry.withdraw(edition, reason=reason, now=clock())
        await uow.entries.save(entry)
        await uow.publish(event)
        await record_history(uow, entry, author, "withdrawn", {"reason": reason} if reason else {})
        return entry

    return await runner.run(work)


async def get_entry(runner: Runner, *, entry_id: str, reader: Principal) -> Entry:
    async def work(uow: UnitOfWork) -> Entry:
        entry = await uow.entries.get(entry_id)
        check_owner(entry, reader)
        return entry

    return await runner.run(work)


async def list_entries(runner: Runner, *, year: int, reader: Principal) -> list[Entry]:
    organisation_id = _organisation_of(reader)

    async def work(uow: UnitOfWork) -> list[Entry]:
        return await uow.entries.list_for_organisation(year, organisation_id)

    return await runner.run(work)


async def entry_history(runner: Runner, *, entry_id: str, reader: Principal) -> list[HistoryRecord]:
    async def work(uow: UnitOfWork) -> list[HistoryRecord]:
        check_owner(await uow.entries.get(entry_id), reader)
        return await uow.history.of_entry(entry_id)

    return await runner.run(work)


async def record_winner(uow: UnitOfWork, *, entry_id: str, edition: int) -> None:
    """A winner (from the review service) makes the project ineligible in later editions."""
    await uow.entries.mark_winner(entry_id, edition)


async def record_eligibility(uow: UnitOfWork, *, entry_id: str, eligibility: Eligibility) -> None:
    """The review's first pass, shown to the team on their entry."""
    await uow.entries.record_eligibility(entry_id, eligibility)

"""Use cases of editions and their phases (admin)."""

from __future__ import annotations

from datetime import datetime

from wsis_shared.errors import Conflict, PreconditionFailed
from wsis_shared.events import EditionSchedule
from wsis_shared.vocabulary import Category, Phase
from wsis_submissions.domain.editions import Edition
from wsis_submissions.service_layer.clock import Clock
from wsis_submissions.service_layer.unit_of_work import Runner, UnitOfWork


async def create_edition(
    runner: Runner,
    clock: Clock,
    *,
    year: int,
    title: str,
    schedule: EditionSchedule,
    categories: tuple[Category, ...],
    show_running_counts: bool,
) -> Edition:
    async def work(uow: UnitOfWork) -> Edition:
        edition, event = Edition.create(
            year=year,
            title=title,
            schedule=schedule,
            categories=categories,
            show_running_counts=show_running_counts,
            now=clock(),
        )
        await uow.editions.add(edition)
        await uow.publish(event)
        return edition

    return await runner.run(work)


async def change_edition(
    runner: Runner,
    clock: Clock,
    *,
    year: int,
    title: str | None,
    dates: dict[str, datetime | None],
    show_running_counts: bool | None,
    expected_version: int | None = None,
) -> Edition:
    """An admin's change of title, dates or running counts: stored and announced
    (`edition.changed`) together, or, when it changes nothing, neither. With
    `expected_version`, only if nobody changed the edition since it was read at that version."""

    async def work(uow: UnitOfWork) -> Edition:
        edition = await uow.editions.get(year)
        if expected_version is not None and edition.version != expected_version:
            raise PreconditionFailed(
                f"edition {year} changed since you read it (version {expected_version}, now "
                f"{edition.version}, in the {edition.phase} phase): read it again and make "
                "your change on what it is now",
                version=edition.version,
            )
        event = edition.change(
            title=title, dates=dates, show_running_counts=show_running_counts, now=clock()
        )
        if event is not None:
            await uow.editions.save(edition)
            await uow.publish(event)
        return edition

    return await runner.run(work)


async def change_phase(
    runner: Runner, clock: Clock, *, year: int, phase: Phase, by: str
) -> Edition:
    async def work(uow: UnitOfWork) -> Edition:
        edition = await uow.editions.get(year)
        event = edition.change_phase(phase, by=by, now=clock())
        await uow.editions.save(edition)
        await uow.publish(event)
        return edition

    return await runner.run(work)


async def list_editions(runner: Runner) -> list[Edition]:
    async def work(uow: UnitOfWork) -> list[Edition]:
        return await uow.editions.list()

    return await runner.run(work)


async def get_edition(runner: Runner, *, year: int) -> Edition:
    async def work(uow: UnitOfWork) -> Edition:
        return await uow.editions.get(year)

    return await runner.run(work)


async def apply_schedule(runner: Runner, clock: Clock) -> list[Edition]:
    """Move every edition whose schedule says so to its due phase; returns those moved.

    Safe with several workers: each change is a transaction that saves the edition only if its
    version is still the one read, so of two schedulers racing, one commits the change and its
    `edition.phase_changed`, the other's transaction fails and emits nothing.
    """
    moved = []
    for edition in await list_editions(runner):
        if edition.due_change(clock()) is None:
            continue

        async def work(uow: UnitOfWork, year: int = edition.year) -> Edition | None:
            current = await uow.editions.get(year)
            due = current.due_change(clock())
            if due is None:
                return None
            event = current.change_phase(due, by="schedule", now=clock())
            await uow.editions.save(current)
            await uow.publish(event)
            return current

        try:
            changed = await runner.run(work)
        except Conflict:
            continue  # another scheduler was first
        if changed is not None:
            moved.append(changed)
    return moved

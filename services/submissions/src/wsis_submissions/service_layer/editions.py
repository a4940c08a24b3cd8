"""Use cases of editions and their phases (admin)."""

from __future__ import annotations

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

"""Use cases after the vote: finalists arrive from voting, the chair selects each winner."""

from __future__ import annotations

from datetime import datetime

from wsis_review.domain.winners import CategoryFinalists
from wsis_review.service_layer.unit_of_work import Runner, UnitOfWork
from wsis_shared.auth import Principal
from wsis_shared.errors import NotFound
from wsis_shared.events import ChampionsList
from wsis_shared.vocabulary import Category


async def record_finalists(
    uow: UnitOfWork, edition: int, champions: ChampionsList, now: datetime
) -> None:
    """The five most-voted entries of a category. A repeated announcement (a recount) replaces
    the list as long as no winner was selected from it."""
    existing = await uow.finalists.find(edition, champions.category)
    if existing is not None and existing.winner_entry_id is not None:
        return
    await uow.finalists.save(
        CategoryFinalists(
            edition=edition,
            category=champions.category,
            finalists=champions.finalists,
            announced_at=now,
            version=existing.version + 1 if existing else 1,
        )
    )


async def select_winner(
    runner: Runner,
    *,
    year: int,
    category: Category,
    entry_id: str,
    chair: Principal,
    now: datetime,
) -> CategoryFinalists:
    async def work(uow: UnitOfWork) -> CategoryFinalists:
        finalists = await uow.finalists.find(year, category)
        if finalists is None:
            raise NotFound(
                f"no finalists of {category} in {year} yet: they are announced when the public "
                "vote closes"
            )
        event = finalists.select_winner(entry_id, by=chair.subject, now=now)
        await uow.finalists.save(finalists)
        await uow.publish(event)
        return finalists

    return await runner.run(work)


async def list_finalists(runner: Runner, *, year: int) -> list[CategoryFinalists]:
    async def work(uow: UnitOfWork) -> list[CategoryFinalists]:
        return await uow.finalists.list(year)

    return await runner.run(work)

"""Use cases of an edition's review settings: rules and rubric (chair or admin)."""

from __future__ import annotations

from wsis_review.domain.editions import EditionReview, ReviewRules
from wsis_review.domain.rubric import Rubric
from wsis_review.service_layer.unit_of_work import Runner, UnitOfWork
from wsis_shared.errors import Conflict
from wsis_shared.vocabulary import Phase

_SETTLED = (Phase.VOTING, Phase.SELECTION, Phase.RESULTS, Phase.CLOSED)


async def get_edition(runner: Runner, *, year: int) -> EditionReview:
    async def work(uow: UnitOfWork) -> EditionReview:
        return await uow.editions.get(year)

    return await runner.run(work)


async def set_rules(runner: Runner, *, year: int, rules: ReviewRules) -> EditionReview:
    async def work(uow: UnitOfWork) -> EditionReview:
        edition = await uow.editions.get(year)
        if edition.phase in _SETTLED:
            raise Conflict(f"the review of {year} is over ({edition.phase} phase)")
        edition.rules = rules
        await uow.editions.save(edition)
        return edition

    return await runner.run(work)


async def set_rubric(runner: Runner, *, year: int, rubric: Rubric) -> EditionReview:
    async def work(uow: UnitOfWork) -> EditionReview:
        edition = await uow.editions.get(year)
        edition.change_rubric(rubric, scores_exist=await uow.reviews.any_in(year))
        await uow.editions.save(edition)
        return edition

    return await runner.run(work)

"""The chair's ranking per category and the aggregate figures of an entry's review."""

from __future__ import annotations

from dataclasses import dataclass

from wsis_review.domain.candidates import Candidate, CandidateStatus
from wsis_review.domain.editions import EditionReview
from wsis_review.domain.ranking import EntryScore, ScoredReview, reviewer_baselines, score_entries
from wsis_review.service_layer.unit_of_work import Runner, UnitOfWork
from wsis_shared.events import ReviewSummary
from wsis_shared.vocabulary import Category

RANKED_STATUSES: tuple[CandidateStatus, ...] = ("eligible", "nominated", "not_nominated")


@dataclass(frozen=True)
class RankedCandidate:
    candidate: Candidate
    score: EntryScore

    @property
    def summary(self) -> ReviewSummary:
        return ReviewSummary(
            reviews=self.score.reviews,
            weighted_mean=self.score.weighted_mean,
            normalised_score=self.score.normalised_score,
        )


async def _scored_reviews(uow: UnitOfWork, edition: EditionReview) -> list[ScoredReview]:
    scored = []
    for review in await uow.reviews.list(edition.year, submitted_only=True):
        mean = review.weighted_mean(edition.rubric)
        if mean is not None:
            scored.append(ScoredReview(review.entry_id, review.reviewer_id, mean))
    return scored


async def category_ranking(
    uow: UnitOfWork, edition: EditionReview, category: Category
) -> list[RankedCandidate]:
    candidates = {
        c.entry_id: c
        for c in await uow.candidates.list(
            edition.year, category=category, statuses=RANKED_STATUSES
        )
    }
    reviews = await _scored_reviews(uow, edition)
    scores = score_entries(
        candidates,
        [r for r in reviews if r.entry_id in candidates],
        reviewer_baselines(reviews),
        edition.rules.disagreement_threshold,
    )
    return [RankedCandidate(candidates[s.entry_id], s) for s in scores]


async def summary_of(uow: UnitOfWork, edition: EditionReview, entry_id: str) -> ReviewSummary:
    reviews = await _scored_reviews(uow, edition)
    (score,) = score_entries(
        [entry_id],
        [r for r in reviews if r.entry_id == entry_id],
        reviewer_baselines(reviews),
        edition.rules.disagreement_threshold,
    )
    return ReviewSummary(
        reviews=score.reviews,
        weighted_mean=score.weighted_mean,
        normalised_score=score.normalised_score,
    )


async def ranking(runner: Runner, *, year: int, category: Category) -> list[RankedCandidate]:
    async def work(uow: UnitOfWork) -> list[RankedCandidate]:
        return await category_ranking(uow, await uow.editions.get(year), category)

    return await runner.run(work)

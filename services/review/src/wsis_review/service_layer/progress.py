"""What the chair watches during the review, and the export of every score and comment."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from wsis_review.domain.editions import EditionReview
from wsis_review.service_layer.unit_of_work import Runner, UnitOfWork


@dataclass
class Progress:
    assigned: int = 0
    submitted: int = 0
    drafts: int = 0
    declined: int = 0

    @property
    def pending(self) -> int:
        return self.assigned - self.submitted


@dataclass
class EditionProgress:
    by_reviewer: dict[str, Progress] = field(default_factory=dict)
    by_category: dict[str, Progress] = field(default_factory=dict)
    reviewer_names: dict[str, str] = field(default_factory=dict)


async def review_progress(runner: Runner, *, year: int) -> EditionProgress:
    async def work(uow: UnitOfWork) -> EditionProgress:
        progress = EditionProgress()
        by_reviewer: dict[str, Progress] = defaultdict(Progress)
        by_category: dict[str, Progress] = defaultdict(Progress)
        reviews = {r.review_id: r for r in await uow.reviews.list(year)}
        for record in await uow.assignments.list(year, statuses=("active", "declined")):
            for bucket in (by_reviewer[record.reviewer_id], by_category[str(record.category)]):
                if record.status == "declined":
                    bucket.declined += 1
                    continue
                bucket.assigned += 1
                review = reviews.get(record.assignment_id)
                if review is not None and review.status == "submitted":
                    bucket.submitted += 1
                elif review is not None:
                    bucket.drafts += 1
        progress.by_reviewer = dict(sorted(by_reviewer.items()))
        progress.by_category = dict(sorted(by_category.items()))
        progress.reviewer_names = {r.reviewer_id: r.name for r in await uow.reviewers.list()}
        return progress

    return await runner.run(work)


@dataclass(frozen=True)
class ExportTable:
    columns: list[str]
    rows: list[list[Any]]


async def score_export(runner: Runner, *, year: int) -> ExportTable:
    """One row per review (drafts included, marked), one column pair per criterion."""

    async def work(uow: UnitOfWork) -> ExportTable:
        edition: EditionReview = await uow.editions.get(year)
        criteria = edition.rubric.criteria
        reviewers = {r.reviewer_id: r for r in await uow.reviewers.list()}
        candidates = {c.entry_id: c for c in await uow.candidates.list(year)}
        columns = [
            "entry_id",
            "category",
            "title",
            "organisation",
            "country",
            "reviewer_id",
            "reviewer_name",
            "status",
            *[part for c in criteria for part in (f"{c.key}_score", f"{c.key}_comment")],
            "weighted_mean",
            "recommendation",
            "overall_comment",
            "submitted_at",
        ]
        rows = []
        for review in await uow.reviews.list(year):
            candidate = candidates.get(review.entry_id)
            reviewer = reviewers.get(review.reviewer_id)
            mean = review.weighted_mean(edition.rubric)
            rows.append(
                [
                    review.entry_id,
                    review.category,
                    candidate.entry.title if candidate else "",
                    candidate.entry.organisation_name if candidate else "",
                    candidate.entry.country if candidate else "",
                    review.reviewer_id,
                    reviewer.name if reviewer else "",
                    review.status,
                    *[
                        part
                        for c in criteria
                        for part in (
                            review.scores[c.key].score if c.key in review.scores else None,
                            review.scores[c.key].comment if c.key in review.scores else None,
                        )
                    ],
                    round(mean, 3) if mean is not None else None,
                    review.recommendation,
                    review.overall_comment,
                    review.submitted_at.isoformat() if review.submitted_at else None,
                ]
            )
        rows.sort(key=lambda row: (str(row[1]), str(row[0]), str(row[5])))
        return ExportTable(columns, rows)

    return await runner.run(work)

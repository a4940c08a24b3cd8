"""Aggregation of submitted reviews into a ranking per category.

Reviewers differ in severity: one gives 8s to everything, another rarely goes above 5. Each
submitted review's weighted mean (0–10) is turned into a z-score against that reviewer's own
reviews in the edition, z = (x − μ_r) / σ_r, and an entry's normalised score is the mean of its
reviewers' z-scores. A reviewer with fewer than two reviews, or who gave every entry the same
mark, carries no information about severity: their z-score is 0 (neutral). An entry is flagged
for disagreement when its reviewers' weighted means differ by more than the edition's threshold.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScoredReview:
    entry_id: str
    reviewer_id: str
    weighted_mean: float


@dataclass(frozen=True)
class EntryScore:
    entry_id: str
    reviews: int
    weighted_mean: float | None
    normalised_score: float | None
    spread: float | None
    disagreement: bool
    rank: int | None = None


def reviewer_baselines(reviews: Iterable[ScoredReview]) -> dict[str, tuple[float, float]]:
    """μ and σ (population) of each reviewer's weighted means."""
    by_reviewer: dict[str, list[float]] = defaultdict(list)
    for review in reviews:
        by_reviewer[review.reviewer_id].append(review.weighted_mean)
    return {
        reviewer: (statistics.fmean(marks), statistics.pstdev(marks) if len(marks) > 1 else 0.0)
        for reviewer, marks in by_reviewer.items()
    }


def z_score(review: ScoredReview, baselines: dict[str, tuple[float, float]]) -> float:
    mean, deviation = baselines[review.reviewer_id]
    if deviation == 0:
        return 0.0
    return (review.weighted_mean - mean) / deviation


def score_entries(
    entry_ids: Iterable[str],
    reviews: Iterable[ScoredReview],
    baselines: dict[str, tuple[float, float]],
    disagreement_threshold: float,
) -> list[EntryScore]:
    """Scores of the given entries, ranked: normalised score, then weighted mean, descending;
    entries without a submitted review come last, unranked."""
    by_entry: dict[str, list[ScoredReview]] = defaultdict(list)
    for review in reviews:
        by_entry[review.entry_id].append(review)
    scored, unscored = [], []
    for entry_id in entry_ids:
        own = by_entry.get(entry_id, [])
        if not own:
            unscored.append(EntryScore(entry_id, 0, None, None, None, False))
            continue
        means = [r.weighted_mean for r in own]
        spread = max(means) - min(means)
        scored.append(
            EntryScore(
                entry_id=entry_id,
                reviews=len(own),
                weighted_mean=round(statistics.fmean(means), 4),
                normalised_score=round(statistics.fmean(z_score(r, baselines) for r in own), 4),
                spread=round(spread, 4),
                disagreement=len(own) > 1 and spread > disagreement_threshold,
            )
        )
    scored.sort(key=lambda s: (-(s.normalised_score or 0), -(s.weighted_mean or 0), s.entry_id))
    ranked = [
        EntryScore(**{**s.__dict__, "rank": position}) for position, s in enumerate(scored, start=1)
    ]
    return ranked + sorted(unscored, key=lambda s: s.entry_id)

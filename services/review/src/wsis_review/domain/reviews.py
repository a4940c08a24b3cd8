"""A reviewer's review of one entry: scores per criterion with comments, an overall comment
and a recommendation; a draft until submitted, editable until the review closes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from wsis_review.domain.rubric import Rubric
from wsis_shared.errors import InvalidInput

Recommendation = Literal["nominate", "consider", "do_not_nominate"]
ReviewStatus = Literal["draft", "submitted"]


class CriterionScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Strict: a score is a whole number as such, not `true` or the text "7" read as one.
    score: StrictInt | None = None
    comment: str | None = Field(default=None, max_length=5000)


class ReviewChanges(BaseModel):
    """What a reviewer sends when saving: any subset; a criterion given replaces its previous
    score and comment."""

    model_config = ConfigDict(extra="forbid")

    scores: dict[str, CriterionScore] = Field(default_factory=dict)
    overall_comment: str | None = Field(default=None, max_length=10000)
    recommendation: Recommendation | None = None


class Review(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    entry_id: str
    reviewer_id: str
    edition: int
    category: str
    scores: dict[str, CriterionScore] = Field(default_factory=dict)
    overall_comment: str | None = None
    recommendation: Recommendation | None = None
    status: ReviewStatus = "draft"
    version: int = 0
    updated_at: datetime
    submitted_at: datetime | None = None

    @property
    def review_id(self) -> str:
        return review_id(self.entry_id, self.reviewer_id)

    def apply(self, changes: ReviewChanges, rubric: Rubric, now: datetime) -> dict[str, Any]:
        """Applies a save; returns what changed (for the audit trail). A submitted review stays
        submitted, so it must stay complete."""
        errors = _score_errors(changes.scores, rubric)
        if errors:
            raise InvalidInput("some scores are not valid", errors=errors)
        changed: dict[str, Any] = {}
        scores = dict(self.scores)
        for key, given in changes.scores.items():
            if scores.get(key) != given:
                scores[key] = given
                changed[f"scores.{key}"] = given.model_dump()
        if changes.overall_comment is not None and changes.overall_comment != self.overall_comment:
            changed["overall_comment"] = changes.overall_comment
        if changes.recommendation is not None and changes.recommendation != self.recommendation:
            changed["recommendation"] = changes.recommendation
        if not changed:
            return {}
        if self.status == "submitted":
            missing = _missing(scores, changes.recommendation or self.recommendation, rubric)
            if missing:
                raise InvalidInput("a submitted review must stay complete", errors=missing)
        self.scores = scores
        if "overall_comment" in changed:
            self.overall_comment = changes.overall_comment
        if "recommendation" in changed:
            self.recommendation = changes.recommendation
        self.version += 1
        self.updated_at = now
        return changed

    def submit(self, rubric: Rubric, now: datetime) -> None:
        missing = _missing(self.scores, self.recommendation, rubric)
        if missing:
            raise InvalidInput(
                "the review is not complete: score every criterion and give a recommendation",
                errors=missing,
            )
        if self.status != "submitted":
            self.status = "submitted"
            self.submitted_at = now
            self.version += 1
            self.updated_at = now

    def weighted_mean(self, rubric: Rubric) -> float | None:
        plain = {k: v.score for k, v in self.scores.items() if v.score is not None}
        return rubric.weighted_mean(plain)


def review_id(entry_id: str, reviewer_id: str) -> str:
    return f"{entry_id}:{reviewer_id}"


def _score_errors(scores: dict[str, CriterionScore], rubric: Rubric) -> list[dict[str, str]]:
    errors = []
    for key, given in scores.items():
        criterion = rubric.criterion(key)
        pointer = f"/scores/{_pointer_token(key)}"
        if criterion is None:
            known = ", ".join(c.key for c in rubric.criteria)
            errors.append(
                {"pointer": pointer, "detail": f"no criterion {key!r}; the rubric has {known}"}
            )
        elif (
            given.score is not None
            and not criterion.scale_min <= given.score <= criterion.scale_max
        ):
            errors.append(
                {
                    "pointer": f"{pointer}/score",
                    "detail": f"{criterion.name} is scored from {criterion.scale_min} to "
                    f"{criterion.scale_max}",
                }
            )
    return errors


def _pointer_token(key: str) -> str:
    """A key as one JSON Pointer segment (RFC 6901): an unknown criterion key may hold "~" or
    "/", which would otherwise point somewhere else."""
    return key.replace("~", "~0").replace("/", "~1")


def _missing(
    scores: dict[str, CriterionScore], recommendation: str | None, rubric: Rubric
) -> list[dict[str, str]]:
    missing = [
        {"pointer": f"/scores/{c.key}/score", "detail": f"score {c.name}"}
        for c in rubric.criteria
        if c.key not in scores or scores[c.key].score is None
    ]
    if recommendation is None:
        missing.append({"pointer": "/recommendation", "detail": "give a recommendation"})
    return missing

"""An edition as the review sees it: its phase (from the editions topic) and the review's own
settings — reviewers per entry, conflict rules, blind review, the rubric."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from wsis_review.domain.rubric import Rubric, default_rubric
from wsis_shared.errors import Conflict, PhaseClosed
from wsis_shared.vocabulary import Phase


class ReviewRules(BaseModel):
    model_config = ConfigDict(frozen=True)

    reviewers_per_entry: int = Field(default=3, ge=1, le=10)
    same_country_is_conflict: bool = Field(
        default=False, description="a reviewer never reviews an entry from their own country"
    )
    blind: bool = Field(
        default=False, description="reviewers do not see the organisation, partners or website"
    )
    disagreement_threshold: float = Field(
        default=3.0,
        gt=0,
        description="flag an entry when its reviewers' weighted means (0–10) differ by more",
    )


class EditionReview(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    year: int
    phase: Phase = Phase.PLANNED
    review_closes: datetime | None = None
    review_ended_at: datetime | None = None  # when the edition left the review, if it has
    # The edition event applied last (its aggregate version): an older one arriving late (a
    # replay from the dead letters) must not take the phase back, say from review to submission.
    version: int = 0
    rules: ReviewRules = Field(default_factory=ReviewRules)
    rubric: Rubric = Field(default_factory=default_rubric)

    def applies(self, aggregate_version: int) -> bool:
        return aggregate_version > self.version

    def require_phase(self, action: str, *phases: Phase) -> None:
        if self.phase not in phases:
            allowed = " or ".join(str(p) for p in phases)
            # The earlier of its due date and the phase change: the scheduler acts a few
            # seconds after the date; an admin may close it early.
            known = [at for at in (self.review_ended_at, self.review_closes) if at is not None]
            ended = min(known) if known else None
            closes = (
                f" (the review closed on {ended:%Y-%m-%d %H:%M} UTC)"
                if ended and self.phase.order > Phase.REVIEW.order
                else ""
            )
            raise PhaseClosed(
                f"{action} is possible only in the {allowed} phase; edition {self.year} is in "
                f"the {self.phase} phase{closes}",
                current_phase=self.phase,
                required_phase=phases[0],
            )

    def require_review(self, action: str) -> None:
        self.require_phase(action, Phase.REVIEW)

    def change_rubric(self, rubric: Rubric, *, scores_exist: bool) -> None:
        if scores_exist:
            raise Conflict(
                "the rubric cannot change once reviewers have saved scores against it: "
                "scores on different criteria could not be compared"
            )
        self.rubric = rubric

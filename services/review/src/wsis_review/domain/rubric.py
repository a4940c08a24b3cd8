"""The rubric of an edition: weighted criteria, each scored on an integer scale."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Criterion(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="stable identifier")
    name: str = Field(min_length=1, max_length=120)
    description: str = Field(default="", max_length=1000)
    weight: float = Field(gt=0, le=100)
    scale_min: int = Field(default=1, ge=0)
    scale_max: int = Field(default=10, le=100)

    @model_validator(mode="after")
    def _scale(self) -> Self:
        if self.scale_max <= self.scale_min:
            raise ValueError("scale_max must be greater than scale_min")
        return self

    def normalised(self, score: int) -> float:
        """The score on a common 0–10 scale, so criteria with different scales can be mixed."""
        return 10 * (score - self.scale_min) / (self.scale_max - self.scale_min)


class Rubric(BaseModel):
    model_config = ConfigDict(frozen=True)

    criteria: tuple[Criterion, ...] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _unique_keys(self) -> Self:
        keys = [c.key for c in self.criteria]
        if len(set(keys)) != len(keys):
            raise ValueError("criterion keys must be unique")
        return self

    def criterion(self, key: str) -> Criterion | None:
        return next((c for c in self.criteria if c.key == key), None)

    def weighted_mean(self, scores: dict[str, int]) -> float | None:
        """Weighted mean on 0–10 of a complete set of scores (None when one is missing)."""
        if any(c.key not in scores for c in self.criteria):
            return None
        total = sum(c.weight for c in self.criteria)
        return sum(c.weight * c.normalised(scores[c.key]) for c in self.criteria) / total


def default_rubric() -> Rubric:
    """The criteria the WSIS Prizes ask experts to weigh, equally by default."""
    return Rubric(
        criteria=(
            Criterion(
                key="impact",
                name="Impact",
                weight=1,
                description="Measured and qualitative change in people's lives",
            ),
            Criterion(
                key="innovation",
                name="Innovation",
                weight=1,
                description="What is new in the approach or the technology",
            ),
            Criterion(
                key="sustainability",
                name="Sustainability",
                weight=1,
                description="Funding, ownership and continuity beyond the project",
            ),
            Criterion(
                key="replicability",
                name="Replicability",
                weight=1,
                description="Whether others can adopt it elsewhere",
            ),
            Criterion(
                key="alignment",
                name="Alignment with WSIS action lines and SDGs",
                weight=1,
                description="How directly it serves the action lines and SDGs it names",
            ),
        )
    )

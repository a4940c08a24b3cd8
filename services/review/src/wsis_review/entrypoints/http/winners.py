"""After the vote: the finalists per category and the chair's selection of each winner."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from wsis_review.domain.winners import CategoryFinalists
from wsis_review.entrypoints.http.dependencies import Chair, ChairOrAdmin, UoW
from wsis_review.service_layer import winners as use_cases
from wsis_shared.events import Finalist, utcnow
from wsis_shared.vocabulary import Category, EditionYear

router = APIRouter(tags=["winners"])


class FinalistsPublic(BaseModel):
    category: Category
    finalists: tuple[Finalist, ...]
    announced_at: datetime
    winner_entry_id: str | None
    champion_entry_ids: tuple[str, ...]
    selected_at: datetime | None

    @classmethod
    def of(cls, found: CategoryFinalists) -> FinalistsPublic:
        winner = found.winner_entry_id
        return cls(
            category=found.category,
            finalists=found.finalists,
            announced_at=found.announced_at,
            winner_entry_id=winner,
            champion_entry_ids=tuple(
                f.entry_id for f in found.finalists if winner and f.entry_id != winner
            ),
            selected_at=found.selected_at,
        )


class WinnerChoice(BaseModel):
    entry_id: str = Field(min_length=1, max_length=100)


@router.get("/editions/{year}/finalists", summary="Finalists per category (chair, admin)")
async def list_finalists(
    year: EditionYear, reader: ChairOrAdmin, uow: UoW
) -> list[FinalistsPublic]:
    return [FinalistsPublic.of(f) for f in await use_cases.list_finalists(uow, year=year)]


@router.post(
    "/editions/{year}/categories/{category}/winner",
    summary="Select the winner among the five finalists; the others are champions (chair)",
)
async def select_winner(
    year: EditionYear, category: Category, body: WinnerChoice, chair: Chair, uow: UoW
) -> FinalistsPublic:
    found = await use_cases.select_winner(
        uow, year=year, category=category, entry_id=body.entry_id, chair=chair, now=utcnow()
    )
    return FinalistsPublic.of(found)

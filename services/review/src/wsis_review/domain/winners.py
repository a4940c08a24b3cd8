"""After the public vote: the five finalists of a category, one of whom the chair selects as
the Winner; the other four are the Champions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from wsis_shared.errors import Conflict, InvalidInput
from wsis_shared.events import Finalist, WinnerSelected, WinnerSelection
from wsis_shared.vocabulary import Category


class CategoryFinalists(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    edition: int
    category: Category
    finalists: tuple[Finalist, ...]
    announced_at: datetime
    winner_entry_id: str | None = None
    selected_by: str | None = None
    selected_at: datetime | None = None
    version: int = 1

    @property
    def key(self) -> str:
        return f"{self.edition}:{self.category}"

    def select_winner(self, entry_id: str, *, by: str, now: datetime) -> WinnerSelected:
        if self.winner_entry_id is not None:
            raise Conflict(
                f"the winner of {self.category} in {self.edition} was already selected "
                f"({self.winner_entry_id}): there is exactly one winner per category",
                winner_entry_id=self.winner_entry_id,
            )
        finalist_ids = [f.entry_id for f in self.finalists]
        if entry_id not in finalist_ids:
            raise InvalidInput(
                f"entry {entry_id} is not one of the finalists of {self.category}; "
                f"choose among {', '.join(finalist_ids)}",
                finalists=finalist_ids,
            )
        self.winner_entry_id, self.selected_by, self.selected_at = entry_id, by, now
        self.version += 1
        return WinnerSelected(
            occurred_at=now,
            aggregate_id=self.key,
            aggregate_version=self.version,
            edition=self.edition,
            payload=WinnerSelection(
                category=self.category,
                winner_entry_id=entry_id,
                champion_entry_ids=tuple(i for i in finalist_ids if i != entry_id),
            ),
        )

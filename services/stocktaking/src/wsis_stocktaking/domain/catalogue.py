"""The public Stocktaking record of an entry, built from every topic.

Events of different topics arrive in no guaranteed order (a vote may be counted before the
nomination that made it possible is seen), so the record keeps facts, not a state machine, and
the lifecycle status is derived from the facts when read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from wsis_shared.events import EntryPublic, ReviewSummary
from wsis_shared.vocabulary import Phase, vote_counts_public

LifecycleStatus = Literal[
    "submitted",
    "eligible",
    "ineligible",
    "withdrawn",
    "nominated",
    "not_nominated",
    "champion",
    "winner",
]


class EditionView(BaseModel):
    year: int
    phase: Phase = Phase.PLANNED
    show_running_counts: bool = False

    def vote_counts_public(self) -> bool:
        return vote_counts_public(self.phase, self.show_running_counts)


class CatalogueRecord(BaseModel):
    entry_id: str
    edition: int
    entry: EntryPublic | None = None
    withdrawn: bool = False
    eligible: bool | None = None
    nominated: bool | None = None
    review_summary: ReviewSummary | None = None
    champion: bool = False
    winner: bool = False
    votes: int = 0
    updated_at: datetime | None = None

    @property
    def status(self) -> LifecycleStatus:
        if self.withdrawn:
            return "withdrawn"
        if self.winner:
            return "winner"
        if self.champion:
            return "champion"
        if self.nominated is True:
            return "nominated"
        if self.nominated is False:
            return "not_nominated"
        if self.eligible is not None:
            return "eligible" if self.eligible else "ineligible"
        return "submitted"

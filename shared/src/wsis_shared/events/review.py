"""Events of the `wsis.review.v1` topic, published by the review service."""

from __future__ import annotations

from typing import Literal

from wsis_shared.events.envelope import EventBase, Frozen
from wsis_shared.vocabulary import Category, Region, StakeholderType


class NomineeCard(Frozen):
    """What a voter sees of a nominee: enough for the ballot without asking another service."""

    entry_id: str
    category: Category
    title: str
    short_description: str
    organisation_name: str
    country: str
    region: Region
    stakeholder_type: StakeholderType


class NominationDecision(Frozen):
    nominated: bool
    nominee: NomineeCard
    reason: str | None = None


class NominationDecided(EventBase):
    event_type: Literal["nomination.decided"] = "nomination.decided"
    payload: NominationDecision


class WinnerSelection(Frozen):
    category: Category
    winner_entry_id: str
    champion_entry_ids: tuple[str, ...]


class WinnerSelected(EventBase):
    event_type: Literal["winner.selected"] = "winner.selected"
    payload: WinnerSelection

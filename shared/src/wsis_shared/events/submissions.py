"""Events of the `wsis.submissions.v1` topic: a project team's entry as the public may see it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from wsis_shared.events.envelope import EventBase, Frozen
from wsis_shared.vocabulary import ActionLine, Category, Region, StakeholderType


class EntryPublic(Frozen):
    """The public face of a submitted entry: no contact details, no internal notes."""

    entry_id: str
    category: Category
    title: str
    short_description: str
    organisation_id: str
    organisation_name: str
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    region: Region
    stakeholder_type: StakeholderType
    action_lines: tuple[ActionLine, ...]
    sdgs: tuple[int, ...]
    website: str | None = None


class SubmissionSubmitted(EventBase):
    event_type: Literal["submission.submitted"] = "submission.submitted"
    payload: EntryPublic


class SubmissionAmended(EventBase):
    event_type: Literal["submission.amended"] = "submission.amended"
    payload: EntryPublic


class Withdrawal(Frozen):
    entry_id: str
    category: Category
    reason: str | None = None


class SubmissionWithdrawn(EventBase):
    event_type: Literal["submission.withdrawn"] = "submission.withdrawn"
    payload: Withdrawal

"""Events of the `wsis.submissions.v1` topic: a project team's entry as the public may see it."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from wsis_shared.events.envelope import EventBase, Frozen
from wsis_shared.vocabulary import ActionLine, Category, ProjectStatus, Region, StakeholderType


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
    sdg_targets: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    impact_qualitative: str | None = None
    impact_quantitative: str | None = None
    challenges: str | None = None
    future_plans: str | None = None
    beneficiaries: str | None = None
    start_date: date | None = None
    project_status: ProjectStatus | None = None
    video_links: tuple[str, ...] = ()


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

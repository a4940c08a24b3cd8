"""Events of the `wsis.editions.v1` topic, published by the submissions service."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from wsis_shared.events.envelope import EventBase, Frozen
from wsis_shared.vocabulary import Category, Phase


class EditionSchedule(Frozen):
    submission_opens: AwareDatetime
    submission_closes: AwareDatetime
    review_closes: AwareDatetime
    voting_opens: AwareDatetime
    voting_closes: AwareDatetime
    results_at: AwareDatetime
    ceremony_at: AwareDatetime | None = None


class EditionPayload(Frozen):
    year: int
    title: str
    schedule: EditionSchedule
    categories: tuple[Category, ...]
    show_running_counts: bool


class EditionCreated(EventBase):
    event_type: Literal["edition.created"] = "edition.created"
    payload: EditionPayload


ChangeableEditionField = Literal["title", "schedule", "show_running_counts"]


class EditionChange(EditionPayload):
    """The whole edition after an admin changed it, and which of its fields changed."""

    changed: tuple[ChangeableEditionField, ...]


class EditionChanged(EventBase):
    """An admin changed the edition's title, dates or running-counts setting. Its phase changes
    only by `edition.phase_changed` (the schedule's next date, or an admin's override)."""

    event_type: Literal["edition.changed"] = "edition.changed"
    payload: EditionChange


class PhaseChange(Frozen):
    year: int
    phase: Phase
    previous_phase: Phase
    changed_by: Literal["schedule", "admin"]
    schedule: EditionSchedule
    # The edition's setting at the change: a later event carries it, so an `edition.changed`
    # lost to the dead letters does not leave a service with the old one. None in events
    # published before it was carried.
    show_running_counts: bool | None = None


class EditionPhaseChanged(EventBase):
    event_type: Literal["edition.phase_changed"] = "edition.phase_changed"
    payload: PhaseChange

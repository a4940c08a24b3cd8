"""An edition of the WSIS Prizes (one a year) and the phase it is in."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from wsis_shared.errors import Conflict, PhaseClosed
from wsis_shared.events import (
    EditionCreated,
    EditionPayload,
    EditionPhaseChanged,
    EditionSchedule,
    PhaseChange,
)
from wsis_shared.vocabulary import Category, Phase

_PHASE_WINDOWS = {
    Phase.SUBMISSION: ("submission_opens", "submission_closes"),
    Phase.REVIEW: ("submission_closes", "review_closes"),
    Phase.VOTING: ("voting_opens", "voting_closes"),
    Phase.SELECTION: ("voting_closes", "results_at"),
    Phase.RESULTS: ("results_at", "ceremony_at"),
}


def schedule_boundaries(schedule: EditionSchedule) -> list[tuple[datetime, Phase]]:
    """When each phase begins by the schedule, in order."""
    boundaries = [
        (schedule.submission_opens, Phase.SUBMISSION),
        (schedule.submission_closes, Phase.REVIEW),
        (schedule.voting_opens, Phase.VOTING),
        (schedule.voting_closes, Phase.SELECTION),
        (schedule.results_at, Phase.RESULTS),
    ]
    if schedule.ceremony_at is not None:
        boundaries.append((schedule.ceremony_at, Phase.CLOSED))
    return boundaries


class Edition(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    year: int
    title: str
    schedule: EditionSchedule
    categories: tuple[Category, ...]
    show_running_counts: bool
    phase: Phase = Phase.PLANNED
    version: int = 1
    created_at: datetime
    last_override_at: datetime | None = None

    @classmethod
    def create(
        cls,
        *,
        year: int,
        title: str,
        schedule: EditionSchedule,
        categories: tuple[Category, ...],
        show_running_counts: bool,
        now: datetime,
    ) -> tuple[Edition, EditionCreated]:
        edition = cls(
            year=year,
            title=title,
            schedule=schedule,
            categories=categories,
            show_running_counts=show_running_counts,
            created_at=now,
        )
        event = EditionCreated(
            occurred_at=now,
            aggregate_id=str(year),
            aggregate_version=edition.version,
            edition=year,
            payload=EditionPayload(
                year=year,
                title=title,
                schedule=schedule,
                categories=categories,
                show_running_counts=show_running_counts,
            ),
        )
        return edition, event

    def due_change(self, now: datetime) -> Phase | None:
        """The phase the schedule says the edition should now be in, if that is a change.

        An admin's override holds until the next boundary of the schedule after it.
        """
        due: Phase | None = None
        for starts, phase in schedule_boundaries(self.schedule):
            if starts <= now and (self.last_override_at is None or starts > self.last_override_at):
                due = phase
        return due if due is not None and due != self.phase else None

    def next_change(self, now: datetime) -> tuple[datetime, Phase] | None:
        """When the schedule will next move the edition by itself, and to which phase. After an
        admin's override this is worth saying: an edition sent back to submissions during the
        review goes on to voting at `voting_opens` unless an admin moves it to review first."""
        for starts, phase in schedule_boundaries(self.schedule):
            after_override = self.last_override_at is None or starts > self.last_override_at
            if starts > now and after_override and phase != self.phase:
                return starts, phase
        return None

    def change_phase(self, phase: Phase, *, by: str, now: datetime) -> EditionPhaseChanged:
        if phase == self.phase:
            raise Conflict(f"edition {self.year} is already in the {phase} phase", phase=phase)
        previous, self.phase = self.phase, phase
        if by != "schedule":
            self.last_override_at = now
        self.version += 1
        return EditionPhaseChanged(
            occurred_at=now,
            aggregate_id=str(self.year),
            aggregate_version=self.version,
            edition=self.year,
            payload=PhaseChange(
                year=self.year,
                phase=phase,
                previous_phase=previous,
                changed_by="schedule" if by == "schedule" else "admin",
                schedule=self.schedule,
            ),
        )

    def require_phase(self, phase: Phase, action: str) -> None:
        """Raise a 409 naming the current phase and the window of `phase` if we are outside it."""
        if self.phase == phase:
            return
        window_fields = _PHASE_WINDOWS.get(phase)
        if window_fields is None:
            raise PhaseClosed(
                f"{action} is possible only in the {phase} phase; edition {self.year} is in the "
                f"{self.phase} phase",
                current_phase=self.phase,
                required_phase=phase,
            )
        opens, closes = (getattr(self.schedule, name) for name in window_fields)
        window = f"{opens.isoformat()} – {closes.isoformat() if closes else 'open-ended'}"
        raise PhaseClosed(
            f"{action} is possible only in the {phase} phase ({window}); edition {self.year} "
            f"is in the {self.phase} phase",
            current_phase=self.phase,
            required_phase=phase,
            opens_at=opens,
            closes_at=closes,
        )

    def require_phase_for_submission(self) -> None:
        self.require_phase(Phase.SUBMISSION, "submitting an entry")

    def require_category(self, category: Category) -> None:
        if category not in self.categories:
            raise Conflict(f"category {category} is not open in edition {self.year}")

"""An edition of the WSIS Prizes (one a year) and the phase it is in."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from wsis_shared.errors import Conflict, InvalidInput, PhaseClosed
from wsis_shared.events import (
    ChangeableEditionField,
    EditionChange,
    EditionChanged,
    EditionCreated,
    EditionPayload,
    EditionPhaseChanged,
    EditionSchedule,
    PhaseChange,
    utc_year,
)
from wsis_shared.vocabulary import Category, Phase

SCHEDULE_YEARS_AROUND: Final = 2


@dataclass(frozen=True)
class ScheduleDate:
    name: str
    begins: Phase | None  # the phase the schedule moves the edition to then (None: a deadline)
    ends: Phase  # the phase it closes: once the edition has left it, the date stays


# The dates of a schedule, in the order they must come.
SCHEDULE_DATES: Final = (
    ScheduleDate("submission_opens", Phase.SUBMISSION, Phase.PLANNED),
    ScheduleDate("submission_closes", Phase.REVIEW, Phase.SUBMISSION),
    ScheduleDate("review_closes", None, Phase.REVIEW),
    ScheduleDate("voting_opens", Phase.VOTING, Phase.REVIEW),
    ScheduleDate("voting_closes", Phase.SELECTION, Phase.VOTING),
    ScheduleDate("results_at", Phase.RESULTS, Phase.SELECTION),
    ScheduleDate("ceremony_at", Phase.CLOSED, Phase.RESULTS),  # optional
)
_ENDS: Final = {date.name: date.ends for date in SCHEDULE_DATES}


def _dates_of(schedule: EditionSchedule) -> list[tuple[ScheduleDate, datetime]]:
    """The schedule's dates that are set, in order."""
    return [
        (date, moment)
        for date in SCHEDULE_DATES
        if (moment := getattr(schedule, date.name)) is not None
    ]


def _window(phase: Phase) -> tuple[str, str] | None:
    """The dates a phase runs between by the schedule: the one that begins it, the first that
    ends it."""
    opens = next((d.name for d in SCHEDULE_DATES if d.begins == phase), None)
    closes = next((d.name for d in SCHEDULE_DATES if d.ends == phase), None)
    return (opens, closes) if opens and closes else None


def schedule_boundaries(schedule: EditionSchedule) -> list[tuple[datetime, Phase]]:
    """When each phase begins by the schedule, in order."""
    return [(moment, date.begins) for date, moment in _dates_of(schedule) if date.begins]


def to_the_millisecond(moment: datetime) -> datetime:
    """A date as MongoDB keeps it (UTC, milliseconds): what is answered is what is stored, and
    a date sent back as it was read compares equal."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def stored_schedule(schedule: EditionSchedule) -> EditionSchedule:
    return EditionSchedule.model_validate(
        {
            name: to_the_millisecond(moment) if moment is not None else None
            for name, moment in schedule.model_dump().items()
        }
    )


def schedule_problem(year: int, schedule: EditionSchedule) -> tuple[tuple[str, ...], str] | None:
    """The fields of a schedule that cannot be together (one far from the edition's year, or
    two out of order), and why. None for a schedule an edition can have."""
    steps = [(date.name, moment) for date, moment in _dates_of(schedule)]
    for name, moment in steps:
        # Also keeps out dates MongoDB cannot store (past 9999 once in UTC).
        moment_year = utc_year(moment)
        if moment_year is None or abs(moment_year - year) > SCHEDULE_YEARS_AROUND:
            in_utc = f" ({moment_year} in UTC)" if moment_year not in (None, moment.year) else ""
            return (name,), (
                f"schedule.{name} is {moment.isoformat()}{in_utc}: the dates of edition {year} "
                f"fall within {SCHEDULE_YEARS_AROUND} years of {year}"
            )
    for (earlier, a), (later, b) in itertools.pairwise(steps):
        if a > b:
            return (earlier, later), f"schedule.{earlier} must not be after schedule.{later}"
    return None


# A moved date comes at least this long after the change: every service (and every API
# process's copy of the edition, kept up to a second) learns of it before it comes.
MOVED_DATE_NOTICE: Final = timedelta(minutes=1)


def _invalid_date(field: str, reason: str) -> InvalidInput:
    return InvalidInput(reason, errors=[{"pointer": f"/schedule/{field}", "detail": reason}])


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
        due = self._due(now)
        return due[1] if due is not None else None

    def _due(self, now: datetime) -> tuple[datetime, Phase] | None:
        due: tuple[datetime, Phase] | None = None
        for starts, phase in schedule_boundaries(self.schedule):
            if starts <= now and (self.last_override_at is None or starts > self.last_override_at):
                due = (starts, phase)
        return due if due is not None and due[1] != self.phase else None

    def next_change(self, now: datetime) -> tuple[datetime, Phase] | None:
        """When the schedule will next move the edition by itself, and to which phase. After an
        admin's override this is worth saying: an edition sent back to submissions during the
        review goes on to voting at `voting_opens` unless an admin moves it to review first. A
        change already due (the scheduler acts within its interval) is the next one."""
        due = self._due(now)
        if due is not None:
            return due
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
                show_running_counts=self.show_running_counts,
            ),
        )

    def change(
        self,
        *,
        title: str | None = None,
        dates: dict[str, datetime | None] | None = None,
        show_running_counts: bool | None = None,
        now: datetime,
    ) -> EditionChanged | None:
        """An admin's change of the title, the dates or the running-counts setting; None when
        nothing differs. Only dates that are not fixed (`fixed_dates`) move, and only to
        moments at least a minute away: a date that has passed was acted on (the phase it
        began, the events other services received), and a date moved into the past would change
        the phase at once — an override (`change_phase`) says that plainly."""
        schedule = self._moved_schedule(dates or {}, now)  # first: a refusal changes nothing
        changed: list[ChangeableEditionField] = []
        if title is not None and title != self.title:
            self.title = title
            changed.append("title")
        if schedule != self.schedule:
            self.schedule = schedule
            changed.append("schedule")
        if show_running_counts is not None and show_running_counts != self.show_running_counts:
            self.show_running_counts = show_running_counts
            changed.append("show_running_counts")
        if not changed:
            return None
        self.version += 1
        return EditionChanged(
            occurred_at=now,
            aggregate_id=str(self.year),
            aggregate_version=self.version,
            edition=self.year,
            payload=EditionChange(
                year=self.year,
                title=self.title,
                schedule=self.schedule,
                categories=self.categories,
                show_running_counts=self.show_running_counts,
                changed=tuple(changed),
            ),
        )

    def fixed_dates(self, now: datetime) -> frozenset[str]:
        """The schedule's dates an admin can no longer move (`change`)."""
        return frozenset(d.name for d in SCHEDULE_DATES if self._why_fixed(d.name, now))

    def _why_fixed(self, field: str, now: datetime) -> str | None:
        """Why a date cannot move now, or None. A date that has passed stays — unless the
        edition is (again) in the phase that date ends: submissions sent back by an admin get
        a new close, a close the scheduler has not acted on yet can still be put off. A date
        ending a phase the edition has left would change nothing."""
        old = getattr(self.schedule, field)
        ended = _ENDS[field]
        if old is not None and old <= now and self.phase != ended:
            return (
                f"schedule.{field} passed on {old.isoformat()}: a date that has passed stays "
                f"as it was (to change the phase now, use POST /editions/{self.year}/phase)"
            )
        if self.phase.order > ended.order:
            return (
                f"schedule.{field} ends the {ended} phase, which edition {self.year} has "
                f"already left (it is in the {self.phase} phase): moving it would change nothing"
            )
        return None

    def _moved_schedule(self, dates: dict[str, datetime | None], now: datetime) -> EditionSchedule:
        moved: dict[str, Any] = {}
        to_change_the_phase_now = f"to change the phase now, use POST /editions/{self.year}/phase"
        for field, sent in dates.items():
            if sent is not None and utc_year(sent) is None:
                raise _invalid_date(
                    field, f"schedule.{field} is {sent.isoformat()}: not a date MongoDB can store"
                )
            new = to_the_millisecond(sent) if sent is not None else None
            old = getattr(self.schedule, field)
            if new == old:
                continue
            why_fixed = self._why_fixed(field, now)
            if why_fixed is not None:
                raise _invalid_date(field, why_fixed)
            if new is not None and new <= now:
                raise _invalid_date(
                    field,
                    f"schedule.{field} would be {new.isoformat()}, which has passed: dates move "
                    f"only to moments still to come ({to_change_the_phase_now})",
                )
            if new is not None and new < now + MOVED_DATE_NOTICE:
                raise _invalid_date(
                    field,
                    f"schedule.{field} would be {new.isoformat()}, less than a minute from now: "
                    f"every service must learn of a date before it comes "
                    f"({to_change_the_phase_now})",
                )
            moved[field] = new
        schedule = self.schedule.model_copy(update=moved)
        problem = schedule_problem(self.year, schedule)
        if problem is not None:
            fields, reason = problem
            sent_first = next((f for f in fields if f in moved), fields[0])
            raise _invalid_date(sent_first, reason)
        return schedule

    def require_phase(self, phase: Phase, action: str) -> None:
        """Raise a 409 naming the current phase and the window of `phase` if we are outside it."""
        if self.phase == phase:
            return
        window_fields = _window(phase)
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

    def require_drafts_open(self) -> None:
        """A new draft while it can still be submitted: before and during the submission
        phase (a draft started later could never be)."""
        if self.phase != Phase.PLANNED:
            self.require_phase(Phase.SUBMISSION, "starting a draft")

    def require_category(self, category: Category) -> None:
        if category not in self.categories:
            raise Conflict(f"category {category} is not open in edition {self.year}")

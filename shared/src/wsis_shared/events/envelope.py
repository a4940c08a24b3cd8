"""The envelope every event shares (DESIGN.md §2, "Events")."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from wsis_shared import context


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_year(moment: datetime) -> int | None:
    """The year of an aware `moment` in UTC, or None when it falls outside the years 1–9999
    there (9999-12-31T23:00-14:00): MongoDB could neither store nor compare it."""
    try:
        return moment.astimezone(UTC).year
    except OverflowError:
        return None


class Frozen(BaseModel):
    """Immutable, strict model used for every payload that crosses a service boundary."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class EventBase(Frozen):
    """Fields common to every event. Subclasses add `event_type: Literal[...]` and `payload`.

    `schema_version` is the version of the subclass' shape; older versions are upcast before
    validation (see `wsis_shared.events.registry`).
    """

    event_id: UUID = Field(default_factory=uuid4)
    schema_version: int = 1
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    aggregate_id: str
    aggregate_version: int = Field(ge=1)
    edition: int = Field(ge=2000, le=2100)
    correlation_id: UUID = Field(default_factory=context.correlation_id)
    causation_id: UUID | None = Field(default_factory=context.causation_id)

"""One source of truth for topics: which events each carries, how to encode and decode them.

Decoding runs the upcasters for older `schema_version`s first, then validates against the topic's
discriminated union, so a consumer only ever sees the current shape of an event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, TypeAlias

from pydantic import Field, TypeAdapter, ValidationError

from wsis_shared.events.editions import EditionChanged, EditionCreated, EditionPhaseChanged
from wsis_shared.events.envelope import EventBase
from wsis_shared.events.review import (
    EligibilityDecided,
    NominationDecided,
    ReviewAssigned,
    ReviewUnassigned,
    WinnerSelected,
)
from wsis_shared.events.stocktaking import ReportPublished
from wsis_shared.events.submissions import (
    SubmissionAmended,
    SubmissionSubmitted,
    SubmissionWithdrawn,
)
from wsis_shared.events.voting import ChampionsAnnounced, VoteCast, VotesRuledOut

EditionsEvent = Annotated[
    EditionCreated | EditionChanged | EditionPhaseChanged, Field(discriminator="event_type")
]
SubmissionsEvent = Annotated[
    SubmissionSubmitted | SubmissionAmended | SubmissionWithdrawn,
    Field(discriminator="event_type"),
]
ReviewEvent = Annotated[
    EligibilityDecided | ReviewAssigned | ReviewUnassigned | NominationDecided | WinnerSelected,
    Field(discriminator="event_type"),
]
VotesEvent = Annotated[VoteCast | VotesRuledOut, Field(discriminator="event_type")]
VotingEvent = Annotated[ChampionsAnnounced, Field(discriminator="event_type")]
StocktakingEvent = Annotated[ReportPublished, Field(discriminator="event_type")]

AnyEvent: TypeAlias = (
    EditionCreated
    | EditionChanged
    | EditionPhaseChanged
    | SubmissionSubmitted
    | SubmissionAmended
    | SubmissionWithdrawn
    | NominationDecided
    | WinnerSelected
    | VoteCast
    | ChampionsAnnounced
    | ReportPublished
)


@dataclass(frozen=True)
class TopicSpec:
    """A topic, the events it carries and how it is laid out on the broker."""

    name: str
    events: tuple[type[EventBase], ...]
    adapter: TypeAdapter[Any]
    partitions: int
    retention_ms: int = -1
    description: str = ""

    @property
    def dead_letter(self) -> str:
        return f"{self.name}.dlq"


_WEEK_MS: Final = 7 * 24 * 3600 * 1000

TOPICS: Final[dict[str, TopicSpec]] = {
    spec.name: spec
    for spec in (
        TopicSpec(
            "wsis.editions.v1",
            (EditionCreated, EditionChanged, EditionPhaseChanged),
            TypeAdapter(EditionsEvent),
            partitions=1,
            description="Editions, admins' changes to them and their phase changes; "
            "key = edition year.",
        ),
        TopicSpec(
            "wsis.submissions.v1",
            (SubmissionSubmitted, SubmissionAmended, SubmissionWithdrawn),
            TypeAdapter(SubmissionsEvent),
            partitions=3,
            description="Submitted, amended and withdrawn entries; key = entry id.",
        ),
        TopicSpec(
            "wsis.review.v1",
            (
                EligibilityDecided,
                ReviewAssigned,
                ReviewUnassigned,
                NominationDecided,
                WinnerSelected,
            ),
            TypeAdapter(ReviewEvent),
            partitions=3,
            description="Eligibility, reviewer assignments, nominations and winner selection; "
            "key = entry id, entry:reviewer or edition:category.",
        ),
        TopicSpec(
            "wsis.votes.v1",
            (VoteCast, VotesRuledOut),
            TypeAdapter(VotesEvent),
            partitions=6,
            description="One event per accepted vote, and per category the votes ruled out; key = "
            "edition:category, so one consumer "
            "owns a category's tally.",
        ),
        TopicSpec(
            "wsis.voting.v1",
            (ChampionsAnnounced,),
            TypeAdapter(VotingEvent),
            partitions=1,
            description="Voting results: champions per category; key = edition:category.",
        ),
        TopicSpec(
            "wsis.stocktaking.v1",
            (ReportPublished,),
            TypeAdapter(StocktakingEvent),
            partitions=1,
            description="Published Stocktaking reports and Success Stories; key = report id.",
        ),
    )
}

_TOPIC_OF_EVENT_TYPE: Final[dict[str, str]] = {
    event.model_fields["event_type"].default: spec.name
    for spec in TOPICS.values()
    for event in spec.events
}


def event_type_of(event_class: type[EventBase]) -> str:
    value = event_class.model_fields["event_type"].default
    assert isinstance(value, str), f"{event_class.__name__} has no event_type default"
    return value


def topic_of(event: EventBase | type[EventBase]) -> str:
    """The (unprefixed) topic an event belongs to."""
    event_class = event if isinstance(event, type) else type(event)
    return _TOPIC_OF_EVENT_TYPE[event_type_of(event_class)]


# --- upcasting ---------------------------------------------------------------------------------

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function that turns version `from_version` of an event into the next one.

    The function gets the whole raw envelope and returns it with `schema_version` incremented.
    """

    def register(fn: Upcaster) -> Upcaster:
        key = (event_type, from_version)
        if key in _UPCASTERS:
            raise ValueError(f"an upcaster for {event_type} v{from_version} already exists")
        _UPCASTERS[key] = fn
        return fn

    return register


def upcast(raw: dict[str, Any]) -> dict[str, Any]:
    event_type = raw.get("event_type")
    version = raw.get("schema_version", 1)
    while isinstance(event_type, str) and isinstance(version, int):
        step = _UPCASTERS.get((event_type, version))
        if step is None:
            break
        raw = step(dict(raw))
        new_version = raw.get("schema_version")
        if new_version != version + 1:
            raise ValueError(f"upcaster for {event_type} v{version} must produce v{version + 1}")
        version = new_version
    return raw


# --- encoding ----------------------------------------------------------------------------------


class UndecodableEvent(ValueError):
    """The bytes are not an event this topic knows: a poison message for the dead-letter topic."""


def encode(event: EventBase) -> bytes:
    return event.model_dump_json().encode()


def decode(topic: str, value: bytes | None) -> AnyEvent:
    """Decode a message of the (unprefixed) `topic`; raises `UndecodableEvent` for poison."""
    spec = TOPICS.get(topic)
    if spec is None:
        raise UndecodableEvent(f"unknown topic {topic!r}")
    if value is None:
        raise UndecodableEvent("empty message")
    try:
        raw = json.loads(value)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nested 100,000 deep
        raise UndecodableEvent(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise UndecodableEvent("not a JSON object")
    try:
        event: AnyEvent = spec.adapter.validate_python(upcast(raw))
    except (ValidationError, ValueError, LookupError, TypeError, RecursionError) as exc:
        # An upcaster meeting a shape it does not expect is poison too, not a crash.
        raise UndecodableEvent(f"not a valid {topic} event: {exc}") from exc
    return event

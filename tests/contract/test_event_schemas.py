"""The event contract: every event survives the wire, poison is refused, old shapes are upcast,
and the checked-in AsyncAPI document is what the models say."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from wsis_shared.asyncapi import build_document
from wsis_shared.events import (
    TOPICS,
    CastVote,
    ChampionsAnnounced,
    ChampionsList,
    EditionChange,
    EditionChanged,
    EditionCreated,
    EditionPayload,
    EditionPhaseChanged,
    EditionSchedule,
    EligibilityDecided,
    EligibilityDecision,
    EntryPublic,
    EventBase,
    Finalist,
    NominationDecided,
    NominationDecision,
    NomineeCard,
    PhaseChange,
    PublishedReport,
    ReportPublished,
    ReviewAssigned,
    ReviewAssignment,
    ReviewUnassigned,
    ReviewUnassignment,
    RuledOutVotes,
    SubmissionAmended,
    SubmissionSubmitted,
    SubmissionWithdrawn,
    UndecodableEvent,
    VoteCast,
    VotesRuledOut,
    WinnerSelected,
    WinnerSelection,
    Withdrawal,
    decode,
    encode,
    event_type_of,
    topic_of,
    upcast,
    upcaster,
)
from wsis_shared.events.registry import TopicSpec
from wsis_shared.messaging.headers import cloudevent_headers
from wsis_shared.vocabulary import ActionLine, Category, Phase, Region, StakeholderType

ASYNCAPI_PATH = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"
REGENERATE = "run `python -m wsis_shared.asyncapi > docs/asyncapi.json` and commit the result"

EDITION = 2027
T0 = datetime(2027, 1, 15, 9, 30, tzinfo=UTC)


# --- one valid instance of every event -----------------------------------------------------------


def _schedule() -> EditionSchedule:
    return EditionSchedule(
        submission_opens=T0,
        submission_closes=T0 + timedelta(days=60),
        review_closes=T0 + timedelta(days=90),
        voting_opens=T0 + timedelta(days=91),
        voting_closes=T0 + timedelta(days=121),
        results_at=T0 + timedelta(days=130),
        ceremony_at=T0 + timedelta(days=140),
    )


def _entry() -> EntryPublic:
    return EntryPublic(
        entry_id="entry-1",
        category=Category.C7_E_HEALTH,
        title="Telemedicine for rural clinics",
        short_description="A network of rural clinics connected to district hospitals.",
        organisation_id="org-1",
        organisation_name="Ministry of Health",
        country="KE",
        region=Region.AFRICA,
        stakeholder_type=StakeholderType.GOVERNMENT,
        action_lines=(ActionLine.C7, ActionLine.C3),
        sdgs=(3, 9),
        website="https://example.org/telemedicine",
    )


def _envelope(aggregate_id: str, version: int = 1) -> dict[str, Any]:
    return {
        "occurred_at": T0,
        "aggregate_id": aggregate_id,
        "aggregate_version": version,
        "edition": EDITION,
        "causation_id": uuid.uuid4(),
    }


def _edition_created() -> EditionCreated:
    return EditionCreated(
        **_envelope(str(EDITION)),
        payload=EditionPayload(
            year=EDITION,
            title="WSIS Prizes 2027",
            schedule=_schedule(),
            categories=tuple(Category),
            show_running_counts=False,
        ),
    )


def _edition_changed() -> EditionChanged:
    return EditionChanged(
        **_envelope(str(EDITION), 2),
        payload=EditionChange(
            year=EDITION,
            title="WSIS Prizes 2027",
            schedule=_schedule(),
            categories=tuple(Category),
            show_running_counts=True,
            changed=("schedule", "show_running_counts"),
        ),
    )


def _edition_phase_changed() -> EditionPhaseChanged:
    return EditionPhaseChanged(
        **_envelope(str(EDITION), 2),
        payload=PhaseChange(
            year=EDITION,
            phase=Phase.SUBMISSION,
            previous_phase=Phase.PLANNED,
            changed_by="schedule",
            schedule=_schedule(),
            show_running_counts=False,
        ),
    )


def _submission_submitted() -> SubmissionSubmitted:
    return SubmissionSubmitted(**_envelope("entry-1", 2), payload=_entry())


def _submission_amended() -> SubmissionAmended:
    return SubmissionAmended(
        **_envelope("entry-1", 3), payload=_entry().model_copy(update={"website": None})
    )


def _submission_withdrawn() -> SubmissionWithdrawn:
    return SubmissionWithdrawn(
        **_envelope("entry-1", 4),
        payload=Withdrawal(entry_id="entry-1", category=Category.C7_E_HEALTH, reason="merged"),
    )


def _nomination_decided() -> NominationDecided:
    entry = _entry()
    return NominationDecided(
        **_envelope("entry-1", 2),
        payload=NominationDecision(
            nominated=True,
            reason=None,
            nominee=NomineeCard(
                entry_id=entry.entry_id,
                category=entry.category,
                title=entry.title,
                short_description=entry.short_description,
                organisation_name=entry.organisation_name,
                country=entry.country,
                region=entry.region,
                stakeholder_type=entry.stakeholder_type,
            ),
        ),
    )


def _winner_selected() -> WinnerSelected:
    return WinnerSelected(
        **_envelope(f"{EDITION}:{Category.C9}"),
        payload=WinnerSelection(
            category=Category.C9,
            winner_entry_id="entry-3",
            champion_entry_ids=("entry-1", "entry-2", "entry-4", "entry-5"),
        ),
    )


def _eligibility_decided() -> EligibilityDecided:
    return EligibilityDecided(
        **_envelope("entry-1"),
        payload=EligibilityDecision(
            entry_id="entry-1",
            category=Category.C4,
            eligible=False,
            reason="project_not_completed",
            note="a pilot, not yet completed",
        ),
    )


def _review_assigned() -> ReviewAssigned:
    return ReviewAssigned(
        **_envelope("entry-1:reviewer-1"),
        payload=ReviewAssignment(
            entry_id="entry-1", category=Category.C4, reviewer_id="reviewer-1", by="solver"
        ),
    )


def _review_unassigned() -> ReviewUnassigned:
    return ReviewUnassigned(
        **_envelope("entry-1:reviewer-1"),
        payload=ReviewUnassignment(
            entry_id="entry-1", category=Category.C4, reviewer_id="reviewer-1", reason="declined"
        ),
    )


def _vote_cast() -> VoteCast:
    return VoteCast(
        **_envelope("receipt-1"),
        payload=CastVote(
            receipt_id="receipt-1",
            category=Category.C4,
            entry_id="entry-7",
            voter_pseudonym="5f2b0c",
        ),
    )


def _votes_ruled_out() -> VotesRuledOut:
    return VotesRuledOut(
        **_envelope(f"ruling-1:{Category.C4}"),
        payload=RuledOutVotes(
            category=Category.C4,
            invalidation_id="ruling-1",
            reason="one script, many accounts",
            votes_by_entry={"entry-7": 12, "entry-9": 1},
        ),
    )


def _champions_announced() -> ChampionsAnnounced:
    return ChampionsAnnounced(
        **_envelope(f"{EDITION}:{Category.C4}"),
        payload=ChampionsList(
            category=Category.C4,
            finalists=tuple(
                Finalist(entry_id=f"entry-{rank}", votes=1000 - rank, rank=rank)
                for rank in range(1, 6)
            ),
            tie_break_rule="earliest submission first",
        ),
    )


def _report_published() -> ReportPublished:
    return ReportPublished(
        **_envelope("report-2027"),
        payload=PublishedReport(
            report_id="report-2027", kind="stocktaking-report", formats=("html", "pdf")
        ),
    )


FACTORIES: dict[type[EventBase], Callable[[], EventBase]] = {
    EditionCreated: _edition_created,
    EditionChanged: _edition_changed,
    EditionPhaseChanged: _edition_phase_changed,
    SubmissionSubmitted: _submission_submitted,
    SubmissionAmended: _submission_amended,
    SubmissionWithdrawn: _submission_withdrawn,
    EligibilityDecided: _eligibility_decided,
    ReviewAssigned: _review_assigned,
    ReviewUnassigned: _review_unassigned,
    NominationDecided: _nomination_decided,
    WinnerSelected: _winner_selected,
    VoteCast: _vote_cast,
    VotesRuledOut: _votes_ruled_out,
    ChampionsAnnounced: _champions_announced,
    ReportPublished: _report_published,
}

EVENT_CLASSES = [(name, event) for name, spec in TOPICS.items() for event in spec.events]


def _ids(value: object) -> str:
    return value.__name__ if isinstance(value, type) else str(value)


def test_every_event_of_every_topic_has_a_factory() -> None:
    assert {event for _, event in EVENT_CLASSES} == set(FACTORIES)


@pytest.mark.parametrize("spec", TOPICS.values(), ids=lambda spec: spec.name)
def test_a_topics_event_list_matches_its_decoding_union(spec: TopicSpec) -> None:
    """An event in the union but not in the list cannot be published; the reverse cannot be
    read back."""
    schema = spec.adapter.json_schema()
    decodable = set(schema["discriminator"]["mapping"]) if "discriminator" in schema else None
    if decodable is None:  # a union of one: no discriminator
        decodable = {schema["properties"]["event_type"]["const"]}
    assert decodable == {event_type_of(event) for event in spec.events}


def test_each_event_type_is_carried_by_one_topic() -> None:
    event_types = [event_type_of(event) for _, event in EVENT_CLASSES]
    assert len(event_types) == len(set(event_types))


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("topic", "event_class"), EVENT_CLASSES, ids=_ids)
def test_round_trip_is_lossless(topic: str, event_class: type[EventBase]) -> None:
    event = FACTORIES[event_class]()

    decoded = decode(topic, encode(event))

    assert type(decoded) is event_class
    assert decoded == event
    assert encode(decoded) == encode(event)


@pytest.mark.parametrize(("topic", "event_class"), EVENT_CLASSES, ids=_ids)
def test_topic_of_matches_the_spec(topic: str, event_class: type[EventBase]) -> None:
    assert topic_of(event_class) == topic
    assert topic_of(FACTORIES[event_class]()) == topic


def test_dead_letter_topic_is_named_after_the_topic() -> None:
    for name, spec in TOPICS.items():
        assert spec.name == name
        assert spec.dead_letter == f"{name}.dlq"
        assert spec.partitions >= 1


def test_encoding_is_a_self_describing_json_envelope() -> None:
    event = _vote_cast()

    raw = json.loads(encode(event))

    assert raw["event_type"] == "vote.cast"
    assert raw["schema_version"] == 1
    assert raw["event_id"] == str(event.event_id)
    assert raw["aggregate_id"] == "receipt-1"
    assert raw["edition"] == EDITION
    assert raw["correlation_id"] == str(event.correlation_id)
    assert raw["causation_id"] == str(event.causation_id)
    assert datetime.fromisoformat(raw["occurred_at"]) == T0
    assert raw["payload"]["voter_pseudonym"] == "5f2b0c"


# --- poison is refused ---------------------------------------------------------------------------


def _raw(event: EventBase) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(encode(event))
    return value


def _bytes(raw: object) -> bytes:
    return json.dumps(raw).encode()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b"{not json", id="invalid-json"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(b"", id="empty-bytes"),
        pytest.param(b"[1, 2, 3]", id="array"),
        pytest.param(b'"submission.submitted"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="json-null"),
    ],
)
def test_decode_refuses_what_is_not_a_json_object(value: bytes) -> None:
    with pytest.raises(UndecodableEvent):
        decode("wsis.submissions.v1", value)


def test_decode_refuses_a_tombstone() -> None:
    with pytest.raises(UndecodableEvent, match="empty"):
        decode("wsis.submissions.v1", None)


def test_decode_refuses_an_unknown_topic() -> None:
    with pytest.raises(UndecodableEvent, match="unknown topic"):
        decode("wsis.nothing.v1", encode(_submission_submitted()))


def test_decode_refuses_an_unknown_event_type() -> None:
    raw = _raw(_submission_submitted())
    raw["event_type"] = "submission.exploded"

    with pytest.raises(UndecodableEvent):
        decode("wsis.submissions.v1", _bytes(raw))


def test_decode_refuses_an_event_of_another_topic() -> None:
    with pytest.raises(UndecodableEvent):
        decode("wsis.submissions.v1", encode(_vote_cast()))


@pytest.mark.parametrize(
    "path",
    [
        ("event_type",),
        ("aggregate_id",),
        ("aggregate_version",),
        ("edition",),
        ("payload",),
        ("payload", "title"),
        ("payload", "category"),
    ],
    ids="/".join,
)
def test_decode_refuses_a_missing_field(path: tuple[str, ...]) -> None:
    raw = _raw(_submission_submitted())
    parent = raw
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]

    with pytest.raises(UndecodableEvent):
        decode("wsis.submissions.v1", _bytes(raw))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("edition", 1999),
        ("aggregate_version", 0),
        ("occurred_at", "2027-01-15T09:30:00"),  # naive: no time zone
        ("event_id", "not-a-uuid"),
        ("unexpected", "extra fields are refused"),
    ],
)
def test_decode_refuses_an_invalid_envelope(field: str, value: object) -> None:
    raw = _raw(_submission_submitted())
    raw[field] = value

    with pytest.raises(UndecodableEvent):
        decode("wsis.submissions.v1", _bytes(raw))


def test_decode_refuses_an_invalid_payload_value() -> None:
    raw = _raw(_submission_submitted())
    raw["payload"]["category"] = "C12"

    with pytest.raises(UndecodableEvent):
        decode("wsis.submissions.v1", _bytes(raw))


def test_undecodable_event_is_a_value_error() -> None:
    assert issubclass(UndecodableEvent, ValueError)


# --- immutability --------------------------------------------------------------------------------


@pytest.mark.parametrize("event_class", list(FACTORIES), ids=_ids)
def test_events_are_frozen(event_class: type[EventBase]) -> None:
    event = FACTORIES[event_class]()

    with pytest.raises(ValidationError):
        event.aggregate_id = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        event.payload = None  # type: ignore[attr-defined]


def test_payloads_are_frozen_too() -> None:
    event = _submission_submitted()

    with pytest.raises(ValidationError):
        event.payload.title = "changed"  # type: ignore[misc]


def test_envelope_defaults_are_fresh_per_event() -> None:
    first, second = _vote_cast(), _vote_cast()

    assert first.event_id != second.event_id
    assert first.occurred_at.tzinfo is not None


# --- upcasting -----------------------------------------------------------------------------------


@pytest.fixture
def probe_type() -> str:
    """A fresh, test-only event type name: the upcaster registry is global and append-only."""
    return f"test.upcast_probe.{uuid.uuid4().hex}"


def _register_v1_to_v3(event_type: str) -> None:
    @upcaster(event_type, from_version=1)
    def rename_name_to_title(raw: dict[str, Any]) -> dict[str, Any]:
        payload = dict(raw["payload"])
        payload["title"] = payload.pop("name")
        return {**raw, "payload": payload, "schema_version": 2}

    @upcaster(event_type, from_version=2)
    def add_website(raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, "payload": {**raw["payload"], "website": None}, "schema_version": 3}


def test_upcast_runs_the_chain_from_v1_to_the_current_version(probe_type: str) -> None:
    _register_v1_to_v3(probe_type)
    original = {"event_type": probe_type, "schema_version": 1, "payload": {"name": "Telemedicine"}}

    upcast_raw = upcast(original)

    assert upcast_raw == {
        "event_type": probe_type,
        "schema_version": 3,
        "payload": {"title": "Telemedicine", "website": None},
    }
    assert original["schema_version"] == 1, "the caller's dict is left alone"


def test_upcast_starts_from_the_version_it_is_given(probe_type: str) -> None:
    _register_v1_to_v3(probe_type)
    raw = {"event_type": probe_type, "schema_version": 2, "payload": {"title": "Telemedicine"}}

    assert upcast(raw) == {
        "event_type": probe_type,
        "schema_version": 3,
        "payload": {"title": "Telemedicine", "website": None},
    }


def test_upcast_treats_a_missing_version_as_v1(probe_type: str) -> None:
    _register_v1_to_v3(probe_type)

    upcast_raw = upcast({"event_type": probe_type, "payload": {"name": "x"}})

    assert upcast_raw["schema_version"] == 3
    assert upcast_raw["payload"] == {"title": "x", "website": None}


def test_upcast_leaves_the_current_version_alone(probe_type: str) -> None:
    _register_v1_to_v3(probe_type)
    current = {"event_type": probe_type, "schema_version": 3, "payload": {"title": "x"}}

    assert upcast(current) == current


def test_upcast_leaves_events_without_upcasters_alone() -> None:
    raw = _raw(_vote_cast())

    assert upcast(raw) == raw


@pytest.mark.parametrize("produced_version", [1, 3, None])
def test_upcast_refuses_an_upcaster_that_does_not_bump_the_version_by_one(
    probe_type: str, produced_version: int | None
) -> None:
    @upcaster(probe_type, from_version=1)
    def broken(raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, "schema_version": produced_version}

    with pytest.raises(ValueError, match="must produce v2"):
        upcast({"event_type": probe_type, "schema_version": 1})


def test_an_upcaster_cannot_be_registered_twice(probe_type: str) -> None:
    @upcaster(probe_type, from_version=1)
    def first(raw: dict[str, Any]) -> dict[str, Any]:
        return {**raw, "schema_version": 2}

    with pytest.raises(ValueError, match="already exists"):

        @upcaster(probe_type, from_version=1)
        def second(raw: dict[str, Any]) -> dict[str, Any]:
            return {**raw, "schema_version": 2}


# --- the AsyncAPI document -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document()


def test_checked_in_asyncapi_document_is_up_to_date(document: dict[str, Any]) -> None:
    assert ASYNCAPI_PATH.exists(), f"docs/asyncapi.json is missing: {REGENERATE}"
    text = ASYNCAPI_PATH.read_text(encoding="utf-8")
    assert text.strip(), f"docs/asyncapi.json is empty: {REGENERATE}"
    checked_in = json.loads(text)

    assert checked_in == document, f"docs/asyncapi.json is out of date: {REGENERATE}"


def test_asyncapi_document_is_deterministic(document: dict[str, Any]) -> None:
    assert json.dumps(build_document(), sort_keys=True) == json.dumps(document, sort_keys=True)


def test_asyncapi_has_a_channel_per_topic_and_a_message_per_event(
    document: dict[str, Any],
) -> None:
    assert document["asyncapi"].startswith("3.")
    channels = {channel["address"]: channel for channel in document["channels"].values()}
    assert set(channels) == set(TOPICS)
    for name, spec in TOPICS.items():
        channel = channels[name]
        assert channel["bindings"]["kafka"]["partitions"] == spec.partitions
        messages = document["components"]["messages"]
        assert {messages[key]["name"] for key in channel["messages"]} == {
            event_type_of(event) for event in spec.events
        }


def test_asyncapi_every_channel_has_one_sender(document: dict[str, Any]) -> None:
    senders: dict[str, int] = {}
    for operation in document["operations"].values():
        assert operation["action"] in {"send", "receive"}
        if operation["action"] == "send":
            channel = operation["channel"]["$ref"]
            senders[channel] = senders.get(channel, 0) + 1
    assert senders == {f"#/channels/{key}": 1 for key in document["channels"]}


def test_asyncapi_references_all_resolve(document: dict[str, Any]) -> None:
    def refs(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    found = list(refs(document))
    assert found
    for ref in found:
        assert ref.startswith("#/"), ref
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            assert isinstance(target, dict), ref
            assert part in target, f"unresolved reference {ref}"
            target = target[part]


def test_asyncapi_headers_document_what_the_producer_sends(document: dict[str, Any]) -> None:
    event = _submission_submitted()
    topic = topic_of(event)
    sent = cloudevent_headers(event, "/wsis/submissions", topic)
    message = document["components"]["messages"]["SubmissionSubmitted"]
    headers = message["headers"]

    assert set(sent) <= set(headers["properties"])
    assert set(headers["required"]) <= set(sent)
    assert "traceparent" in headers["properties"]
    for name, value in sent.items():
        const = headers["properties"][name].get("const")
        assert const in (None, value), name


@pytest.mark.parametrize(("topic", "event_class"), EVENT_CLASSES, ids=_ids)
def test_asyncapi_payload_lists_every_field_on_the_wire(
    document: dict[str, Any], topic: str, event_class: type[EventBase]
) -> None:
    schema = document["components"]["schemas"][event_class.__name__]

    assert set(schema["properties"]) == set(_raw(FACTORIES[event_class]()))
    assert schema["properties"]["event_type"]["const"] == event_type_of(event_class)

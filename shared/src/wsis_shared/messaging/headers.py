"""Kafka headers: the CloudEvents Kafka protocol binding attributes plus W3C trace context.

The message value is the whole JSON envelope (self-describing, so the dead-letter topic and a
replay need nothing else); the `ce_*` headers repeat its attributes so brokers' tools, routers and
the DLQ CLI can see what a message is without parsing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wsis_shared.events import EventBase

CONTENT_TYPE = "application/json"
Headers = list[tuple[str, bytes]]


def cloudevent_headers(event: EventBase, source: str, topic: str) -> dict[str, str]:
    event_type = getattr(event, "event_type", type(event).__name__)
    headers = {
        "ce_specversion": "1.0",
        "ce_id": str(event.event_id),
        "ce_source": source,
        "ce_type": f"org.itu.wsis.{event_type}",
        "ce_time": event.occurred_at.isoformat(),
        "ce_subject": event.aggregate_id,
        "ce_dataschema": f"urn:wsis:{topic}:{event_type}:v{event.schema_version}",
        "ce_correlationid": str(event.correlation_id),
        "content-type": CONTENT_TYPE,
    }
    if event.causation_id is not None:
        headers["ce_causationid"] = str(event.causation_id)
    return headers


def to_kafka(headers: Mapping[str, str]) -> Headers:
    return [(name, value.encode()) for name, value in headers.items()]


def from_kafka(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    # Kafka allows a header without a value: read as empty, never a crash of the consumer that
    # would meet the same message again after every restart.
    return {name: (value or b"").decode("utf-8", "replace") for name, value in headers or ()}


def int_header(headers: Mapping[str, str], name: str, default: int) -> int:
    """A number the platform wrote in a header, or `default` for one written by hand wrongly:
    an operator's listing must show the message, not fail on it."""
    try:
        return int(headers.get(name, default))
    except ValueError:
        return default

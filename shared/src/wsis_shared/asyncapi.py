"""The AsyncAPI 3.0 document of every topic, generated from the event models.

The checked-in `docs/asyncapi.json` is this module's output; a contract test fails when the two
differ. Regenerate it after changing an event or a topic:

    python -m wsis_shared.asyncapi > docs/asyncapi.json

Channels are the topics of `wsis_shared.events.TOPICS` (unprefixed names), each with its
messages (one per event type), the payload schemas pydantic generates for the models, the
CloudEvents Kafka binding headers plus W3C trace context, and the Kafka bindings. Operations say
which service sends and which services receive on each channel (DESIGN.md §2).
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic.json_schema import JsonSchemaValue, models_json_schema

from wsis_shared.events import TOPICS, EventBase, TopicSpec, event_type_of

ASYNCAPI_VERSION: Final = "3.0.0"
KAFKA_BINDING_VERSION: Final = "0.5.0"
CONTENT_TYPE: Final = "application/json"
CE_TYPE_PREFIX: Final = "org.itu.wsis."

SCHEMAS_REF: Final = "#/components/schemas/"
MESSAGES_REF: Final = "#/components/messages/"

PUBLISHERS: Final[dict[str, str]] = {
    "wsis.editions.v1": "submissions",
    "wsis.submissions.v1": "submissions",
    "wsis.review.v1": "review",
    "wsis.votes.v1": "voting",
    "wsis.voting.v1": "voting",
    "wsis.stocktaking.v1": "stocktaking",
}
"""The one service that publishes on each topic."""

CONSUMERS: Final[dict[str, tuple[str, ...]]] = {
    "wsis.editions.v1": ("review", "stocktaking", "voting"),
    "wsis.submissions.v1": ("review", "stocktaking"),
    "wsis.review.v1": ("stocktaking", "voting"),
    # voting's own tally projection consumes the votes it publishes
    "wsis.votes.v1": ("stocktaking", "voting"),
    "wsis.voting.v1": ("review", "stocktaking"),
    "wsis.stocktaking.v1": (),
}
"""The services that consume each topic."""

_HEADERS: Final[tuple[tuple[str, bool, str], ...]] = (
    ("ce_specversion", True, "CloudEvents specification version, always 1.0."),
    ("ce_id", True, "The event id (`event_id` of the envelope), a UUID."),
    ("ce_source", True, "The publishing service as a URI reference: `/wsis/<service>`."),
    ("ce_type", True, "`org.itu.wsis.` followed by the event type."),
    ("ce_time", True, "When the event occurred (`occurred_at`), RFC 3339."),
    ("ce_subject", True, "The aggregate the event is about (`aggregate_id`)."),
    (
        "ce_dataschema",
        True,
        "`urn:wsis:<topic>:<event type>:v<schema version>`: the shape of the value.",
    ),
    ("ce_correlationid", True, "Shared by every event of one chain across services, a UUID."),
    ("ce_causationid", False, "The event id that caused this one, when there is one."),
    ("content-type", True, "Always `application/json`: the value is the JSON envelope."),
    ("traceparent", False, "W3C trace context of the span that produced the event."),
    ("tracestate", False, "W3C vendor trace state, when the producer had one."),
)


def _channel_id(topic: str) -> str:
    return topic.replace(".", "-")


def _message_id(event_class: type[EventBase]) -> str:
    return event_class.__name__


def _all_required(schema: Any) -> None:
    """Every field is on the wire: `encode` dumps defaults and `None`s too, so a consumer in any
    language may rely on each property being present."""
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict) and schema.get("type") == "object":
            schema["required"] = list(properties)
        for value in schema.values():
            _all_required(value)
    elif isinstance(schema, list):
        for item in schema:
            _all_required(item)


def _schemas() -> dict[str, JsonSchemaValue]:
    classes = [event for spec in TOPICS.values() for event in spec.events]
    _, definitions = models_json_schema(
        [(event, "serialization") for event in classes],
        ref_template=SCHEMAS_REF + "{model}",
    )
    schemas: dict[str, JsonSchemaValue] = definitions.get("$defs", {})
    _all_required(schemas)
    return schemas


def _headers(topic: str, event_class: type[EventBase]) -> dict[str, Any]:
    """The headers of one message, the way `wsis_shared.messaging.headers` writes them."""
    event_type = event_type_of(event_class)
    version = event_class.model_fields["schema_version"].default
    properties: dict[str, Any] = {
        name: {"type": "string", "description": description} for name, _, description in _HEADERS
    }
    properties["ce_specversion"]["const"] = "1.0"
    properties["ce_source"]["const"] = f"/wsis/{PUBLISHERS[topic]}"
    properties["ce_type"]["const"] = f"{CE_TYPE_PREFIX}{event_type}"
    properties["ce_dataschema"]["const"] = f"urn:wsis:{topic}:{event_type}:v{version}"
    properties["content-type"]["const"] = CONTENT_TYPE
    properties["ce_id"]["format"] = "uuid"
    properties["ce_correlationid"]["format"] = "uuid"
    properties["ce_causationid"]["format"] = "uuid"
    properties["ce_time"]["format"] = "date-time"
    properties["traceparent"]["pattern"] = "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
    return {
        "type": "object",
        "description": "CloudEvents Kafka protocol binding (binary mode) and W3C trace context.",
        "properties": properties,
        "required": [name for name, required, _ in _HEADERS if required],
    }


def _message(spec: TopicSpec, event_class: type[EventBase]) -> dict[str, Any]:
    event_type = event_type_of(event_class)
    version = event_class.model_fields["schema_version"].default
    publisher = PUBLISHERS[spec.name]
    documentation = (event_class.__doc__ or "").strip()
    description = (
        f"`{event_type}` (schema version {version}), published by {publisher} on "
        f"`{spec.name}`. The value is the whole JSON envelope; the key is a string: "
        f"{spec.description}"
    )
    if documentation:
        description = f"{documentation}\n\n{description}"
    return {
        "name": event_type,
        "title": event_class.__name__,
        "summary": f"{event_type} v{version}",
        "description": description,
        "contentType": CONTENT_TYPE,
        "headers": _headers(spec.name, event_class),
        "payload": {"$ref": f"{SCHEMAS_REF}{event_class.__name__}"},
        "correlationId": {
            "description": "The correlation id shared by a chain of events across services.",
            "location": "$message.header#/ce_correlationid",
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": spec.description},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _channel(spec: TopicSpec) -> dict[str, Any]:
    return {
        "address": spec.name,
        "title": spec.name,
        "description": (
            f"{spec.description} Dead letters go to `{spec.dead_letter}`. Topic names take the "
            "deployment's prefix (`WSIS_TOPIC_PREFIX`) in front."
        ),
        "messages": {
            _message_id(event): {"$ref": f"{MESSAGES_REF}{_message_id(event)}"}
            for event in spec.events
        },
        "bindings": {
            "kafka": {
                "topic": spec.name,
                "partitions": spec.partitions,
                "topicConfiguration": {
                    "cleanup.policy": ["delete"],
                    "retention.ms": spec.retention_ms,
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(spec: TopicSpec, service: str, action: str) -> dict[str, Any]:
    channel_id = _channel_id(spec.name)
    verb = "publishes on" if action == "send" else "consumes"
    return {
        "action": action,
        "title": f"{service} {verb} {spec.name}",
        "channel": {"$ref": f"#/channels/{channel_id}"},
        "messages": [
            {"$ref": f"#/channels/{channel_id}/messages/{_message_id(event)}"}
            for event in spec.events
        ],
        "tags": [{"name": service}],
    }


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of all topics, as plain JSON values."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in TOPICS.values():
        channel_id = _channel_id(spec.name)
        channels[channel_id] = _channel(spec)
        for event in spec.events:
            messages[_message_id(event)] = _message(spec, event)
        publisher = PUBLISHERS[spec.name]
        operations[f"{publisher}-send-{channel_id}"] = _operation(spec, publisher, "send")
        for consumer in CONSUMERS[spec.name]:
            operations[f"{consumer}-receive-{channel_id}"] = _operation(spec, consumer, "receive")
    document: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "WSIS Prizes and Stocktaking platform events",
            "version": "0.1.0",
            "description": (
                "Every Kafka topic of the platform, the events each carries and who publishes "
                "and consumes them. Generated by `python -m wsis_shared.asyncapi` from the "
                "models in `wsis_shared.events`; do not edit by hand."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _schemas()},
    }
    # a JSON round trip: plain dicts and lists only, nothing a caller could mutate in the models
    loaded: dict[str, Any] = json.loads(json.dumps(document, sort_keys=True))
    return loaded


def render() -> str:
    """The document as checked in: indented, keys sorted, ending in a newline."""
    return json.dumps(build_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(json.dumps(build_document(), indent=2, sort_keys=True))

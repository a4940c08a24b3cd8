"""Topics have one source of truth, TOPICS in the code; k8s and compose follow it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deployment.helpers import OVERLAYS, ROOT, of_kind
from wsis_shared.deployment_topics import render as render_topics
from wsis_shared.events import TOPICS

Rendered = dict[str, list[dict[str, Any]]]


def expected() -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    for spec in TOPICS.values():
        out[spec.name] = (spec.partitions, str(spec.retention_ms))
        out[spec.dead_letter] = (1, str(spec.retention_ms))
    return out


def test_checked_in_kafka_topics_equal_the_generated_ones() -> None:
    checked_in = (ROOT / "k8s" / "components" / "kafka" / "topics.yaml").read_text()
    assert checked_in == render_topics(), (
        "regenerate: python -m wsis_shared.deployment_topics > k8s/components/kafka/topics.yaml"
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_kafka_topics_match_topics(rendered: Rendered, overlay: str) -> None:
    topics = {
        t["spec"]["topicName"]: (t["spec"]["partitions"], t["spec"]["config"]["retention.ms"])
        for t in of_kind(rendered[overlay], "KafkaTopic")
    }
    assert topics == expected()
    for topic in of_kind(rendered[overlay], "KafkaTopic"):
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "wsis"
        assert topic["metadata"]["namespace"] == next(
            k["metadata"]["namespace"] for k in of_kind(rendered[overlay], "Kafka")
        )


def test_compose_creates_the_topics_from_the_code(compose: dict[str, Any]) -> None:
    topics = compose["services"]["topics"]
    assert topics["command"][:4] == ["python", "-m", "wsis_shared", "topics"]
    assert topics["image"] == compose["services"]["voting-api"]["image"]
    # and no hand-written topic list anywhere in the compose stack
    for name in expected():
        assert name not in (ROOT / "docker-compose.yml").read_text()

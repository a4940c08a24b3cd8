"""docker-compose.yml against the compose-spec schema and the stack's rules; the Dockerfile."""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.deployment.helpers import ROOT, SERVICES, compose_schema_validator

APPS = [f"{s}-{role}" for s in SERVICES for role in ("api", "worker")]


# The Kafka release production runs: Strimzi 1.2 ships up to 4.3.1, and compose runs the same.
# CI proves it with the broker contract test (.ci/run).
PRODUCTION_KAFKA = "4.3.1"


def test_compose_file_matches_the_compose_spec(compose: dict[str, Any]) -> None:
    validator = compose_schema_validator()
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors


def test_every_image_is_pinned(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        tag = image.rsplit(":", 1)[-1] if ":" in image else ""
        assert tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image} is not pinned"
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{PRODUCTION_KAFKA}"
    assert re.fullmatch(r"mongo:(6\.0|7\.0)\.\d+", compose["services"]["mongo1"]["image"])


def test_apps_are_healthchecked_and_wait_for_healthy_infrastructure(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for app in APPS:
        service = services[app]
        assert "healthcheck" not in service or not service["healthcheck"].get("disable")
        url = service["environment"]["WSIS_HEALTHCHECK_URL"]
        assert url.endswith("/readyz" if app.endswith("-api") else "/metrics")
        depends = service["depends_on"]
        for infra in ("kafka", "mongo1", "mongo2", "mongo3"):
            assert depends[infra]["condition"] == "service_healthy"
            assert "healthcheck" in services[infra]
        assert depends["mongo-init"]["condition"] == "service_completed_successfully"
        assert depends["topics"]["condition"] == "service_completed_successfully"
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
    assert services["voting-api"]["depends_on"]["mailpit"]["condition"] == "service_healthy"


def test_a_three_member_replica_set_is_initiated(compose: dict[str, Any]) -> None:
    members = [n for n, s in compose["services"].items() if "--replSet" in s.get("command", [])]
    assert sorted(members) == ["mongo1", "mongo2", "mongo3"]
    script = (ROOT / "deploy" / "compose" / "mongo-init.js").read_text()
    for member in members:
        assert f"{member}:27017" in script
        assert f"{member}:27017" in (ROOT / "deploy" / "compose" / "wsis.env").read_text()


def test_observability_is_a_profile(compose: dict[str, Any]) -> None:
    for name in ("otel-collector", "jaeger", "prometheus"):
        assert compose["services"][name]["profiles"] == ["observability"]
    prometheus = (ROOT / "deploy" / "compose" / "prometheus.yml").read_text()
    for app in APPS:
        assert app in prometheus


def test_no_secret_values_in_the_compose_file_or_the_committed_env(
    compose: dict[str, Any],
) -> None:
    secret_names = ("SECRET", "PSEUDONYM_KEY", "HASH_KEY", "PASSWORD")
    committed = (ROOT / "deploy" / "compose" / "wsis.env").read_text()
    for service in compose["services"].values():
        for key in service.get("environment", {}):
            assert not any(s in key for s in secret_names), key
    assert not any(s in committed for s in secret_names)
    example = (ROOT / "deploy" / "compose" / "secrets.env.example").read_text()
    assert "WSIS_VOTING_VOTER_HASH_KEY=" in example


def test_dockerfile_is_multi_stage_pinned_non_root_and_healthchecked() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.M)) >= 2
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M)
    assert base
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base.group(1))
    assert re.search(r"^USER 10001:10001$", dockerfile, re.M)
    assert re.search(r"^HEALTHCHECK ", dockerfile, re.M)
    assert '"uv==0.13.8"' in dockerfile
    assert "0.13.8" in (ROOT / "scripts" / "bootstrap-uv.sh").read_text()
    assert "--require-hashes" in dockerfile


def test_the_kraft_cluster_id_is_a_kafka_uuid(compose: dict[str, Any]) -> None:
    """`kafka-storage.sh format` refuses anything but 16 bytes in unpadded base64url."""
    cluster_id = compose["services"]["kafka"]["environment"]["CLUSTER_ID"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16

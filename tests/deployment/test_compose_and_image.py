"""docker-compose.yml against the compose-spec schema and the stack's rules; the Dockerfile."""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.deployment.helpers import ROOT, SERVICES, WEB_PORT, compose_schema_validator

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


def test_the_web_pages_call_the_apis_and_wait_for_them(compose: dict[str, Any]) -> None:
    services = compose["services"]
    web = services["web"]
    assert web["image"] == services["submissions-api"]["image"], "the one image"
    assert web["command"] == ["python", "-m", "wsis_web"]
    assert f"{WEB_PORT}:{WEB_PORT}" in web["ports"]
    assert "healthcheck" not in web or not web["healthcheck"].get("disable")
    env = web["environment"]
    assert env["WSIS_HEALTHCHECK_URL"] == f"http://127.0.0.1:{WEB_PORT}/readyz"
    for service, port in SERVICES.items():
        assert env[f"WSIS_WEB_{service.upper()}_URL"] == f"http://{service}-api:{port}"
        assert f"{port}:{port}" in services[f"{service}-api"]["ports"]
        assert web["depends_on"][f"{service}-api"]["condition"] == "service_healthy"
    # No broker or database of its own: it owns no data.
    assert not set(web["depends_on"]) & {"kafka", "mongo1", "mongo-init", "topics"}
    assert web["read_only"] is True
    assert web["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in web["security_opt"]


def test_the_web_signs_people_in_with_the_dev_key_the_apis_trust(compose: dict[str, Any]) -> None:
    """Compose is a development stack: the web's sign-in form signs tokens with the private
    half of the key whose public half the APIs verify (deploy/compose/make-dev-keys.sh)."""
    web = compose["services"]["web"]
    mounted = {s["target"]: s["source"] for s in web["secrets"]}
    key_file = web["environment"]["WSIS_WEB_DEV_SIGN_IN_KEY_FILE"]
    private = compose["secrets"][mounted[key_file]]["file"]
    public = compose["secrets"][mounted["/run/secrets/jwt-public.pem"]]["file"]
    assert public == compose["secrets"]["jwt_public_key"]["file"]
    assert private.endswith("/jwt-private.pem")
    keys = (ROOT / "deploy" / "compose" / "make-dev-keys.sh").read_text()
    assert "dir/jwt-private.pem" in keys
    assert "WSIS_WEB_TOKEN_HEADER" not in web["environment"], "the dev sign-in refuses it"
    assert {e["path"] for e in web["env_file"]} >= {
        "deploy/compose/wsis.env",
        "deploy/compose/secrets.env",  # WSIS_WEB_CSRF_SECRET
    }


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


def test_the_image_installs_the_web_pages() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^COPY web/ web/$", dockerfile, re.M)
    assert re.search(r"^\s+\./web \\$", dockerfile, re.M), "built into the virtualenv"
    assert re.search(r"import [\w, ]*\bwsis_web\b", dockerfile), "imported at build time"
    assert re.search(r"^\s+WSIS_WEB_HOST=0\.0\.0\.0 \\$", dockerfile, re.M)
    assert re.search(rf"^EXPOSE .*\b{WEB_PORT}\b", dockerfile, re.M)
    # The build context holds only what .dockerignore lets in.
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert "!web/" in ignore


def test_the_kraft_cluster_id_is_a_kafka_uuid(compose: dict[str, Any]) -> None:
    """`kafka-storage.sh format` refuses anything but 16 bytes in unpadded base64url."""
    cluster_id = compose["services"]["kafka"]["environment"]["CLUSTER_ID"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16

"""The kustomize overlays render, every object matches its schema, and the policies hold."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]  # ships no type information
import pytest

from tests.deployment.helpers import (
    IMAGE,
    KUBERNETES_VERSION,
    OVERLAYS,
    SERVICES,
    crd_validators,
    of_kind,
    pod_specs,
    wsis,
)

Rendered = dict[str, list[dict[str, Any]]]
CRD_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic", "MongoDBCommunity"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_builtin_object_matches_the_kubernetes_schema(
    rendered: Rendered, overlay: str
) -> None:
    checked = 0
    for obj in rendered[overlay]:
        if obj["kind"] in CRD_KINDS:
            continue
        # strict: unknown fields are errors, not silently dropped
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked > 30


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_operator_object_matches_its_crd(rendered: Rendered, overlay: str) -> None:
    validators = crd_validators()
    kinds = set()
    for obj in rendered[overlay]:
        if obj["kind"] not in CRD_KINDS:
            continue
        validator = validators[(obj["apiVersion"], obj["kind"])]
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(obj)]
        assert not errors, f"{obj['kind']} {obj['metadata']['name']}: {errors}"
        kinds.add(obj["kind"])
    assert kinds == CRD_KINDS


def test_a_misspelt_crd_field_is_caught() -> None:
    validator = crd_validators()[("kafka.strimzi.io/v1", "KafkaTopic")]
    topic = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {"name": "t"},
        "spec": {"partitons": 3},
    }
    assert list(validator.iter_errors(topic))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_probes_resources_and_a_locked_down_security_context(
    rendered: Rendered, overlay: str
) -> None:
    deployments = list(pod_specs(rendered[overlay]))
    assert deployments
    for deployment, pod in deployments:
        where = f"{overlay}: {deployment['metadata']['name']}"
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod.get("automountServiceAccountToken") is False, where
        for container in pod["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in container, f"{where}: no {probe}"
            for bound in ("requests", "limits"):
                assert set(container["resources"][bound]) >= {"cpu", "memory"}, where
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["runAsNonRoot"] is True, where
            assert context["capabilities"]["drop"] == ["ALL"], where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_an_api_and_a_worker_from_the_one_image(
    rendered: Rendered, overlay: str
) -> None:
    deployments = {d["metadata"]["name"]: (d, pod) for d, pod in pod_specs(rendered[overlay])}
    for service, port in SERVICES.items():
        for role in ("api", "worker"):
            _deployment, pod = deployments[f"wsis-{service}-{role}"]
            (container,) = pod["containers"]
            assert container["command"] == ["python", "-m", f"wsis_{service}", role]
            assert container["image"].split(":")[0] == IMAGE
        api = deployments[f"wsis-{service}-api"][1]["containers"][0]
        assert api["ports"][0]["containerPort"] == port
        assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    images = {pod["containers"][0]["image"] for d, pod in pod_specs(rendered[overlay]) if wsis(d)}
    assert len(images) == 1, images


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_pdbs_and_network_policies_cover_every_service(
    rendered: Rendered, overlay: str
) -> None:
    objects = rendered[overlay]
    services = {s["metadata"]["name"]: s for s in of_kind(objects, "Service")}
    pdbs = {
        p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for p in of_kind(objects, "PodDisruptionBudget")
    }
    policies = {
        p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"]: p
        for p in of_kind(objects, "NetworkPolicy")
    }
    for deployment, _ in pod_specs(objects):
        if wsis(deployment):
            assert deployment["metadata"]["labels"]["app.kubernetes.io/name"] in pdbs
    for service, port in SERVICES.items():
        assert services[f"wsis-{service}"]["spec"]["ports"][0]["targetPort"] == "http"
        policy = policies[f"wsis-{service}"]["spec"]
        assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
        ingress_ports = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
        assert port in ingress_ports
        egress_ports = {p["port"] for rule in policy["egress"] for p in rule["ports"]}
        assert {53, 9092, 27017} <= egress_ports


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_voting_and_submissions_apis_autoscale(rendered: Rendered, overlay: str) -> None:
    targets = {
        h["spec"]["scaleTargetRef"]["name"]
        for h in of_kind(rendered[overlay], "HorizontalPodAutoscaler")
    }
    assert targets == {"wsis-voting-api", "wsis-submissions-api"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_routes_each_service_under_its_own_prefix(
    rendered: Rendered, overlay: str
) -> None:
    (ingress,) = of_kind(rendered[overlay], "Ingress")
    (rule,) = ingress["spec"]["rules"]
    routes = {p["backend"]["service"]["name"]: p["path"] for p in rule["http"]["paths"]}
    assert set(routes) == {f"wsis-{s}" for s in SERVICES}
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2"
    for service in SERVICES:
        # nginx matches with PCRE; Python's re agrees on these constructs.
        path = re.compile(routes[f"wsis-{service}"])
        routed = path.match(f"/{service}/editions/2027?x=1")
        assert routed is not None
        assert routed.group(2) == "editions/2027?x=1", "served as /… by the service"
        assert path.match(f"/{service}/") is not None
        for internal in ("metrics", "metrics/", "metrics?name=x"):
            assert path.match(f"/{service}/{internal}") is None, f"/{service}/{internal} is public"
        assert path.match(f"/{service}/metrics-of-votes") is not None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_referenced_config_maps_exist(rendered: Rendered, overlay: str) -> None:
    names = {c["metadata"]["name"] for c in of_kind(rendered[overlay], "ConfigMap")}
    for _, pod in pod_specs(rendered[overlay]):
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in names


def test_prod_generates_no_secrets(rendered: Rendered) -> None:
    assert of_kind(rendered["prod"], "Secret") == []

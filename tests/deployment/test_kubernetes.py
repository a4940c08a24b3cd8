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
    WEB_PAGES,
    WEB_PORT,
    crd_validators,
    of_kind,
    pod_specs,
    wsis,
)

Rendered = dict[str, list[dict[str, Any]]]
CRD_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic", "MongoDBCommunity"}
AUTH_PROXY = "wsis-oauth2-proxy"  # prod only, its own image


def _path_to(ingress: dict[str, Any], url_path: str) -> tuple[str, str]:
    """(Service, path it receives) for a request, as ingress-nginx routes it: regex paths
    longest first (case-insensitive), the first match wins, then `rewrite-target: /$2`."""
    (rule,) = ingress["spec"]["rules"]
    paths = sorted(rule["http"]["paths"], key=lambda p: len(p["path"]), reverse=True)
    for path in paths:
        match = re.match(path["path"], url_path, re.IGNORECASE)
        if match:
            return path["backend"]["service"]["name"], "/" + match.group(2)
    raise AssertionError(f"{url_path}: no route")


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
    images = {
        pod["containers"][0]["image"]
        for d, pod in pod_specs(rendered[overlay])
        if wsis(d) and d["metadata"]["name"] != AUTH_PROXY
    }
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
        from_web = [
            rule
            for rule in policy["ingress"]
            if any(
                peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                == "wsis-web"
                for peer in rule["from"]
            )
        ]
        assert [p["port"] for rule in from_web for p in rule["ports"]] == [port], service
    assert services["wsis-web"]["spec"]["ports"][0]["name"] == "http"
    assert services["wsis-web"]["spec"]["ports"][0]["targetPort"] == "http"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_voting_and_submissions_apis_autoscale(rendered: Rendered, overlay: str) -> None:
    targets = {
        h["spec"]["scaleTargetRef"]["name"]
        for h in of_kind(rendered[overlay], "HorizontalPodAutoscaler")
    }
    assert targets == {"wsis-voting-api", "wsis-submissions-api", "wsis-web"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_routes_each_service_under_its_own_prefix(
    rendered: Rendered, overlay: str
) -> None:
    (ingress,) = of_kind(rendered[overlay], "Ingress")
    (rule,) = ingress["spec"]["rules"]
    routes = {p["backend"]["service"]["name"]: p["path"] for p in rule["http"]["paths"]}
    assert set(routes) == {f"wsis-{s}" for s in SERVICES} | {
        AUTH_PROXY if overlay == "prod" else "wsis-web"
    }
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2"
    for service in SERVICES:
        # nginx matches with PCRE; Python's re agrees on these constructs.
        path = re.compile(routes[f"wsis-{service}"])
        routed = path.match(f"/api/{service}/editions/2027?x=1")
        assert routed is not None
        assert routed.group(2) == "editions/2027?x=1", "served as /… by the service"
        assert path.match(f"/api/{service}/") is not None
        for internal in ("metrics", "metrics/", "metrics?name=x"):
            assert path.match(f"/api/{service}/{internal}") is None, f"{internal} is public"
        assert path.match(f"/api/{service}/metrics-of-votes") is not None
        assert _path_to(ingress, f"/api/{service}/editions") == (f"wsis-{service}", "/editions")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_other_path_is_the_web_pages_unchanged(rendered: Rendered, overlay: str) -> None:
    """One origin for people: the web is the catch-all, and the API prefixes still win. The
    web's /review and /stocktaking pages are not the services' (those are under /api/)."""
    (ingress,) = of_kind(rendered[overlay], "Ingress")
    people = AUTH_PROXY if overlay == "prod" else "wsis-web"
    for url_path in (
        "/",
        "/?lang=fr",
        "/vote/2027/digital-inclusion",
        "/live/2027/digital-inclusion",
        "/results/2027",
        "/review",
        "/review/2027/e-1",
        "/stocktaking/reports",
        "/submissions",
        "/account/sign-in",
        "/oauth2/callback",
        "/api",
        "/api/voting/metrics",  # not the service's: the web answers 404
    ):
        assert _path_to(ingress, url_path) == (people, url_path), url_path
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"  # the SSE relay


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_referenced_config_maps_exist(rendered: Rendered, overlay: str) -> None:
    names = {c["metadata"]["name"] for c in of_kind(rendered[overlay], "ConfigMap")}
    for _, pod in pod_specs(rendered[overlay]):
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in names


def test_prod_generates_no_secrets(rendered: Rendered) -> None:
    assert of_kind(rendered["prod"], "Secret") == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_web_pages_run_from_the_one_image_and_call_the_api_services(
    rendered: Rendered, overlay: str
) -> None:
    objects = rendered[overlay]
    deployments = {d["metadata"]["name"]: pod for d, pod in pod_specs(objects)}
    (container,) = deployments["wsis-web"]["containers"]
    assert container["command"] == ["python", "-m", "wsis_web"]
    assert container["image"].split(":")[0] == IMAGE
    assert container["ports"][0]["containerPort"] == WEB_PORT
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in container["env"]}
    services = {s["metadata"]["name"] for s in of_kind(objects, "Service")}
    for service in SERVICES:
        url = env[f"WSIS_WEB_{service.upper()}_URL"]["value"]
        assert url == f"http://wsis-{service}", "the API's Service, port 80"
        assert f"wsis-{service}" in services
    csrf = env["WSIS_WEB_CSRF_SECRET"]["valueFrom"]["secretKeyRef"]
    assert csrf == {"name": "wsis-secrets", "key": "web-csrf-secret"}
    assert "optional" not in csrf, "replicas must share it"
    assert "WSIS_MONGO_URI" not in env, "the web owns no data"
    # https as the browser sees it (Secure cookies): the proxy in front is the only caller.
    assert env["FORWARDED_ALLOW_IPS"]["value"] == "*"
    if overlay == "dev":
        (secret,) = [
            s for s in of_kind(objects, "Secret") if s["metadata"]["name"] == "wsis-secrets"
        ]
        assert "web-csrf-secret" in secret["data"]
    (policy,) = [
        p for p in of_kind(objects, "NetworkPolicy") if p["metadata"]["name"] == "wsis-web"
    ]
    egress = {
        (peer["podSelector"]["matchLabels"].get("app.kubernetes.io/name"), port["port"])
        for rule in policy["spec"]["egress"]
        for peer in rule.get("to", [])
        if "podSelector" in peer
        for port in rule["ports"]
    }
    for service, port in SERVICES.items():
        assert (f"wsis-{service}", port) in egress
    assert {(None, 53)} <= egress  # DNS
    pdbs = {p["metadata"]["name"] for p in of_kind(objects, "PodDisruptionBudget")}
    assert "wsis-web" in pdbs


def _config(objects: list[dict[str, Any]]) -> dict[str, str]:
    (config,) = [
        c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].startswith("wsis-config")
    ]
    data: dict[str, str] = config["data"]
    return data


def test_dev_has_no_token_header(rendered: Rendered) -> None:
    """Nothing in front of the web in dev: a token header would be whatever the client sent."""
    config = _config(rendered["dev"])
    assert "WSIS_WEB_TOKEN_HEADER" not in config
    assert not [
        d for d in of_kind(rendered["dev"], "Deployment") if d["metadata"]["name"] == AUTH_PROXY
    ]


def test_prod_signs_people_in_through_oauth2_proxy(rendered: Rendered) -> None:
    objects = rendered["prod"]
    config = _config(objects)
    assert config["WSIS_WEB_TOKEN_HEADER"] == "X-Forwarded-Access-Token"
    assert config["WSIS_WEB_SIGN_IN_URL"] == "/oauth2/start"
    assert config["WSIS_JWT_JWKS_URL"].startswith("https://")
    assert "WSIS_JWT_PUBLIC_KEY_FILE" not in config, "the keys come from the JWKS"
    deployments = {d["metadata"]["name"]: pod for d, pod in pod_specs(objects)}
    (proxy,) = deployments[AUTH_PROXY]["containers"]
    image, tag = proxy["image"].rsplit(":", 1)
    assert image == "quay.io/oauth2-proxy/oauth2-proxy"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), "pinned"
    args = proxy["args"]
    assert "--upstream=http://wsis-web:80/" in args
    assert "--pass-access-token=true" in args
    assert "--skip-auth-strip-headers=true" in args
    env = {e["name"]: e["valueFrom"] for e in proxy["env"]}
    assert env["OAUTH2_PROXY_OIDC_ISSUER_URL"]["configMapKeyRef"]["key"] == "WSIS_JWT_ISSUER"
    for variable, key in (
        ("OAUTH2_PROXY_CLIENT_ID", "client-id"),
        ("OAUTH2_PROXY_CLIENT_SECRET", "client-secret"),
        ("OAUTH2_PROXY_COOKIE_SECRET", "cookie-secret"),
    ):
        assert env[variable]["secretKeyRef"] == {"name": AUTH_PROXY, "key": key}
    # Anonymous visitors are never sent to sign in; the people's pages always are. The proxy's
    # routes are Go regexps on the path; Python's re agrees on these constructs.
    public = [re.compile(a.split("=", 1)[1]) for a in args if a.startswith("--skip-auth-route=")]

    def skipped(path: str) -> bool:
        return any(route.search(path) for route in public)

    for path in (
        "/",
        "/?lang=es",
        "/vote/2027",
        "/vote/2027/inclusion/receipt/r-1",
        "/results/2027/inclusion",
        "/live/2027/inclusion",
        "/champions/2027",
        "/stocktaking",
        "/stocktaking/reports",
        "/sign-in/code",
        "/static/abc/site.js",
    ):
        assert skipped(path), path
    for page in WEB_PAGES:
        for path in (f"/{page}", f"/{page}/", f"/{page}/2027", f"/{page}?x=1"):
            assert not skipped(path), path
    assert not skipped("/account/sign-in")
    assert not skipped("/vote-admin")


def test_in_prod_only_oauth2_proxy_reaches_the_web(rendered: Rendered) -> None:
    """The web trusts the token header because nothing but the proxy can send it a request."""
    objects = rendered["prod"]
    (policy,) = [
        p for p in of_kind(objects, "NetworkPolicy") if p["metadata"]["name"] == "wsis-web"
    ]
    peers = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
    assert peers == [
        {
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/name": AUTH_PROXY,
                    "app.kubernetes.io/component": "auth-proxy",
                }
            }
        }
    ]
    proxy_pods = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
        for d in of_kind(objects, "Deployment")
    }[AUTH_PROXY]
    assert peers[0]["podSelector"]["matchLabels"].items() <= proxy_pods.items()
    (proxy_policy,) = [
        p for p in of_kind(objects, "NetworkPolicy") if p["metadata"]["name"] == AUTH_PROXY
    ]
    (rule,) = proxy_policy["spec"]["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    services = {s["metadata"]["name"] for s in of_kind(objects, "Service")}
    assert AUTH_PROXY in services

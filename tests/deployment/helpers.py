"""Helpers of the deployment checks: paths, overlay rendering, schema validators."""

from __future__ import annotations

import copy
import functools
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).parent / "schemas"
OVERLAYS = ("dev", "prod")
IMAGE = "wsis-platform"  # the one image of every WSIS Deployment
SERVICES = {"submissions": 8001, "review": 8002, "voting": 8003, "stocktaking": 8004}
WEB_PORT = 8000  # the web pages (`python -m wsis_web`), the one origin for people
WEB_PAGES = ("account", "team", "review", "chair", "admin")  # the pages that need a session
KUBERNETES_VERSION = "1.33.0"  # the oldest Kubernetes the manifests are meant for

Manifest = dict[str, Any]

CRD_FILES = (
    "strimzi-1.2.0/040-Crd-kafka.yaml",
    "strimzi-1.2.0/043-Crd-kafkatopic.yaml",
    "strimzi-1.2.0/045-Crd-kafkanodepool.yaml",
    "mongodb-community-0.13.0/mongodbcommunity.mongodb.com_mongodbcommunity.yaml",
)


def render(overlay: str) -> list[Manifest]:
    """`kubectl kustomize k8s/overlays/<overlay>` as a list of objects (skips without kubectl)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: cannot render the kustomize overlays")
    out = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "k8s" / "overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def _closed(schema: Any) -> Any:
    """The CRD schema with unknown fields refused, as the API server's pruning would drop them
    silently: every object schema that lists `properties` and does not preserve unknown fields
    gets `additionalProperties: false`, so a misspelt field fails the test."""
    if isinstance(schema, dict):
        out = {key: _closed(value) for key, value in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@functools.cache
def crd_validators() -> dict[tuple[str, str], jsonschema.Draft4Validator]:
    """(apiVersion, kind) -> a validator of the CRD's openAPIV3Schema for that version."""
    validators: dict[tuple[str, str], jsonschema.Draft4Validator] = {}
    for name in CRD_FILES:
        crd = yaml.safe_load((SCHEMAS / name).read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = _closed(copy.deepcopy(version["schema"]["openAPIV3Schema"]))
            schema["properties"]["metadata"] = {"type": "object"}
            validators[(f"{group}/{version['name']}", kind)] = jsonschema.Draft4Validator(schema)
    return validators


def compose_schema_validator() -> jsonschema.Draft7Validator:
    """The compose-spec schema declares draft 07 (its `$schema` lacks the trailing `#` that
    jsonschema looks up by, so the draft is named here)."""
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    assert "draft-07" in schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def pod_specs(objects: list[Manifest]) -> Iterator[tuple[Manifest, Manifest]]:
    """(Deployment, its pod spec) of every Deployment."""
    for obj in objects:
        if obj["kind"] == "Deployment":
            yield obj, obj["spec"]["template"]["spec"]


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [obj for obj in objects if obj["kind"] == kind]


def wsis(obj: Manifest) -> bool:
    return bool(obj["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "wsis")

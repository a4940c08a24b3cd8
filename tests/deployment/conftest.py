"""Deployment checks: Dockerfile, docker-compose.yml and the k8s/ overlays, validated offline.

Everything under tests/deployment is marked `deployment` (`pytest -m deployment` runs only
these) and needs no broker, mongod or Docker engine; rendering the overlays needs `kubectl`
(its built-in kustomize) and is skipped, saying so, without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deployment.helpers import OVERLAYS, ROOT, render

_HERE = Path(__file__).parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "deployment: offline checks of the Dockerfile, compose file and k8s manifests"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.deployment)


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {overlay: render(overlay) for overlay in OVERLAYS}


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data

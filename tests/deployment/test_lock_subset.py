"""scripts/lock_subset.py: the image installs the services' dependencies, not the dev group."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from types import ModuleType

from tests.deployment.helpers import ROOT

RUNTIME = [
    "wsis-shared",
    "wsis-submissions",
    "wsis-review",
    "wsis-voting",
    "wsis-stocktaking",
    "wsis-web",
]


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_subset", ROOT / "scripts/lock_subset.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _names(text: str) -> set[str]:
    return {m.lower() for m in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", text, re.M)}


def test_runtime_subset_has_every_service_dependency_and_no_dev_tool() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    runtime = _names(_module().subset(lock, RUNTIME))
    direct: set[str] = set()
    for member in (
        "shared",
        "services/submissions",
        "services/review",
        "services/voting",
        "services/stocktaking",
        "web",
    ):
        project = tomllib.loads((ROOT / member / "pyproject.toml").read_text())["project"]
        for requirement in project["dependencies"]:
            name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()
            if not name.startswith("wsis-"):
                direct.add(name.replace("_", "-"))
    assert direct <= runtime
    assert not runtime & {"pytest", "mypy", "ruff", "hypothesis", "kubernetes-validate"}


def test_entries_keep_their_hashes() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    text = _module().subset(lock, ["wsis-shared"])
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    assert blocks
    assert all("--hash=sha256:" in block for block in blocks)


def test_the_dockerfile_takes_the_lock_of_every_workspace_member() -> None:
    """The image's roots are the workspace members: a member missing here would start without
    its dependencies (the web pages need babel and jinja2, which no service uses)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    call = re.search(r"lock_subset\.py requirements\.lock \\?\s*([^>]+)>", dockerfile)
    assert call
    roots = set(call.group(1).replace("\\", " ").split())
    assert set(RUNTIME) <= roots

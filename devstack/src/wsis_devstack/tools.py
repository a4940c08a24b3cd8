"""Java 17+ and Maven, installed from the system's packages when missing (Debian/Ubuntu); for the
web pages' browser tests, Debian's Chromium and axe-core (npm, pinned, into .cache/npm)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Final

from wsis_devstack.paths import cache_dir

# The accessibility engine the browser tests inject into each page; pinned like every dependency.
AXE_CORE_VERSION: Final = "4.14.1"
CHROMIUM: Final = Path("/usr/bin/chromium")
# Chinese text in the screenshots of the pages (Chromium shows empty boxes without a CJK font).
CJK_FONT: Final = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def java_major() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    result = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', result.stderr + result.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def _apt(*args: str) -> None:
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", *args], check=True, env=env)


def _jre_package() -> str:
    """`default-jre-headless` where it is Java 17 or newer (Debian 12+, Ubuntu 24.04+), else
    `openjdk-17-jre-headless` (Ubuntu 22.04's default is 11; Kafka 4 needs 17)."""
    depends = subprocess.run(
        ["apt-cache", "depends", "default-jre-headless"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    match = re.search(r"Depends: openjdk-(\d+)-jre-headless", depends)
    return (
        "default-jre-headless" if match and int(match.group(1)) >= 17 else "openjdk-17-jre-headless"
    )


def axe_core_script(cache: Path | None = None) -> Path:
    return (cache or cache_dir()) / "npm" / "node_modules" / "axe-core" / "axe.min.js"


def ensure_tools() -> list[str]:
    """Install Java 17+, Maven, Chromium and a CJK font with apt-get (with sudo unless root)
    when missing, and axe-core with npm; returns what was installed."""
    need_java = (java_major() or 0) < 17
    need_maven = shutil.which("mvn") is None
    need_chromium = not CHROMIUM.exists()
    need_npm = shutil.which("npm") is None and not axe_core_script().exists()
    need_cjk_font = not CJK_FONT.exists()
    wanted = (
        ([_jre_package()] if need_java else [])
        + (["maven"] if need_maven else [])
        + (["chromium"] if need_chromium else [])
        + (["npm"] if need_npm else [])
        + (["fonts-wqy-microhei"] if need_cjk_font else [])
    )
    if wanted:
        if shutil.which("apt-get") is None:
            raise RuntimeError(
                f"{', '.join(wanted)} needed; install them with your package manager"
            )
        _apt("update", "-qq")
        _apt("install", "-y", "-qq", "--no-install-recommends", *wanted)
        if (java_major() or 0) < 17:
            raise RuntimeError(f"installed {wanted}, but `java` is still older than 17")
    return wanted + ensure_axe_core()


def ensure_axe_core(cache: Path | None = None) -> list[str]:
    """axe-core from npm into .cache/npm (the registry npm is configured with; no lock file
    or address is written into the repository)."""
    script = axe_core_script(cache)
    package = script.parent / "package.json"
    if package.exists() and f'"version": "{AXE_CORE_VERSION}"' in package.read_text():
        return []
    prefix = script.parents[2]
    prefix.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "npm",
            "install",
            "--prefix",
            str(prefix),
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
            f"axe-core@{AXE_CORE_VERSION}",
        ],
        check=True,
    )
    return [f"axe-core@{AXE_CORE_VERSION}"]

"""Java 17+ and Maven, installed from the system's packages when missing (Debian/Ubuntu)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess


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


def _apt_install(packages: list[str]) -> None:
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        check=True,
        env=env,
    )


def ensure_tools() -> list[str]:
    """Install what is missing; returns the packages installed."""
    if shutil.which("apt-get") is None and (java_major() or 0) < 17:
        raise RuntimeError("Java 17+ and Maven are needed; install them with your package manager")
    wanted: list[str] = []
    if (java_major() or 0) < 17:
        # Ubuntu 22.04's default JRE is 11; Kafka 4 needs 17.
        wanted.append("openjdk-17-jre-headless")
    if shutil.which("mvn") is None:
        wanted.append("maven")
    if wanted:
        _apt_install(wanted)
    return wanted

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


def ensure_tools() -> list[str]:
    """Install Java 17+ and Maven with apt-get (with sudo unless root) when missing; returns
    the packages installed."""
    need_java = (java_major() or 0) < 17
    need_maven = shutil.which("mvn") is None
    if not (need_java or need_maven):
        return []
    if shutil.which("apt-get") is None:
        raise RuntimeError("Java 17+ and Maven are needed; install them with your package manager")
    _apt("update", "-qq")
    wanted = ([_jre_package()] if need_java else []) + (["maven"] if need_maven else [])
    _apt("install", "-y", "-qq", "--no-install-recommends", *wanted)
    if (java_major() or 0) < 17:
        raise RuntimeError(f"installed {wanted}, but `java` is still older than 17")
    return wanted

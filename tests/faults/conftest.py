"""The platform for fault tests: every service's API and worker as separate processes, so that a
worker can be SIGKILLed mid-batch while its API keeps answering, on the session's own broker
and mongod (which the tests stop and restart: `make test-faults` runs them in a session of
their own)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wsis_devstack.platform import wait_ready
from wsis_devstack.processes import ManagedProcess, free_port
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.vocabulary import Role

SERVICES = ("submissions", "review", "voting", "stocktaking")


@dataclass
class SplitPlatform:
    ports: dict[str, int]
    metrics_ports: dict[str, int]  # each worker's /metrics
    private_key: bytes
    db_prefix: str
    logs: Path
    apis: dict[str, ManagedProcess] = field(default_factory=dict)
    workers: dict[str, ManagedProcess] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def worker_metrics_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.metrics_ports[service]}/metrics"

    def headers(self, *, roles: list[Role], sub: str, org: str | None = None) -> dict[str, str]:
        token = sign_dev_token(self.private_key, subject=sub, roles=roles, organisation_id=org)
        return {"Authorization": f"Bearer {token}"}

    def token(self, role: Role, sub: str, org: str | None = None) -> str:
        return sign_dev_token(self.private_key, subject=sub, roles=[role], organisation_id=org)

    def kill_worker(self, service: str) -> float:
        """SIGKILL the worker and start it again; returns how long it was gone."""
        began = time.monotonic()
        self.workers[service].kill()
        self.workers[service].start()
        return time.monotonic() - began

    def database(self, service: str) -> str:
        return f"{self.db_prefix}{service}"


@pytest.fixture
def split_platform(
    kafka_bootstrap: str,
    mongo_uri: str,
    topic_prefix: str,
    mongo_db_prefix: str,
    tmp_path: Path,
) -> Iterator[SplitPlatform]:
    private_key, public_key = ensure_dev_keys(tmp_path / "keys")
    platform = SplitPlatform(
        ports={service: free_port() for service in SERVICES},
        metrics_ports={service: free_port() for service in SERVICES},
        private_key=private_key.read_bytes(),
        db_prefix=mongo_db_prefix,
        logs=tmp_path / "logs",
    )
    environment = os.environ | {
        "WSIS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "WSIS_MONGO_URI": mongo_uri,
        "WSIS_MONGO_DB_PREFIX": mongo_db_prefix,
        "WSIS_TOPIC_PREFIX": topic_prefix,
        "WSIS_JWT_PUBLIC_KEY_FILE": str(public_key),
        "WSIS_LOG_LEVEL": "WARNING",
        # A storm from one address is the test, not an attack.
        "WSIS_VOTING_RATE_LIMITS_ENABLED": "false",
    }
    for service in SERVICES:
        platform.apis[service] = ManagedProcess(
            f"{service}-api",
            [sys.executable, "-m", f"wsis_{service}", "api"],
            log_path=platform.logs / f"{service}-api.log",
            env=environment | {f"WSIS_{service.upper()}_PORT": str(platform.ports[service])},
        )
        platform.workers[service] = ManagedProcess(
            f"{service}-worker",
            [sys.executable, "-m", f"wsis_{service}", "worker"],
            log_path=platform.logs / f"{service}-worker.log",
            env=environment
            | {f"WSIS_{service.upper()}_WORKER_METRICS_PORT": str(platform.metrics_ports[service])},
        )
    everything = [*platform.apis.values(), *platform.workers.values()]
    try:
        for process in everything:
            process.start()
        wait_ready(platform.apis, platform.ports, timeout_s=90)
        yield platform
    finally:
        for process in everything:
            process.stop()

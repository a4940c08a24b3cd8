"""All four services as real processes (`python -m wsis_<name> all`) on the test infrastructure."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from wsis_devstack.demo import DemoTokens, load_demo_data
from wsis_devstack.smtp_sink import SmtpSink
from wsis_shared.auth import ensure_dev_keys, sign_dev_token
from wsis_shared.vocabulary import Role

SERVICES = ("submissions", "review", "voting", "stocktaking")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Platform:
    ports: dict[str, int]
    private_key: bytes
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    mail: SmtpSink | None = None  # where the services' mail (voters' codes) arrives

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def headers(self, *, roles: list[str], sub: str, org: str | None = None) -> dict[str, str]:
        token = sign_dev_token(
            self.private_key, subject=sub, roles=[Role(r) for r in roles], organisation_id=org
        )
        return {"Authorization": f"Bearer {token}"}


def wait_ready(platform: Platform, logs: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    pending = set(SERVICES)
    while pending and time.monotonic() < deadline:
        for service in list(pending):
            process = platform.processes[service]
            if process.poll() is not None:
                log = (logs / f"{service}.log").read_text()[-3000:]
                raise RuntimeError(f"{service} exited with {process.returncode}:\n{log}")
            try:
                if httpx.get(f"{platform.url(service)}/readyz", timeout=2).status_code == 200:
                    pending.discard(service)
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    if pending:
        raise RuntimeError(f"not ready after {timeout_s}s: {sorted(pending)}; logs in {logs}")


@pytest.fixture(scope="session")
def platform(
    kafka_bootstrap: str,
    mongo_uri: str,
    topic_prefix: str,
    mongo_db_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    workdir = tmp_path_factory.mktemp("platform")
    private_key, public_key = ensure_dev_keys(workdir / "keys")
    mail = SmtpSink(smtp_port=free_port(), http_port=free_port())
    platform = Platform(
        ports={service: free_port() for service in SERVICES},
        private_key=private_key.read_bytes(),
        mail=mail,
    )
    env = os.environ | {
        "WSIS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "WSIS_MONGO_URI": mongo_uri,
        "WSIS_TOPIC_PREFIX": f"{topic_prefix}e2e.",
        "WSIS_MONGO_DB_PREFIX": f"{mongo_db_prefix}e2e_",
        "WSIS_JWT_PUBLIC_KEY_FILE": str(public_key),
        "WSIS_LOG_FORMAT": "json",
        "WSIS_LOG_LEVEL": "INFO",
        # Voter sign-up: codes go to the sink; voter tokens are signed with the dev key pair.
        "WSIS_VOTING_SMTP_HOST": mail.host,
        "WSIS_VOTING_SMTP_PORT": str(mail.smtp_port),
        "WSIS_VOTING_VOTER_TOKEN_PRIVATE_KEY_FILE": str(private_key),
    }
    mail.start()
    try:
        for service in SERVICES:
            service_env = env | {
                f"WSIS_{service.upper()}_PORT": str(platform.ports[service]),
                f"WSIS_{service.upper()}_OUTBOX_POLL_INTERVAL_S": "0.05",
            }
            log = (workdir / f"{service}.log").open("wb")
            platform.processes[service] = subprocess.Popen(
                [sys.executable, "-m", f"wsis_{service}", "all"],
                env=service_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_ready(platform, workdir)
        yield platform
    finally:
        for process in platform.processes.values():
            process.terminate()
        for service, process in platform.processes.items():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                print(f"{service} did not stop on SIGTERM within 15 s")
        mail.stop()


def demo_tokens(platform: Platform, voters: int = 4) -> DemoTokens:
    """The tokens `make up` signs for its demo data, signed with the platform's key."""

    def token(subject: str, role: Role, org: str | None = None) -> str:
        return sign_dev_token(
            platform.private_key, subject=subject, roles=[role], organisation_id=org
        )

    return DemoTokens(
        admin=token("demo-admin", Role.ADMIN),
        chair=token("demo-chair", Role.CHAIR),
        voters=[token(f"demo-voter-{n}", Role.VOTER) for n in range(voters)],
        team=lambda org: token(f"demo-team-{org}", Role.SUBMITTER, org),
        reviewer=lambda subject: token(subject, Role.REVIEWER),
    )


@pytest.fixture(scope="session")
async def demo_data(platform: Platform) -> str:
    """`make up`'s demo data (edition 2027 in its voting phase), loaded once per session;
    the summary of that first load."""
    urls = {name: platform.url(name) for name in ("submissions", "review", "voting")}
    return await load_demo_data(urls, demo_tokens(platform))


@dataclass(frozen=True)
class EditionAdmin:
    """An admin running one edition through the submissions service's public API."""

    http: httpx.AsyncClient
    platform: Platform
    year: int

    @property
    def _headers(self) -> dict[str, str]:
        return self.platform.headers(roles=["admin"], sub="admin-1")

    async def open(self, schedule: dict[str, str]) -> None:
        """Creates the edition and opens its submission phase."""
        r = await self.http.post(
            f"{self.platform.url('submissions')}/editions",
            json={"year": self.year, "title": f"WSIS Prizes {self.year}", "schedule": schedule},
            headers=self._headers,
        )
        assert r.status_code == 201, r.text
        await self.set_phase("submission")

    async def set_phase(self, phase: str) -> None:
        r = await self.http.post(
            f"{self.platform.url('submissions')}/editions/{self.year}/phase",
            json={"phase": phase},
            headers=self._headers,
        )
        assert r.status_code == 200, r.text

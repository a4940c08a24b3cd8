"""`make up`: the infrastructure, the four services (API + workers) and demo data, until Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from wsis_devstack.demo import DemoTokens, load_demo_data, load_open_call
from wsis_devstack.infrastructure import PERSISTENT_PIDS, reap_leftovers
from wsis_devstack.kafka import KafkaServer
from wsis_devstack.mongodb import MongoServer
from wsis_devstack.processes import ManagedProcess, PidFile, port_in_use
from wsis_devstack.smtp_sink import SmtpSink

SERVICES = {"submissions": 8001, "review": 8002, "voting": 8003, "stocktaking": 8004}
WEB_PORT = 8000  # the web pages: one origin for people, over the four services' APIs
KAFKA_PORT, KAFKA_CONTROLLER_PORT, MONGO_PORT = 9092, 9093, 27017
SMTP_PORT, MAIL_PAGE_PORT = 1025, 8025  # the dev SMTP sink and its page of received mail


class StartupFailed(RuntimeError):
    pass


def service_processes(
    env: dict[str, str], logs: Path, ports: dict[str, int] | None = None
) -> dict[str, ManagedProcess]:
    """Each service as `python -m wsis_<name> all` (API and worker in one process)."""
    ports = ports or SERVICES
    return {
        name: ManagedProcess(
            name,
            [sys.executable, "-m", f"wsis_{name}", "all"],
            log_path=logs / f"{name}.log",
            env=env | {f"WSIS_{name.upper()}_PORT": str(port)},
        )
        for name, port in ports.items()
    }


def web_process(
    env: dict[str, str], logs: Path, port: int, service_ports: dict[str, int]
) -> ManagedProcess:
    """The web pages (`python -m wsis_web`), pointed at the services' ports."""
    urls = {
        f"WSIS_WEB_{name.upper()}_URL": f"http://127.0.0.1:{service_port}"
        for name, service_port in service_ports.items()
    }
    return ManagedProcess(
        "web",
        [sys.executable, "-m", "wsis_web"],
        log_path=logs / "web.log",
        env=env | urls | {"WSIS_WEB_PORT": str(port)},
    )


def wait_ready(
    processes: dict[str, ManagedProcess], ports: dict[str, int], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    pending = set(processes)
    while pending:
        for name in sorted(pending):
            process = processes[name]
            if not process.running():
                raise StartupFailed(f"{name} exited; its log says:\n{process.tail()}")
            try:
                response = httpx.get(f"http://127.0.0.1:{ports[name]}/readyz", timeout=2)
                if response.status_code == 200:
                    pending.discard(name)
            except httpx.TransportError:
                pass
        if pending and time.monotonic() > deadline:
            raise StartupFailed(f"not ready after {timeout_s:.0f}s: {sorted(pending)}")
        time.sleep(0.2)


@contextmanager
def _stop_on_exit(started: list[ManagedProcess]) -> Iterator[None]:
    try:
        yield
    finally:
        for process in reversed(started):
            process.stop()


def run_platform(cache: Path, *, demo: bool = True) -> None:
    started_at = time.monotonic()
    pids = PidFile(cache / PERSISTENT_PIDS)
    leftovers = reap_leftovers(cache, persistent=True)  # only a crashed run's (owner gone)
    if leftovers:
        print(f"stopped leftovers of a previous run: {', '.join(leftovers)}")
    busy = [
        p
        for p in (
            KAFKA_PORT,
            KAFKA_CONTROLLER_PORT,
            MONGO_PORT,
            SMTP_PORT,
            MAIL_PAGE_PORT,
            WEB_PORT,
            *SERVICES.values(),
        )
        if port_in_use(p)
    ]
    if busy:
        raise StartupFailed(
            f"ports already in use: {busy}. Is another `make up` running? Stop it (Ctrl-C) first."
        )

    from wsis_shared.auth import ensure_dev_keys, sign_dev_token
    from wsis_shared.vocabulary import Role

    private_key, public_key = ensure_dev_keys(cache / "dev-keys")
    logs = cache / "logs"
    mongo = MongoServer(cache, MONGO_PORT)
    kafka = KafkaServer(cache, KAFKA_PORT, KAFKA_CONTROLLER_PORT)
    env = os.environ | {
        "WSIS_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "WSIS_MONGO_URI": mongo.uri,
        "WSIS_JWT_PUBLIC_KEY_FILE": str(public_key),
        "WSIS_LOG_FORMAT": os.environ.get("WSIS_LOG_FORMAT", "json"),
        # Voter sign-up: codes go to the local SMTP sink, voter tokens are signed with the dev key.
        "WSIS_VOTING_SMTP_HOST": "127.0.0.1",
        "WSIS_VOTING_SMTP_PORT": str(SMTP_PORT),
        "WSIS_VOTING_VOTER_TOKEN_PRIVATE_KEY_FILE": str(private_key),
    }
    services = service_processes(env, logs)
    # The pages' development sign-in (any role, for local work): the same key as `make token`.
    web_env = env | {"WSIS_WEB_DEV_SIGN_IN_KEY_FILE": str(private_key)}
    services["web"] = web_process(web_env, logs, WEB_PORT, SERVICES)
    started: list[ManagedProcess] = []
    mail = SmtpSink(smtp_port=SMTP_PORT, http_port=MAIL_PAGE_PORT)
    with _stop_on_exit(started), mail:
        for name, server in (("mongod", mongo), ("kafka", kafka)):
            print(f"starting {name} …", flush=True)
            server.start()
            started.append(server.process)
            assert server.process.pid is not None
            pids.record(name, server.process.pid)
        from wsis_shared.messaging import ensure_topics

        asyncio.run(ensure_topics(kafka.bootstrap, ""))
        for name, process in services.items():
            process.start()
            started.append(process)
            assert process.pid is not None
            pids.record(name, process.pid)
        wait_ready(services, SERVICES | {"web": WEB_PORT}, timeout_s=90)

        key = private_key.read_bytes()

        def token(subject: str, role: Role, org: str | None = None) -> str:
            return sign_dev_token(key, subject=subject, roles=[role], organisation_id=org)

        summary = "demo data skipped"
        if demo:
            tokens = DemoTokens(
                admin=token("demo-admin", Role.ADMIN),
                chair=token("demo-chair", Role.CHAIR),
                voters=[token(f"demo-voter-{n}", Role.VOTER) for n in range(12)],
                team=lambda org: token(f"demo-team-{org}", Role.SUBMITTER, org),
                reviewer=lambda subject: token(subject, Role.REVIEWER),
            )
            urls = {name: f"http://127.0.0.1:{port}" for name, port in SERVICES.items()}
            summary = asyncio.run(load_demo_data(urls, tokens))
            summary += "; " + asyncio.run(load_open_call(urls, tokens))

        print()
        print(f"WSIS platform up in {time.monotonic() - started_at:.1f}s — {summary}")
        print(f"  web pages    http://127.0.0.1:{WEB_PORT}/   (voting, results, stocktaking)")
        print(
            f"  sign in      http://127.0.0.1:{WEB_PORT}/account/sign-in   (development: team "
            "org-demo-0, reviewer demo-reviewer-1, chair demo-chair, admin demo-admin)"
        )
        for name, port in SERVICES.items():
            print(f"  {name:<12} http://127.0.0.1:{port}/docs")
        print(f"  kafka        {kafka.bootstrap}   mongodb  {mongo.uri}")
        print(f"  mail         {mail.url}   (voters' codes; SMTP on 127.0.0.1:{SMTP_PORT})")
        print(f"  logs         {logs}/")
        print("  tokens       make token ROLE=admin|chair|reviewer|voter|submitter [ORG=…]")
        print("Ctrl-C stops everything.", flush=True)
        _wait_for_stop(started)
        print("\nstopping …", flush=True)
    pids.path.unlink(missing_ok=True)
    print("stopped.")


def _wait_for_stop(processes: list[ManagedProcess]) -> None:
    stop = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stop:
        for process in processes:
            if not process.running():
                print(f"\n{process.name} exited unexpectedly; its log says:\n{process.tail()}")
                return
        time.sleep(0.5)

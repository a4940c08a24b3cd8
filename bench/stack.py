"""The whole platform for a benchmark: the four services as processes on a throw-away database
and topic prefix, one of them as in production (its API in several processes, its worker
apart), and reference apps (the ceilings) beside them."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from wsis_devstack.platform import service_processes, wait_ready
from wsis_devstack.processes import ManagedProcess, free_port
from wsis_shared.auth import ensure_dev_keys

SERVICES = ("submissions", "review", "voting", "stocktaking")


@dataclass(frozen=True)
class Stack:
    urls: dict[str, str]  # service name -> base URL
    references: dict[str, str]  # reference app -> the URL it answers POSTs on
    private_key: bytes
    db_prefix: str


def cpu_seconds(pid: int | str) -> float:
    """CPU time (user + system) a process on this machine has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running_stack(
    bootstrap: str,
    mongo_uri: str,
    workdir: Path,
    *,
    split: str,
    api_processes: int,
    references: dict[str, tuple[list[str], str]],
    env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """`references`: name -> (the module's arguments after its port, the path it answers);
    each runs as `python -m bench.<name> PORT API_PROCESSES *arguments`."""
    private_key, public_key = ensure_dev_keys(workdir / "keys")
    ports = {name: free_port() for name in SERVICES}
    prefix = f"bench{os.getpid()}_"
    environment = (
        os.environ
        | {
            "WSIS_KAFKA_BOOTSTRAP": bootstrap,
            "WSIS_MONGO_URI": mongo_uri,
            "WSIS_MONGO_DB_PREFIX": prefix,
            "WSIS_TOPIC_PREFIX": f"bench{os.getpid()}.",
            "WSIS_JWT_PUBLIC_KEY_FILE": str(public_key),
            "WSIS_LOG_LEVEL": "WARNING",
        }
        | (env or {})
    )
    processes = service_processes(environment, workdir / "logs", ports)
    processes[split].argv = [sys.executable, "-m", f"wsis_{split}", "api"]
    processes[split].env = dict(processes[split].env or {}) | {
        f"WSIS_{split.upper()}_API_PROCESSES": str(api_processes)
    }
    worker = ManagedProcess(
        f"{split}-worker",
        [sys.executable, "-m", f"wsis_{split}", "worker"],
        log_path=workdir / "logs" / f"{split}-worker.log",
        env=environment,
    )
    reference_urls: dict[str, str] = {}
    reference_processes = []
    for name, (arguments, path) in references.items():
        port = free_port()
        reference_urls[name] = f"http://127.0.0.1:{port}{path}"
        reference_processes.append(
            ManagedProcess(
                name,
                [sys.executable, "-m", f"bench.{name}", str(port), str(api_processes), *arguments],
                log_path=workdir / "logs" / f"{name}.log",
            )
        )
    everything = (*processes.values(), worker, *reference_processes)
    try:
        for process in everything:
            process.start()
        wait_ready(processes, ports, timeout_s=90)
        for url in reference_urls.values():
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    httpx.post(url, json={}).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
        yield Stack(
            urls={name: f"http://127.0.0.1:{port}" for name, port in ports.items()},
            references=reference_urls,
            private_key=private_key.read_bytes(),
            db_prefix=prefix,
        )
    finally:
        for process in everything:
            process.stop()

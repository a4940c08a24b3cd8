"""The whole platform for a benchmark: the four services as processes on a throw-away database
and topic prefix, one of them as in production (its API in several processes, its worker
apart), and reference apps (the ceilings) beside them."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from wsis_devstack.infrastructure import ephemeral_infrastructure
from wsis_devstack.kafka import drop_topics
from wsis_devstack.mongodb import drop_databases
from wsis_devstack.paths import cache_dir
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


def _process_names() -> dict[str, str]:
    """Every process of this machine that belongs to the stack, by the name of what it runs: a
    service's API or worker (its uvicorn children counted with it), mongod, the broker, a
    reference app, or this benchmark itself."""
    parents, commands = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[entry.name] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parents[entry.name] = stat.rsplit(")", 1)[1].split()[1]

    def name_of(command: str) -> str | None:
        if "bin/mongod" in command:
            return "mongod"
        if "kafka.Kafka" in command:
            return "kafka"
        if " -m wsis_" in command and "wsis_devstack" not in command:
            return command.split(" -m ", 1)[1].strip()
        if " -m bench." in command:
            return command.split(" -m ", 1)[1].split()[0]
        return None

    names = {}
    for pid in commands:
        ancestor: str | None = pid
        while ancestor in commands and ancestor != "1":
            name = name_of(commands[ancestor])
            if name is not None:
                names[pid] = name
                break
            ancestor = parents.get(ancestor)
    names[str(os.getpid())] = "benchmark client"
    return names


class CpuAccount:
    """CPU time each part of the stack spends after `start()`."""

    def start(self) -> None:
        self._names = _process_names()
        self._before = {pid: _cpu_or_zero(pid) for pid in self._names}

    def spent(self) -> dict[str, float]:
        """CPU seconds of each part since `start()`."""
        spent: dict[str, float] = {}
        for pid, name in self._names.items():
            spent[name] = spent.get(name, 0.0) + max(0.0, _cpu_or_zero(pid) - self._before[pid])
        return spent

    def per_operation(self, operations: int) -> list[tuple[str, float]]:
        """(part, ms of CPU per operation), the largest first; the last is the sum."""
        rows = sorted(
            ((name, 1000 * s / operations) for name, s in self.spent().items() if s > 0),
            key=lambda row: -row[1],
        )
        return [*rows, ("in all", sum(ms for _, ms in rows))]

    def line(self, operations: int, precision: int = 2) -> str:
        """`per_operation` as one printable line: "api 0.81, mongod 0.42, …, in all 1.9"."""
        rows = self.per_operation(operations)
        return ", ".join(f"{name} {ms:.{precision}f}" for name, ms in rows)


def _cpu_or_zero(pid: str) -> float:
    try:
        return cpu_seconds(pid)
    except OSError:
        return 0.0


def in_processes(count: int) -> str:
    """'in 1 process', 'in 2 processes': how a benchmark's line says how an API was served."""
    return f"in {count} process" if count == 1 else f"in {count} processes"


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
    prefix = bench_db_prefix()
    environment = (
        os.environ
        | {
            "WSIS_KAFKA_BOOTSTRAP": bootstrap,
            "WSIS_MONGO_URI": mongo_uri,
            "WSIS_MONGO_DB_PREFIX": prefix,
            "WSIS_TOPIC_PREFIX": f"bench{os.getpid()}.",
            "WSIS_JWT_PUBLIC_KEY_FILE": str(public_key),
            # Voter sign-up on, as in `make up`: the voting service signs voter tokens.
            "WSIS_VOTING_VOTER_TOKEN_PRIVATE_KEY_FILE": str(private_key),
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
        drop_databases(mongo_uri, prefix)
        drop_topics(bootstrap, environment["WSIS_TOPIC_PREFIX"])


def bench_db_prefix() -> str:
    """This run's databases: the services' and the references' (`bench<pid>_…`)."""
    return f"bench{os.getpid()}_"


def run_alone(main: Callable[[str, str, Path], str]) -> None:
    """One benchmark from the command line (`python -m bench.<name>`): on the broker and mongod
    named by WSIS_KAFKA_BOOTSTRAP and WSIS_MONGO_URI, or on throw-away ones."""
    with tempfile.TemporaryDirectory() as directory:
        bootstrap, uri = os.environ.get("WSIS_KAFKA_BOOTSTRAP"), os.environ.get("WSIS_MONGO_URI")
        if bootstrap and uri:
            print(main(bootstrap, uri, Path(directory)), flush=True)
        else:
            with ephemeral_infrastructure(cache_dir()) as infra:
                print(main(infra.kafka_bootstrap, infra.mongo_uri, Path(directory)), flush=True)

"""Child processes that never outlive us: own process group, log file, SIGTERM then SIGKILL.

A pid file per stack records what was started (and by whom), so a `make up` after a crash (or a
killed terminal) first stops the leftovers of the previous run instead of failing on busy ports,
and a test session that was killed leaves no broker behind for the next one.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(count: int) -> list[int]:
    """`count` distinct free ports (each socket is held until all are found)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_port_free(port: int, timeout_s: float = 10.0) -> bool:
    """True once nothing answers on `port` (a stopped server's socket can linger briefly)."""
    deadline = time.monotonic() + timeout_s
    while port_in_use(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process (Linux), None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    return None


@dataclass
class ManagedProcess:
    """A command run in its own process group, its stdout and stderr appended to `log_path`.

    `start()` may be called again after `stop()` (a restart with the same command and log).
    With a `pid_file`, the process is recorded there while it runs (see `PidFile.reap`).
    """

    name: str
    argv: Sequence[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    pid_file: PidFile | None = None
    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if self.running():
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                list(self.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(self.env) if self.env is not None else None,
                cwd=self.cwd,
                start_new_session=True,  # its own process group: we can stop all it spawns
            )
        if self.pid_file is not None:
            self.pid_file.record(self.name, self._popen.pid)

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def returncode(self) -> int | None:
        return self._popen.poll() if self._popen else None

    def rss_bytes(self) -> int | None:
        return rss_bytes(self._popen.pid) if self.running() and self._popen else None

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM to the group, wait up to `timeout_s`, then SIGKILL. Idempotent."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            _signal_group(self._popen.pid, signal.SIGTERM)
            try:
                self._popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(self._popen.pid, signal.SIGKILL)
                self._popen.wait()
        # Whatever the leader left behind in its group goes too.
        _signal_group(self._popen.pid, signal.SIGKILL)
        self._popen = None
        if self.pid_file is not None:
            self.pid_file.forget(self.name)

    def kill(self) -> None:
        """SIGKILL to the group, as a crash would: for fault-injection tests."""
        if self._popen is not None:
            _signal_group(self._popen.pid, signal.SIGKILL)
            self._popen.wait()
            self._popen = None
            if self.pid_file is not None:
                self.pid_file.forget(self.name)

    def tail(self, chars: int = 4000) -> str:
        return tail_of(self.log_path, chars)


def tail_of(path: Path, chars: int = 4000) -> str:
    try:
        with path.open("rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - chars))
            return file.read().decode(errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _start_time(pid: int) -> str | None:
    """When the process started (clock ticks since boot): with the pid, it names one process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


class PidFile:
    """Records the process groups a stack started, and the pid of the process that started them.

    `reap()` stops those still alive. A pid is only signalled while its start time is the one
    recorded, so a pid reused by an unrelated process is left alone.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _processes(self) -> dict[str, tuple[int, str | None]]:
        data = self._read()
        raw = data.get("processes", data)  # an older file: {"name": pid}
        found: dict[str, tuple[int, str | None]] = {}
        if isinstance(raw, dict):
            for name, entry in raw.items():
                if isinstance(entry, int) and name != "owner":
                    found[str(name)] = (entry, None)
                elif isinstance(entry, dict) and isinstance(entry.get("pid"), int):
                    started = entry.get("started")
                    found[str(name)] = (
                        entry["pid"],
                        started if isinstance(started, str) else None,
                    )
        return found

    def _write(self, processes: dict[str, object]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"owner": os.getpid(), "processes": processes}))
        tmp.replace(self.path)

    def _recorded(self) -> dict[str, object]:
        processes = self._read().get("processes")
        return processes if isinstance(processes, dict) else {}

    def record(self, name: str, pid: int) -> None:
        with self._lock:
            processes = self._recorded()
            processes[name] = {"pid": pid, "started": _start_time(pid)}
            self._write(processes)

    def forget(self, name: str) -> None:
        with self._lock:
            processes = self._recorded()
            if processes.pop(name, None) is not None:
                self._write(processes)

    def remove_if_empty(self) -> None:
        """Delete the file once it records no process (never another run's live processes)."""
        with self._lock:
            if self.path.exists() and not self._processes():
                self.path.unlink(missing_ok=True)

    def owner_alive(self) -> bool:
        owner = self._read().get("owner")
        return isinstance(owner, int) and _alive(owner)

    def reap(self) -> list[str]:
        """Stop every recorded process still alive (SIGTERM, then SIGKILL); remove the file."""
        stopped = []
        for name, (pid, started) in self._processes().items():
            if not _alive(pid) or (started is not None and _start_time(pid) != started):
                continue
            _signal_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
                time.sleep(0.1)
            _signal_group(pid, signal.SIGKILL)
            stopped.append(name)
        self.path.unlink(missing_ok=True)
        return stopped

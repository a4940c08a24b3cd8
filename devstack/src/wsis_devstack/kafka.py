"""Genuine Apache Kafka, single node in KRaft mode, from Maven Central jars run with Java 17.

The jars are resolved once by Maven from `devstack/kafka/pom.xml` into `.cache/kafka/<version>/`;
the storage is formatted once; the data dir persists, so a restart keeps every message.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from wsis_devstack.paths import REPO_ROOT
from wsis_devstack.processes import ManagedProcess, free_port, port_in_use, tail_of

POM = REPO_ROOT / "devstack" / "kafka" / "pom.xml"


def pinned_version(pom: Path = POM) -> str:
    """`kafka.version` of the pom: the newest release aiokafka 0.14 passes
    tests/integration/test_broker_contract.py on (README, "Kafka version")."""
    match = re.search(r"<kafka\.version>\s*([^<\s]+)\s*</kafka\.version>", pom.read_text())
    if match is None:
        raise RuntimeError(f"no <kafka.version> in {pom}")
    return match.group(1)


# WSIS_KAFKA_VERSION overrides the pinned release only to try another one against the contract
# test.
KAFKA_VERSION = os.environ.get("WSIS_KAFKA_VERSION") or pinned_version()
JVM_OPTIONS = (
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djava.awt.headless=true",
)

# Warnings and errors only, plus the line that says the server started.
_LOG4J2 = """\
status = warn
shutdownHook = disable
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
"""

_MISSING = "{tool} is missing: run `make tools` (`python -m wsis_devstack ensure-tools`)"


def ensure_kafka(cache: Path, version: str = KAFKA_VERSION) -> Path:
    """The folder of the broker's jars, resolved from Maven Central the first time."""
    libs = (cache / "kafka" / version / "libs").resolve()
    marker = libs / ".complete"
    if marker.exists():
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError(_MISSING.format(tool="Maven"))
    shutil.rmtree(libs, ignore_errors=True)
    done = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(POM),
            f"-Dkafka.version={version}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not any(libs.glob(f"kafka_2.13-{version}.jar")):
        raise RuntimeError(
            f"Maven could not resolve Kafka {version}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    marker.write_text(version + "\n")
    return libs


def _java() -> str:
    java = shutil.which("java")
    if java is None:
        raise RuntimeError(
            "Java 17+ is missing: run `make tools` (python -m wsis_devstack ensure-tools)"
        )
    return java


class KafkaServer:
    """A broker+controller on loopback; `stop()`/`start()` restart it on the same data and port.

    `data_dir` defaults to `<cache>/kafka/data-<port>` (persistent: `make up`); tests pass a
    throw-away one. `controller_port` defaults to a free port.
    """

    def __init__(
        self,
        cache: Path,
        port: int,
        controller_port: int | None = None,
        data_dir: Path | None = None,
        version: str = KAFKA_VERSION,
    ) -> None:
        self.port = port
        self.controller_port = controller_port or free_port()
        self.version = version
        self.libs = ensure_kafka(cache, version)
        self.data_dir = (data_dir or cache / "kafka" / f"data-{port}").resolve()
        self.config = self.data_dir / "server.properties"
        self.server_log = self.data_dir / "server.log"
        self.java = _java()
        self.process = ManagedProcess(
            "kafka",
            [
                self.java,
                *JVM_OPTIONS,
                f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
                "-cp",
                f"{self.libs}/*",
                "kafka.Kafka",
                str(self.config),
            ],
            log_path=self.data_dir / "stdout.log",
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def running(self) -> bool:
        return self.process.running()

    def _write_config(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logs = self.data_dir / "logs"
        self.config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.bootstrap.servers=127.0.0.1:{self.controller_port}",
                    f"listeners=PLAINTEXT://127.0.0.1:{self.port},"
                    f"CONTROLLER://127.0.0.1:{self.controller_port}",
                    f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                    "controller.listener.names=CONTROLLER",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"log.dirs={logs}",
                    "num.partitions=3",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=10",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    # Every acknowledged write reaches the disk before the ack: one node has no
                    # replica to recover from, and the contract test restarts the broker.
                    "log.flush.interval.messages=1",
                    "",
                ]
            )
        )
        (self.data_dir / "log4j2.properties").write_text(_LOG4J2.format(log=self.server_log))

    def _format_storage(self) -> None:
        if (self.data_dir / "logs" / "meta.properties").exists():
            return
        done = subprocess.run(
            [
                self.java,
                "-cp",
                f"{self.libs}/*",
                f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                _cluster_id(),
                "--config",
                str(self.config),
                "--standalone",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"formatting the Kafka storage in {self.data_dir} failed:\n"
                f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
            )

    def start(self, timeout_s: float = 90.0) -> None:
        """Start and wait until a client can fetch metadata. Blocking; not from an event loop
        (use `start_async` there)."""
        for port in (self.port, self.controller_port):
            if port_in_use(port):
                raise RuntimeError(
                    f"port {port} is already in use: is another broker (or `make up`) running?"
                )
        self._write_config()
        self._format_storage()
        self.process.start()
        deadline = time.monotonic() + timeout_s
        while not asyncio.run(self._answers()):
            if not self.process.running():
                code = self.process.returncode()
                self.process.stop()
                raise RuntimeError(f"Kafka exited with code {code}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.process.stop()
                raise RuntimeError(f"Kafka not ready after {timeout_s:.0f}s:\n{self.log_tail()}")
            time.sleep(0.25)

    async def _answers(self) -> bool:
        if not port_in_use(self.port):
            return False
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=2000)
        try:
            await asyncio.wait_for(admin.start(), 3)
            await asyncio.wait_for(admin.list_topics(), 3)
            return True
        except Exception:
            return False
        finally:
            await admin.close()

    def log_tail(self) -> str:
        return (
            f"--- {self.server_log} ---\n{tail_of(self.server_log, 3000)}\n"
            f"--- {self.process.log_path} ---\n{self.process.tail(2000)}"
        )

    def stop(self) -> None:
        """A clean shutdown (SIGTERM; SIGKILL after 20 s)."""
        self.process.stop()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        self.process.kill()

    def restart(self, timeout_s: float = 90.0) -> None:
        self.stop()
        self.start(timeout_s)

    async def start_async(self, timeout_s: float = 90.0) -> None:
        await asyncio.to_thread(self.start, timeout_s)

    async def stop_async(self) -> None:
        await asyncio.to_thread(self.stop)


def _cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def drop_topics(bootstrap: str, prefix: str) -> None:
    """Delete the topics a test session or benchmark run created (all named `prefix…`) from a
    shared broker, which otherwise keeps every run's partitions for good (3,595 topics had
    accumulated on one `wsis_devstack infra`)."""

    async def drop() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
            for start in range(0, len(topics), 100):
                await admin.delete_topics(topics[start : start + 100])
        finally:
            await admin.close()

    asyncio.run(drop())

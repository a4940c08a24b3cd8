"""The local infrastructure as one object: a Kafka broker and a MongoDB replica set."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from wsis_devstack.kafka import KafkaServer
from wsis_devstack.mongodb import MongoServer
from wsis_devstack.processes import free_port


@dataclass
class Infrastructure:
    kafka: KafkaServer
    mongo: MongoServer

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka.bootstrap

    @property
    def mongo_uri(self) -> str:
        return self.mongo.uri

    def stop(self) -> None:
        self.kafka.stop()
        self.mongo.stop()


@contextmanager
def ephemeral_infrastructure(cache: Path) -> Iterator[Infrastructure]:
    """Broker and mongod on free ports with throw-away data (tests)."""
    scratch = cache / "tmp" / uuid.uuid4().hex[:10]
    infra = Infrastructure(
        kafka=KafkaServer(cache, free_port(), free_port(), data_dir=scratch / "kafka"),
        mongo=MongoServer(cache, free_port(), data_dir=scratch / "mongodb"),
    )
    try:
        infra.mongo.start()
        infra.kafka.start()
        yield infra
    finally:
        infra.stop()
        shutil.rmtree(scratch, ignore_errors=True)

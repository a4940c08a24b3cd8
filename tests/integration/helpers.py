"""Small helpers shared by the integration and e2e tests."""

from __future__ import annotations

import asyncio
import struct
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from wsis_shared.auth import ensure_dev_keys
from wsis_shared.messaging.kafka import partitions_of
from wsis_shared.runtime import Resources, ServiceDefinition
from wsis_shared.settings import ServiceSettings


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 30.0, what: str = "condition"
) -> None:
    """Poll `check` until it is true; fail with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every message currently in `topic`, all partitions, from the beginning."""
    partitions = await partitions_of(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


@asynccontextmanager
async def service_resources(
    definition: ServiceDefinition[Any],
    settings_type: type[ServiceSettings],
    *,
    mongo_uri: str,
    mongo_db_prefix: str,
    keys_dir: Path,
) -> AsyncIterator[Resources]:
    """A service's resources (client, database with its indexes, outbox) on a database of its
    own, dropped afterwards."""
    _, public_key = ensure_dev_keys(keys_dir)
    settings = settings_type(
        mongo_uri=mongo_uri,
        mongo_db_prefix=f"{mongo_db_prefix}{uuid.uuid4().hex[:6]}_",
        jwt_public_key_file=public_key,
    )
    async with definition.open_resources(settings) as opened:
        yield opened
        await opened.mongo.drop_database(opened.db.name)


# A complete entry for the submissions API (`POST /editions/{y}/entries`): ready to submit.
COMPLETE_ENTRY: Final[dict[str, Any]] = {
    "title": "A complete project",
    "short_description": " ".join(f"word{i}" for i in range(160)),
    "full_description": "The whole story.",
    "category": "C4",
    "sdgs": [4],
    "country": "KE",
    "stakeholder_type": "academia",
    "organisation_name": "University",
    "impact_qualitative": "It helped.",
    "beneficiaries": "students",
    "start_date": "2024-01-01",
    "project_status": "completed",
    "contact_name": "Ana",
    "contact_email": "ana@uni.example.org",
}


def whole_png() -> bytes:
    """A 1×1 PNG whose every chunk is right (length, CRC), IEND at the end: what the
    attachments' frame check accepts."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )

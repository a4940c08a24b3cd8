"""What each kind of MongoDB operation a submission makes costs mongod in CPU on this machine.

Explains the submissions benchmark: a submission is some twenty operations across the services
(two transactions in submissions, the outbox relay, the review and stocktaking consumers), so
the price of one operation sets the ceiling of the whole. mongod's CPU time is read from /proc
(its pid from `serverStatus`), so this needs a mongod on this machine:
`WSIS_MONGO_URI=… python -m bench.mongod_costs`. Each figure is printed beside the cheapest
write, a plain insert, as a ratio.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient, IndexModel

from bench.stack import cpu_seconds

OPERATIONS = 1500
CONCURRENCY = 16
_DESCRIPTION = " ".join(f"w{random.Random(7).randint(0, 5000)}" for _ in range(170))


async def _measure(pid: int, operation: Callable[[int], Awaitable[Any]]) -> float:
    """mongod CPU milliseconds per operation."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> None:
        async with gate:
            await operation(n)

    before = cpu_seconds(pid)
    await asyncio.gather(*(one(n) for n in range(OPERATIONS)))
    return 1000 * (cpu_seconds(pid) - before) / OPERATIONS


async def run(mongo_uri: str) -> str:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
    name = f"bench_mongod_costs_{os.getpid()}"
    db = client[name]
    try:
        pid = int((await client.admin.command("serverStatus"))["pid"])
        entries, history, outbox = db["entries"], db["history"], db["outbox"]
        await entries.create_indexes(
            [
                IndexModel([("edition", ASCENDING), ("organisation_id", ASCENDING)]),
                IndexModel([("edition", ASCENDING), ("status", ASCENDING), ("_id", ASCENDING)]),
                IndexModel([("similarity.bands", ASCENDING)], name="bands"),
            ]
        )
        await history.create_index([("entry_id", ASCENDING), ("version", ASCENDING)])
        await db.create_collection("outbox")
        ids = [str(uuid.uuid4()) for _ in range(OPERATIONS)]
        rng = random.Random(11)

        def bands() -> list[str]:
            return [f"d{band}:{rng.getrandbits(64):016x}" for band in range(40)]

        async def insert(n: int) -> None:
            await entries.insert_one(
                {
                    "_id": ids[n],
                    "edition": 2040,
                    "organisation_id": f"org-{n}",
                    "status": "draft",
                    "content": {"title": f"Project {n}", "short_description": _DESCRIPTION},
                }
            )

        async def read(n: int) -> None:
            await entries.find_one({"_id": ids[n]})

        async def read_in_transaction(n: int) -> None:
            async with client.start_session() as session, await session.start_transaction():
                await entries.find_one({"_id": ids[n]}, session=session)

        async def two_inserts_in_transaction(n: int) -> None:
            async with client.start_session() as session, await session.start_transaction():
                await history.insert_one({"entry_id": ids[n], "version": 1}, session=session)
                await outbox.insert_one({"_id": ids[n], "value": b"x" * 1500}, session=session)

        async def update(n: int) -> None:
            await entries.update_one({"_id": ids[n]}, {"$set": {"version": 2}})

        async def update_with_bands(n: int) -> None:
            await entries.update_one(
                {"_id": ids[n]}, {"$set": {"status": "submitted", "similarity.bands": bands()}}
            )

        async def band_query(n: int) -> None:
            await entries.find(
                {"_id": {"$ne": ids[n]}, "similarity.bands": {"$in": bands()}}
            ).to_list()

        figures = {"insert (the reference)": await _measure(pid, insert)}
        for label, operation in (
            ("find one by _id", read),
            ("find one by _id in a transaction", read_in_transaction),
            ("transaction of two inserts", two_inserts_in_transaction),
            ("update, no indexed field", update),
            ("update writing 40 near-duplicate band keys", update_with_bands),
            ("near-duplicate query ($in 40 band keys)", band_query),
        ):
            figures[label] = await _measure(pid, operation)
    finally:
        await client.drop_database(name)
        await client.close()
    reference = figures["insert (the reference)"]
    lines = [f"mongod CPU per operation ({OPERATIONS:,} each, {CONCURRENCY} at a time):"]
    lines += [
        f"  {label:45} {ms:5.2f} ms  ratio {ms / reference:4.2f}" for label, ms in figures.items()
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    started = time.perf_counter()
    print(asyncio.run(run(os.environ["WSIS_MONGO_URI"])))
    print(f"({time.perf_counter() - started:.0f} s)")

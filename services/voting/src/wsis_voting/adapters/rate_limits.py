"""Abuse limits kept in MongoDB, so every API replica counts against the same numbers.

The limiter is the `limits` library (5.8): its notation for limits ("5/hour;10/day"), its keys
and its fixed-window strategy (`limits.aio.strategies.FixedWindowRateLimiter`). Its storage is
the question, since a storage shared by the replicas is needed and MongoDB is what we run:

- `limits`' own async MongoDB storage is built on Motor, which MongoDB has deprecated in favour
  of PyMongo's async API (what this platform uses) and which is not installed;
- its sync MongoDB storage would need a thread hop per check (and a second, blocking client) on
  the vote path, where each request should cost as little as possible;

so this module implements the library's async `Storage` interface (the part the fixed-window
strategy uses: `incr`, `get`, `get_expiry`, `clear`, `reset`, `check`) on the service's own
`AsyncMongoClient`, twice:

- `MongoRateLimitStorage` (code requests, verifications: rare, exact): a hit is one atomic
  `findOneAndUpdate` with an update pipeline that starts a new window when the previous one has
  expired (mongod's clock, `$$NOW`, so replicas agree);
- `BatchedMongoRateLimitStorage` (votes: the hot path): the same documents, but hits are counted
  in memory and written in one bulk write per 100 ms per process: two majority writes per vote
  checked 0.24–0.38 of a plain `insert_one`'s rate in the same run, the batched path about ten
  times the unbatched one (README, "Voters"); other replicas' hits are seen up to 100 ms late.

A TTL index on `expireAt` removes dead windows. Fixed windows are the cheapest strategy (one
small document per key and window); they let through up to twice a limit around a window's end,
which is acceptable for generous abuse limits.

Identifiers (a canonical address, an IP, a voter id) are HMAC-ed before they become keys: the
collection holds no personal data. `MongoSpentChallenges` records used bot challenges (an insert
on a unique `_id`; a TTL index removes them once they would have expired anyway).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from pymongo import ASCENDING, IndexModel, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError

from wsis_shared.errors import TooManyRequests
from wsis_shared.logging import get_logger
from wsis_shared.mongo import Document

log = get_logger(__name__)

RATE_LIMITS: Final = "rate_limits"
SPENT_CHALLENGES: Final = "spent_challenges"
ABUSE_INDEXES: Final = {
    RATE_LIMITS: [IndexModel([("expireAt", ASCENDING)], expireAfterSeconds=0)],
    SPENT_CHALLENGES: [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)],
}


class MongoRateLimitStorage(Storage):
    """`limits`' async storage interface on PyMongo's async client (fixed windows)."""

    # No STORAGE_SCHEME: built from a collection, never from a URI string.

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        super().__init__()
        self._collection = collection

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return PyMongoError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        document = await self._collection.find_one_and_update(
            {"_id": key},
            _count_in_window(amount, expiry),
            upsert=True,
            projection={"count": True},
            return_document=ReturnDocument.AFTER,
        )
        return int(document["count"]) if document else amount

    async def get(self, key: str) -> int:
        document = await self._collection.find_one(
            {"_id": key, "expireAt": {"$gt": datetime.now(UTC)}}, projection={"count": True}
        )
        return int(document["count"]) if document else 0

    async def get_expiry(self, key: str) -> float:
        document = await self._collection.find_one({"_id": key}, projection={"expireAt": True})
        if document is None:
            return time.time()
        return _timestamp(document["expireAt"])

    async def check(self) -> bool:
        try:
            await self._collection.database.command("ping")
        except PyMongoError:
            return False
        return True

    async def reset(self) -> int | None:
        result = await self._collection.delete_many({})
        return result.deleted_count

    async def clear(self, key: str) -> None:
        await self._collection.delete_one({"_id": key})


def _count_in_window(amount: int, expiry: int) -> list[dict[str, Any]]:
    """Add `amount` to the window's count, or start a new window of `expiry` seconds (mongod's
    clock) when there is none or it has expired: one atomic update."""
    expired = {"$lt": [{"$ifNull": ["$expireAt", None]}, "$$NOW"]}
    return [
        {
            "$set": {
                "count": {"$cond": [expired, amount, {"$add": ["$count", amount]}]},
                "expireAt": {"$cond": [expired, {"$add": ["$$NOW", expiry * 1000]}, "$expireAt"]},
            }
        }
    ]


@dataclass
class _Window:
    expires: float  # epoch seconds: provisional until the first write, then MongoDB's
    expiry: int
    shared: int = 0  # the count in MongoDB (every replica's hits) at the last write
    pending: int = 0  # this process's hits not written yet


class BatchedMongoRateLimitStorage(Storage):
    """The same windows, for the hot path (casting votes): a hit is counted in memory at once,
    and at most every `sync_interval_s` the request that finds the last write older than that
    writes every pending count in one unordered bulk write and reads the shared counts back.

    A decision uses the shared count as of the last write plus this process's hits since, so
    it is exact within a process and sees other replicas' hits at most an interval late (a
    limit can be overshot by what other replicas let through in that interval). The cost is
    one bulk write and one read per interval per process instead of a write per request. If
    MongoDB cannot be reached, the counts stay pending and requests are not refused for it.
    """

    def __init__(
        self, collection: AsyncCollection[Document], *, sync_interval_s: float = 0.1
    ) -> None:
        super().__init__()
        self._collection = collection
        self._interval = sync_interval_s
        self._windows: dict[str, _Window] = {}
        self._lock = asyncio.Lock()
        self._last_sync = time.monotonic()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return PyMongoError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        window = self._windows.get(key)
        if window is None or window.expires <= now:
            window = self._windows[key] = _Window(expires=now + expiry, expiry=expiry)
        window.pending += amount
        if time.monotonic() - self._last_sync >= self._interval and not self._lock.locked():
            async with self._lock:
                self._last_sync = time.monotonic()
                await self.sync()
        return window.shared + window.pending

    async def sync(self) -> None:
        """Write the pending counts, read the shared ones back, forget expired windows."""
        now = time.time()
        for key in [k for k, w in self._windows.items() if w.expires <= now and not w.pending]:
            del self._windows[key]
        # The windows themselves, not their keys: one may be replaced by a new window meanwhile.
        sent = {key: (w, w.pending) for key, w in self._windows.items() if w.pending}
        if not sent:
            return
        try:
            await self._collection.bulk_write(
                [
                    UpdateOne({"_id": key}, _count_in_window(amount, w.expiry), upsert=True)
                    for key, (w, amount) in sent.items()
                ],
                ordered=False,
            )
        except PyMongoError as exc:
            log.warning("abuse.rate_limits.sync_failed", error=type(exc).__name__)
            return
        for window, amount in sent.values():
            window.pending -= amount
            window.shared += amount
        try:
            cursor = self._collection.find(
                {"_id": {"$in": list(sent)}}, projection={"count": True, "expireAt": True}
            )
            async for document in cursor:
                window, _ = sent[document["_id"]]
                window.shared = int(document["count"])
                window.expires = _timestamp(document["expireAt"])
        except PyMongoError as exc:
            log.warning("abuse.rate_limits.read_failed", error=type(exc).__name__)

    async def get(self, key: str) -> int:
        window = self._windows.get(key)
        if window is None or window.expires <= time.time():
            return 0
        return window.shared + window.pending

    async def get_expiry(self, key: str) -> float:
        window = self._windows.get(key)
        return window.expires if window is not None else time.time()

    async def check(self) -> bool:
        try:
            await self._collection.database.command("ping")
        except PyMongoError:
            return False
        return True

    async def reset(self) -> int | None:
        self._windows.clear()
        result = await self._collection.delete_many({})
        return result.deleted_count

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)
        await self._collection.delete_one({"_id": key})


def _timestamp(value: datetime) -> float:
    return value.replace(tzinfo=value.tzinfo or UTC).timestamp()


class AbuseLimiter:
    """Counts hits per (limit name, identifier) against parsed limits; `TooManyRequests` with
    the seconds until the window resets when one is exceeded."""

    def __init__(self, storage: Storage, *, key: bytes, enabled: bool = True) -> None:
        self._limiter = FixedWindowRateLimiter(storage)
        self._key = key
        self.enabled = enabled

    def _identifier(self, identifier: str) -> str:
        return hmac.new(self._key, identifier.encode(), hashlib.sha256).hexdigest()[:32]

    async def hit(self, name: str, items: Sequence[RateLimitItem], identifier: str) -> None:
        """Count one hit against every item (concurrently: one round trip's time)."""
        if not self.enabled or not items:
            return
        key = self._identifier(identifier)
        allowed = await asyncio.gather(*(self._limiter.hit(item, name, key) for item in items))
        await self._refuse_if_any(name, items, allowed, key)

    async def check(self, name: str, items: Sequence[RateLimitItem], identifier: str) -> None:
        """Refuse as `hit` would, without counting: for what is counted only once it happened
        (a code actually sent, not a request that sent nothing)."""
        if not self.enabled or not items:
            return
        key = self._identifier(identifier)
        allowed = await asyncio.gather(*(self._limiter.test(item, name, key) for item in items))
        await self._refuse_if_any(name, items, allowed, key)

    async def _refuse_if_any(
        self, name: str, items: Sequence[RateLimitItem], allowed: Sequence[bool], key: str
    ) -> None:
        refused = [item for item, ok in zip(items, allowed, strict=True) if not ok]
        if not refused:
            return
        resets = await asyncio.gather(
            *(self._limiter.get_window_stats(item, name, key) for item in refused)
        )
        retry_after = max(1, math.ceil(max(stats.reset_time for stats in resets) - time.time()))
        limit = refused[0]
        log.info("abuse.rate_limited", limit=name, retry_after_s=retry_after)
        raise TooManyRequests(
            f"too many requests ({_describe(limit)} for {_WHAT.get(name, name)}): "
            f"try again in {_human(retry_after)}",
            retry_after_s=retry_after,
            limit=name,
        )

    async def hit_all(self, *hits: tuple[str, Sequence[RateLimitItem], str]) -> None:
        """Several limits at once; the first refusal is raised after all were counted."""
        results = await asyncio.gather(
            *(self.hit(name, items, identifier) for name, items, identifier in hits),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result


_WHAT: Final = {
    "codes-address": "this address",
    "codes-ip": "your network address",
    "verifications-ip": "your network address",
    "votes-voter": "your votes",
    "votes-ip": "your network address",
}


def _describe(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    per = f"{item.multiples} {unit}s" if item.multiples != 1 else unit
    return f"at most {item.amount} per {per}"


def _human(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


def parse_limits(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


class MongoSpentChallenges:
    """Bot challenges already used (the `SpentChallenges` of `domain.bot_challenge`)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def spend(self, challenge_id: str, expires_at: datetime) -> bool:
        try:
            await self._collection.insert_one(
                {"_id": challenge_id, "expires_at": expires_at + timedelta(seconds=5)}
            )
        except DuplicateKeyError:
            return False
        return True

"""The votes collection as the outbox of `vote.cast`: a change-stream relay.

A vote is one insert (see `vote_writer`); this relay, in the worker, follows the inserts on the
collection's change stream and publishes each as `vote.cast` with the idempotent producer, then
stores the stream's resume token — only after the broker acknowledged everything before it, so a
crash re-publishes, never skips. Re-published votes carry the same event id (derived from the
receipt), so the tally's inbox drops them. On the first start, or when MongoDB no longer has the
history the stored token points to, the relay notes the cluster time, publishes every stored
vote (a catch-up scan; duplicates are harmless for the same reason) and follows the stream from
that time. One relay per service runs at a time (a lease).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Final

from aiokafka.errors import KafkaError
from bson import Timestamp
from prometheus_client import Counter, Gauge
from pymongo.errors import OperationFailure, PyMongoError

from wsis_shared.events import encode, topic_of, utcnow
from wsis_shared.logging import get_logger
from wsis_shared.messaging.headers import cloudevent_headers, to_kafka
from wsis_shared.messaging.kafka import ReconnectingProducer
from wsis_shared.messaging.lease import Lease
from wsis_shared.mongo import Database
from wsis_voting.adapters.repositories import vote_of
from wsis_voting.domain.ballot import tally_key

log = get_logger(__name__)

STATE_ID: Final = "votes"
# While no vote comes, the stream's token still moves with every write anywhere in the cluster
# (the oplog is shared): storing it that often only costs MongoDB work. It needs storing only
# now and then, so that a restart after a long quiet spell resumes inside the oplog's window.
IDLE_TOKEN_SAVE_INTERVAL_S: Final = 10.0
# Between empty polls the relay pauses, doubling from the first figure to the second while no
# vote comes: a quiet relay polls a few times a second instead of forty, and the first vote after
# a quiet spell waits at most the longest pause. Under a storm the pause stays at the first.
QUIET_PAUSE_S: Final = (0.005, 0.25)
_HISTORY_LOST: Final = {136, 280, 286}  # CappedPositionLost, ChangeStreamFatalError, HistoryLost

VOTES_RELAYED = Counter("wsis_votes_relayed_total", "vote.cast events published by the relay")
VOTE_RELAY_LAG = Gauge(
    "wsis_vote_relay_lag_seconds", "Age of the newest vote the relay has published"
)


class VoteRelay:
    def __init__(
        self,
        db: Database,
        *,
        bootstrap: str,
        topic_prefix: str,
        pseudonym_key: bytes,
        batch_size: int = 500,
        max_wait_ms: int = 20,
    ) -> None:
        self._db = db
        self._votes = db["votes"]
        self._state = db["relay_state"]
        self._bootstrap = bootstrap
        self._prefix = topic_prefix
        self._key = pseudonym_key
        self._batch_size = batch_size
        # A poll ends as soon as a vote is stored; a poll that waited this long for none ends
        # the batch being gathered, which is then published.
        self._max_wait_ms = max_wait_ms
        self._lease = Lease(db, "vote-relay", "voting-vote-relay")
        self._producer = ReconnectingProducer(bootstrap, self._lease.owner)

    async def run(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        try:
            while not stop.is_set():
                try:
                    if await self._lease.hold():
                        await self._follow(stop)
                        backoff = 0.2
                    else:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), 1.0)
                except (KafkaError, PyMongoError, OSError, TimeoutError) as exc:
                    log.warning("vote_relay.retrying", error=repr(exc), backoff_s=backoff)
                    await self._producer.drop()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            await self._producer.drop()
            await self._lease.release()

    async def _follow(self, stop: asyncio.Event) -> None:
        state = await self._state.find_one({"_id": STATE_ID})
        token = state.get("resume_token") if state else None
        if token is None:
            options: dict[str, Any] = {"start_at_operation_time": await self._catch_up()}
        else:
            options = {"resume_after": token}
        try:
            async with await self._votes.watch(
                [{"$match": {"operationType": "insert"}}],
                max_await_time_ms=self._max_wait_ms,
                batch_size=self._batch_size,
                **options,
            ) as stream:
                saved_at = time.monotonic()
                pause = QUIET_PAUSE_S[0]
                while not stop.is_set() and await self._lease.hold():
                    batch: list[dict[str, Any]] = []
                    while len(batch) < self._batch_size:
                        change = await stream.try_next()
                        if change is None:
                            break
                        batch.append(change["fullDocument"])
                    if batch:
                        await self._publish(batch)
                    idle_token_due = (
                        stream.resume_token != token
                        and time.monotonic() - saved_at >= IDLE_TOKEN_SAVE_INTERVAL_S
                    )
                    if batch or idle_token_due:
                        token = stream.resume_token
                        await self._save(token)
                        saved_at = time.monotonic()
                    if batch:
                        pause = QUIET_PAUSE_S[0]
                    else:
                        await asyncio.sleep(pause)
                        pause = min(pause * 2, QUIET_PAUSE_S[1])
        except OperationFailure as exc:
            if exc.code not in _HISTORY_LOST:
                raise
            log.warning("vote_relay.history_lost", error=str(exc))
            await self._save(None)

    async def _catch_up(self) -> Timestamp:
        """Publishes every stored vote; returns the cluster time from which to follow."""
        hello = await self._db.command("hello")
        start: Timestamp = hello["operationTime"]
        batch: list[dict[str, Any]] = []
        published = 0
        async for document in self._votes.find({}).sort("_id", 1):
            batch.append(document)
            if len(batch) >= self._batch_size:
                await self._publish(batch)
                published += len(batch)
                batch = []
        if batch:
            await self._publish(batch)
            published += len(batch)
        log.info("vote_relay.caught_up", published=published)
        return start

    async def _publish(self, documents: list[dict[str, Any]]) -> None:
        producer = await self._producer.get()
        deliveries = []
        for document in documents:
            vote = vote_of(document)
            event = vote.event(self._key)
            topic = topic_of(event)
            deliveries.append(
                await producer.send(
                    self._prefix + topic,
                    value=encode(event),
                    key=tally_key(vote.edition, vote.category).encode(),
                    headers=to_kafka(cloudevent_headers(event, "voting", topic)),
                )
            )
        await asyncio.gather(*deliveries)
        VOTES_RELAYED.inc(len(documents))
        newest = max(vote_of(d).cast_at for d in documents)
        VOTE_RELAY_LAG.set(max(0.0, (utcnow() - newest).total_seconds()))

    async def _save(self, token: Any) -> None:
        await self._state.update_one(
            {"_id": STATE_ID},
            {"$set": {"resume_token": token, "updated_at": utcnow()}},
            upsert=True,
        )

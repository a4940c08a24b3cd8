"""Rebuilding a projection: replay its topics from the beginning into fresh collections, then
switch over.

The replay runs the consumer's own handlers through the same consumer runner (inbox, batches,
transactions) against a scratch database, so a rebuilt projection is what the live consumer
would have built had it read everything once. The public keeps reading the old collections until
the switch.

The switch needs the live consumer group to be idle (its workers stopped): while it runs it would
write to collections that are about to be replaced. The command checks this before it starts
and again before it switches, and refuses with a clear message. The switch replaces the
collections, replaces the group's inbox records with the replay's (so an event re-delivered
later is still recognised) and moves the group's committed offsets to where the replay stopped;
the workers, started again, continue from there. Every step can be repeated: a rebuild that
stopped half-way is run again from scratch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient, IndexModel

from wsis_shared.logging import get_logger
from wsis_shared.messaging.consumer import INBOX, INBOX_INDEXES, ConsumerRunner, Handlers
from wsis_shared.messaging.kafka import partitions_of
from wsis_shared.messaging.outbox import Outbox
from wsis_shared.mongo import Database, Document, ensure_indexes

log = get_logger(__name__)

_INBOX_COPY_BATCH = 5_000


class ConsumerGroupBusy(RuntimeError):
    """The live consumer group has members: its workers must be stopped for the switch."""


@dataclass
class TopicProgress:
    topic: str
    done: int = 0
    total: int = 0

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else 100.0 * self.done / self.total


@dataclass
class RebuildReport:
    group_id: str
    collections: tuple[str, ...]
    progress: dict[str, TopicProgress] = field(default_factory=dict)
    applied_events: int = 0
    skipped_poison: int = 0
    seconds: float = 0.0
    switched: bool = False


async def _group_members(bootstrap: str, group_id: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="wsis-rebuild")
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([group_id])
    finally:
        await admin.close()
    # DescribeGroupsResponse: groups = [(error_code, group_id, state, protocol_type, protocol,
    # members, ...)]
    members: Sequence[object] = response.groups[0][5]
    return len(members)


async def ensure_group_idle(bootstrap: str, group_id: str) -> None:
    members = await _group_members(bootstrap, group_id)
    if members:
        raise ConsumerGroupBusy(
            f"consumer group {group_id!r} has {members} active member(s): stop the workers of "
            "this service first (e.g. `kubectl scale deployment/<service>-worker --replicas=0`, "
            "or stop `make up`'s worker), run the rebuild, then start them again"
        )


async def rebuild_projection(
    handlers: Handlers,
    *,
    client: AsyncMongoClient[Document],
    db: Database,
    collections: Sequence[str],
    indexes: Mapping[str, Sequence[IndexModel]],
    bootstrap: str,
    topic_prefix: str,
    on_progress: Callable[[RebuildReport], None] = lambda _: None,
    progress_every_s: float = 1.0,
    switch: bool = True,
) -> RebuildReport:
    """Replay `handlers`' topics into a scratch database and, if `switch`, make the result the
    live `collections` of `db`."""
    group_id = f"{topic_prefix}{handlers.consumer}"
    report = RebuildReport(group_id=group_id, collections=tuple(collections))
    started = time.monotonic()
    if switch:
        await ensure_group_idle(bootstrap, group_id)

    scratch: Database = client[f"{db.name}__rebuild"]
    await client.drop_database(scratch.name)
    await ensure_indexes(
        scratch, {**INBOX_INDEXES, **{name: indexes.get(name, []) for name in collections}}
    )
    runner = ConsumerRunner(
        handlers,
        client=client,
        db=scratch,
        outbox=Outbox(scratch, source="/wsis/rebuild"),
        bootstrap=bootstrap,
        topic_prefix=topic_prefix,
        replaying=True,
    )
    ends = await _replay(
        runner, handlers, bootstrap, topic_prefix, report, on_progress, progress_every_s
    )
    report.skipped_poison = runner.skipped_poison
    report.applied_events = await scratch[INBOX].count_documents({"consumer": handlers.consumer})

    if switch:
        await ensure_group_idle(bootstrap, group_id)  # a worker may have started meanwhile
        await _switch(client, scratch, db, collections, handlers.consumer)
        await _commit_offsets(bootstrap, group_id, ends)
        report.switched = True
        await client.drop_database(scratch.name)
    report.seconds = time.monotonic() - started
    on_progress(report)
    log.info(
        "projection.rebuilt",
        group=group_id,
        events=report.applied_events,
        skipped_poison=report.skipped_poison,
        seconds=round(report.seconds, 1),
        switched=report.switched,
    )
    return report


async def _replay(
    runner: ConsumerRunner,
    handlers: Handlers,
    bootstrap: str,
    topic_prefix: str,
    report: RebuildReport,
    on_progress: Callable[[RebuildReport], None],
    progress_every_s: float,
) -> dict[TopicPartition, int]:
    """Every event up to the end offsets seen now; returns those end offsets."""
    partitions: list[TopicPartition] = []
    for topic in sorted(handlers.topics):
        partitions.extend(await partitions_of(bootstrap, topic_prefix + topic))
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        client_id=f"{runner.group_id}-rebuild",
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        starts: dict[TopicPartition, int] = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            progress = report.progress.setdefault(
                tp.topic.removeprefix(topic_prefix),
                TopicProgress(tp.topic.removeprefix(topic_prefix)),
            )
            progress.total += ends[tp] - starts[tp]
        pending = {tp for tp in partitions if starts[tp] < ends[tp]}
        last_report = time.monotonic()
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000, max_records=1000)
            for tp, records in batches.items():
                wanted = [record for record in records if record.offset < ends[tp]]
                if wanted:
                    await runner.process_batch(wanted)
            # Offsets may have gaps (transaction markers, compaction): positions, not counts of
            # records, say how far the replay is.
            positions = {tp: min(await consumer.position(tp), ends[tp]) for tp in partitions}
            for progress in report.progress.values():
                progress.done = 0
            for tp, position in positions.items():
                report.progress[tp.topic.removeprefix(topic_prefix)].done += position - starts[tp]
            pending = {tp for tp in pending if positions[tp] < ends[tp]}
            if time.monotonic() - last_report >= progress_every_s:
                on_progress(report)
                last_report = time.monotonic()
        return ends
    finally:
        await consumer.stop()


async def _switch(
    client: AsyncMongoClient[Document],
    scratch: Database,
    db: Database,
    collections: Sequence[str],
    consumer: str,
) -> None:
    existing = set(await scratch.list_collection_names())
    for name in collections:
        if name in existing:
            await client.admin.command(
                "renameCollection",
                f"{scratch.name}.{name}",
                to=f"{db.name}.{name}",
                dropTarget=True,
            )
        else:
            await db[name].drop()  # the replay produced nothing: the projection is empty
    # The inbox is shared by every consumer group of the service: only this group's records go.
    await db[INBOX].delete_many({"consumer": consumer})
    batch: list[Document] = []
    async for record in scratch[INBOX].find({"consumer": consumer}, {"_id": 0}):
        batch.append(record)
        if len(batch) >= _INBOX_COPY_BATCH:
            await db[INBOX].insert_many(batch, ordered=False)
            batch = []
    if batch:
        await db[INBOX].insert_many(batch, ordered=False)


async def _commit_offsets(
    bootstrap: str, group_id: str, ends: Mapping[TopicPartition, int]
) -> None:
    """The group resumes where the replay stopped (committing needs no membership while the
    group is empty)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.commit(dict(ends))
    finally:
        await consumer.stop()

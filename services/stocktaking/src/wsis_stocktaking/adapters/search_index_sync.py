"""Keeps this API process's search index equal to the `catalogue` collection.

At start the sync notes MongoDB's operation time, loads every searchable record (only the
fields the index needs, in batches) into a fresh index and swaps it in whole — a search never
sees a half-loaded index — then follows the database's change stream from the noted time, so
nothing written during the load is missed (a change applied twice leaves the same index).

The stream is opened on the database, not the collection, because the projection rebuild
(`python -m wsis_stocktaking projections rebuild`) replaces the collection by renaming a fresh
one over it: a collection stream would end there, a database stream shows the rename. A rename
into or out of `catalogue`, a drop of it or of the database, or an invalidated stream starts a
new load; the old index keeps serving until the new one is complete.

Updates that only count votes (`votes`, `updated_at`) change nothing the index holds and are
filtered out by the server: at a voting peak they are thousands a second. The other changes
carry the document as it is when read (`updateLookup`); a change whose document is gone by then
takes the entry out (its deletion, or the next load, follows).

When MongoDB goes away the sync retries with backoff and resumes the stream after the last
change it applied; if MongoDB no longer has that point in its history, it loads again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Final

from bson import Timestamp
from prometheus_client import Counter, Gauge
from pymongo.errors import OperationFailure, PyMongoError

from wsis_shared.events import utcnow
from wsis_shared.logging import get_logger
from wsis_shared.mongo import Database, Document
from wsis_shared.vocabulary import ActionLine, Category, Region, StakeholderType
from wsis_stocktaking.domain.catalogue import CatalogueRecord
from wsis_stocktaking.domain.search_index import SearchableEntry, SearchIndex, TextAnalyzer

log = get_logger(__name__)

CATALOGUE: Final = "catalogue"
_ENTRY_FIELDS: Final = (
    "category",
    "action_lines",
    "sdgs",
    "region",
    "country",
    "stakeholder_type",
    "title",
    "short_description",
    "organisation_name",
    "partners",
)
_FACT_FIELDS: Final = ("edition", "withdrawn", "eligible", "nominated", "champion", "winner")
PROJECTION: Final = {**dict.fromkeys(_FACT_FIELDS, 1), **{f"entry.{f}": 1 for f in _ENTRY_FIELDS}}
_VOTE_COUNTING_FIELDS: Final = ["votes", "updated_at"]
_FIRST_BACKOFF_S: Final = 0.2

# ChangeStreamHistoryLost, ChangeStreamFatalError, CappedPositionLost, InvalidResumeToken
_HISTORY_LOST: Final = {286, 280, 136, 260}

SEARCH_INDEX_ENTRIES = Gauge(
    "wsis_search_index_entries", "Searchable entries in this API process's search index"
)
SEARCH_INDEX_WORDS = Gauge(
    "wsis_search_index_words", "Distinct words in this API process's search index"
)
SEARCH_INDEX_LAG = Gauge(
    "wsis_search_index_lag_seconds",
    "Time from the commit of the last catalogue change applied to the search index to its "
    "application",
)
SEARCH_INDEX_CHANGES = Counter(
    "wsis_search_index_changes_total", "Catalogue changes applied to the search index"
)
SEARCH_INDEX_LOADS = Counter(
    "wsis_search_index_loads_total",
    "Complete loads of the search index from the catalogue, by reason",
    ["reason"],
)
SEARCH_INDEX_LOAD_SECONDS = Gauge(
    "wsis_search_index_load_seconds", "Duration of the last complete load of the search index"
)
SEARCH_INDEX_FOLLOWING = Gauge(
    "wsis_search_index_following",
    "1 while the search index follows the catalogue's change stream, 0 while it is cut off "
    "(MongoDB unreachable) or reloading",
)


# Python's full garbage collection walks every object of the process: with 100,000 entries
# indexed that is ~350 ms during which no search is answered, and under load it comes every few
# thousand searches. The index holds no reference cycles (reference counting frees what it
# drops), so its objects are frozen out of the collector's reach (`gc.freeze`): after a load,
# and every `_FREEZE_EVERY` changes followed from the change stream (a service that started
# empty gets its entries that way). Freezing costs nothing; what it may keep alive is a young
# cycle that happened to be garbage at that moment, which a collection of the young generations
# just before makes rare.
_FREEZE_EVERY: Final = 2_000


def _spare_the_index_from_garbage_collection(*, after_load: bool) -> None:
    if after_load:
        gc.unfreeze()  # so the previous index's cycles, if any, are still collected
        gc.collect()
    else:
        gc.collect(1)
    gc.freeze()


def change_stream_pipeline(database: str) -> list[Document]:
    """The changes of `catalogue` that can change the index, with only the fields it reads."""
    in_catalogue = {"ns.db": database, "ns.coll": CATALOGUE}
    changes_more_than_votes = {
        "$expr": {
            "$gt": [
                {
                    "$size": {
                        "$filter": {
                            "input": {"$objectToArray": "$updateDescription.updatedFields"},
                            "cond": {"$not": [{"$in": ["$$this.k", _VOTE_COUNTING_FIELDS]}]},
                        }
                    }
                },
                0,
            ]
        }
    }
    return [
        {
            "$match": {
                "$or": [
                    {**in_catalogue, "operationType": {"$in": ["insert", "replace", "delete"]}},
                    {**in_catalogue, "operationType": "update", **changes_more_than_votes},
                    {
                        **in_catalogue,
                        "operationType": "update",
                        "updateDescription.removedFields.0": {"$exists": True},
                    },
                    {**in_catalogue, "operationType": "drop"},
                    {"operationType": "rename", "to.db": database, "to.coll": CATALOGUE},
                    {**in_catalogue, "operationType": "rename"},
                    {"operationType": {"$in": ["dropDatabase", "invalidate"]}},
                ]
            }
        },
        {
            "$project": {
                "operationType": 1,
                "ns": 1,
                "to": 1,
                "documentKey": 1,
                "clusterTime": 1,
                "wallTime": 1,
                **{f"fullDocument.{field}": 1 for field in ("_id", *PROJECTION)},
            }
        },
    ]


def searchable(document: Mapping[str, Any]) -> SearchableEntry | None:
    """The searchable part of a catalogue document; None without an entry (not searchable yet)
    or when the document cannot be read (logged: a projection bug, not a reason to stop)."""
    entry = document.get("entry")
    if not entry:
        return None
    try:
        facts = CatalogueRecord.model_construct(
            entry_id=str(document["_id"]),
            edition=int(document["edition"]),
            withdrawn=bool(document.get("withdrawn", False)),
            eligible=document.get("eligible"),
            nominated=document.get("nominated"),
            champion=bool(document.get("champion", False)),
            winner=bool(document.get("winner", False)),
        )
        return SearchableEntry(
            entry_id=facts.entry_id,
            edition=facts.edition,
            status=facts.status,
            category=Category(entry["category"]),
            action_lines=tuple(ActionLine(line) for line in entry.get("action_lines") or ()),
            sdgs=tuple(int(sdg) for sdg in entry.get("sdgs") or ()),
            region=Region(entry["region"]),
            country=str(entry["country"]).upper(),
            stakeholder_type=StakeholderType(entry["stakeholder_type"]),
            title=str(entry["title"]),
            short_description=str(entry["short_description"]),
            organisation_name=str(entry["organisation_name"]),
            partners=tuple(str(partner) for partner in entry.get("partners") or ()),
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("search_index.entry.unreadable", entry_id=document.get("_id"), error=str(exc))
        return None


class _Reload(Exception):
    """The collection was replaced or dropped, or the stream cannot go on: load again."""


class SearchIndexSync:
    """Owns the search index of this process: `index` is always a complete index."""

    def __init__(
        self,
        db: Database,
        *,
        batch_size: int = 1000,
        max_backoff_s: float = 5.0,
        max_await_ms: int = 1000,
    ) -> None:
        self._db = db
        self._batch_size = batch_size
        self._max_backoff_s = max_backoff_s
        self._max_await_ms = max_await_ms
        self._analyzer = TextAnalyzer()
        self.index = SearchIndex(self._analyzer)
        self.loaded = asyncio.Event()
        self._resume_token: Mapping[str, Any] | None = None
        self._backoff_s = _FIRST_BACKOFF_S
        self._changes_since_freeze = 0
        # Told of each entry that changed (None: possibly all of them, after a load), so that
        # what is kept from the catalogue elsewhere in the process follows it too.
        self.on_change: list[Callable[[str | None], None]] = []

    @asynccontextmanager
    async def running(self) -> AsyncIterator[SearchIndexSync]:
        """Loads the index, keeps it current while the block runs, then stops following."""
        follower = asyncio.create_task(self.run(), name="search-index-sync")
        first_load = asyncio.create_task(self.loaded.wait())
        try:
            await asyncio.wait({follower, first_load}, return_when=asyncio.FIRST_COMPLETED)
            if follower.done():
                follower.result()  # run() only ends by raising: let the lifespan fail with it
            yield self
        finally:
            for task in (first_load, follower):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            SEARCH_INDEX_FOLLOWING.set(0)

    async def run(self) -> None:
        """Load, then follow the catalogue; until cancelled."""
        reason = "start"
        follow_from: dict[str, Any] | None = None
        while True:
            try:
                if follow_from is None:
                    follow_from = {"start_at_operation_time": await self._load(reason)}
                    self._resume_token = None
                await self._follow(follow_from)
            except _Reload as exc:
                reason, follow_from = str(exc), None
                continue
            except OperationFailure as exc:
                if exc.code in _HISTORY_LOST:
                    log.warning("search_index.history_lost", error=str(exc))
                    reason, follow_from = "history lost", None
                    continue
                log.warning("search_index.retrying", error=repr(exc), backoff_s=self._backoff_s)
            except (PyMongoError, OSError) as exc:
                log.warning("search_index.retrying", error=repr(exc), backoff_s=self._backoff_s)
            except Exception:
                # A bug must not leave the public search frozen for good: start over, loudly.
                log.exception("search_index.failed", backoff_s=self._backoff_s)
                reason, follow_from = "failure", None
            SEARCH_INDEX_FOLLOWING.set(0)
            if follow_from is not None and self._resume_token is not None:
                follow_from = {"resume_after": self._resume_token}
            await asyncio.sleep(self._backoff_s)
            self._backoff_s = min(self._backoff_s * 2, self._max_backoff_s)

    async def _load(self, reason: str) -> Timestamp:
        """A complete index of the catalogue, swapped in; returns the operation time from which
        the change stream must be followed."""
        started = time.monotonic()
        hello = await self._db.command("hello")
        start: Timestamp = hello["operationTime"]
        index = SearchIndex.loading(self._analyzer)
        cursor = self._db[CATALOGUE].find(
            {"entry": {"$exists": True}}, PROJECTION, batch_size=self._batch_size
        )
        async for document in cursor:
            entry = searchable(document)
            if entry is not None:
                index.put(entry)
                if len(index) % 64 == 0:
                    await asyncio.sleep(0)  # searches on the serving index run meanwhile
        index.finish_loading()
        self.index = index
        self._tell(None)
        _spare_the_index_from_garbage_collection(after_load=True)
        self._changes_since_freeze = 0
        seconds = time.monotonic() - started
        SEARCH_INDEX_LOADS.labels(reason).inc()
        SEARCH_INDEX_LOAD_SECONDS.set(seconds)
        self._report_size()
        self.loaded.set()
        log.info(
            "search_index.loaded",
            reason=reason,
            entries=len(index),
            words=index.vocabulary_size,
            seconds=round(seconds, 2),
        )
        return start

    async def _follow(self, options: dict[str, Any]) -> None:
        async with await self._db.watch(
            change_stream_pipeline(self._db.name),
            full_document="updateLookup",
            max_await_time_ms=self._max_await_ms,
            batch_size=self._batch_size,
            **options,
        ) as stream:
            SEARCH_INDEX_FOLLOWING.set(1)
            self._backoff_s = _FIRST_BACKOFF_S
            while True:
                change = await stream.try_next()
                if change is not None:
                    self._apply(change)
                # Also while idle: the token moves on, so a resume does not rescan old history.
                self._resume_token = stream.resume_token

    def _apply(self, change: Mapping[str, Any]) -> None:
        operation = change["operationType"]
        if operation in ("insert", "replace", "update", "delete"):
            document = change.get("fullDocument")
            entry = searchable(document) if document else None
            entry_id = str(change["documentKey"]["_id"])
            if entry is None:
                self.index.remove(entry_id)
            else:
                self.index.put(entry)
            self._tell(entry_id)
            self._changes_since_freeze += 1
            if self._changes_since_freeze >= _FREEZE_EVERY:
                _spare_the_index_from_garbage_collection(after_load=False)
                self._changes_since_freeze = 0
            SEARCH_INDEX_CHANGES.inc()
            self._report_size()
            self._report_lag(change)
            return
        raise _Reload(f"catalogue {operation}")

    def _tell(self, entry_id: str | None) -> None:
        for listener in self.on_change:
            listener(entry_id)

    def _report_size(self) -> None:
        SEARCH_INDEX_ENTRIES.set(len(self.index))
        SEARCH_INDEX_WORDS.set(self.index.vocabulary_size)

    @staticmethod
    def _report_lag(change: Mapping[str, Any]) -> None:
        committed = change.get("wallTime")
        if isinstance(committed, datetime):
            SEARCH_INDEX_LAG.set(max(0.0, (utcnow() - committed).total_seconds()))
            return
        cluster_time = change.get("clusterTime")
        if isinstance(cluster_time, Timestamp):
            SEARCH_INDEX_LAG.set(max(0.0, time.time() - cluster_time.time))

"""MongoDB helpers: the async client, transactions with retries, indexes at start-up.

PyMongo's native async API (`AsyncMongoClient`) is used: Motor is deprecated in its favour.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from bson.codec_options import TypeEncoder, TypeRegistry
from pymongo import AsyncMongoClient, IndexModel, ReadPreference, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import (
    BulkWriteError,
    CollectionInvalid,
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
)
from pymongo.read_concern import ReadConcern

T = TypeVar("T")
Document = dict[str, Any]
Database = AsyncDatabase[Document]
Session = AsyncClientSession
_NAMESPACE_EXISTS = 48
_NAMESPACE_NOT_FOUND = 26
_INDEX_NOT_FOUND = 27
# The server's codes for "not now, try again": shutdown, step-down, not primary, network
# (the server's list of retryable write errors), which a restart or failover produces.
_TRY_AGAIN_CODES = frozenset(
    {6, 7, 89, 91, 134, 189, 262, 9001, 10058, 10107, 11600, 11602, 13435, 13436}
)
_TRY_AGAIN_LABELS = (
    "RetryableWriteError",
    "TransientTransactionError",
    "UnknownTransactionCommitResult",
)


class _DateAsMidnightUTC(TypeEncoder):
    """BSON has no date without a time: a `date` is stored as its midnight in UTC, which
    pydantic reads back into a `date` field unchanged."""

    python_type = date

    def transform_python(self, value: date) -> datetime:
        return datetime(value.year, value.month, value.day, tzinfo=UTC)


def create_client(uri: str, app_name: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        uri,
        appname=app_name,
        tz_aware=True,
        tzinfo=UTC,
        uuidRepresentation="standard",
        type_registry=TypeRegistry([_DateAsMidnightUTC()]),
        serverSelectionTimeoutMS=5000,
    )


async def in_transaction(
    client: AsyncMongoClient[Document], work: Callable[[Session], Awaitable[T]]
) -> T:
    """Run `work` in one majority-committed transaction, retried on transient errors.

    `work` may run more than once (PyMongo retries `TransientTransactionError`), so it must not
    have side effects outside the session.
    """
    async with client.start_session() as session:
        result: T = await session.with_transaction(
            work,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
            read_preference=ReadPreference.PRIMARY,
        )
        return result


async def ensure_indexes(
    db: Database,
    indexes: Mapping[str, Sequence[IndexModel]],
    retired: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Create each collection (transactions cannot create them) and its indexes, and drop the
    `retired` ones (collection -> index names) that an earlier version created: MongoDB keeps
    an index, and its cost on every write, until it is dropped."""
    existing = set(await db.list_collection_names())
    for collection, models in indexes.items():
        if collection not in existing:
            try:
                await db.create_collection(collection)
            except (CollectionInvalid, OperationFailure) as exc:
                # Another process (the API beside its worker, a second replica) was first.
                if isinstance(exc, OperationFailure) and exc.code != _NAMESPACE_EXISTS:
                    raise
        if models:
            await db[collection].create_indexes(list(models))
    for collection, names in (retired or {}).items():
        for name in names:
            try:
                await db[collection].drop_index(name)
            except OperationFailure as exc:
                # Dropped already (by another process starting beside this one, or earlier).
                if exc.code not in (_INDEX_NOT_FOUND, _NAMESPACE_NOT_FOUND):
                    raise


async def ping(client: AsyncMongoClient[Document]) -> None:
    await client.admin.command("ping")


def is_transient(error: PyMongoError) -> bool:
    """Whether the database said "not now" (a restart, a failover, a step-down) rather than
    "never": the caller may answer 503 and the client may retry.

    PyMongo raises `ConnectionFailure` for most of these, but an unordered `insert_many` reports
    a shutdown as per-document write errors or as a write concern error inside `BulkWriteError`,
    and a transaction's failure carries only a label.
    """
    if isinstance(error, ConnectionFailure):
        return True
    if any(error.has_error_label(label) for label in _TRY_AGAIN_LABELS):
        return True
    if isinstance(error, BulkWriteError):
        details = error.details
        if details.get("writeConcernErrors"):
            # Written on the primary but not acknowledged by the majority: not accepted.
            return True
        codes = {e.get("code") for e in details.get("writeErrors", [])}
        return bool(codes) and codes <= _TRY_AGAIN_CODES
    return isinstance(error, OperationFailure) and error.code in _TRY_AGAIN_CODES

"""Unit of work: a use case's reads, writes and outgoing events commit together or not at all.

A use case is a function of a unit of work; `UnitOfWorkRunner.run(work)` gives it one bound to a
MongoDB transaction and retries it on transient transaction errors. Unit tests pass an in-memory
runner instead (a fake of the repositories, nothing else).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from fastapi import Request

from wsis_shared.events import EventBase
from wsis_shared.messaging import Outbox
from wsis_shared.mongo import Database, Session
from wsis_shared.runtime import Resources

T = TypeVar("T")
U = TypeVar("U", bound="MongoUnitOfWork")
U_co = TypeVar("U_co", covariant=True)


class UnitOfWorkRunner(Protocol[U_co]):
    async def run(self, work: Callable[[U_co], Awaitable[T]]) -> T: ...


class MongoUnitOfWork:
    """Base of a service's unit of work: the session plus the outbox of the same transaction.

    Subclasses add their repositories, built from `self.db` and `self.session`.
    """

    def __init__(self, db: Database, session: Session, outbox: Outbox) -> None:
        self.db = db
        self.session = session
        self._outbox = outbox

    async def publish(self, event: EventBase, key: str | None = None) -> None:
        """Queue `event` in the outbox of this transaction: it leaves only if the work commits."""
        await self._outbox.add(event, self.session, key=key)


class MongoUnitOfWorkRunner(Generic[U]):
    def __init__(self, resources: Resources, unit_of_work: type[U]) -> None:
        self._resources = resources
        self._unit_of_work = unit_of_work

    async def run(self, work: Callable[[U], Awaitable[T]]) -> T:
        resources = self._resources

        async def in_session(session: Session) -> T:
            return await work(self._unit_of_work(resources.db, session, resources.outbox))

        return await resources.transaction(in_session)


def runner_dependency(
    unit_of_work: type[U],
) -> Callable[[Request], Awaitable[MongoUnitOfWorkRunner[U]]]:
    """A FastAPI dependency giving a request the runner of `unit_of_work` on the app's resources
    (async, so FastAPI does not hop to a worker thread for it)."""

    async def dependency(request: Request) -> MongoUnitOfWorkRunner[U]:
        return MongoUnitOfWorkRunner(request.app.state.resources, unit_of_work)

    return dependency

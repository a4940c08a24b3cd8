"""What every service's in-memory unit of work shares: the events it was given, and a runner
that commits a piece of work's changes only if the work returns (as a transaction would)."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from wsis_shared.events import EventBase

T = TypeVar("T")
S = TypeVar("S")


class EventRecorder:
    """The outbox of an in-memory unit of work: what `publish` was given, in order."""

    def __init__(self) -> None:
        self.published: list[tuple[EventBase, str | None]] = []

    async def publish(self, event: EventBase, key: str | None = None) -> None:
        self.published.append((event, key))


class _Recording(Protocol):
    published: list[tuple[EventBase, str | None]]


U = TypeVar("U", bound=_Recording)


class InMemoryRunner(Generic[S, U]):
    """Runs each piece of work on a copy of the state; the copy replaces the state, and the
    events are kept, only if the work returns."""

    def __init__(self, state: S, unit_of_work: Callable[[S], U]) -> None:
        self.state = state
        self._unit_of_work = unit_of_work
        self.published: list[tuple[EventBase, str | None]] = []

    async def run(self, work: Callable[[U], Awaitable[T]]) -> T:
        working = copy.deepcopy(self.state)
        uow = self._unit_of_work(working)
        result = await work(uow)
        self.state = working
        self.published.extend(uow.published)
        return result
